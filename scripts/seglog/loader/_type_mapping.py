"""The loader's type mapping: a warehouse column type for every column of a Spark table.

Types come from the Parquet files Spark wrote (their Arrow schema carries Spark's types:
int8/int16 for byte/short, decimal128(p, s), timestamp[us], date32, nested types) and, for
strings, from the data of the date being loaded: Redshift's VARCHAR(n) counts **bytes**, so n
is the longest value's UTF-8 byte length with headroom, rounded up, capped at 65535. A
column's YAML `meta.redshift_type` overrides the derived type (spelled as Redshift allows:
INT, INT8, NUMERIC(p,s), VARCHAR(MAX), …; stored in one canonical spelling); `meta.truncate:
true` lets a string longer than its VARCHAR be cut, at a character boundary, instead of failing.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from .errors import TypeMappingError

VARCHAR_MAX = 65535  # Redshift's limit, in bytes
HEADROOM = 1.25  # room for tomorrow's slightly longer values, so most days need no ALTER
ROUND_TO = 64  # VARCHAR sizes are multiples of this: fewer distinct widenings

SUPER = {"redshift": "SUPER", "postgres": "JSONB"}


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


# meta.redshift_type spellings, in the loader's canonical spelling (the one normalize_type gives a
# warehouse column), so that an override compares equal to the column it created on the next load.
ALIASES = {
    "SMALLINT": "SMALLINT", "INT2": "SMALLINT", "INTEGER": "INTEGER", "INT": "INTEGER", "INT4": "INTEGER",
    "BIGINT": "BIGINT", "INT8": "BIGINT", "REAL": "REAL", "FLOAT4": "REAL", "DOUBLE PRECISION": "DOUBLE PRECISION",
    "FLOAT8": "DOUBLE PRECISION", "FLOAT": "DOUBLE PRECISION", "BOOLEAN": "BOOLEAN", "BOOL": "BOOLEAN",
    "DATE": "DATE", "TIMESTAMP": "TIMESTAMP", "TIMESTAMP WITHOUT TIME ZONE": "TIMESTAMP",
    "TIMESTAMPTZ": "TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE": "TIMESTAMPTZ", "SUPER": "SUPER",
    "TEXT": "VARCHAR(256)",  # Redshift's TEXT is VARCHAR(256)
}


def canonical_type(name: str, spelled: Any, dialect: str) -> str:
    """A column's meta.redshift_type in the canonical spelling for ``dialect`` (SUPER is jsonb in PostgreSQL)."""
    text = " ".join(str(spelled).upper().split())
    varchar = re.fullmatch(r"(?:VARCHAR|CHARACTER VARYING|NVARCHAR)\s*\(\s*(\d+|MAX)\s*\)", text)
    decimal = re.fullmatch(r"(?:DECIMAL|NUMERIC)\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)", text)
    if varchar:
        length = VARCHAR_MAX if varchar.group(1) == "MAX" else int(varchar.group(1))
        if not 1 <= length <= VARCHAR_MAX:
            raise TypeMappingError(f"column {name!r}: meta.redshift_type {spelled!r} is over Redshift's VARCHAR limit "
                                   f"of {VARCHAR_MAX:,} bytes")
        canonical = f"VARCHAR({length})"
    elif decimal:
        canonical = f"DECIMAL({int(decimal.group(1))},{int(decimal.group(2))})"
    elif text in ALIASES:
        canonical = ALIASES[text]
    else:
        raise TypeMappingError(f"column {name!r}: meta.redshift_type {spelled!r} is not a type the loader knows; use "
                               f"VARCHAR(n), DECIMAL(p,s) or one of {', '.join(sorted(set(ALIASES.values())))}")
    return SUPER[dialect] if canonical == "SUPER" else canonical


def map_column(name: str, arrow_type: pa.DataType, data: pa.ChunkedArray | pa.Array | None,
               dialect: str = "redshift", meta: dict[str, Any] | None = None,
               row_keys: pa.ChunkedArray | pa.Array | None = None) -> ColumnType:
    """The warehouse type of one column. ``data`` is the column's values for the date being
    loaded (needed for strings); ``row_keys`` name the rows in an error about a long value."""
    meta = meta or {}
    truncate = bool(meta.get("truncate", False))
    override = canonical_type(name, meta["redshift_type"], dialect) if meta.get("redshift_type") else None
    if pa.types.is_nested(arrow_type):
        if override not in (None, SUPER[dialect]):
            raise TypeMappingError(f"column {name!r} is nested ({arrow_type}) and loads as {SUPER[dialect]}; "
                                   f"meta.redshift_type {override} cannot hold it: remove the override")
        return ColumnType(name, SUPER[dialect], nested=True)
    is_string = pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type)
    if is_string or pa.types.is_null(arrow_type):
        longest = max_utf8_bytes(data) if data is not None and is_string else 0
        declared = override or f"VARCHAR({varchar_length(min(longest, VARCHAR_MAX))})"
        column = ColumnType(name, declared, max_bytes=longest, truncate=truncate)
        limit = column.varchar_length
        if limit is not None and longest > limit and not truncate:
            raise TypeMappingError(_too_long(name, data, longest, limit, row_keys))
        return column
    if override:
        return ColumnType(name, override)
    scalar = _scalar_type(arrow_type, dialect)
    if scalar:
        return ColumnType(name, scalar)
    raise TypeMappingError(f"column {name!r} has the Spark/Arrow type {arrow_type}, which the loader does not map; "
                           "give it a type in the model's YAML: columns: - name: … meta: {redshift_type: …}")


def _too_long(name: str, data: Any, longest: int, limit: int, row_keys: Any) -> str:
    where = ""
    if row_keys is not None:
        lengths = pc.binary_length(data)
        index = pc.index(lengths, longest).as_py()
        where = f" (row key {row_keys[index].as_py()!r})"
    what = (f"Redshift's VARCHAR limit of {VARCHAR_MAX:,} bytes" if limit == VARCHAR_MAX
            else f"its declared VARCHAR({limit}) (meta.redshift_type)")
    return (f"column {name!r} has a value of {longest:,} UTF-8 bytes{where}, over {what}; Redshift COPY from "
            f"Parquet cannot truncate. Shorten it in the model, or set meta: {{truncate: true}} on the column to cut "
            f"such values to {limit:,} bytes when loading")


def map_table(table: pa.Table, dialect: str = "redshift", column_meta: dict[str, dict[str, Any]] | None = None,
              key_column: str | None = None) -> list[ColumnType]:
    """Warehouse types for every column of ``table`` (the rows of the date being loaded)."""
    column_meta = column_meta or {}
    keys = table.column(key_column) if key_column and key_column in table.column_names else None
    return [map_column(field.name, field.type, table.column(field.name), dialect, column_meta.get(field.name), keys)
            for field in table.schema]


def truncated(arr: pa.ChunkedArray, col: ColumnType) -> pa.ChunkedArray:
    """Where the column's meta allows it, each value longer than its VARCHAR (in UTF-8 bytes) cut
    to fit, at a character boundary; values that fit are untouched."""
    limit = col.varchar_length
    if not (col.truncate and limit and col.max_bytes and col.max_bytes > limit):
        return arr
    too_long = pc.greater(pc.binary_length(arr), limit)
    values = arr.to_pylist()
    for i in pc.indices_nonzero(too_long).to_pylist():
        values[i] = values[i].encode()[:limit].decode("utf-8", "ignore")
    return pa.chunked_array([pa.array(values, pa.string())])
