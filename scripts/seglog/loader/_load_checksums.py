"""Reconciliation: what Spark has against what the warehouse holds after a load, per partition.

Per model and partition: the row count and a cheap checksum of the grain (the model's unique
key, one column or several): the sum of the first 32 bits of the md5 of each row's key text,
computed here from the Parquet rows and in the warehouse by SQL (PostgreSQL and Redshift spell
it differently; both sums are the same number). A missing, extra or swapped row changes the
count or the sum. The key text joins the grain's values with '|' (NULL as '<null>'), each as
both SQL dialects print it: strings as they are, integers in decimal, dates as YYYY-MM-DD,
booleans as true/false; a grain with another type (a timestamp, a float) is counted only. (Two
keys whose texts coincide, such as ('a|b', 'c') and ('a', 'b|c'), hash alike: it is a checksum,
not a proof.)
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import pyarrow as pa
import pyarrow.compute as pc

from ._ddl import quote

NULL_TEXT = "<null>"


@dataclass
class PartitionCheck:
    partition: str  # e.g. "ymd=2023-11-08", or "(whole table)"
    rows: int  # Spark's rows
    warehouse_rows: int
    checksum: int | None = None  # Spark's key checksum (None: no single key to checksum)
    warehouse_checksum: int | None = None

    @property
    def reconciled(self) -> bool:
        return self.rows == self.warehouse_rows and self.checksum == self.warehouse_checksum


@dataclass
class LoadResult:
    model: str
    target: str  # "schema.table" in the warehouse
    rows: int
    bytes: int  # what was shipped to the warehouse (CSV to PostgreSQL, Parquet to S3)
    seconds: float
    checks: list[PartitionCheck] = field(default_factory=list)
    no_rows_yet: bool = False  # Spark's table has never had a row: created in the warehouse, nothing loaded
    warnings: list[str] = field(default_factory=list)  # what the load did not change and someone should

    @property
    def reconciled(self) -> bool:
        return all(c.reconciled for c in self.checks)

    @classmethod
    def merged(cls, parts: list["LoadResult"]) -> "LoadResult":
        """One model's result from the results of its chunks of partitions."""
        return cls(parts[0].model, parts[0].target, sum(p.rows for p in parts), sum(p.bytes for p in parts),
                   sum(p.seconds for p in parts), [c for p in parts for c in p.checks],
                   all(p.no_rows_yet for p in parts), list(dict.fromkeys(w for p in parts for w in p.warnings)))

    def as_json(self) -> dict[str, Any]:
        return {"model": self.model, "target": self.target, "rows": self.rows, "bytes": self.bytes,
                "seconds": round(self.seconds, 3), "reconciled": self.reconciled, "no_rows_yet": self.no_rows_yet, "warnings": self.warnings,
                "partitions": [dict(asdict(c), reconciled=c.reconciled) for c in self.checks]}


def key_checksum(texts: list[str]) -> int:
    """Sum of the first 32 bits of each key text's md5: the same sum the warehouses compute in SQL."""
    return sum(int(hashlib.md5(t.encode()).hexdigest()[:8], 16) for t in texts)


def _render(t: pa.DataType) -> Callable[[Any], str] | None:
    """How both SQL dialects print a value of this type as text (None: not reproducible here)."""
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return str
    if pa.types.is_boolean(t):
        return lambda v: "true" if v else "false"
    if pa.types.is_integer(t):
        return str
    if pa.types.is_date(t):
        return lambda v: v.isoformat()
    return None


def checksummable(schema: pa.Schema, grain: list[str]) -> bool:
    return bool(grain) and all(c in schema.names and _render(schema.field(c).type) for c in grain)


def key_texts(data: pa.Table, grain: list[str]) -> list[str]:
    renders = [_render(data.schema.field(c).type) for c in grain]
    columns = [data.column(c).to_pylist() for c in grain]
    return ["|".join(NULL_TEXT if v is None else r(v) for v, r in zip(row, renders))  # type: ignore[misc]
            for row in zip(*columns)]


def checksum_sql(schema: pa.Schema, grain: list[str], dialect: str) -> str:
    """The SQL aggregate that computes key_checksum over a table's rows in the warehouse."""
    if not checksummable(schema, grain):
        return "cast(null as bigint)"
    parts = []
    for name in grain:
        t, col = schema.field(name).type, quote(name)
        if pa.types.is_string(t) or pa.types.is_large_string(t):
            expr = col
        elif pa.types.is_boolean(t):  # Redshift cannot cast a boolean to varchar
            expr = f"case when {col} then 'true' when not {col} then 'false' end"
        elif pa.types.is_date(t):  # not a cast: PostgreSQL's would follow the DateStyle setting
            expr = f"to_char({col}, 'YYYY-MM-DD')"
        else:  # integers in decimal, in both dialects
            expr = f"cast({col} as varchar)"
        parts.append(f"coalesce({expr}, '{NULL_TEXT}')")
    text = " || '|' || ".join(parts)
    if dialect == "redshift":
        return f"coalesce(sum(strtol(substring(md5({text}), 1, 8), 16)), 0)"
    return f"coalesce(sum(('x' || substr(md5({text}), 1, 8))::bit(32)::bigint), 0)"


def partition_text(column_sql: str, partition_type: str) -> str:
    """SQL rendering a (quoted) partition column as its folder-name text, alike in PostgreSQL and
    Redshift: a DATE as YYYY-MM-DD, anything else cast to varchar."""
    return f"to_char({column_sql}, 'YYYY-MM-DD')" if partition_type == "date" else f"cast({column_sql} as varchar)"


def label(partition: str | None, value: Any) -> str:
    return "(whole table)" if partition is None else f"{partition}={value}"


def spark_side(data: pa.Table, partition: str | None, values: list[str],
               grain: list[str]) -> dict[str, tuple[int, int | None]]:
    """Per partition label: (rows, key checksum or None) of the rows about to be loaded."""
    summed = checksummable(data.schema, grain)
    if partition is None:
        groups = {label(None, None): data}
    else:
        column = pc.cast(data.column(partition), pa.string())
        groups = {label(partition, v): data.filter(pc.equal(column, v)) for v in values}
    return {name: (part.num_rows, key_checksum(key_texts(part, grain)) if summed else None)
            for name, part in groups.items()}


def checks(expected: dict[str, tuple[int, int | None]], found: dict[str, tuple[int, int | None]]) -> list[PartitionCheck]:
    """Spark's numbers against the warehouse's, partition by partition (a partition the warehouse
    lacks counts 0 rows there)."""
    out = []
    for name, (rows, checksum) in expected.items():
        have_rows, have_sum = found.get(name, (0, 0 if checksum is not None else None))
        out.append(PartitionCheck(name, rows, have_rows, checksum, have_sum if checksum is not None else None))
    return out
