"""The production path: load a model's partitions into Amazon Redshift.

Per model, in this order:
1. write the rows as Parquet (INT64 microsecond timestamps, never INT96; nested columns kept
   nested) under a staging prefix of this load call alone,
   ``{staging}/{load id}/{schema}.{table}/{nnn}/`` (refused if it already holds a file), and a
   COPY manifest listing exactly those files with their ``content_length``: files another load
   left behind (a chunk that failed its reconciliation keeps its files) are never loaded again;
2. create the table (VARCHARs with an explicit ENCODE, distribution- and sort-key VARCHARs at
   least ``ddl.KEY_VARCHAR`` bytes: see ``ddl.create_table``), or evolve it: each ADD COLUMN / widening
   ALTER as its own statement, because Redshift cannot alter a column's type inside a transaction
   block. Where Redshift refuses the ALTER (a key column, a BYTEDICT / RUNLENGTH / TEXT255 /
   TEXT32K encoding, read from ``svv_redshift_columns``), the table is rebuilt in one transaction
   instead (``rebuild_statements``);
3. ONE Data API batch, which is one transaction: a temp table like the target, ``COPY … FROM
   '<manifest>' IAM_ROLE … FORMAT AS PARQUET … MANIFEST`` with an explicit column list
   (``SERIALIZETOJSON`` when a column is SUPER), delete the partitions' rows, insert the staged
   ones. A failure anywhere rolls all of it back and the previous rows stay; a failed COPY is
   reported with its ``sys_load_error_detail`` line;
4. reconcile: rows and key checksum per partition in SQL;
5. delete the staged files (they are kept when the load failed, for the post-mortem).

COPY from Parquet has no TRUNCATECOLUMNS and no MAXERROR: a value longer than its VARCHAR would
fail the whole load, so every string is sized from the data (and cut here where the column's
meta allows truncation) before it is staged.
"""

from __future__ import annotations

import io
import json
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

from ._data_api import DataApi
from ._ddl import Evolution, create_table, evolve, normalize_type, quote
from ._plan import Step, TableLoad, no_step
from ._type_mapping import ColumnType, truncated
from ._load_checksums import LoadResult, checks, checksum_sql, label, partition_text
from .errors import ConfigError, LoadError, StatementFailed

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
BATCH_LIMIT = 40  # statements in one BatchExecuteStatement (the Data API's SqlList maximum)
# Redshift refuses ALTER COLUMN … TYPE on these encodings (r_ALTER_TABLE.html) and on dist/sort-key columns
UNALTERABLE = {"bytedict", "runlength", "text255", "text32k"}


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

    def load_prefix(self, job: TableLoad, load_id: str, call: int = 1) -> str:
        """The staging prefix of one load call: the n-th load of that table by the load ``load_id``."""
        return "/".join(p for p in (self.prefix, load_id, f"{job.schema}.{job.table}", f"{call:03d}") if p) + "/"

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
    return evolve(job.schema, job.table, have, job.columns, "redshift").statements


@dataclass
class Catalog:
    """What Redshift's catalog says of an existing table: per column its encoding and keys
    (svv_redshift_columns), its comments, and the grants on it (svv_relation_privileges)."""

    encoding: dict[str, str]
    distkey: str | None
    sortkey: list[str]
    column_comments: dict[str, str]
    table_comment: str | None
    grants: list[tuple[str, str, str]]  # (privilege, identity type, identity name)

    def refuses_alter(self, column: str) -> str | None:
        """Why Redshift would refuse ALTER COLUMN … TYPE on ``column`` (None: it would not)."""
        if column == self.distkey:
            return "it is the distribution key"
        if column in self.sortkey:
            return "it is a sort key"
        if self.encoding.get(column, "") in UNALTERABLE:
            return f"its encoding is {self.encoding[column].upper()}"
        return None


KEYS_SQL = ("select column_name, encoding, distkey, sortkey, remarks from svv_redshift_columns "
            "where schema_name = :schema and table_name = :table order by ordinal_position")
TABLE_COMMENT_SQL = "select remarks from svv_redshift_tables where schema_name = :schema and table_name = :table"
GRANTS_SQL = ("select privilege_type, identity_type, identity_name from svv_relation_privileges "
              "where namespace_name = :schema and relation_name = :table and identity_name <> current_user "
              "order by 3, 1")


def rebuild_statements(job: TableLoad, have: dict[str, str], evolution: Evolution, catalog: Catalog,
                       dist: dict[str, Any]) -> list[str]:
    """Rebuild the table with the widened columns, in ONE transaction (Redshift runs CREATE, INSERT,
    RENAME and DROP in a transaction block; only ALTER COLUMN TYPE it cannot): a new table with every
    column (old order, new types, added columns last, VARCHARs with an alterable encoding), the rows
    copied, swapped in by name, the old table dropped, its grants and comments given again. A view
    bound to the old table blocks the DROP, and the whole rebuild rolls back."""
    widened = dict(evolution.widened)
    columns = [ColumnType(name, widened.get(name, sql_type)) for name, sql_type in have.items()]
    columns += [c for c in job.columns if c.name not in have]  # key VARCHARs get KEY_VARCHAR (create_table)
    new, old = f"{job.table}__seglog_new", f"{job.table}__seglog_old"
    names = ", ".join(quote(n) for n in have)
    schema = quote(job.schema)
    out = [create_table(job.schema, new, columns, "redshift", dist),
           f"insert into {schema}.{quote(new)} ({names}) select {names} from {job.target}",
           f"alter table {job.target} rename to {quote(old)}",
           f"alter table {schema}.{quote(new)} rename to {quote(job.table)}",
           f"drop table {schema}.{quote(old)}"]
    for privilege, kind, who in catalog.grants:
        grantee = {"group": f"group {quote_any(who)}", "role": f"role {quote_any(who)}",
                   "public": "public"}.get(kind.lower(), quote_any(who))
        out.append(f"grant {privilege.lower()} on {job.target} to {grantee}")
    if catalog.table_comment:
        out.append(f"comment on table {job.target} is {literal(catalog.table_comment)}")
    for column, text in catalog.column_comments.items():
        out.append(f"comment on column {job.target}.{quote(column)} is {literal(text)}")
    return out


def quote_any(name: str) -> str:
    """A user, group or role name as Redshift reports it (may hold ':' as IAMR:role does), quoted."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def batch_statements(job: TableLoad, stage_uri: str | None, iam_role: str) -> list[str]:
    """The one-transaction batch: stage with COPY (``stage_uri``: the load's manifest), delete the
    partitions' rows, insert the staged ones."""
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
        f"copy {stage} ({job.names}) from '{stage_uri}' iam_role '{iam_role}' format as parquet{serialize} manifest",
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
        self._calls: dict[str, int] = {}  # loads per table so far: each stages under its own prefix

    @classmethod
    def from_env(cls, staging: Staging) -> "RedshiftLoader":
        import boto3

        api = DataApi.from_env()
        return cls(api, boto3.client("s3", region_name=api.connection.region), staging)

    def existing_columns(self, job: TableLoad) -> dict[str, str]:
        rows = self.api.execute(COLUMNS_SQL, {"schema": job.schema, "table": job.table})
        return {r[0]: normalize_type(r[1], r[2], r[3], r[4]) for r in rows}

    def catalog(self, job: TableLoad, full: bool = False) -> Catalog:
        """The existing table's encodings and keys; with ``full``, its comments and grants too (a rebuild)."""
        params = {"schema": job.schema, "table": job.table}
        rows = self.api.execute(KEYS_SQL, params)
        catalog = Catalog({r[0]: str(r[1] or "").strip().lower() for r in rows},
                          next((r[0] for r in rows if r[2] in (True, "true", "t")), None),
                          [r[0] for r in sorted((r for r in rows if int(r[3] or 0) > 0), key=lambda r: int(r[3]))],
                          {}, None, [])
        if full:
            catalog.column_comments = {r[0]: r[4] for r in rows if r[4]}
            comment = self.api.execute(TABLE_COMMENT_SQL, params)
            catalog.table_comment = comment[0][0] if comment and comment[0][0] else None
            catalog.grants = [(r[0], r[1], r[2]) for r in self.api.execute(GRANTS_SQL, params)]
        return catalog

    def staging_prefix(self, job: TableLoad) -> str:
        """The S3 prefix the next load of ``job``'s table by this loader stages under."""
        return self.staging.load_prefix(job, self.load_id, self._calls.get(job.target, 0) + 1)

    def load(self, job: TableLoad, dist: dict[str, Any], step: Step = no_step) -> LoadResult:
        from botocore.exceptions import BotoCoreError, ClientError

        t0 = time.perf_counter()
        phase = "before"  # before the batch, in it, or after it committed: what a failure means
        try:
            step("reading the table's columns")
            try:
                have = self.existing_columns(job)
                ddl = ddl_statements(job, have, dist)  # a refused change (DdlError) stops here: nothing staged
                catalog = self.catalog(job) if have else None
            except StatementFailed as exc:
                raise LoadError(f"{job.model}: cannot read the columns of {job.target} ({exc}); nothing was loaded, "
                                "the previous rows are intact") from None
            rebuild: list[str] = []
            warnings: list[str] = []
            if catalog is not None:
                evolution = evolve(job.schema, job.table, have, job.columns, "redshift")
                refused = {c: why for c, _ in evolution.widened if (why := catalog.refuses_alter(c))}
                if refused:  # Redshift would refuse the ALTER: rebuild instead (adds included)
                    full = self.catalog(job, full=True)
                    rebuild = rebuild_statements(job, have, evolution, full, dist)
                    ddl = []
                else:
                    warnings += key_changes(job, catalog, dist)
            step("staging Parquet to S3")
            key_prefix = self.staging_prefix(job)
            self._calls[job.target] = self._calls.get(job.target, 0) + 1
            if self.s3.list_objects_v2(Bucket=self.staging.bucket, Prefix=key_prefix, MaxKeys=1).get("KeyCount"):
                raise LoadError(f"{job.model}: the staging prefix {self.staging.uri(key_prefix)} already holds files, "
                                "which this load did not write; nothing was loaded, the previous rows are intact. "
                                "Load again (a new load gets a new prefix) and remove the old files")
            keys, entries, size = [], [], 0
            for i, body in enumerate(parquet_files(parquet_for_copy(job)) if job.data.num_rows else []):
                keys.append(f"{key_prefix}part-{i:05d}.parquet")
                self.s3.put_object(Bucket=self.staging.bucket, Key=keys[-1], Body=body)
                entries.append({"url": self.staging.uri(keys[-1]), "mandatory": True,
                                "meta": {"content_length": len(body)}})
                size += len(body)
            stage_uri = None
            if keys:  # COPY reads exactly these files: a manifest, not the prefix (copy-parameters-data-source-s3.html)
                keys.append(f"{key_prefix}manifest")
                self.s3.put_object(Bucket=self.staging.bucket, Key=keys[-1],
                                   Body=json.dumps({"entries": entries}).encode())
                stage_uri = self.staging.uri(keys[-1])
            kept = f"; the staged Parquet stays at {self.staging.uri(key_prefix)} for inspection" if keys else ""
            if rebuild:
                step(f"rebuilding the table to widen {', '.join(refused)}")
                try:  # the swap and what fits beside it in one batch (at most BATCH_LIMIT statements)
                    self.api.batch(rebuild[:BATCH_LIMIT])
                except StatementFailed as exc:
                    raise LoadError(_rebuild_failed(job, refused, rebuild, exc) + kept) from None
                try:  # more grants and comments than fit: given just after, in further batches
                    for start in range(BATCH_LIMIT, len(rebuild), BATCH_LIMIT):
                        self.api.batch(rebuild[start:start + BATCH_LIMIT])
                except StatementFailed as exc:
                    raise LoadError(f"{job.model}: {job.target} was rebuilt with wider columns, but giving its grants "
                                    f"and comments again failed ({exc}); nothing was loaded. Run these, then load "
                                    f"again: {'; '.join(rebuild[5:])}{kept}") from None
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
                                time.perf_counter() - t0, checks(job.expected(), found), warnings=warnings)
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


def key_changes(job: TableLoad, catalog: Catalog, dist: dict[str, Any]) -> list[str]:
    """The model meta's distribution / sort key where the existing table has another: reported, never
    applied by the loader (Redshift changes keys with ALTER TABLE … ALTER DISTKEY / SORTKEY, outside a
    transaction, and that rewrites the table: a decision for whoever owns the warehouse)."""
    out = []
    want_dist, want_sort = dist.get("distkey"), list(dist.get("sortkey") or [])
    if want_dist and want_dist != catalog.distkey:
        out.append(f"{job.target}: the model's meta asks for distkey {want_dist}, the table has "
                   f"{catalog.distkey or 'none'}; the loader does not change keys of an existing table: run "
                   f"ALTER TABLE {job.target} ALTER DISTKEY {quote(want_dist)} (outside a transaction) to apply it")
    if want_sort and want_sort != catalog.sortkey:
        cols = ", ".join(quote(c) for c in want_sort)
        out.append(f"{job.target}: the model's meta asks for sortkey ({', '.join(want_sort)}), the table has "
                   f"({', '.join(catalog.sortkey) or 'none'}); the loader does not change keys of an existing table: "
                   f"run ALTER TABLE {job.target} ALTER COMPOUND SORTKEY ({cols}) (outside a transaction) to apply it")
    return out


def _rebuild_failed(job: TableLoad, refused: dict[str, str], rebuild: list[str], exc: StatementFailed) -> str:
    why = "; ".join(f"{c}: {w}" for c, w in refused.items())
    hint = (" A view bound to the table blocks the DROP of the old one: recreate BI views WITH NO SCHEMA BINDING "
            "(late-binding views follow the table by name), or drop the view, load, and create it again."
            if "depend" in str(exc).lower() or "view" in str(exc).lower() else "")
    return (f"{job.model}: {job.target} needs wider columns that Redshift cannot ALTER ({why}), so the loader "
            f"rebuilt it in one transaction, and that failed and was rolled back: {exc}. Nothing was loaded; the "
            f"previous rows are intact.{hint} To rebuild by hand, run as the table's owner, in one transaction: "
            + "; ".join(rebuild))


def _view_hint(message: str) -> str:
    if "view" in message.lower():
        return (". A view that depends on the column blocks the change: create BI views WITH NO SCHEMA BINDING, "
                "or drop and recreate the view around this load")
    return ""
