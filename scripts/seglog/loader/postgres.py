"""Load a model's rows of one date into PostgreSQL (the local stand-in for Redshift).

For each model: create or evolve the table (outside the load transaction: widening a VARCHAR
cannot run inside one in Redshift, and the local path keeps the same order), then in ONE
transaction stage the date's rows with COPY FROM STDIN (CSV, from Arrow; no row-by-row insert),
delete the date's rows and insert the staged ones. Any failure rolls the transaction back: the
previous rows of the date stay exactly as they were. Loading the same date twice leaves one copy.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
from dataclasses import dataclass
from typing import Any

import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from .ddl import create_table, evolve, normalize_type, quote
from .redshift_types import VARCHAR_MAX, ColumnType


class LoadError(RuntimeError):
    """A load that failed and was rolled back; the message says why and what to do."""


@dataclass
class LoadResult:
    model: str
    partition: str  # e.g. "ymd=2023-11-08", or "(whole table)"
    rows: int
    bytes: int
    seconds: float
    warehouse_rows: int
    checksum_ok: bool | None  # None when the model has no single string key to checksum

    @property
    def reconciled(self) -> bool:
        return self.rows == self.warehouse_rows and self.checksum_ok is not False


def existing_columns(conn: psycopg.Connection[Any], schema: str, table: str) -> dict[str, str]:
    rows = conn.execute(
        "select column_name, data_type, character_maximum_length, numeric_precision, numeric_scale "
        "from information_schema.columns where table_schema = %s and table_name = %s order by ordinal_position",
        (schema, table)).fetchall()
    return {r[0]: normalize_type(r[1], r[2], r[3], r[4]) for r in rows}


def _as_loadable(data: pa.Table, columns: list[ColumnType]) -> pa.Table:
    """Nested columns as JSON text (for jsonb), strings cut where the meta allows it."""
    arrays = []
    for col in columns:
        arr = data.column(col.name)
        if col.nested:
            arr = pa.array([None if v is None else json.dumps(v, ensure_ascii=False, default=str)
                            for v in arr.to_pylist()], pa.string())
        elif col.truncate and col.max_bytes and col.max_bytes > VARCHAR_MAX:
            arr = pc.utf8_slice_codeunits(arr, 0, VARCHAR_MAX // 4)  # at most 4 bytes a character
        arrays.append(arr)
    return pa.table(arrays, names=[c.name for c in columns])


def _csv(data: pa.Table) -> bytes:
    """CSV for COPY: NULL as an unquoted empty field, an empty string as "" (quoted)."""
    out = io.BytesIO()
    pacsv.write_csv(data, out, pacsv.WriteOptions(include_header=False, quoting_style="all_valid"))
    return out.getvalue()


def _unreachable(model: str, exc: Exception) -> LoadError:
    return LoadError(f"{model}: cannot reach PostgreSQL ({exc.__class__.__name__}: {str(exc).strip()[:200]}); "
                     "start it with `make pg-start` (or `seglog pg start`) and load again")


def key_checksum(values: list[str | None]) -> int:
    """Sum of the first 32 bits of each key's md5: the same sum PostgreSQL computes in SQL."""
    return sum(int(hashlib.md5(v.encode()).hexdigest()[:8], 16) for v in values if v is not None)


def prepare_table(conn: psycopg.Connection[Any], schema: str, table: str, columns: list[ColumnType]) -> list[str]:
    """Create or evolve the table (autocommit, before the load). Returns the statements run."""
    conn.execute(f"create schema if not exists {quote(schema)}")
    have = existing_columns(conn, schema, table)
    statements = [create_table(schema, table, columns, "postgres")] if not have else evolve(
        schema, table, have, columns).statements
    for stmt in statements:
        conn.execute(stmt)
    return statements


def load(conninfo: dict[str, Any], schema: str, table: str, data: pa.Table, columns: list[ColumnType],
         partition: str | None, partition_value: Any, key: str | None, model: str) -> LoadResult:
    """Replace the rows of one partition (or the whole table) with ``data`` atomically."""
    t0 = time.perf_counter()
    target = f"{quote(schema)}.{quote(table)}"
    names = ", ".join(quote(c.name) for c in columns)
    payload = _csv(_as_loadable(data, columns))
    try:
        with psycopg.connect(**conninfo, autocommit=True) as conn:
            prepare_table(conn, schema, table, columns)
    except psycopg.OperationalError as exc:
        raise _unreachable(model, exc) from None
    except psycopg.errors.FeatureNotSupported as exc:
        raise LoadError(f"{model}: {target} needs a column added or a VARCHAR widened, and the warehouse refused: "
                        f"{str(exc).strip()[:300]}. Nothing was loaded; the previous rows are intact. A view that "
                        "depends on the column blocks the change: drop and recreate it around this load (in Redshift, "
                        "create views WITH NO SCHEMA BINDING)") from None
    except psycopg.Error as exc:
        raise LoadError(f"{model}: creating or evolving {target} failed: {exc.__class__.__name__}: "
                        f"{str(exc).strip()[:300]}. Nothing was loaded; the previous rows are intact") from None
    try:
        with psycopg.connect(**conninfo) as conn:  # one transaction: commit on success, rollback on error
            stage = quote(f"stage_{table}")
            body = ", ".join(f"{quote(c.name)} {c.sql_type}" for c in columns)
            conn.execute(f"create temp table {stage} ({body}) on commit drop")
            with conn.cursor().copy(f"copy {stage} ({names}) from stdin (format csv)") as copy:
                copy.write(payload)
            if partition is None:
                conn.execute(f"delete from {target}")
            else:
                conn.execute(f"delete from {target} where {quote(partition)} = %s", (partition_value,))
            conn.execute(f"insert into {target} ({names}) select {names} from {stage}")
    except psycopg.OperationalError as exc:
        raise _unreachable(model, exc) from None
    except psycopg.Error as exc:
        raise LoadError(f"{model}: the load failed and was rolled back, the previous rows are intact: "
                        f"{exc.__class__.__name__}: {str(exc).strip()[:400]}") from None
    return _reconcile(conninfo, target, data, partition, partition_value, key, model, len(payload), t0)


def _reconcile(conninfo: dict[str, Any], target: str, data: pa.Table, partition: str | None, partition_value: Any,
               key: str | None, model: str, size: int, t0: float) -> LoadResult:
    where, params = ("", ()) if partition is None else (f" where {quote(partition)} = %s", (partition_value,))
    string_key = key is not None and pa.types.is_string(data.schema.field(key).type)
    checksum_sql = (f", coalesce(sum(('x' || substr(md5({quote(key)}), 1, 8))::bit(32)::bigint), 0)"
                    if string_key else "")
    with psycopg.connect(**conninfo) as conn:
        row = conn.execute(f"select count(*){checksum_sql} from {target}{where}", params).fetchone()
    checksum_ok = None
    if string_key:
        checksum_ok = int(row[1]) == key_checksum(data.column(key).to_pylist())
    label = "(whole table)" if partition is None else f"{partition}={partition_value}"
    return LoadResult(model, label, data.num_rows, size, time.perf_counter() - t0, int(row[0]), checksum_ok)
