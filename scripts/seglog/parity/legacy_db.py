"""The legacy side: the `parity` database in the project's local PostgreSQL (``seglog pg``).

Each harness run recreates its two schemas, so reruns start clean:

- ``legacy_raw``: the raw tables of legacy/raw_tables.sql, filled with every delivered line of
  the fixture (duplicates included), parsed in Python the way the old warehouse held them;
- ``redshift_shim``: legacy/shim/redshift_shim.sql.

A legacy query runs in a read-only transaction with ``search_path = redshift_shim, pg_catalog,
public`` and its ``:'ymd'`` placeholder replaced by the date as a quoted literal (the psql
variable syntax, so the same file runs in psql: ``psql -v ymd=2021-01-01 -f …``).
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Iterable

import psycopg
from psycopg import sql

from ..project import PROJECT_DIR
from .fixture import RawLine

LEGACY_DIR = PROJECT_DIR / "legacy"
RAW_DDL = LEGACY_DIR / "raw_tables.sql"
SHIM = LEGACY_DIR / "shim" / "redshift_shim.sql"
QUERY_DIR = LEGACY_DIR / "redshift"
DATABASE = "parity"
SEARCH_PATH = "redshift_shim, pg_catalog, public"
STATEMENT_TIMEOUT = "120s"

# Column of legacy_raw.<table> -> how to fill it from a raw event.
_TOP = {"message_id": "messageId", "anonymous_id": "anonymousId", "user_id": "userId", "type": "type",
        "event": "event", "name": "name", "category": "category", "channel": "channel",
        "project_id": "projectId"}
_TIMES = {"timestamp": "timestamp", "original_timestamp": "originalTimestamp", "sent_at": "sentAt",
          "received_at": "receivedAt"}
_OBJECTS = {"context": "context", "properties": "properties", "traits": "traits", "integrations": "integrations"}
TABLES = {
    "web_app_events": ["message_id", "source_id", "anonymous_id", "user_id", "type", "event", "name", "category",
                       "channel", "timestamp", "original_timestamp", "sent_at", "received_at", "project_id",
                       "version", "context", "properties", "traits"],
    "procedure_events": ["message_id", "source_id", "anonymous_id", "user_id", "type", "event", "name", "category",
                         "timestamp", "received_at", "version", "context", "properties", "traits", "integrations"],
}
PLACEHOLDER = re.compile(r":'([A-Za-z_][A-Za-z0-9_]*)'")


class LegacyError(RuntimeError):
    """A legacy query or the legacy database failed; the message says which and why."""


def _text(value: Any) -> str | None:
    """A top-level field as text: strings as they are, other JSON values as their JSON text."""
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _time(value: Any) -> datetime | None:
    if value is None:
        return None
    ts = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return ts.astimezone(timezone.utc).replace(tzinfo=None) if ts.tzinfo else ts


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def raw_row(line: RawLine, columns: list[str]) -> tuple[Any, ...]:
    ev = line.event
    row = []
    for col in columns:
        if col == "source_id":
            row.append(line.source_id)
        elif col == "version":
            row.append(ev.get("version"))
        elif col in _TIMES:
            row.append(_time(ev.get(_TIMES[col])))
        elif col in _OBJECTS:
            row.append(_json(ev.get(_OBJECTS[col])))
        else:
            row.append(_text(ev.get(_TOP[col])))
    return tuple(row)


def ensure_database(info: dict[str, Any]) -> dict[str, Any]:
    """Create the `parity` database when missing (UTF-8, C.UTF-8 collation: strings sort by code
    point, as in Spark and Redshift); return connection parameters for it."""
    with psycopg.connect(**{**info, "dbname": "postgres"}, autocommit=True) as conn:
        if not conn.execute("select 1 from pg_database where datname = %s", (DATABASE,)).fetchone():
            conn.execute(sql.SQL("create database {} template template0 encoding 'UTF8' "
                                 "lc_collate 'C.UTF-8' lc_ctype 'C.UTF-8'").format(sql.Identifier(DATABASE)))
    return {**info, "dbname": DATABASE}


@dataclass
class LoadStats:
    rows: dict[str, int]
    seconds: float


def load(info: dict[str, Any], lines: Iterable[RawLine]) -> LoadStats:
    """Recreate legacy_raw (filled with ``lines``) and redshift_shim in the parity database."""
    t0 = time.perf_counter()
    by_table: dict[str, list[RawLine]] = {"web_app_events": [], "procedure_events": []}
    for line in lines:
        by_table["procedure_events" if line.source_key == "procedure" else "web_app_events"].append(line)
    with psycopg.connect(**info) as conn:
        conn.execute(RAW_DDL.read_text())
        for table, columns in TABLES.items():
            found = [r[0] for r in conn.execute(
                "select column_name from information_schema.columns where table_schema = 'legacy_raw' "
                "and table_name = %s order by ordinal_position", (table,))]
            if found != columns:
                raise LegacyError(f"{RAW_DDL} declares legacy_raw.{table} as {found}, but the loader "
                                  f"(scripts/seglog/parity/legacy_db.py TABLES) fills {columns}: change both")
            copy = sql.SQL("copy legacy_raw.{} ({}) from stdin").format(
                sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in columns))
            with conn.cursor().copy(copy) as cp:
                for line in by_table[table]:
                    cp.write_row(raw_row(line, columns))
        conn.execute(SHIM.read_text())
        conn.execute("analyze legacy_raw.web_app_events; analyze legacy_raw.procedure_events")
    return LoadStats({t: len(v) for t, v in by_table.items()}, time.perf_counter() - t0)


def query_path(model: str) -> Path:
    return QUERY_DIR / f"{model}.sql"


def render(text: str, ymd: date) -> str:
    """The query with its ``:'ymd'`` placeholder(s) as a quoted date literal."""
    names = set(PLACEHOLDER.findall(text))
    unknown = names - {"ymd"}
    if unknown:
        raise LegacyError(f"unknown placeholder(s) {', '.join(sorted(unknown))}: a legacy query takes only :'ymd'")
    if "ymd" not in names:
        raise LegacyError("the query has no :'ymd' placeholder: it must take the business date as :'ymd'")
    return PLACEHOLDER.sub(f"'{ymd.isoformat()}'", text)


@dataclass
class QueryResult:
    columns: list[str]
    rows: list[dict[str, Any]]
    seconds: float


def run_query(conn: psycopg.Connection[Any], text: str, ymd: date) -> QueryResult:
    """Run a legacy query for one business date; rows as dicts of Python values."""
    statement = render(text, ymd).strip().rstrip(";")
    t0 = time.perf_counter()
    try:
        with conn.transaction():
            conn.execute(f"set local search_path = {SEARCH_PATH}")
            conn.execute(f"set local statement_timeout = '{STATEMENT_TIMEOUT}'")
            conn.execute("set local transaction_read_only = on")
            cur = conn.execute(statement)
            if cur.description is None:
                raise LegacyError("the query returned no result set (is it a SELECT?)")
            columns = [d.name for d in cur.description]
            if len(set(columns)) != len(columns):
                dupes = sorted({c for c in columns if columns.count(c) > 1})
                raise LegacyError(f"the query returns the column(s) {', '.join(dupes)} more than once")
            rows = [dict(zip(columns, r)) for r in cur.fetchall()]
    except psycopg.Error as exc:
        diag = getattr(exc, "diag", None)
        where = f" (at character {diag.statement_position})" if diag and diag.statement_position else ""
        raise LegacyError(f"{exc.__class__.__name__}: {str(exc).strip()}{where}") from None
    return QueryResult(columns, rows, time.perf_counter() - t0)
