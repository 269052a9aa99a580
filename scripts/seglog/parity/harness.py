"""One parity run: fixture → PostgreSQL (raw tables + shim) → dbt on Spark → compare → report.

Exit status (returned by ``run``): 0 when every chosen query has legacy SQL and every partition
matches; 1 when a row differs, a query errors, a chosen query has no legacy SQL yet, or the dbt
run fails. Without ``only`` every query of the catalogue is chosen, so a query whose legacy SQL
is not written yet fails the run ("no legacy SQL yet"); with ``only`` just the named ones.
"""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .. import pg_local
from ..project import PROJECT_DIR
from ..redact import redact
from ..terminal import print_error
from . import compare as cmp
from . import fixture as fx
from . import legacy_db, spark_side
from .catalogue import Query, select

log = logging.getLogger("seglog.parity")

RESULTS = spark_side.TARGET_DIR / "parity_results.json"
NO_SQL = "no legacy SQL yet"
HEADER = re.compile(r"\bQ\d\d\b")


@dataclass
class PartitionOutcome:
    partition: str
    ymd: str  # the date the legacy query ran for
    comparison: cmp.Comparison | None = None
    error: str | None = None
    legacy_seconds: float = 0.0


@dataclass
class QueryOutcome:
    query: Query
    status: str = "ok"  # ok | differs | error | no legacy SQL yet
    error: str | None = None
    partitions: list[PartitionOutcome] = field(default_factory=list)

    def total(self, attr: str) -> int:
        return sum(getattr(p.comparison, attr) for p in self.partitions if p.comparison)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def _rel(path: Path) -> str:
    try:
        return str(path.relative_to(PROJECT_DIR))
    except ValueError:
        return str(path)


def check_header(text: str, query: Query) -> str | None:
    """The leading comment must name the query's docs/queries.md entry (e.g. Q01)."""
    lead = []
    for line in text.splitlines():
        if line.strip().startswith("--") or not line.strip():
            lead.append(line)
        else:
            break
    ids = HEADER.findall("\n".join(lead))
    if query.id not in ids:
        return (f"the header comment of {_rel(legacy_db.query_path(query.model))} must say which docs/queries.md entry "
                f"it is ({query.id}), e.g. `-- {query.id} {query.model}: …`")
    return None


def compare_query(conn: psycopg.Connection[Any], query: Query, dates: list) -> QueryOutcome:
    out = QueryOutcome(query)
    path = legacy_db.query_path(query.model)
    if not path.exists():
        out.status = NO_SQL
        return out
    text = path.read_text()
    problem = check_header(text, query)
    if problem:
        out.status, out.error = "error", problem
        return out
    for value, ymd in query.partitions(dates):
        part = PartitionOutcome(partition=f"{query.partition}={value}", ymd=ymd.isoformat())
        out.partitions.append(part)
        try:
            legacy = legacy_db.run_query(conn, text, ymd)
        except legacy_db.LegacyError as exc:
            part.error = f"legacy query for {ymd}: {exc}"
            out.status, out.error = "error", part.error
            return out
        part.legacy_seconds = legacy.seconds
        try:
            columns, rows = spark_side.read_partition(query.model, query.partition, value,
                                                      spark_side.partition_value(query.partition, value))
        except spark_side.SparkSideError as exc:
            part.error = str(exc)
            out.status, out.error = "error", part.error
            return out
        missing_key = [c for c in query.key if c not in legacy.columns]
        if missing_key:
            part.error = f"the legacy result has no key column(s) {', '.join(missing_key)}"
            out.status, out.error = "error", part.error
            return out
        part.comparison = cmp.compare(legacy.columns, legacy.rows, columns, rows, query.key, query.json_columns)
        if not part.comparison.ok and out.status == "ok":
            out.status = "differs"
    return out


def _status_cell(o: QueryOutcome) -> str:
    if o.status == "ok":
        return "[green]ok[/]"
    if o.status == NO_SQL:
        return f"[yellow]{NO_SQL}[/]"
    if o.status == "error":
        return "[red]ERROR[/]"
    cols = {c for p in o.partitions if p.comparison for side in p.comparison.missing_columns.values() for c in side}
    return "[red]DIFFERS[/]" + (" (columns)" if cols else "")


def print_table(console: Console, outcomes: list[QueryOutcome], title: str) -> None:
    table = Table(title=title)
    for col in ("query", "model", "partitions", "legacy rows", "dbt rows", "matching", "differing", "status"):
        table.add_column(col, justify="right" if col in ("partitions", "legacy rows", "dbt rows", "matching",
                                                          "differing") else "left")
    for o in outcomes:
        if o.status == NO_SQL or not o.partitions:
            table.add_row(o.query.id, o.query.model, "-", "-", "-", "-", "-", _status_cell(o))
            continue
        table.add_row(o.query.id, o.query.model, str(len(o.partitions)), f"{o.total('legacy_rows'):,}",
                      f"{o.total('dbt_rows'):,}", f"{o.total('matching'):,}", f"{o.total('differing'):,}",
                      _status_cell(o))
    console.print(table)


def print_differences(console: Console, o: QueryOutcome, max_diffs: int) -> None:
    sql_path = _rel(legacy_db.query_path(o.query.model))
    if o.status == "error":
        console.print(f"[bold red]{o.query.id} {o.query.model}: error[/] {escape(redact(o.error))}", highlight=False)
        return
    if o.status != "differs":
        return
    table = Table(title=f"{o.query.id} {o.query.model}: first differences (legacy {sql_path} vs dbt marts.{o.query.model})",
                  title_justify="left", show_lines=False)
    for col in ("partition", "key", "column", "legacy (PostgreSQL)", "dbt (Spark)"):
        table.add_column(col, overflow="fold")
    shown = total = 0
    for p in o.partitions:
        c = p.comparison
        if c is None:
            continue
        for side, cols in c.missing_columns.items():
            console.print(f"[red]{o.query.id} {p.partition}: the {side} result lacks the column(s) "
                          f"{', '.join(cols)}[/]", highlight=False)
        total += len(c.diffs)
        for d in c.diffs:
            if shown < max_diffs:
                table.add_row(p.partition, d.key, d.column, d.legacy, d.dbt)
                shown += 1
    if shown:
        console.print(table)
    if total > shown:
        console.print(f"… {total - shown:,} more difference(s) of {o.query.model} in {_rel(RESULTS)}", highlight=False)


def run(only: list[str] | None = None, reuse_spark: bool = False, max_diffs: int = 20,
        results: Path = RESULTS, console: Console | None = None) -> int:
    console = console or Console()
    t_start = time.perf_counter()
    queries = select(only)
    with console.status("writing the fixture"):
        fixture = fx.build()
    log.info("fixture %s: %s lines in %s files, dates %s..%s (digest %s)", _rel(fixture.root), f"{fixture.lines:,}",
             fixture.files, fixture.dates[0], fixture.dates[-1], fixture.digest[:12])

    info = legacy_db.ensure_database(pg_local.ensure_running())
    stats = legacy_db.load(info, fx.read_lines(fixture.root))
    log.info("PostgreSQL %s:%s/%s: legacy_raw loaded (%s) and redshift_shim created in %.1f s", info["host"],
             info["port"], info["dbname"], ", ".join(f"{t} {n:,} rows" for t, n in stats.rows.items()), stats.seconds)

    dbt_seconds: float | None = None
    reused, why = (spark_side.reusable(fixture) if reuse_spark else (False, "--reuse-spark not given"))
    if reused:
        log.info("reusing the Spark warehouse %s: %s", spark_side.SPARK_DIR, why)
    else:
        if reuse_spark:
            log.info("cannot reuse the Spark warehouse (%s): running dbt", why)
        try:
            dbt_seconds = spark_side.run_dbt(fixture)
        except spark_side.SparkSideError as exc:
            print_error(f"the dbt run failed: {exc}")
            _write(results, ok=False, summary=f"dbt run failed: {exc}", fixture=fixture, reused=False,
                   dbt_seconds=None, outcomes=[], seconds=time.perf_counter() - t_start)
            return 1
        log.info("dbt run finished in %.0f s", dbt_seconds)

    outcomes = []
    with psycopg.connect(**info) as conn:
        for q in queries:
            outcomes.append(compare_query(conn, q, fixture.dates))
    seconds = time.perf_counter() - t_start
    title = (f"parity: legacy Redshift SQL on PostgreSQL vs dbt on Spark, fixture {fixture.dates[0]}..{fixture.dates[-1]} "
             f"({fixture.lines:,} raw lines)")
    print_table(console, outcomes, title)
    for o in outcomes:
        print_differences(console, o, max_diffs)
    bad = [o for o in outcomes if not o.ok]
    summary = _summary(outcomes, seconds, dbt_seconds, reused)
    _write(results, ok=not bad, summary=summary, fixture=fixture, reused=reused, dbt_seconds=dbt_seconds,
           outcomes=outcomes, seconds=seconds)
    console.print(summary + f" (results: {_rel(results)})", highlight=False)
    if any(o.status == NO_SQL for o in outcomes):
        console.print(f"Queries marked '{NO_SQL}' fail the run: write legacy/redshift/<model>.sql "
                      "(see legacy/README.md), or choose queries with --only.", highlight=False)
    return 1 if bad else 0


def _summary(outcomes: list[QueryOutcome], seconds: float, dbt_seconds: float | None, reused: bool) -> str:
    n = len(outcomes)
    ok = sum(o.ok for o in outcomes)
    parts = [f"{ok}/{n} quer{'y' if n == 1 else 'ies'} identical"]
    differs = [o for o in outcomes if o.status == "differs"]
    if differs:
        parts.append("differing: " + ", ".join(f"{o.query.model} ({o.total('differing'):,} rows)" for o in differs))
    errors = [o for o in outcomes if o.status == "error"]
    if errors:
        parts.append("errors: " + ", ".join(o.query.model for o in errors))
    missing = [o for o in outcomes if o.status == NO_SQL]
    if missing:
        parts.append(f"{NO_SQL}: " + ", ".join(o.query.model for o in missing))
    spark = "Spark warehouse reused" if reused else f"dbt run {dbt_seconds:.0f} s" if dbt_seconds else "no dbt run"
    return "; ".join(parts) + f"; {spark}, {seconds:.0f} s in all"


def _write(path: Path, *, ok: bool, summary: str, fixture: fx.Fixture, reused: bool, dbt_seconds: float | None,
           outcomes: list[QueryOutcome], seconds: float) -> None:
    doc = {
        "ok": ok, "summary": summary, "seconds": round(seconds, 1),
        "fixture": {"root": _rel(fixture.root), "digest": fixture.digest, "lines": fixture.lines,
                    "files": fixture.files, "dates": [d.isoformat() for d in fixture.dates],
                    "dropped_generated_lines": fixture.dropped, "dbt_vars": fixture.dbt_vars()},
        "spark": {"warehouse": _rel(spark_side.SPARK_DIR), "reused": reused,
                  "dbt_seconds": round(dbt_seconds, 1) if dbt_seconds else None},
        "tolerance": {"rel": cmp.REL_TOL, "abs": cmp.ABS_TOL,
                      "rule": "floats equal when |a-b| <= max(rel*max(|a|,|b|), abs); other values exactly"},
        "queries": [{
            "id": o.query.id, "model": o.query.model, "key": list(o.query.key), "status": o.status, "error": o.error,
            "legacy_sql": _rel(legacy_db.query_path(o.query.model)),
            "legacy_rows": o.total("legacy_rows"), "dbt_rows": o.total("dbt_rows"),
            "matching": o.total("matching"), "differing": o.total("differing"),
            "partitions": [{"partition": p.partition, "legacy_ymd": p.ymd, "error": p.error,
                            "legacy_seconds": round(p.legacy_seconds, 3),
                            **(p.comparison.as_dict() if p.comparison else {})} for p in o.partitions],
        } for o in outcomes],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n")
