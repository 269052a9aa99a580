"""Redshift on PostgreSQL: the Data API stand-in runs its statements on a database of the local
PostgreSQL, through this thin layer that behaves as Redshift does where the loader's correctness
depends on it, and refuses what Redshift refuses. Each rule names the Redshift doc page it comes
from (https://docs.aws.amazon.com/redshift/latest/dg/<page>), and has a test in
tests/python/test_redshift_standin.py.

- VARCHAR(n) counts **bytes** (r_Character_types.html: "the length … is in bytes, not
  characters"): the database is created SQL_ASCII, where PostgreSQL counts bytes too, and md5()
  hashes the same UTF-8 bytes as Redshift.
- ``ALTER TABLE … ALTER COLUMN … TYPE`` (r_ALTER_TABLE.html) is refused inside a transaction
  block (a Data API batch), on a column with BYTEDICT, RUNLENGTH, TEXT255 or TEXT32K encoding, on
  a distribution- or sort-key column, and for anything but a larger VARCHAR.
- ``TRUNCATE`` commits the transaction it runs in (r_TRUNCATE.html).
- ``COPY … FORMAT AS PARQUET`` (r_COPY.html, copy-usage_notes-copy-from-columnar.html,
  loading-data-files-using-manifest.html) reads the files from S3 with pyarrow: without MANIFEST
  every object whose key starts with the FROM prefix (a prefix, not a folder); with MANIFEST the
  files the manifest lists, each entry needing ``meta.content_length`` (Parquet) that matches the
  object; the file's columns matched to the column list by position, their count equal. A string
  longer than its VARCHAR in bytes fails the COPY with error 1204 and a ``sys_load_error_detail``
  row, as Redshift's does.
- Identifiers are at most 127 bytes (r_names.html); PostgreSQL cuts names at 63 bytes silently,
  so names over 63 bytes are refused here rather than loaded under another name.
- Encodings, DISTKEY and SORTKEY are kept in a catalog of the stand-in and shown through
  ``svv_redshift_columns`` (r_SVV_REDSHIFT_COLUMNS.html); a column created without ENCODE gets
  what automatic encoding would (``chose_encoding`` lets a test play Redshift changing it later,
  t_Compressing_data_on_disk.html: ENCODE AUTO may change a column's encoding over time).
- The statement runs as the database user the Data API would use (data-api-access.html): the
  Secrets Manager secret's ``username``; a cluster's ``DbUser``; on Serverless without a secret,
  the IAM identity's own user (``IAMR:<role>``), created on first use.

SQL is translated only where the dialects differ in spelling: ``:name`` parameters, SUPER (jsonb
here), ``strtol(…, 16)`` and the system views svv_columns / svv_redshift_columns /
sys_load_error_detail (small tables or views of this database).
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable

import psycopg
import pyarrow.parquet as pq
from psycopg import sql as pgsql

NAME = r'(?:"[^"]+"|[A-Za-z_][A-Za-z0-9_$]*)'
QUALIFIED = rf"{NAME}(?:\s*\.\s*{NAME})?"
UNALTERABLE_ENCODINGS = {"bytedict", "runlength", "text255", "text32k"}
MAX_IDENTIFIER_BYTES = 127  # Redshift, r_names.html
PG_IDENTIFIER_BYTES = 63

SETUP = """
create schema if not exists _redshift;
create table if not exists _redshift.column_attrs (
    relid oid not null, column_name text not null, encoding text not null, distkey boolean not null,
    sortkey int not null, primary key (relid, column_name));
grant usage on schema _redshift to public;
grant select, insert, update, delete on _redshift.column_attrs to public;
create table if not exists public.sys_load_error_detail (
    query_id bigint, start_time timestamp default now(), file_name text, line_number bigint, column_name text,
    column_type text, error_code int, error_message text);
grant select on public.sys_load_error_detail to public;
create or replace function public.strtol(text, int) returns bigint language sql immutable as
    $$ select ('x' || lpad($1, 16, '0'))::bit(64)::bigint $$;
create or replace view public.svv_columns as
    select c.table_catalog::text as table_catalog, c.table_schema::text as table_schema,
           c.table_name::text as table_name, c.column_name::text as column_name,
           c.ordinal_position::int as ordinal_position,
           case when c.udt_name = 'jsonb' then 'super' else c.data_type::text end as data_type,
           c.character_maximum_length::int as character_maximum_length,
           c.numeric_precision::int as numeric_precision, c.numeric_scale::int as numeric_scale
    from information_schema.columns c where c.table_schema not in ('pg_catalog', 'information_schema', '_redshift');
create or replace view public.svv_redshift_columns as
    select current_database()::text as database_name, n.nspname::text as schema_name, t.relname::text as table_name,
           a.attname::text as column_name, a.attnum::int as ordinal_position,
           case when ty.typname = 'jsonb' then 'super' else format_type(a.atttypid, a.atttypmod) end as data_type,
           coalesce(r.encoding, 'none') as encoding, coalesce(r.distkey, false) as distkey,
           coalesce(r.sortkey, 0) as sortkey, col_description(a.attrelid, a.attnum) as remarks
    from pg_attribute a join pg_class t on t.oid = a.attrelid join pg_namespace n on n.oid = t.relnamespace
    join pg_type ty on ty.oid = a.atttypid
    left join _redshift.column_attrs r on r.relid = a.attrelid and r.column_name = a.attname
    where a.attnum > 0 and not a.attisdropped and t.relkind = 'r'
      and n.nspname not in ('pg_catalog', 'information_schema', '_redshift') and n.nspname not like 'pg_temp%';
create or replace view public.svv_redshift_tables as
    select current_database()::text as database_name, n.nspname::text as schema_name, t.relname::text as table_name,
           'TABLE'::text as table_type, obj_description(t.oid, 'pg_class') as remarks
    from pg_class t join pg_namespace n on n.oid = t.relnamespace
    where t.relkind = 'r' and n.nspname not in ('pg_catalog', 'information_schema', '_redshift');
create or replace view public.svv_redshift_schemas as
    select current_database()::text as database_name, nspname::text as schema_name from pg_namespace;
create or replace view public.svv_relation_privileges as
    select p.table_schema::text as namespace_name, p.table_name::text as relation_name,
           p.privilege_type::text as privilege_type, p.grantee::text as identity_name,
           case when p.grantee = 'PUBLIC' then 'public' when r.rolcanlogin then 'user' else 'group' end
               as identity_type
    from information_schema.table_privileges p left join pg_roles r on r.rolname = p.grantee;
grant select on public.svv_columns, public.svv_redshift_columns, public.svv_redshift_tables,
    public.svv_redshift_schemas, public.svv_relation_privileges to public;
grant create on schema public to public;  -- Redshift's default (PostgreSQL 15 revokes it)
"""


class RedshiftError(Exception):
    """What Redshift would answer; ``message`` is its error text."""


@dataclass
class Outcome:
    rows: list[list[Any]] = field(default_factory=list)
    has_result_set: bool = False
    failed_at: int | None = None
    error: str = ""


def _unquote(name: str) -> str:
    name = name.strip()
    return name[1:-1] if name.startswith('"') else name.lower()


def _split_top(text: str) -> list[str]:
    """Comma-separated parts outside parentheses and quotes."""
    parts, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def _pg_type(redshift_type: str) -> str:
    return re.sub(r"\bSUPER\b", "jsonb", redshift_type, flags=re.I)


def _auto_encoding(sql_type: str, sortkey: int) -> str:
    """What Redshift gives a column created without ENCODE (r_CREATE_TABLE_NEW.html, ENCODE AUTO):
    RAW for sort-key columns, LZO for text, AZ64 for numbers and times, RAW otherwise."""
    t = sql_type.lower()
    if sortkey:
        return "raw"
    if t.startswith(("varchar", "character varying", "char", "text")):
        return "lzo"
    if t.startswith(("smallint", "integer", "int", "bigint", "decimal", "numeric", "date", "timestamp")):
        return "az64"
    return "raw"


def _check_identifiers(sql: str) -> None:
    for quoted in re.findall(r'"([^"]+)"', sql):
        size = len(quoted.encode())
        if size > MAX_IDENTIFIER_BYTES:
            raise RedshiftError(f'identifier "{quoted[:40]}…" is {size} bytes; names are at most 127 bytes '
                                "(r_names.html)")
        if size > PG_IDENTIFIER_BYTES:
            raise RedshiftError(f'identifier "{quoted[:40]}…" is {size} bytes: Redshift takes it, but the '
                                "PostgreSQL stand-in would cut it at 63; use a shorter name in tests")


def _parameters(sql: str, params: dict[str, str] | None) -> str:
    """``:name`` (outside string literals) as psycopg's ``%(name)s``."""
    if not params:
        return sql
    out, pos = [], 0
    for lit in re.finditer(r"'(?:[^']|'')*'", sql):
        out.append(_named(sql[pos:lit.start()]))
        out.append(lit.group(0).replace("%", "%%"))
        pos = lit.end()
    out.append(_named(sql[pos:]))
    return "".join(out)


def _named(text: str) -> str:
    return re.sub(r"(?<![:\w]):([A-Za-z_]\w*)", r"%(\1)s", text.replace("%", "%%"))


class RedshiftOnPostgres:
    """One database of the local PostgreSQL, used the way the Data API uses Redshift."""

    def __init__(self, admin: dict[str, Any], dbname: str = "redshift_standin", s3: Any = None,
                 secrets: Any = None, iam_user: str = "IAMR:seglog-airflow-worker"):
        self.admin = admin
        self.dbname = dbname
        self.s3 = s3
        self.secrets = secrets  # a boto3 secretsmanager client (moto's server)
        self.iam_user = iam_user
        with psycopg.connect(**admin, autocommit=True) as conn:
            conn.execute(pgsql.SQL("drop database if exists {} with (force)").format(pgsql.Identifier(dbname)))
            conn.execute(pgsql.SQL("create database {} encoding 'SQL_ASCII' lc_collate 'C' lc_ctype 'C' "
                                   "template template0").format(pgsql.Identifier(dbname)))
        with self.connect() as conn:
            conn.execute(SETUP)

    @property
    def info(self) -> dict[str, Any]:
        """Connection settings of this database as the administrator (for a test's own checks)."""
        return dict(self.admin, dbname=self.dbname)

    def connect(self, autocommit: bool = True) -> psycopg.Connection[Any]:
        return psycopg.connect(**self.info, autocommit=autocommit, client_encoding="utf8")

    def drop(self) -> None:
        with psycopg.connect(**self.admin, autocommit=True) as conn:
            conn.execute(pgsql.SQL("drop database if exists {} with (force)").format(pgsql.Identifier(self.dbname)))

    def chose_encoding(self, schema: str, table: str, column: str, encoding: str) -> None:
        """Play Redshift's automatic encoding changing a column's encoding after the table was made."""
        with self.connect() as conn:
            conn.execute("update _redshift.column_attrs set encoding = %s where relid = %s::regclass "
                         "and column_name = %s", (encoding, f'"{schema}"."{table}"', column))

    # -- who runs the statement --------------------------------------------------------------
    def user_for(self, request: dict[str, Any]) -> str:
        if request.get("SecretArn"):
            if self.secrets is None:
                raise RedshiftError("the stand-in has no Secrets Manager to read the secret from")
            secret = json.loads(self.secrets.get_secret_value(SecretId=request["SecretArn"])["SecretString"])
            return secret["username"]
        if request.get("DbUser"):
            return request["DbUser"]
        user = self.iam_user  # Serverless without a secret: the IAM identity's own database user
        with self.connect() as conn:
            if not conn.execute("select 1 from pg_roles where rolname = %s", (user,)).fetchone():
                conn.execute(pgsql.SQL("create role {} login").format(pgsql.Identifier(user)))
        return user

    # -- running statements ------------------------------------------------------------------
    def run(self, sqls: list[str], params: dict[str, str] | None, batch: bool, user: str, query_ids: list[int],
            forced: Callable[[str], str | None] = lambda sql: None) -> Outcome:
        """Run one statement (autocommit) or a batch (one transaction, but for TRUNCATE's commit)."""
        out = Outcome()
        conn = self.connect(autocommit=not batch)
        try:
            conn.execute(pgsql.SQL("set role {}").format(pgsql.Identifier(user)))
            if batch:
                conn.commit()  # the SET ROLE holds for the session
            for i, sql in enumerate(sqls):
                try:
                    error = forced(sql)
                    if error is not None:
                        raise RedshiftError(error)
                    rows, has = self._statement(conn, sql, params, batch, query_ids[i])
                    out.rows, out.has_result_set = rows, has
                except (RedshiftError, psycopg.Error) as exc:
                    if batch:
                        conn.rollback()
                    out.failed_at, out.error = i, _message(exc)
                    return out
            if batch:
                conn.commit()
            return out
        finally:
            conn.close()

    def _statement(self, conn: psycopg.Connection[Any], sql: str, params: dict[str, str] | None, in_block: bool,
                   query_id: int) -> tuple[list[list[Any]], bool]:
        _check_identifiers(sql)
        head = " ".join(sql.split()).lower()
        if head.startswith("copy "):
            self._copy(conn, sql, query_id)
            return [], False
        if head.startswith("truncate"):
            # r_TRUNCATE.html: "The TRUNCATE command commits the transaction in which it is run"
            conn.execute(sql)
            if in_block:
                conn.commit()
            return [], False
        if m := re.match(rf"^\s*alter\s+table\s+({QUALIFIED})\s+alter\s+column\s+({NAME})\s+type\s+(.+?)\s*;?\s*$",
                         sql, re.I | re.S):
            self._check_alter_type(conn, m.group(1), _unquote(m.group(2)), m.group(3), in_block)
            conn.execute(f"alter table {m.group(1)} alter column {m.group(2)} type {_pg_type(m.group(3))}")
            return [], False
        if m := re.match(rf"^\s*create\s+(temp\s+|temporary\s+)?table\s+({QUALIFIED})\s*\(", sql, re.I | re.S):
            end = _closing(sql, m.end() - 1)
            self._create(conn, m.group(1) or "", m.group(2), sql[m.end():end], sql[end + 1:].strip().rstrip(";"))
            return [], False
        if m := re.match(rf"^\s*alter\s+table\s+({QUALIFIED})\s+add\s+column\s+({NAME})\s+(.+?)\s*;?\s*$",
                         sql, re.I | re.S):
            sql_type, encoding = _column_encoding(m.group(3))
            conn.execute(f"alter table {m.group(1)} add column {m.group(2)} {_pg_type(sql_type)}")
            self._record(conn, m.group(1), [(_unquote(m.group(2)), sql_type, encoding)], None, [])
            return [], False
        cur = conn.execute(_parameters(sql, params), params or None)
        if cur.description is None:
            return [], False
        return [[_plain(v) for v in row] for row in cur.fetchall()], True

    def _create(self, conn: psycopg.Connection[Any], temp: str, name: str, body: str, tail: str) -> None:
        columns = []
        for part in _split_top(body):
            m = re.match(rf"^({NAME})\s+(.+)$", part, re.S)
            if not m:
                raise RedshiftError(f"the stand-in cannot read the column definition {part!r}")
            sql_type, encoding = _column_encoding(m.group(2))
            columns.append((_unquote(m.group(1)), m.group(1), sql_type, encoding))
        distkey, sortkeys = None, []
        rest = tail
        if d := re.search(rf"distkey\s*\(\s*({NAME})\s*\)", rest, re.I):
            distkey = _unquote(d.group(1))
        if s := re.search(r"(?:compound\s+|interleaved\s+)?sortkey\s*\(([^)]*)\)", rest, re.I):
            sortkeys = [_unquote(k) for k in _split_top(s.group(1))]
        leftover = re.sub(rf"diststyle\s+\w+|distkey\s*\(\s*{NAME}\s*\)|(?:compound\s+|interleaved\s+)?sortkey\s*"
                          r"\([^)]*\)|encode\s+auto|backup\s+(?:yes|no)", "", rest, flags=re.I).strip()
        if leftover:
            raise RedshiftError(f"the stand-in does not know the table attribute {leftover!r}")
        ddl = ", ".join(f"{quoted} {_pg_type(t)}" for _, quoted, t, _ in columns)
        conn.execute(f"create {temp}table {name} ({ddl})")
        if not temp:
            self._record(conn, name, [(c, t, e) for c, _, t, e in columns], distkey, sortkeys)

    @staticmethod
    def _record(conn: psycopg.Connection[Any], table: str, columns: list[tuple[str, str, str | None]],
                distkey: str | None, sortkeys: list[str]) -> None:
        for column, sql_type, encoding in columns:
            sortkey = sortkeys.index(column) + 1 if column in sortkeys else 0
            conn.execute("insert into _redshift.column_attrs values (%s::regclass, %s, %s, %s, %s)",
                         (table, column, (encoding or _auto_encoding(sql_type, sortkey)).lower(),
                          column == distkey, sortkey))

    @staticmethod
    def _check_alter_type(conn: psycopg.Connection[Any], table: str, column: str, new_type: str, in_block: bool) -> None:
        """r_ALTER_TABLE.html, ALTER COLUMN column_name TYPE: only a VARCHAR's size may grow; "you can't
        alter columns within a transaction block", nor "a column with compression encodings BYTEDICT,
        RUNLENGTH, TEXT255, or TEXT32K"; and, as Redshift answers for them, not a DISTKEY or SORTKEY column."""
        if in_block:
            raise RedshiftError("ALTER TABLE ALTER COLUMN cannot run inside a transaction block")
        row = conn.execute("select a.encoding, a.distkey, a.sortkey, c.data_type, c.character_maximum_length "
                           "from _redshift.column_attrs a join svv_columns c on a.relid = "
                           "(quote_ident(c.table_schema) || '.' || quote_ident(c.table_name))::regclass "
                           "and c.column_name = a.column_name where a.relid = %s::regclass and a.column_name = %s",
                           (table, column)).fetchone()
        if row is None:
            raise RedshiftError(f'column "{column}" of relation {table} does not exist')
        encoding, distkey, sortkey, data_type, length = row
        wanted = re.fullmatch(r"\s*(?:varchar|character varying)\s*\(\s*(\d+)\s*\)\s*", new_type, re.I)
        if data_type != "character varying" or not wanted:
            raise RedshiftError(f"target column type {new_type.strip()} is not supported: ALTER COLUMN TYPE only "
                                "increases the size of a VARCHAR column")
        if int(wanted.group(1)) < (length or 0):
            raise RedshiftError(f"cannot decrease the size of column {column}")
        if encoding in UNALTERABLE_ENCODINGS:
            raise RedshiftError(f"ALTER COLUMN TYPE is not supported for column {column} with encoding "
                                f"{encoding.upper()}")
        if distkey or sortkey:
            raise RedshiftError(f"ALTER TABLE ALTER COLUMN TYPE is not supported for a "
                                f"{'DISTKEY' if distkey else 'SORTKEY'} column ({column})")

    # -- COPY -----------------------------------------------------------------------------
    def _copy(self, conn: psycopg.Connection[Any], sql: str, query_id: int) -> None:
        m = re.match(rf"^\s*copy\s+({QUALIFIED})\s*(?:\(([^)]*)\))?\s+from\s+'s3://([^/']+)/([^']*)'\s+(.*?)\s*;?\s*$",
                     sql, re.I | re.S)
        if not m:
            raise RedshiftError("the stand-in reads only COPY <table> (<columns>) FROM 's3://…' …")
        table, column_list, bucket, key, options = m.groups()
        opts = " ".join(options.lower().split())
        if not re.search(r"iam_role\s+'arn:aws[a-z-]*:iam::\d{12}:role/[^']+'", opts):
            raise RedshiftError("COPY needs IAM_ROLE 'arn:aws:iam::<account>:role/<name>' (the stand-in reads S3 as "
                                "that role would)")
        if "format as parquet" not in opts:
            raise RedshiftError("the stand-in loads only FORMAT AS PARQUET")
        if self.s3 is None:
            raise RedshiftError("the stand-in has no S3 client to read the COPY's files from")
        files = self._manifest_files(bucket, key) if re.search(r"\bmanifest\b", opts) else self._prefix_files(bucket, key)
        names = [_unquote(c) for c in _split_top(column_list)] if column_list else None
        found = conn.execute("select n.nspname, c.relname from pg_class c join pg_namespace n on n.oid = "
                             "c.relnamespace where c.oid = to_regclass(%s)", (table,)).fetchone()
        declared = conn.execute("select column_name, data_type, character_maximum_length from svv_columns where "
                                "table_schema = %s and table_name = %s order by ordinal_position",
                                found).fetchall() if found else []
        if not declared:
            raise RedshiftError(f"relation {table} does not exist")
        types = {c: (t, n) for c, t, n in declared}
        names = names or [c for c, _, _ in declared]
        for uri, body in files:
            data = pq.read_table(io.BytesIO(body))
            # copy-usage_notes-copy-from-columnar.html: columns are matched by position, and the file must
            # have as many columns as the column list
            if data.num_columns != len(names):
                raise self._load_error(conn, query_id, uri, 1, names[0], "", 1202,
                                       f"Extra column(s) found (the file has {data.num_columns} columns, the column "
                                       f"list {len(names)})")
            rows = data.to_pylist()
            for line, row in enumerate(rows, start=1):
                for column, value in zip(names, row.values()):
                    data_type, length = types[column]
                    if isinstance(value, str) and length and len(value.encode()) > length:
                        raise self._load_error(conn, query_id, uri, line, column, f"varchar({length})", 1204,
                                               "String length exceeds DDL length")
            target = ", ".join(f'"{c}"' for c in names)
            with conn.cursor().copy(f"copy {table} ({target}) from stdin") as copy:
                for row in rows:
                    copy.write_row([json.dumps(v, default=str) if types[c][0] == "super" and v is not None else v
                                    for c, v in zip(names, row.values())])

    def _load_error(self, conn: psycopg.Connection[Any], query_id: int, uri: str, line: int, column: str,
                    column_type: str, code: int, message: str) -> RedshiftError:
        """A failed COPY: its sys_load_error_detail row (kept whatever the transaction does, as Redshift's
        system tables are), and the error Redshift answers."""
        with psycopg.connect(**self.info, autocommit=True) as log:
            log.execute("insert into sys_load_error_detail (query_id, file_name, line_number, column_name, "
                        "column_type, error_code, error_message) values (%s, %s, %s, %s, %s, %s, %s)",
                        (query_id, uri, line, column, column_type, code, message))
        return RedshiftError(f"Load into table failed (column {column}). Check 'sys_load_error_detail' system "
                             "table for details.")

    def _prefix_files(self, bucket: str, prefix: str) -> list[tuple[str, bytes]]:
        """r_COPY.html, FROM 's3://…': "loads every file whose key begins with the prefix"."""
        listing = self.s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
        if not listing:
            raise RedshiftError(f"The specified S3 prefix '{prefix}' does not exist")
        return [(f"s3://{bucket}/{o['Key']}", self._get(bucket, o["Key"])) for o in listing]

    def _manifest_files(self, bucket: str, key: str) -> list[tuple[str, bytes]]:
        """loading-data-files-using-manifest.html: the manifest's "entries", each a "url"; for Parquet
        "meta": {"content_length"} is required and must be the file's size in bytes."""
        try:
            manifest = json.loads(self._get(bucket, key))
        except (ValueError, KeyError) as exc:
            raise RedshiftError(f"Manifest file s3://{bucket}/{key} is not valid JSON ({exc})") from None
        out = []
        for entry in manifest.get("entries", []):
            url = entry.get("url", "")
            length = (entry.get("meta") or {}).get("content_length")
            if length is None:
                raise RedshiftError(f"The manifest entry {url} has no meta.content_length, which COPY needs for "
                                    "columnar files")
            m = re.fullmatch(r"s3://([^/]+)/(.+)", url)
            if not m:
                raise RedshiftError(f"Invalid manifest entry url {url!r}")
            body = self._get(*m.groups())
            if len(body) != int(length):
                raise RedshiftError(f"The content_length {length} of {url} is not the object's size {len(body)}")
            out.append((url, body))
        if not out:
            raise RedshiftError(f"Manifest file s3://{bucket}/{key} lists no files")
        return out

    def _get(self, bucket: str, key: str) -> bytes:
        try:
            return self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except Exception as exc:  # noqa: BLE001 - botocore's NoSuchKey and friends, as Redshift reports them
            raise RedshiftError(f"S3ServiceException: the object s3://{bucket}/{key} could not be read "
                                f"({exc.__class__.__name__})") from None


def _closing(text: str, start: int) -> int:
    """The index of the parenthesis that closes the one at ``start``."""
    depth = 0
    for i in range(start, len(text)):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0:
            return i
    raise RedshiftError("unbalanced parentheses")


def _column_encoding(definition: str) -> tuple[str, str | None]:
    m = re.match(r"^(.*?)\s+encode\s+(\w+)\s*$", definition.strip(), re.I | re.S)
    return (m.group(1).strip(), m.group(2).lower()) if m else (definition.strip(), None)


def _plain(value: Any) -> Any:
    """A result value as the Data API returns it (numbers, strings, booleans, NULL)."""
    from datetime import date, datetime
    from decimal import Decimal

    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    return value


def _message(exc: Exception) -> str:
    if isinstance(exc, psycopg.Error):
        diag = exc.diag.message_primary or str(exc)
        return f"ERROR: {diag}"
    return f"ERROR: {exc}"
