"""A run request: which KST business dates to build, with which dbt vars, parsed, validated and
range-checked once, before dbt or Spark start, for every caller: `seglog run`, `load`, `audit`,
`ddl`, `reconcile`, `seglog emr submit` and the EMR job (whose arguments the DAG builds).

The dates are given by --date (and --to for a range), never inside --vars: one rule for every
caller. The same var rules are enforced inside dbt by macros/vars/validate_run_vars.sql (for
users who call dbt directly); tests/python/test_run_vars.py checks both sides agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import yaml

from .kst_calendar import date_range
from .project import default_vars

SOURCE_ID = re.compile(r"[A-Za-z0-9_-]+")
ROOT = re.compile(r"[A-Za-z0-9_./:@+=-]+")
SOURCE_KEYS = ("web", "app", "procedure")
# dbt's selection syntax: names, method:value (tag:, path:, config.x:), graph operators (+, @, *),
# unions (space) and intersections (comma). No quote or semicolon can pass.
SELECTOR = re.compile(r"[A-Za-z0-9_.:+@*,/= -]+")


class VarError(ValueError):
    """A var value that the pipeline refuses; the message says the right form."""


def parse_date(value: Any, name: str = "date") -> date:
    if isinstance(value, datetime):  # YAML reads 2023-11-08T10:00:00 as a datetime: not a date
        raise VarError(f"Invalid var '{name}': {value!r} — a date, not a time: use YYYY-MM-DD, e.g. 2023-11-08")
    if isinstance(value, date):
        return value
    text = str(value).strip() if value is not None else ""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise VarError(f"Invalid var '{name}': {value!r} — must be a real calendar date in the form "
                       f"YYYY-MM-DD, e.g. 2023-11-08")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise VarError(f"Invalid var '{name}': {value!r} — not a real calendar date; use YYYY-MM-DD, "
                       f"e.g. 2023-11-08") from None


def check_selector(value: str, option: str = "select") -> str:
    """A dbt selection (--select, --models), refused before any work when it is not one."""
    if not SELECTOR.fullmatch(value):
        raise VarError(f"--{option} {value!r}: a selection holds model names, method:value (tag:core), "
                       "the graph operators + @ *, spaces and commas only")
    return value


def validate(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The effective vars (defaults from dbt_project.yml, then overrides), validated and normalised."""
    merged = dict(default_vars())
    merged.update(overrides or {})
    unknown = sorted(set(merged) - set(default_vars()))
    if unknown:
        raise VarError(f"Unknown var(s) {', '.join(unknown)}; known vars: {', '.join(sorted(default_vars()))}")
    out: dict[str, Any] = {"date": parse_date(merged.get("date")).isoformat()}

    late = merged.get("late_arrival_days")
    if isinstance(late, bool) or not isinstance(late, int) or not 0 <= late <= 30:
        raise VarError(f"Invalid var 'late_arrival_days': {late!r} — must be a whole number of days from 0 to 30")
    out["late_arrival_days"] = late

    gap = merged.get("session_inactivity_minutes")
    if isinstance(gap, bool) or not isinstance(gap, int) or not 1 <= gap <= 1440:
        raise VarError(f"Invalid var 'session_inactivity_minutes': {gap!r} — must be a whole number of minutes "
                       "from 1 to 1440")
    out["session_inactivity_minutes"] = gap

    root = merged.get("segment_root")
    if not isinstance(root, str) or not ROOT.fullmatch(root):
        raise VarError(f"Invalid var 'segment_root': {root!r} — must be a path or s3:// URL made of letters, "
                       "digits and _ . / : @ + = -")
    out["segment_root"] = root.rstrip("/")

    sources = merged.get("segment_sources")
    if not isinstance(sources, dict) or sorted(map(str, sources)) != sorted(SOURCE_KEYS) \
            or not all(isinstance(key, str) for key in sources):
        raise VarError(f"Invalid var 'segment_sources': {sources!r} — must map exactly the keys web, app and "
                       "procedure to Segment source ids")
    for key, source_id in sources.items():
        if not isinstance(source_id, str) or not SOURCE_ID.fullmatch(source_id):
            raise VarError(f"Invalid var 'segment_sources.{key}': {source_id!r} — a Segment source id is letters, "
                           "digits, _ and - only")
    if len(set(sources.values())) != 3:
        raise VarError("Invalid var 'segment_sources': the three sources need three different source ids")
    out["segment_sources"] = dict(sources)
    return out


MAX_RUN_DAYS = 366  # a longer backfill is split by the caller: a year of runs at most per request


def parse_vars_text(text: str | None) -> dict[str, Any]:
    """--vars as YAML or JSON (as dbt reads it), a mapping; {} when not given."""
    if not text:
        return {}
    try:
        parsed = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise VarError(f"--vars is not valid YAML/JSON: {exc}. Example: --vars '{{late_arrival_days: 2}}'") from None
    except ValueError as exc:  # YAML reads an unquoted 2023-02-30 as a date and fails
        raise VarError(f"--vars holds an impossible date ({exc}): a date must be a real calendar date in the form "
                       "YYYY-MM-DD, e.g. 2023-11-08") from None
    if parsed is None:
        return {}
    if not isinstance(parsed, dict):
        raise VarError(f"--vars must be a mapping, got {text!r}. Example: --vars '{{late_arrival_days: 2}}'")
    odd = [key for key in parsed if not isinstance(key, str)]
    if odd:
        raise VarError(f"--vars: {odd[0]!r} is not a var name; names are words such as late_arrival_days "
                       f"(known vars: {', '.join(sorted(default_vars()))})")
    return parsed


@dataclass(frozen=True)
class RunRequest:
    """The dates first..last, oldest first, and the validated vars every one of them is built with."""

    first: date
    last: date
    vars: dict[str, Any] = field(compare=False)  # validated and normalised, `date` = first
    given: dict[str, Any] = field(default_factory=dict, compare=False)  # the vars the caller set, as given

    @classmethod
    def parse(cls, date_: Any = None, to: Any = None, vars_text: str | None = None,
              **options: Any) -> "RunRequest":
        """From the callers' options: --date (default: dbt_project.yml's, read now, not at import),
        --to, --vars, and options that set a var (late_arrival_days=…, segment_root=…; None = not
        given). Raises VarError, whose message names the option, on anything that would not run."""
        given = parse_vars_text(vars_text)
        if "date" in given:
            raise VarError("--vars must not hold date: give it as --date (and --to for a range)")
        given.update({name: value for name, value in options.items() if value is not None})
        effective = validate(dict(given, date=default_vars()["date"] if date_ is None else date_))
        first = parse_date(effective["date"])
        last = parse_date(to, "to") if to is not None else first
        if last < first:
            raise VarError(f"--to {last} is before --date {first}")
        if (last - first).days > MAX_RUN_DAYS:
            raise VarError(f"--date {first} --to {last} is more than a year of runs; split the backfill")
        return cls(first, last, effective, given)

    def days(self) -> list[date]:
        return date_range(self.first, self.last)

    def dbt_vars(self, day: date) -> dict[str, Any]:
        """The vars of the build for ``day`` (JSON-ready: the date as YYYY-MM-DD)."""
        return dict(self.vars, date=day.isoformat())
