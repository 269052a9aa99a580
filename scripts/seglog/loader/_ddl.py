"""DDL for the loader: create a table from the derived types, or evolve an existing one.

Create or evolve, never drop: a new column is added, a VARCHAR that the data outgrew is
widened (Redshift cannot do that inside a transaction, so widenings are returned apart, to run
before the load's transaction), and a narrower or incompatible change is refused with what to
do. Columns the warehouse has and the data lacks are kept (loaded as NULL).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from ._type_mapping import ColumnType
from .errors import DdlError

IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")
# (warehouse type, type the data needs) pairs that load without a change: the value fits.
FITS = {("BIGINT", "INTEGER"), ("BIGINT", "SMALLINT"), ("INTEGER", "SMALLINT"), ("DOUBLE PRECISION", "REAL")}


MAX_IDENTIFIER_BYTES = 127  # Redshift's limit (r_names.html); PostgreSQL's is 63, and the local path stays below


def quote(name: str) -> str:
    """A validated, quoted identifier (model and column names come from dbt, but never trust them into SQL)."""
    if not IDENTIFIER.fullmatch(name):
        raise DdlError(f"{name!r} is not a plain lower-case identifier; rename it in the model")
    if len(name.encode()) > MAX_IDENTIFIER_BYTES:
        raise DdlError(f"{name[:40]!r}… is {len(name.encode())} bytes; Redshift's names are at most "
                       f"{MAX_IDENTIFIER_BYTES} bytes: give the model a shorter alias or the column a shorter name")
    return f'"{name}"'


def encoding(column: ColumnType, sortkey: list[str]) -> str:
    """Redshift: an explicit ENCODE on every VARCHAR, so automatic encoding never gives one an
    encoding (BYTEDICT, RUNLENGTH, TEXT255, TEXT32K) that ALTER COLUMN TYPE refuses; RAW on a sort
    key, ZSTD otherwise. (Any explicit ENCODE turns the table's ENCODE AUTO off; the other columns
    get Redshift's defaults, AZ64 or RAW, r_CREATE_TABLE_NEW.html.)"""
    if column.varchar_length is None:
        return ""
    return " encode raw" if column.name in sortkey else " encode zstd"


KEY_VARCHAR = 256  # bytes: the least a distribution- or sort-key VARCHAR is created with (meta.redshift.key_varchar)


def with_key_floor(columns: list[ColumnType], dist: dict[str, Any]) -> list[ColumnType]:
    """Distribution- and sort-key VARCHARs sized at least ``meta.redshift.key_varchar`` (default
    KEY_VARCHAR) bytes: Redshift cannot widen a key column later without rebuilding the table, so
    a key gets room from the start (a Segment id is a 36-byte UUID, but a userId may be an e-mail)."""
    floor = int(dist.get("key_varchar") or KEY_VARCHAR)
    keys = {str(k) for k in [dist.get("distkey"), *(dist.get("sortkey") or [])] if k}
    return [replace(c, sql_type=f"VARCHAR({floor})")
            if c.name in keys and c.varchar_length is not None and c.varchar_length < floor else c for c in columns]


def create_table(schema: str, table: str, columns: list[ColumnType], dialect: str = "redshift",
                 dist: dict[str, Any] | None = None) -> str:
    """CREATE TABLE for the columns; Redshift gets the model meta's DISTSTYLE/DISTKEY/SORTKEY, key
    VARCHARs of at least KEY_VARCHAR bytes and explicit VARCHAR encodings."""
    sortkey = list((dist or {}).get("sortkey") or [])
    if dialect == "redshift":
        columns = with_key_floor(columns, dist or {})
    enc = (lambda c: encoding(c, sortkey)) if dialect == "redshift" else (lambda c: "")
    body = ",\n".join(f"    {quote(c.name)} {c.sql_type}{enc(c)}" for c in columns)
    sql = f"create table {quote(schema)}.{quote(table)} (\n{body}\n)"
    if dialect == "redshift" and dist:
        sql += _distribution(dist, {c.name for c in columns})
    return sql


def _distribution(dist: dict[str, Any], names: set[str]) -> str:
    parts = []
    style = str(dist.get("diststyle", "")).lower()
    if style:
        if style not in ("auto", "even", "all", "key"):
            raise DdlError(f"meta.redshift.diststyle {style!r}: use auto, even, all or key")
        parts.append(f"diststyle {style}")
    if dist.get("distkey"):
        if dist["distkey"] not in names:
            raise DdlError(f"meta.redshift.distkey {dist['distkey']!r} is not a column of the model")
        parts.append(f"distkey ({quote(dist['distkey'])})")
    sortkey = dist.get("sortkey") or []
    if sortkey:
        missing = [k for k in sortkey if k not in names]
        if missing:
            raise DdlError(f"meta.redshift.sortkey names {missing}, not columns of the model")
        parts.append(f"compound sortkey ({', '.join(quote(k) for k in sortkey)})")
    return "\n" + "\n".join(parts) if parts else ""


def normalize_type(data_type: str, char_length: int | None = None, precision: int | None = None,
                   scale: int | None = None) -> str:
    """information_schema's description of a column (PostgreSQL or Redshift) in the loader's spelling."""
    t = data_type.lower()
    if t in ("character varying", "varchar"):
        return f"VARCHAR({char_length})"
    if t in ("timestamp without time zone", "timestamp"):
        return "TIMESTAMP"
    if t in ("timestamp with time zone", "timestamptz"):
        return "TIMESTAMPTZ"
    if t in ("numeric", "decimal"):
        return f"DECIMAL({precision},{scale})"
    return {"bigint": "BIGINT", "integer": "INTEGER", "smallint": "SMALLINT", "double precision": "DOUBLE PRECISION",
            "real": "REAL", "boolean": "BOOLEAN", "date": "DATE", "jsonb": "JSONB", "super": "SUPER",
            "text": "TEXT"}.get(t, t.upper())


@dataclass
class Evolution:
    """What an existing table needs before the date's rows can be loaded."""

    widen: list[str] = field(default_factory=list)  # ALTER … TYPE VARCHAR(n): outside the load transaction
    add: list[str] = field(default_factory=list)  # ALTER … ADD COLUMN
    widened: list[tuple[str, str]] = field(default_factory=list)  # (column, its new type), one per widen

    @property
    def statements(self) -> list[str]:
        return self.widen + self.add


def _varchar(t: str) -> int | None:
    m = re.fullmatch(r"VARCHAR\((\d+)\)", t)
    return int(m.group(1)) if m else None


def evolve(schema: str, table: str, existing: dict[str, str], columns: list[ColumnType],
           dialect: str = "postgres") -> Evolution:
    """The ALTERs that make ``existing`` (column -> normalized type) take ``columns``; raises
    DdlError for a narrowing or incompatible change, before anything is altered."""
    out = Evolution()
    target = f"{quote(schema)}.{quote(table)}"
    refused = []
    for col in columns:
        have = existing.get(col.name)
        if have is None:
            enc = encoding(col, []) if dialect == "redshift" else ""
            out.add.append(f"alter table {target} add column {quote(col.name)} {col.sql_type}{enc}")
            continue
        want = col.sql_type
        if have == want or (have, want) in FITS:
            continue
        have_len, want_len = _varchar(have), _varchar(want)
        if have_len is not None and want_len is not None:
            if want_len > have_len:
                out.widen.append(f"alter table {target} alter column {quote(col.name)} type VARCHAR({want_len})")
                out.widened.append((col.name, f"VARCHAR({want_len})"))
            continue  # a wider existing VARCHAR takes the shorter values as they are
        refused.append(f"{col.name}: the warehouse has {have}, the data needs {want}")
    if refused:
        raise DdlError(
            f"{schema}.{table} cannot take this load without changing a column's type in a way the loader never "
            f"does (it only adds columns and widens VARCHARs): {'; '.join(refused)}. Either give the column its "
            f"warehouse type in the model's YAML (meta: {{redshift_type: …}}), or migrate the column yourself "
            f"(add a new column, copy, swap) and load again; nothing was changed")
    return out
