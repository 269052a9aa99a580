"""The production path: load a model's partitions into Amazon Redshift.

Per model, in this order:
1. write the rows as Parquet (INT64 microsecond timestamps, never INT96; nested columns kept
   nested) under a fresh S3 staging prefix, ``{staging}/{load id}/{schema}.{table}/``;
2. create the table, or evolve it: each ADD COLUMN / widening ALTER as its own statement,
   because Redshift cannot alter a column's type inside a transaction block;
3. ONE Data API batch, which is one transaction: a temp table like the target, ``COPY … FROM
   's3://…' IAM_ROLE … FORMAT AS PARQUET`` with an explicit column list (``SERIALIZETOJSON``
   when a column is SUPER), delete the partitions' rows, insert the staged ones. A failure
   anywhere rolls all of it back and the previous rows stay; a failed COPY is reported with its
   ``sys_load_error_detail`` line;
4. reconcile: rows and key checksum per partition in SQL;
5. delete the staged files (they are kept when the load failed, for the post-mortem).

COPY from Parquet has no TRUNCATECOLUMNS and no MAXERROR: a value longer than its VARCHAR would
fail the whole load, so every string is sized from the data (and cut here where the column's
meta allows truncation) before it is staged.
"""

from __future__ import annotations

import io
import os
import re
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterator

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .data_api import ConfigError, DataApi, StatementFailed
from .ddl import create_table, evolve, normalize_type, quote
from .plan import Step, TableLoad, no_step
from .postgres import LoadError, truncated
from .reconcile import LoadResult, checks, checksum_sql, label, partition_text

S3_URI = re.compile(r"s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(/[A-Za-z0-9_.=/-]*)?")
ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}")


def check_staging_uri(uri: str) -> re.Match[str]:
    """The staging location, refused unless s3://bucket/prefix: it goes into COPY's FROM '…' literal."""
    match = S3_URI.fullmatch(uri)
    if not match:
        raise ConfigError(f"staging location {uri!r} is not s3://bucket/prefix (letters, digits, _ . = / - only)")
    return match


def check_role_arn(iam_role: str) -> str:
    """The COPY role, refused unless an IAM role ARN: it goes into COPY's IAM_ROLE '…' literal."""
    if not ROLE_ARN.fullmatch(iam_role):
        raise ConfigError(f"IAM role {iam_role!r} is not an IAM role ARN (arn:aws:iam::123456789012:role/name)")
    return iam_role
ROWS_PER_FILE = 500_000  # several files let the cluster's slices COPY in parallel


@dataclass(frozen=True)
class Staging:
    """Where the Parquet for COPY goes and the role Redshift reads it with."""

    bucket: str
    prefix: str  # without leading or trailing slash; may be ""
    iam_role: str

    @classmethod
    def from_env(cls, uri: str | None = None, iam_role: str | None = None) -> "Staging":
        uri = uri or os.environ.get("SEGLOG_REDSHIFT_STAGING", "")
        iam_role = iam_role or os.environ.get("REDSHIFT_COPY_ROLE_ARN", "")
        missing = [name for name, v in (("SEGLOG_REDSHIFT_STAGING (or --staging)", uri),
                                         ("REDSHIFT_COPY_ROLE_ARN (or --iam-role)", iam_role)) if not v]
        if missing:
            raise ConfigError(f"the Redshift load needs {' and '.join(missing)}: the S3 prefix COPY reads the staged "
                              "Parquet from, and the IAM role Redshift reads it with")
        match = check_staging_uri(uri)
        return cls(match.group(1), (match.group(2) or "").strip("/"), check_role_arn(iam_role))

    def load_prefix(self, job: TableLoad, load_id: str) -> str:
        return "/".join(p for p in (self.prefix, load_id, f"{job.schema}.{job.table}") if p) + "/"

    def uri(self, key_prefix: str) -> str:
        return f"s3://{self.bucket}/{key_prefix}"


def new_load_id() -> str:
    return f"{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def parquet_for_copy(job: TableLoad) -> pa.Table:
    """The rows as COPY reads them: the job's columns in order, timestamps as UTC wall-clock
    microseconds without a zone (Redshift TIMESTAMP), strings cut where the meta allows it."""
    arrays = []
    for col in job.columns:
        arr = job.data.column(col.name)
        if pa.types.is_timestamp(arr.type):
            arr = pc.cast(arr, pa.timestamp("us"))
        arrays.append(truncated(arr, col))
    return pa.table(arrays, names=[c.name for c in job.columns])


def parquet_files(table: pa.Table, rows_per_file: int = ROWS_PER_FILE) -> Iterator[bytes]:
    """Parquet files of at most ``rows_per_file`` rows, one at a time: INT64 timestamps (not INT96),
    snappy, data page v1."""
    for start in range(0, table.num_rows, rows_per_file):
        buf = io.BytesIO()
        pq.write_table(table.slice(start, rows_per_file), buf, compression="snappy", coerce_timestamps="us",
                       use_deprecated_int96_timestamps=False, data_page_version="1.0")
        yield buf.getvalue()


def _params(job: TableLoad) -> dict[str, str]:
    return {f"p{i}": v for i, v in enumerate(job.values)}


def _in_list(job: TableLoad) -> str:
    cast = (lambda p: f"cast(:{p} as date)") if job.partition_type == "date" else (lambda p: f":{p}")
    return ", ".join(cast(p) for p in _params(job))


def ddl_statements(job: TableLoad, have: dict[str, str], dist: dict[str, Any]) -> list[str]:
    """Create the table, or the ALTERs that evolve it (each runs on its own, outside the batch)."""
    create = [f"create schema if not exists {quote(job.schema)}"]
    if not have:
        return create + [create_table(job.schema, job.table, job.columns, "redshift", dist)]
    return evolve(job.schema, job.table, have, job.columns).statements


def batch_statements(job: TableLoad, stage_uri: str | None, iam_role: str) -> list[str]:
    """The one-transaction batch: stage with COPY, delete the partitions' rows, insert the staged ones."""
    stage = quote(f"stage_{job.table}")
    delete = (f"delete from {job.target}" if job.partition is None
              else f"delete from {job.target} where {quote(job.partition)} in ({_in_list(job)})")
    if stage_uri is None:  # no rows: nothing to COPY (COPY fails on an empty prefix)
        return [delete]
    serialize = " serializetojson" if any(c.nested for c in job.columns) else ""
    # The stage has exactly the staged files' columns, in their order, with the types derived from them
    # (COPY from Parquet wants the same columns and compatible types); the INSERT casts into the target.
    body = ", ".join(f"{quote(c.name)} {c.sql_type}" for c in job.columns)
    return [
        f"create temp table {stage} ({body})",
        f"copy {stage} ({job.names}) from '{stage_uri}' iam_role '{iam_role}' format as parquet{serialize}",
        delete,
        f"insert into {job.target} ({job.names}) select {job.names} from {stage}",
        f"drop table {stage}",
    ]


def reconcile_statement(job: TableLoad) -> str:
    checksum = checksum_sql(job.data.schema, job.grain, "redshift")
    if job.partition is None:
        return f"select cast(null as varchar), count(*), {checksum} from {job.target}"
    part = quote(job.partition)
    text = partition_text(part, job.partition_type)
    return (f"select {text}, count(*), {checksum} from {job.target} "
            f"where {part} in ({_in_list(job)}) group by 1")


COLUMNS_SQL = ("select column_name, data_type, character_maximum_length, numeric_precision, numeric_scale "
               "from svv_columns where table_schema = :schema and table_name = :table order by ordinal_position")

LOAD_ERROR_SQL = ("select trim(column_name), trim(column_type), error_code, trim(error_message), trim(file_name), "
                  "line_number from sys_load_error_detail where query_id = :query_id order by start_time limit 1")


class RedshiftLoader:
    def __init__(self, api: DataApi, s3: Any, staging: Staging, load_id: str | None = None):
        self.api = api
        self.s3 = s3
        self.staging = staging
        self.load_id = load_id or new_load_id()

    @classmethod
    def from_env(cls, staging: Staging) -> "RedshiftLoader":
        import boto3

        api = DataApi.from_env()
        return cls(api, boto3.client("s3", region_name=api.connection.region), staging)

    def existing_columns(self, job: TableLoad) -> dict[str, str]:
        rows = self.api.execute(COLUMNS_SQL, {"schema": job.schema, "table": job.table})
        return {r[0]: normalize_type(r[1], r[2], r[3], r[4]) for r in rows}

    def load(self, job: TableLoad, dist: dict[str, Any], step: Step = no_step) -> LoadResult:
        from botocore.exceptions import BotoCoreError, ClientError

        t0 = time.perf_counter()
        phase = "before"  # before the batch, in it, or after it committed: what a failure means
        try:
            step("reading the table's columns")
            try:
                have = self.existing_columns(job)
            except StatementFailed as exc:
                raise LoadError(f"{job.model}: cannot read the columns of {job.target} ({exc}); nothing was loaded, "
                                "the previous rows are intact") from None
            ddl = ddl_statements(job, have, dist)  # a refused change (DdlError) stops here: nothing staged
            step("staging Parquet to S3")
            key_prefix = self.staging.load_prefix(job, self.load_id)
            keys, size = [], 0
            for i, body in enumerate(parquet_files(parquet_for_copy(job)) if job.data.num_rows else []):
                keys.append(f"{key_prefix}part-{i:05d}.parquet")
                self.s3.put_object(Bucket=self.staging.bucket, Key=keys[-1], Body=body)
                size += len(body)
            stage_uri = self.staging.uri(key_prefix) if keys else None
            kept = f"; the staged Parquet stays at {stage_uri} for inspection" if stage_uri else ""
            try:
                step("creating or evolving the table")
                for sql in ddl:  # one by one, autocommit: Redshift cannot widen a VARCHAR inside a transaction
                    self.api.execute(sql)
            except StatementFailed as exc:
                raise LoadError(f"{job.model}: creating or evolving {job.target} failed: {exc}. Nothing was loaded; "
                                f"the previous rows are intact{_view_hint(str(exc))}{kept}") from None
            try:
                step(f"replacing {len(job.values) or 'all'} partition(s) in one transaction")
                phase = "batch"
                self.api.batch(batch_statements(job, stage_uri, self.staging.iam_role), _params(job) or None)
                phase = "after"
            except StatementFailed as exc:
                if exc.status == "UNKNOWN":
                    raise LoadError(f"{job.model}: {exc}{kept}") from None
                raise LoadError(f"{job.model}: the load failed and was rolled back, the previous rows are intact: "
                                f"{exc}{self._load_error(exc)}{kept}") from None
            step("reconciling")
            try:
                rows = self.api.execute(reconcile_statement(job), _params(job) or None)
            except StatementFailed as exc:
                raise LoadError(f"{job.model}: the rows were loaded (committed), but counting them again failed ({exc}): "
                                f"load again to reconcile (a load replaces the same partitions, so it is safe to "
                                f"repeat){kept}") from None
            found = {label(job.partition, v): (int(n), None if s is None else int(s)) for v, n, s in rows}
            result = LoadResult(job.model, f"{job.schema}.{job.table}", job.data.num_rows, size,
                                time.perf_counter() - t0, checks(job.expected(), found))
            if result.reconciled:  # a mismatch keeps the staged files for the post-mortem
                for key in keys:
                    self.s3.delete_object(Bucket=self.staging.bucket, Key=key)
            return result
        except (BotoCoreError, ClientError) as exc:
            raise LoadError(f"{job.model}: an AWS call failed ({exc.__class__.__name__}: {str(exc)[:300]}); "
                            f"{AFTER[phase]}. Check the AWS credentials and region, the staging bucket and the "
                            "Redshift workgroup or cluster") from None

    def _load_error(self, exc: StatementFailed) -> str:
        """The sys_load_error_detail line of a failed COPY: which column, file and line, and why."""
        if not (exc.failed_sql or "").lstrip().lower().startswith("copy") or exc.query_id is None:
            return ""
        try:
            rows = self.api.execute(LOAD_ERROR_SQL, {"query_id": str(exc.query_id)})
        except StatementFailed:
            return ""
        if not rows:  # Parquet scan errors often leave no row there
            return (f" (no sys_load_error_detail row for query {exc.query_id}; see sys_load_history and svl_s3log "
                    "for that query)")
        column, ctype, code, message, file_name, line = rows[0]
        return (f"; sys_load_error_detail: column {column} ({ctype}), error {code}: {message} "
                f"(file {file_name}, line {line})")


AFTER = {  # what an AWS error means for the warehouse's rows, by where the load was
    "before": "nothing was loaded, the previous rows are intact",
    "batch": ("the load's transaction may or may not have committed: look the statement up in sys_query_history, "
              "or simply load again (a load replaces the same partitions, so it is safe to repeat)"),
    "after": ("the rows were loaded (committed) but not yet reconciled: load again to reconcile (safe to repeat); "
              "staged files may be left under the staging prefix"),
}


def _view_hint(message: str) -> str:
    if "view" in message.lower():
        return (". A view that depends on the column blocks the change: create BI views WITH NO SCHEMA BINDING, "
                "or drop and recreate the view around this load")
    return ""
