"""The local path: load a model's partitions into PostgreSQL, the local stand-in for Redshift.

For each model: create or evolve the table (outside the load transaction: widening a VARCHAR
cannot run inside one in Redshift, and the local path keeps the same order), then in ONE
transaction stage the rows with COPY FROM STDIN (CSV, from Arrow; no row-by-row insert), delete
the partitions' rows and insert the staged ones. Any failure (a bad row, a killed process, a lost
connection) rolls the transaction back: the previous rows stay exactly as they were. Loading
the same date twice leaves one copy. Then the reconciliation counts the rows (and a key
checksum) per partition in SQL.
"""

from __future__ import annotations

import io
import json
import time
from typing import Any

import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv

from ._ddl import create_table, evolve, normalize_type, quote
from ._plan import Step, TableLoad, no_step
from ._load_checksums import LoadResult, checks, checksum_sql, label, partition_text
from ._type_mapping import ColumnType, truncated
from .errors import LoadError


def existing_columns(conn: psycopg.Connection[Any], schema: str, table: str) -> dict[str, str]:
    rows = conn.execute(
        "select column_name, data_type, character_maximum_length, numeric_precision, numeric_scale "
        "from information_schema.columns where table_schema = %s and table_name = %s order by ordinal_position",
        (schema, table)).fetchall()
    return {r[0]: normalize_type(r[1], r[2], r[3], r[4]) for r in rows}


def _json_value(v: Any) -> Any:
    """A nested value as JSON: maps (lists of key/value pairs in Arrow) as objects."""
    if isinstance(v, list) and v and all(isinstance(x, tuple) and len(x) == 2 for x in v):
        return {str(k): _json_value(x) for k, x in v}
    if isinstance(v, list):
        return [_json_value(x) for x in v]
    if isinstance(v, dict):
        return {k: _json_value(x) for k, x in v.items()}
    return v


def _as_loadable(data: pa.Table, columns: list[ColumnType]) -> pa.Table:
    """Nested columns as JSON text (for jsonb), strings cut where the meta allows it."""
    arrays = []
    for col in columns:
        arr = data.column(col.name)
        if col.nested:
            arr = pa.array([None if v is None else json.dumps(_json_value(v), ensure_ascii=False, default=str)
                            for v in arr.to_pylist()], pa.string())
        arrays.append(truncated(arr, col))
    return pa.table(arrays, names=[c.name for c in columns])


CSV_BATCH_ROWS = 50_000  # the CSV goes to COPY a batch at a time: memory stays at one batch of text


def _csv(data: pa.Table) -> bytes:
    """CSV for COPY: NULL as an unquoted empty field, an empty string as "" (quoted)."""
    out = io.BytesIO()
    pacsv.write_csv(data, out, pacsv.WriteOptions(include_header=False, quoting_style="all_valid"))
    return out.getvalue()


def unreachable(model: str, exc: Exception) -> LoadError:
    return LoadError(f"{model}: cannot reach PostgreSQL ({exc.__class__.__name__}: {str(exc).strip()[:200]}); "
                     "start it with `make pg-start` (or `seglog pg start`) and load again; nothing was loaded, the "
                     "previous rows are intact")


def connection_lost(model: str, exc: Exception) -> LoadError:
    return LoadError(f"{model}: the connection to PostgreSQL was lost during the load ({exc.__class__.__name__}: "
                     f"{str(exc).strip()[:200]}); the load was rolled back, the previous rows are intact. Check the "
                     "server (`seglog pg status`, its server.log) and load again")


def prepare_table(conn: psycopg.Connection[Any], schema: str, table: str, columns: list[ColumnType]) -> list[str]:
    """Create or evolve the table (autocommit, before the load). Returns the statements run."""
    conn.execute(f"create schema if not exists {quote(schema)}")
    have = existing_columns(conn, schema, table)
    statements = [create_table(schema, table, columns, "postgres")] if not have else evolve(
        schema, table, have, columns).statements
    for stmt in statements:
        conn.execute(stmt)
    return statements


def _prepare(conninfo: dict[str, Any], job: TableLoad) -> None:
    try:
        with psycopg.connect(**conninfo, autocommit=True) as conn:
            prepare_table(conn, job.schema, job.table, job.columns)
    except psycopg.OperationalError as exc:
        raise unreachable(job.model, exc) from None
    except psycopg.errors.FeatureNotSupported as exc:
        raise LoadError(f"{job.model}: {job.target} needs a column added or a VARCHAR widened, and the warehouse "
                        f"refused: {str(exc).strip()[:300]}. Nothing was loaded; the previous rows are intact. A view "
                        "that depends on the column blocks the change: drop and recreate it around this load (in "
                        "Redshift, create views WITH NO SCHEMA BINDING)") from None
    except psycopg.Error as exc:
        raise LoadError(f"{job.model}: creating or evolving {job.target} failed: {exc.__class__.__name__}: "
                        f"{str(exc).strip()[:300]}. Nothing was loaded; the previous rows are intact") from None


def _replace(conninfo: dict[str, Any], job: TableLoad) -> int:
    """Stage, delete, insert: one transaction, committed on success, rolled back on any error.
    Returns the bytes of CSV sent."""
    stage = quote(f"stage_{job.table}")
    body = ", ".join(f"{quote(c.name)} {c.sql_type}" for c in job.columns)
    sent = 0
    try:
        conn = psycopg.connect(**conninfo)
    except psycopg.OperationalError as exc:
        raise unreachable(job.model, exc) from None
    try:
        with conn:
            conn.execute(f"create temp table {stage} ({body}) on commit drop")
            with conn.cursor().copy(f"copy {stage} ({job.names}) from stdin (format csv)") as copy:
                for batch in _as_loadable(job.data, job.columns).to_batches(max_chunksize=CSV_BATCH_ROWS):
                    payload = _csv(pa.Table.from_batches([batch]))
                    copy.write(payload)
                    sent += len(payload)
            if job.partition is None:
                conn.execute(f"delete from {job.target}")
            else:
                conn.execute(f"delete from {job.target} where {quote(job.partition)} = any(%s)", (job.typed_values(),))
            conn.execute(f"insert into {job.target} ({job.names}) select {job.names} from {stage}")
    except psycopg.OperationalError as exc:
        raise connection_lost(job.model, exc) from None
    except psycopg.Error as exc:
        raise LoadError(f"{job.model}: the load failed and was rolled back, the previous rows are intact: "
                        f"{exc.__class__.__name__}: {str(exc).strip()[:400]} — fix that cause in the warehouse, "
                        "then load again (the load replaces the same partitions)") from None
    return sent


def warehouse_side(conninfo: dict[str, Any], job: TableLoad) -> dict[str, tuple[int, int | None]]:
    """Per partition label: (rows, key checksum) in PostgreSQL."""
    checksum = checksum_sql(job.data.schema, job.grain, "postgres")
    try:
        with psycopg.connect(**conninfo) as conn:
            if job.partition is None:
                rows = [(None, *conn.execute(f"select count(*), {checksum} from {job.target}").fetchone())]
            else:
                part = quote(job.partition)
                text = partition_text(part, job.partition_type)
                rows = conn.execute(f"select {text}, count(*), {checksum} from {job.target} "
                                    f"where {part} = any(%s) group by 1", (job.typed_values(),)).fetchall()
    except psycopg.Error as exc:
        raise LoadError(f"{job.model}: the rows were loaded (committed), but counting them again failed "
                        f"({exc.__class__.__name__}: {str(exc).strip()[:200]}): load again to reconcile (a load "
                        "replaces the same partitions, so it is safe to repeat)") from None
    return {label(job.partition, v): (int(n), None if s is None else int(s)) for v, n, s in rows}


def load(conninfo: dict[str, Any], job: TableLoad, step: Step = no_step) -> LoadResult:
    """Replace the job's partitions (or the whole table) with its rows atomically, then reconcile."""
    t0 = time.perf_counter()
    step("creating or evolving the table")
    _prepare(conninfo, job)
    step(f"replacing {len(job.values) or 'all'} partition(s) in one transaction")
    sent = _replace(conninfo, job)
    step("reconciling")
    found = warehouse_side(conninfo, job)
    return LoadResult(job.model, f"{job.schema}.{job.table}", job.data.num_rows, sent,
                      time.perf_counter() - t0, checks(job.expected(), found))
