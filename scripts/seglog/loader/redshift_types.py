"""The loader's type mapping: a warehouse column type for every column of a Spark table.

Types come from the Parquet files Spark wrote (their Arrow schema carries Spark's types:
int8/int16 for byte/short, decimal128(p, s), timestamp[us], date32, nested types) and, for
strings, from the data of the date being loaded: Redshift's VARCHAR(n) counts **bytes**, so n
is the longest value's UTF-8 byte length with headroom, rounded up, capped at 65535. A
column's YAML `meta.redshift_type` overrides the derived type; `meta.truncate: true` lets an
over-long string be cut instead of failing the load.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

VARCHAR_MAX = 65535  # Redshift's limit, in bytes
HEADROOM = 1.25  # room for tomorrow's slightly longer values, so most days need no ALTER
ROUND_TO = 64  # VARCHAR sizes are multiples of this: fewer distinct widenings

SUPER = {"redshift": "SUPER", "postgres": "JSONB"}


class TypeMappingError(ValueError):
    """A column that cannot be loaded as it is; the message names the column and what to do."""


@dataclass(frozen=True)
class ColumnType:
    name: str
    sql_type: str  # as it goes into the DDL, e.g. VARCHAR(384), TIMESTAMP, SUPER
    max_bytes: int | None = None  # strings: the longest UTF-8 value seen in the data
    nested: bool = False  # loaded as JSON text into SUPER / jsonb
    truncate: bool = False  # over-long strings are cut (only when meta allows it)

    @property
    def varchar_length(self) -> int | None:
        if self.sql_type.startswith("VARCHAR("):
            return int(self.sql_type[len("VARCHAR("):-1])
        return None


def varchar_length(max_bytes: int) -> int:
    """Declared VARCHAR length for a column whose longest value is ``max_bytes`` UTF-8 bytes."""
    wanted = max(1, math.ceil(max_bytes * HEADROOM))
    return min(VARCHAR_MAX, max(ROUND_TO, math.ceil(wanted / ROUND_TO) * ROUND_TO))


def max_utf8_bytes(column: pa.ChunkedArray | pa.Array) -> int:
    """Longest value of a string column in UTF-8 bytes (0 when every value is null)."""
    if len(column) == 0:
        return 0
    lengths = pc.binary_length(column)
    longest = pc.max(lengths).as_py()
    return int(longest or 0)


def _scalar_type(arrow_type: pa.DataType, dialect: str) -> str | None:
    if pa.types.is_timestamp(arrow_type):
        return "TIMESTAMP"
    if pa.types.is_date(arrow_type):
        return "DATE"
    if pa.types.is_int8(arrow_type) or pa.types.is_int16(arrow_type):
        return "SMALLINT"
    if pa.types.is_int32(arrow_type):
        return "INTEGER"
    if pa.types.is_int64(arrow_type):
        return "BIGINT"
    if pa.types.is_decimal(arrow_type):
        return f"DECIMAL({arrow_type.precision},{arrow_type.scale})"
    if pa.types.is_float64(arrow_type):
        return "DOUBLE PRECISION"
    if pa.types.is_float32(arrow_type):
        return "REAL"
    if pa.types.is_boolean(arrow_type):
        return "BOOLEAN"
    return None


def map_column(name: str, arrow_type: pa.DataType, data: pa.ChunkedArray | pa.Array | None,
               dialect: str = "redshift", meta: dict[str, Any] | None = None,
               row_keys: pa.ChunkedArray | pa.Array | None = None) -> ColumnType:
    """The warehouse type of one column. ``data`` is the column's values for the date being
    loaded (needed for strings); ``row_keys`` name the rows in an error about a long value."""
    meta = meta or {}
    truncate = bool(meta.get("truncate", False))
    override = meta.get("redshift_type")
    if pa.types.is_nested(arrow_type):
        return ColumnType(name, override or SUPER[dialect], nested=True)
    if override:
        return ColumnType(name, str(override).upper(), truncate=truncate)
    scalar = _scalar_type(arrow_type, dialect)
    if scalar:
        return ColumnType(name, scalar)
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type) or pa.types.is_null(arrow_type):
        longest = max_utf8_bytes(data) if data is not None and not pa.types.is_null(arrow_type) else 0
        if longest > VARCHAR_MAX and not truncate:
            raise TypeMappingError(_too_long(name, data, longest, row_keys))
        return ColumnType(name, f"VARCHAR({varchar_length(min(longest, VARCHAR_MAX))})", max_bytes=longest,
                          truncate=truncate)
    raise TypeMappingError(f"column {name!r} has the Spark/Arrow type {arrow_type}, which the loader does not map; "
                           "give it a type in the model's YAML: columns: - name: … meta: {redshift_type: …}")


def _too_long(name: str, data: Any, longest: int, row_keys: Any) -> str:
    where = ""
    if row_keys is not None:
        lengths = pc.binary_length(data)
        index = pc.index(lengths, longest).as_py()
        where = f" (row key {row_keys[index].as_py()!r})"
    return (f"column {name!r} has a value of {longest:,} UTF-8 bytes{where}, over Redshift's VARCHAR limit of "
            f"{VARCHAR_MAX:,} bytes; Redshift COPY from Parquet cannot truncate. Shorten it in the model, or set "
            f"meta: {{truncate: true}} on the column to cut it to {VARCHAR_MAX:,} bytes when loading")


def map_table(table: pa.Table, dialect: str = "redshift", column_meta: dict[str, dict[str, Any]] | None = None,
              key_column: str | None = None) -> list[ColumnType]:
    """Warehouse types for every column of ``table`` (the rows of the date being loaded)."""
    column_meta = column_meta or {}
    keys = table.column(key_column) if key_column and key_column in table.column_names else None
    return [map_column(field.name, field.type, table.column(field.name), dialect, column_meta.get(field.name), keys)
            for field in table.schema]
