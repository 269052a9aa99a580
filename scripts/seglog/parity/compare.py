"""Row-by-row comparison of a legacy result with a mart partition.

Rules (the harness's contract; tests/python/test_parity_compare.py pins each down):

- rows are matched on the query's grain key; a key present on one side only is a missing row;
  a key that occurs twice on a side is a duplicate (the grain is broken) and counts as differing;
- the columns must be the same set on both sides (order does not matter); a column missing on
  one side fails the comparison and the common columns are still compared;
- NULL equals only NULL: NULL ≠ '' ≠ 'null', NULL ≠ 0;
- numbers compare as numbers whatever their type (2 = 2.0 = Decimal('2.00')); when either side
  is a float they are equal within |a - b| <= max(1e-9 · max(|a|, |b|), 1e-9) (REL_TOL, ABS_TOL),
  else exactly; NaN equals NaN; a boolean equals only a boolean (True ≠ 1);
- timestamps and dates compare as values of their own type: a timestamp with a time zone is
  taken in UTC without it (Spark's Parquet timestamps read back as UTC instants: a `_kst`
  column holds the KST wall clock as that instant); a DATE never equals a TIMESTAMP or a
  string, so a legacy query must return the model's types (cast with ::date);
- strings compare exactly (case, spaces, Unicode as is);
- arrays compare element by element with these rules; a JSON-text string equals an array
  when it parses to one; structs (dicts) compare key by key;
- columns declared JSON (Query.json_columns) compare as parsed JSON values when both parse,
  else as strings.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Iterable

REL_TOL = 1e-9
ABS_TOL = 1e-9
MISSING = object()  # a column a side does not have


def normalize(value: Any) -> Any:
    """A value as compared: aware datetimes in UTC without the zone; everything else as is."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float, Decimal)) and not isinstance(v, bool)


def _numbers_equal(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        fa, fb = float(a), float(b)
        if math.isnan(fa) or math.isnan(fb):
            return math.isnan(fa) and math.isnan(fb)
        return math.isclose(fa, fb, rel_tol=REL_TOL, abs_tol=ABS_TOL)
    return a == b


def _parse_json(v: Any) -> Any:
    if isinstance(v, str):
        try:
            return json.loads(v)
        except ValueError:
            return MISSING
    return MISSING


def values_equal(a: Any, b: Any, *, as_json: bool = False) -> bool:
    """Whether a legacy value and a dbt value are the same under the rules above."""
    a, b = normalize(a), normalize(b)
    if a is None or b is None:
        return a is None and b is None
    if as_json and isinstance(a, str) and isinstance(b, str):
        pa, pb = _parse_json(a), _parse_json(b)
        if pa is not MISSING and pb is not MISSING:
            return _structures_equal(pa, pb)
        return a == b
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if _is_number(a) and _is_number(b):
        return _numbers_equal(a, b)
    if isinstance(a, datetime) or isinstance(b, datetime):
        return isinstance(a, datetime) and isinstance(b, datetime) and a == b
    if isinstance(a, date) or isinstance(b, date):
        return type(a) is type(b) and a == b
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        la = list(a) if isinstance(a, (list, tuple)) else _parse_json(a)
        lb = list(b) if isinstance(b, (list, tuple)) else _parse_json(b)
        if not isinstance(la, list) or not isinstance(lb, list) or len(la) != len(lb):
            return False
        return all(values_equal(x, y) for x, y in zip(la, lb))
    if isinstance(a, dict) or isinstance(b, dict):
        return _structures_equal(a, b)
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    return type(a) is type(b) and a == b


def _structures_equal(a: Any, b: Any) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_structures_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_structures_equal(x, y) for x, y in zip(a, b))
    return values_equal(a, b)


def render(value: Any) -> str:
    """A value as shown in a diff: NULL, strings quoted (so '' and ' x' are visible), types of
    dates and times named."""
    if value is MISSING:
        return "(no such column)"
    value = normalize(value)
    if value is None:
        return "NULL"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return f"timestamp {value.isoformat(sep=' ')}"
    if isinstance(value, date):
        return f"date {value.isoformat()}"
    if isinstance(value, Decimal):
        return f"{value} (decimal)"
    if isinstance(value, float):
        return f"{value!r} (float)"
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def _key_of(row: dict[str, Any], key: tuple[str, ...]) -> tuple[Any, ...]:
    out = []
    for col in key:
        v = normalize(row.get(col))
        # True == 1 and hash alike in Python: keep booleans apart from numbers in keys
        out.append(("bool", v) if isinstance(v, bool) else v)
    return tuple(out)


def render_key(key: tuple[Any, ...], names: tuple[str, ...]) -> str:
    parts = []
    for name, v in zip(names, key):
        if isinstance(v, tuple) and len(v) == 2 and v[0] == "bool":
            v = v[1]
        parts.append(f"{name}={render(v)}")
    return ", ".join(parts)


@dataclass
class CellDiff:
    key: str  # rendered key
    column: str
    legacy: str  # rendered values
    dbt: str


@dataclass
class Comparison:
    legacy_rows: int
    dbt_rows: int
    matching: int = 0
    value_diff_rows: int = 0
    only_legacy: int = 0
    only_dbt: int = 0
    duplicate_keys: int = 0
    missing_columns: dict[str, list[str]] = field(default_factory=dict)  # side -> columns it lacks
    diffs: list[CellDiff] = field(default_factory=list)  # every difference, rows in key order

    @property
    def differing(self) -> int:
        """Rows that are not the same on both sides: a value differs, one side lacks the row, or
        the key is not unique."""
        return self.value_diff_rows + self.only_legacy + self.only_dbt + self.duplicate_keys

    @property
    def ok(self) -> bool:
        return self.differing == 0 and not self.missing_columns

    def as_dict(self, max_diffs: int = 50) -> dict[str, Any]:
        return {"legacy_rows": self.legacy_rows, "dbt_rows": self.dbt_rows, "matching": self.matching,
                "differing": self.differing, "value_diff_rows": self.value_diff_rows,
                "only_legacy": self.only_legacy, "only_dbt": self.only_dbt, "duplicate_keys": self.duplicate_keys,
                "missing_columns": self.missing_columns,
                "diffs": [d.__dict__ for d in self.diffs[:max_diffs]], "diffs_total": len(self.diffs)}


def _sort_token(key: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple((v is None, str(v)) for v in key)


def _preview(row: dict[str, Any], key: tuple[str, ...], columns: Iterable[str], n: int = 3) -> str:
    shown = [f"{c}={render(row.get(c))}" for c in columns if c not in key][:n]
    return "row present: " + ", ".join(shown) + (" …" if shown else "")


def compare(legacy_columns: list[str], legacy_rows: list[dict[str, Any]], dbt_columns: list[str],
            dbt_rows: list[dict[str, Any]], key: tuple[str, ...],
            json_columns: frozenset[str] = frozenset()) -> Comparison:
    """Compare the rows of one partition. ``key`` must be columns of both sides."""
    result = Comparison(legacy_rows=len(legacy_rows), dbt_rows=len(dbt_rows))
    lset, dset = set(legacy_columns), set(dbt_columns)
    if dset - lset:
        result.missing_columns["legacy"] = [c for c in dbt_columns if c not in lset]
    if lset - dset:
        result.missing_columns["dbt"] = [c for c in legacy_columns if c not in dset]
    absent_key = [c for c in key if c not in lset or c not in dset]
    if absent_key:  # nothing can be matched; every row differs
        result.only_legacy, result.only_dbt = len(legacy_rows), len(dbt_rows)
        return result
    common = [c for c in dbt_columns if c in lset]

    def index(rows: list[dict[str, Any]]) -> tuple[dict[tuple, dict[str, Any]], set[tuple]]:
        seen: dict[tuple, dict[str, Any]] = {}
        dupes: set[tuple] = set()
        for row in rows:
            k = _key_of(row, key)
            if k in seen:
                dupes.add(k)
            seen[k] = row
        return seen, dupes

    lidx, ldup = index(legacy_rows)
    didx, ddup = index(dbt_rows)
    for k in sorted(set(lidx) | set(didx), key=_sort_token):
        shown = render_key(k, key)
        if k in ldup or k in ddup:
            result.duplicate_keys += 1
            result.diffs.append(CellDiff(shown, "(key)", "duplicated" if k in ldup else "unique",
                                         "duplicated" if k in ddup else "unique"))
            continue
        if k not in didx:
            result.only_legacy += 1
            result.diffs.append(CellDiff(shown, "(row)", _preview(lidx[k], key, common), "(no row)"))
            continue
        if k not in lidx:
            result.only_dbt += 1
            result.diffs.append(CellDiff(shown, "(row)", "(no row)", _preview(didx[k], key, common)))
            continue
        lrow, drow = lidx[k], didx[k]
        row_diffs = [CellDiff(shown, c, render(lrow.get(c)), render(drow.get(c))) for c in common
                     if not values_equal(lrow.get(c), drow.get(c), as_json=c in json_columns)]
        if row_diffs:
            result.value_diff_rows += 1
            result.diffs.extend(row_diffs)
        else:
            result.matching += 1
    return result
