"""Reconciliation: what Spark has against what the warehouse holds after a load, per partition.

Per model and partition: the row count and, for a model with one unique key, a cheap checksum
(the sum of the first 32 bits of each key's md5), computed here from the Parquet rows and in
the warehouse by SQL (PostgreSQL and Redshift spell it differently; both sums are the same
number). A missing, extra or swapped row changes the count or the sum.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc


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

    @property
    def reconciled(self) -> bool:
        return all(c.reconciled for c in self.checks)

    def as_json(self) -> dict[str, Any]:
        return {"model": self.model, "target": self.target, "rows": self.rows, "bytes": self.bytes,
                "seconds": round(self.seconds, 3), "reconciled": self.reconciled,
                "partitions": [dict(asdict(c), reconciled=c.reconciled) for c in self.checks]}


def key_checksum(values: list[str | None]) -> int:
    """Sum of the first 32 bits of each key's md5: the same sum the warehouses compute in SQL."""
    return sum(int(hashlib.md5(v.encode()).hexdigest()[:8], 16) for v in values if v is not None)


def label(partition: str | None, value: Any) -> str:
    return "(whole table)" if partition is None else f"{partition}={value}"


def spark_side(data: pa.Table, partition: str | None, values: list[str], key: str | None) -> dict[str, tuple[int, int | None]]:
    """Per partition label: (rows, key checksum or None) of the rows about to be loaded."""
    string_key = key is not None and pa.types.is_string(data.schema.field(key).type)
    if partition is None:
        groups = {label(None, None): data}
    else:
        column = pc.cast(data.column(partition), pa.string())
        groups = {label(partition, v): data.filter(pc.equal(column, v)) for v in values}
    return {name: (part.num_rows, key_checksum(part.column(key).to_pylist()) if string_key else None)
            for name, part in groups.items()}


def checks(expected: dict[str, tuple[int, int | None]], found: dict[str, tuple[int, int | None]]) -> list[PartitionCheck]:
    """Spark's numbers against the warehouse's, partition by partition (a partition the warehouse
    lacks counts 0 rows there)."""
    out = []
    for name, (rows, checksum) in expected.items():
        have_rows, have_sum = found.get(name, (0, 0 if checksum is not None else None))
        out.append(PartitionCheck(name, rows, have_rows, checksum, have_sum if checksum is not None else None))
    return out
