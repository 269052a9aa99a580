"""The Redshift path: Parquet staged on moto's S3 server, the statements sent to a recording fake
of the Redshift Data API (moto's never finishes a statement). Asserts the exact statements and
their order, what COPY would read from S3 at that moment, the polling, and the failures.
Expected statements are written out by hand from the rules in loader/_redshift.py's docstring."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timezone
from typing import Any, Iterator

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fakes.redshift_data_api import FakeRedshiftDataApi
from seglog.loader._data_api import ConfigError, Connection, DataApi, Polling, StatementFailed
from seglog.loader._ddl import DdlError
from seglog.loader._plan import TableLoad
from seglog.loader import LoadError
from seglog.loader._redshift import RedshiftLoader, Staging
from seglog.loader._type_mapping import map_table

KOREAN_100 = "임플란트" * 25  # 100 characters, 300 UTF-8 bytes
ROLE = "arn:aws:iam::123456789012:role/redshift-copy"
BUCKET = "seglog-staging"
PREFIX = "loads/test-load/marts.events/001/"  # the first load of the table by this load id
DIST = {"diststyle": "key", "distkey": "message_id", "sortkey": ["ymd"]}
FAST = Polling(first=0.001, factor=1.5, longest=0.005, timeout=5)
COLUMNS = '"message_id", "title", "event_at", "tags", "ymd"'


def md5_32(key: str) -> int:
    return int(hashlib.md5(key.encode()).hexdigest()[:8], 16)


@pytest.fixture
def s3(aws_env: str) -> Any:
    client = boto3.client("s3", region_name="ap-northeast-2")
    if BUCKET not in [b["Name"] for b in client.list_buckets()["Buckets"]]:
        client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "ap-northeast-2"})
    for obj in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=obj["Key"])
    return client


@pytest.fixture
def fake(s3: Any) -> Iterator[FakeRedshiftDataApi]:
    server = FakeRedshiftDataApi(s3=s3)
    server.url = server.start()  # type: ignore[attr-defined]
    yield server
    server.stop()


def _loader(fake: FakeRedshiftDataApi, s3: Any, polling: Polling = FAST) -> RedshiftLoader:
    client = boto3.client("redshift-data", region_name="ap-northeast-2", endpoint_url=fake.url)  # type: ignore[attr-defined]
    api = DataApi(client, Connection(database="analytics", workgroup="seglog-wg"), polling)
    return RedshiftLoader(api, s3, Staging(BUCKET, "loads", ROLE), load_id="test-load")


def _job(**extra: Any) -> TableLoad:
    cols: dict[str, Any] = {
        "message_id": ["m1", "m2", "m3"],
        "title": [KOREAN_100, "짧은 제목", None],
        "event_at": pa.array([datetime(2023, 11, 7, 15, 0, tzinfo=timezone.utc)] * 3, pa.timestamp("us", tz="UTC")),
        "tags": [["a", "b"], [], None],
    }
    cols.update(extra)
    cols["ymd"] = ["2023-11-07", "2023-11-08", "2023-11-08"]
    data = pa.table(cols)
    return TableLoad("events", "marts", "events", data, map_table(data, "redshift", key_column="message_id"),
                     "ymd", ["2023-11-07", "2023-11-08"], "string", ["message_id"])


def _answer_reconciliation(fake: FakeRedshiftDataApi, drop_one: bool = False) -> None:
    rows = [["2023-11-07", 1, md5_32("m1")], ["2023-11-08", 2, md5_32("m2") + md5_32("m3")]]
    if drop_one:  # the warehouse lost m3
        rows[1] = ["2023-11-08", 1, md5_32("m2")]
    fake.answer(r'^select cast\("ymd" as varchar\)', rows)


BATCH = [
    'create temp table "stage_events" ("message_id" VARCHAR(64), "title" VARCHAR(384), "event_at" TIMESTAMP, '
    '"tags" SUPER, "ymd" VARCHAR(64))',
    f"copy \"stage_events\" ({COLUMNS}) from 's3://{BUCKET}/{PREFIX}manifest' iam_role '{ROLE}' format as parquet "
    "serializetojson manifest",
    'delete from "marts"."events" where "ymd" in (:p0, :p1)',
    f'insert into "marts"."events" ({COLUMNS}) select {COLUMNS} from "stage_events"',
    'drop table "stage_events"',
]
RECONCILE = ('select cast("ymd" as varchar), count(*), '
             """coalesce(sum(strtol(substring(md5(coalesce("message_id", '<null>')), 1, 8), 16)), 0) """
             'from "marts"."events" where "ymd" in (:p0, :p1) group by 1')


def test_a_new_table_is_created_then_loaded_in_one_batch_and_reconciled(fake, s3) -> None:
    _answer_reconciliation(fake)
    result = _loader(fake, s3).load(_job(), DIST)

    statements = fake.statements()
    assert statements[0][0] == "execute" and "from svv_columns where table_schema = :schema" in statements[0][1]
    assert statements[1:] == [
        ("execute", 'create schema if not exists "marts"'),
        # key VARCHARs get KEY_VARCHAR bytes; every VARCHAR an explicit encoding (RAW on the sort key)
        ("execute", 'create table "marts"."events" (\n    "message_id" VARCHAR(256) encode zstd,\n'
                    '    "title" VARCHAR(384) encode zstd,\n    "event_at" TIMESTAMP,\n    "tags" SUPER,\n'
                    '    "ymd" VARCHAR(256) encode raw\n)\ndiststyle key\ndistkey ("message_id")\ncompound sortkey ("ymd")'),
        ("batch", BATCH),
        ("execute", RECONCILE),
    ]
    batch = fake.ops("BatchExecuteStatement")[0]
    assert batch["ExecutionMode"] == "TRANSACTION" and batch["WorkgroupName"] == "seglog-wg"
    assert batch["Database"] == "analytics"
    assert {p["name"]: p["value"] for p in batch["Parameters"]} == {"p0": "2023-11-07", "p1": "2023-11-08"}
    assert {p["name"]: p["value"] for p in fake.ops("ExecuteStatement")[0]["Parameters"]} == {
        "schema": "marts", "table": "events"}
    assert result.reconciled and result.rows == 3
    assert [(c.partition, c.rows, c.warehouse_rows) for c in result.checks] == [
        ("ymd=2023-11-07", 1, 1), ("ymd=2023-11-08", 2, 2)]
    # the staged files are removed once the load is reconciled
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix="loads/").get("KeyCount") == 0


def test_copy_reads_parquet_with_int64_timestamps_nested_columns_and_every_row(fake, s3) -> None:
    _answer_reconciliation(fake)
    _loader(fake, s3).load(_job(), DIST)
    (seen,) = fake.copied  # what was under the COPY's prefix when the batch arrived
    # the COPY reads the load's manifest, which lists exactly the file this load wrote
    assert seen["uri"] == f"s3://{BUCKET}/{PREFIX}manifest" and list(seen["objects"]) == [f"{PREFIX}part-00000.parquet"]
    body = pa.BufferReader(seen["objects"][f"{PREFIX}part-00000.parquet"])
    meta = pq.ParquetFile(body).metadata
    event_at = meta.schema.column(meta.schema.names.index("event_at"))
    assert event_at.physical_type == "INT64"  # not INT96, which Redshift's COPY misreads
    logical = json.loads(event_at.logical_type.to_json())  # Redshift TIMESTAMP: UTC wall clock, no zone
    assert (logical["Type"], logical["isAdjustedToUTC"], logical["timeUnit"]) == ("Timestamp", False, "microseconds")
    table = pq.read_table(body)
    assert table.column_names == ["message_id", "title", "event_at", "tags", "ymd"]  # the COPY column list's order
    assert pa.types.is_list(table.schema.field("tags").type)  # nested stays nested: SERIALIZETOJSON makes it SUPER
    assert table.to_pylist() == [
        {"message_id": "m1", "title": KOREAN_100, "event_at": datetime(2023, 11, 7, 15, 0), "tags": ["a", "b"],
         "ymd": "2023-11-07"},
        {"message_id": "m2", "title": "짧은 제목", "event_at": datetime(2023, 11, 7, 15, 0), "tags": [],
         "ymd": "2023-11-08"},
        {"message_id": "m3", "title": None, "event_at": datetime(2023, 11, 7, 15, 0), "tags": None,
         "ymd": "2023-11-08"},
    ]


def test_an_existing_table_is_evolved_by_single_statements_before_the_batch(fake, s3) -> None:
    fake.answer("from svv_columns", [["message_id", "character varying", 64, None, None],
                                     ["title", "character varying", 256, None, None],  # narrower than 384
                                     ["event_at", "timestamp without time zone", None, None, None],
                                     ["tags", "super", None, None, None],
                                     ["ymd", "character varying", 64, None, None]])
    _answer_reconciliation(fake)
    _loader(fake, s3).load(_job(score=[1.5, 2.5, None]), DIST)
    cols = COLUMNS.replace('"tags", ', '"tags", "score", ')
    assert fake.statements()[1][1].startswith("select column_name, encoding, distkey, sortkey, remarks from "
                                              "svv_redshift_columns")  # an ALTER Redshift would refuse is not sent
    assert fake.statements()[2:5] == [
        ("execute", 'alter table "marts"."events" alter column "title" type VARCHAR(384)'),
        ("execute", 'alter table "marts"."events" add column "score" DOUBLE PRECISION'),
        ("batch", [BATCH[0].replace('"tags" SUPER, ', '"tags" SUPER, "score" DOUBLE PRECISION, '),
                   BATCH[1].replace(COLUMNS, cols), BATCH[2],
                   f'insert into "marts"."events" ({cols}) select {cols} from "stage_events"', BATCH[4]]),
    ]


def test_a_narrowing_change_is_refused_before_anything_is_staged_or_run(fake, s3) -> None:
    fake.answer("from svv_columns", [["event_at", "character varying", 64, None, None]])
    with pytest.raises(DdlError, match="event_at: the warehouse has VARCHAR\\(64\\), the data needs TIMESTAMP"):
        _loader(fake, s3).load(_job(), DIST)
    assert len(fake.statements()) == 1  # only the column lookup
    assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0


def test_a_failed_copy_rolls_back_and_reports_the_load_error_detail(fake, s3) -> None:
    fake.fail(r"^copy ", "Load into table 'stage_events' failed. Check 'sys_load_error_detail' system table for details.")
    fake.answer("from sys_load_error_detail", [["title", "varchar", 1204, "String length exceeds DDL length",
                                                f"s3://{BUCKET}/{PREFIX}part-00000.parquet", 1]])
    with pytest.raises(LoadError) as err:
        _loader(fake, s3).load(_job(), DIST)
    message = str(err.value)
    assert "rolled back, the previous rows are intact" in message
    assert "sys_load_error_detail: column title (varchar), error 1204: String length exceeds DDL length" in message
    assert f"the staged Parquet stays at s3://{BUCKET}/{PREFIX}" in message
    copy_query_id = next(s["RedshiftQueryId"] for s in fake_describe_subs(fake) if s["QueryString"].startswith("copy"))
    lookup = fake.ops("ExecuteStatement")[-1]
    assert "from sys_load_error_detail where query_id = :query_id" in lookup["Sql"]
    assert lookup["Parameters"] == [{"name": "query_id", "value": str(copy_query_id)}]
    assert not any("count(*)" in s for op, s in fake.statements() if op == "execute")  # no reconciliation
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix=PREFIX)["KeyCount"] == 2  # file and manifest kept for the post-mortem


def fake_describe_subs(fake: FakeRedshiftDataApi) -> list[dict[str, Any]]:
    batch_id = next(s for s in fake._statements.values() if s.batch).id
    return fake._describe({"Id": batch_id})[1]["SubStatements"]


def test_reconciliation_catches_a_row_missing_in_redshift(fake, s3) -> None:
    _answer_reconciliation(fake, drop_one=True)
    result = _loader(fake, s3).load(_job(), DIST)
    assert not result.reconciled
    bad = [c for c in result.checks if not c.reconciled]
    assert [(c.partition, c.rows, c.warehouse_rows) for c in bad] == [("ymd=2023-11-08", 2, 1)]
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix=PREFIX)["KeyCount"] == 2  # file and manifest kept for the post-mortem


def test_a_day_without_rows_deletes_the_partitions_and_stages_nothing(fake, s3) -> None:
    empty = _job().data.slice(0, 0)
    job = TableLoad("events", "marts", "events", empty, map_table(empty, "redshift"), "ymd", ["2023-11-09"],
                    "string", ["message_id"])
    fake.answer("from svv_columns", [["message_id", "character varying", 64, None, None]])
    _loader(fake, s3).load(job, DIST)
    assert ("batch", ['delete from "marts"."events" where "ymd" in (:p0)']) in fake.statements()
    assert fake.copied == [] and s3.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0


def test_polling_waits_for_each_statement_until_it_finishes(fake, s3) -> None:
    fake.polls_to_finish = 3
    api = _loader(fake, s3).api
    api.execute("select 1")
    api.batch(["select 1", "select 2"])
    assert len(fake.ops("DescribeStatement")) == 6  # 3 polls each, then FINISHED


def test_a_statement_that_never_finishes_is_cancelled_at_the_deadline(fake, s3) -> None:
    fake.never_finish = True  # like moto's redshift-data
    loader = _loader(fake, s3, Polling(first=0.001, factor=2, longest=0.01, timeout=0.05))
    with pytest.raises(StatementFailed) as err:
        loader.api.batch(["select 1"])
    assert err.value.status == "TIMEOUT" and "cancelled" in str(err.value)
    assert [c["Id"] for c in fake.ops("CancelStatement")] == [fake.ops("DescribeStatement")[-1]["Id"]]
    fake.never_finish = False
    fake.polls_to_finish = 10**6
    with pytest.raises(LoadError, match="cannot read the columns"):
        loader.load(_job(), DIST)


DEADLINE = Polling(first=0.001, factor=2, longest=0.005, timeout=0.03, settle_polls=3)


def test_a_statement_that_finished_just_before_the_cancel_counts_as_done(fake, s3) -> None:
    fake.never_finish, fake.on_cancel = True, "too_late"  # the cancel is refused: it had FINISHED
    _loader(fake, s3, DEADLINE).api.batch(["select 1"])  # no error: the batch committed
    assert len(fake.ops("CancelStatement")) == 1


def test_a_cancelled_statement_that_never_ends_is_reported_as_unknown_and_safe_to_repeat(fake, s3) -> None:
    fake.on_cancel = "ignore"  # the cancel is accepted, but the statement goes on running
    loader = _loader(fake, s3, DEADLINE)
    original = loader.api.batch

    def stuck_batch(sqls, parameters=None):  # only the batch hangs
        fake.never_finish = True
        try:
            return original(sqls, parameters)
        finally:
            fake.never_finish = False

    loader.api.batch = stuck_batch  # type: ignore[method-assign]
    with pytest.raises(LoadError) as err:
        loader.load(_job(), DIST)
    assert "unknown" in str(err.value) and "safe to repeat" in str(err.value)
    assert "rolled back" not in str(err.value)
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix=PREFIX)["KeyCount"] == 2  # file and manifest kept


def test_a_failure_after_the_commit_says_the_rows_were_loaded(fake, s3) -> None:
    fake.fail(r'^select cast\("ymd" as varchar\)', "connection reset")
    with pytest.raises(LoadError) as err:
        _loader(fake, s3).load(_job(), DIST)
    message = str(err.value)
    assert "the rows were loaded (committed)" in message and "load again to reconcile" in message
    assert "rolled back" not in message


def test_an_aws_error_during_the_batch_does_not_claim_a_rollback(fake, s3) -> None:
    fake.reject["BatchExecuteStatement"] = "Request throttled"
    with pytest.raises(LoadError) as err:
        _loader(fake, s3).load(_job(), DIST)
    assert "may or may not have committed" in str(err.value) and "safe to repeat" in str(err.value)


def test_the_fake_enforces_the_data_apis_parameter_rules(fake, s3) -> None:
    """So the statement tests above would catch an unbound or unused parameter."""
    from botocore.exceptions import ClientError

    api = _loader(fake, s3).api
    with pytest.raises(ClientError, match="not bound"):
        api.execute("select 1 where 'a' = :a")
    with pytest.raises(ClientError, match="not used"):
        api.batch(["select 1"], {"a": "x"})
    assert api.execute("select 1 where 'a:b' = :a", {"a": "x"}) == []


def test_staging_and_connection_settings_are_validated_before_any_call(monkeypatch) -> None:
    for name in ("SEGLOG_REDSHIFT_STAGING", "REDSHIFT_COPY_ROLE_ARN", "REDSHIFT_WORKGROUP", "REDSHIFT_CLUSTER_ID",
                 "REDSHIFT_SECRET_ARN", "REDSHIFT_USER"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError, match="SEGLOG_REDSHIFT_STAGING .* and REDSHIFT_COPY_ROLE_ARN"):
        Staging.from_env()
    for bad in ("s3://bucket/x' iam_role 'arn", "s3://Bucket/x", "https://bucket/x", "s3://b"):
        with pytest.raises(ConfigError, match="is not s3://bucket/prefix"):
            Staging.from_env(bad, ROLE)
    with pytest.raises(ConfigError, match="is not an IAM role ARN"):
        Staging.from_env("s3://seglog-staging/loads", "arn:aws:iam::123456789012:role/x' --")
    staging = Staging.from_env("s3://seglog-staging/loads/", ROLE)
    assert (staging.bucket, staging.prefix) == ("seglog-staging", "loads")
    with pytest.raises(ConfigError, match="exactly one of REDSHIFT_WORKGROUP"):
        Connection.from_env()
    monkeypatch.setenv("REDSHIFT_WORKGROUP", "seglog-wg")  # Serverless: the loader's own user, through its secret
    with pytest.raises(ConfigError, match="Serverless needs REDSHIFT_SECRET_ARN"):
        Connection.from_env()
    monkeypatch.setenv("REDSHIFT_SECRET_ARN", "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:dbt_loader")
    assert Connection.from_env().args()["SecretArn"].endswith(":secret:dbt_loader")
    monkeypatch.delenv("REDSHIFT_WORKGROUP")
    monkeypatch.delenv("REDSHIFT_SECRET_ARN")
    monkeypatch.setenv("REDSHIFT_CLUSTER_ID", "analytics-cluster")
    with pytest.raises(ConfigError, match="REDSHIFT_SECRET_ARN .* or\\s+REDSHIFT_USER"):
        Connection.from_env()
    monkeypatch.setenv("REDSHIFT_USER", "loader")
    assert Connection.from_env().args() == {"Database": "analytics", "ClusterIdentifier": "analytics-cluster",
                                            "DbUser": "loader"}


def test_a_composite_grain_is_checksummed_in_redshift_sql_with_the_same_key_text() -> None:
    from seglog.loader._redshift import reconcile_statement

    data = pa.table({"ymd": ["2023-11-08"], "platform": ["web"], "is_identified": [True],
                     "hour": pa.array([0], pa.int32()), "cohort_ywd": pa.array([date(2023, 11, 5)], pa.date32())})
    job = TableLoad("grain", "marts", "grain", data, map_table(data, "redshift"), "ymd", ["2023-11-08"], "string",
                    ["ymd", "platform", "is_identified", "hour", "cohort_ywd"])
    text = ("""coalesce("ymd", '<null>') || '|' || coalesce("platform", '<null>') || '|' || """
            """coalesce(case when "is_identified" then 'true' when not "is_identified" then 'false' end, '<null>') """
            """|| '|' || coalesce(cast("hour" as varchar), '<null>') || '|' || """
            """coalesce(to_char("cohort_ywd", 'YYYY-MM-DD'), '<null>')""")
    assert reconcile_statement(job) == (
        f'select cast("ymd" as varchar), count(*), coalesce(sum(strtol(substring(md5({text}), 1, 8), 16)), 0) '
        'from "marts"."grain" where "ymd" in (:p0) group by 1')
    assert job.expected() == {"ymd=2023-11-08": (1, md5_32("2023-11-08|web|true|0|2023-11-05"))}


# -- Through the Redshift stand-in (fakes/redshift_semantics.py): what a real cluster would do ------------------

@pytest.fixture
def standin(redshift: Any, s3: Any) -> Iterator[FakeRedshiftDataApi]:
    server = FakeRedshiftDataApi(s3=s3, warehouse=redshift)
    server.url = server.start()  # type: ignore[attr-defined]
    yield server
    server.stop()


def _as_loader(standin: FakeRedshiftDataApi, s3: Any, secret_arn: str | None, load_id: str = "test-load"):
    client = boto3.client("redshift-data", region_name="ap-northeast-2", endpoint_url=standin.url)  # type: ignore[attr-defined]
    api = DataApi(client, Connection(database="analytics", workgroup="seglog-wg", secret_arn=secret_arn), FAST)
    return RedshiftLoader(api, s3, Staging(BUCKET, "loads", ROLE), load_id=load_id)


def _events(ymd: str, ids: list[str]) -> TableLoad:
    data = pa.table({"message_id": ids, "title": ["t"] * len(ids), "ymd": [ymd] * len(ids)})
    return TableLoad("events", "marts", "events", data, map_table(data, "redshift", key_column="message_id"),
                     "ymd", [ymd], "string", ["message_id"])


def _sql(redshift: Any, sql: str) -> list[tuple]:
    import psycopg

    with psycopg.connect(**redshift.info, client_encoding="utf8", autocommit=True) as conn:
        cur = conn.execute(sql)
        return cur.fetchall() if cur.description else []


def test_a_chunk_that_fails_reconciliation_does_not_load_twice_with_the_next(redshift, standin, s3,
                                                                             monkeypatch) -> None:
    """A backfill loads a model in chunks of dates with one loader (one load id). The first chunk
    fails its reconciliation (the warehouse dropped a row) and keeps its staged files; the next chunk
    must not COPY them again: each load stages under its own prefix and COPYs by manifest. (One row
    per file here, so the first chunk leaves more files than the second overwrites.)"""
    import seglog.loader._redshift as redshift_path

    one_per_file = redshift_path.parquet_files
    monkeypatch.setattr(redshift_path, "parquet_files", lambda table, rows_per_file=1: one_per_file(table, 1))
    _as_loader(standin, s3, redshift.secret_arn, "first").load(_events("2023-11-06", ["z1"]), DIST)
    _sql(redshift, "create function marts.lose_a_row() returns trigger language plpgsql as $$ begin "
                   "if new.message_id like 'lost%' then return null; end if; return new; end $$")
    _sql(redshift, "create trigger lose before insert on marts.events for each row execute function marts.lose_a_row()")
    loader = _as_loader(standin, s3, redshift.secret_arn, "backfill")
    first = loader.load(_events("2023-11-07", ["lost1", "a1"]), DIST)
    assert not first.reconciled  # its files stay for the post-mortem
    second = loader.load(_events("2023-11-08", ["b1"]), DIST)
    assert second.reconciled
    assert _sql(redshift, "select ymd, message_id from marts.events order by 1, 2") == [
        ("2023-11-06", "z1"), ("2023-11-07", "a1"), ("2023-11-08", "b1")]  # a1 once


def test_a_load_refuses_a_staging_prefix_that_already_holds_files(redshift, standin, s3) -> None:
    loader = _as_loader(standin, s3, redshift.secret_arn, "busy")
    job = _events("2023-11-07", ["a1"])
    prefix = loader.staging_prefix(job)
    s3.put_object(Bucket=BUCKET, Key=f"{prefix}part-00000.parquet", Body=b"someone else's")
    with pytest.raises(LoadError, match="already holds files"):
        loader.load(job, DIST)
    assert not _sql(redshift, "select 1 from svv_columns where table_name = 'events'")  # nothing ran


OLD_DDL = ('create table "marts"."keyed" ("message_id" VARCHAR(64), "title" VARCHAR(64), "ymd" VARCHAR(64)) '
           'diststyle key distkey ("message_id") compound sortkey ("ymd")')


def _keyed(ymd: str, ids: list[str], title: str = "t") -> TableLoad:
    data = pa.table({"message_id": ids, "title": [title] * len(ids), "ymd": [ymd] * len(ids)})
    return TableLoad("keyed", "marts", "keyed", data, map_table(data, "redshift", key_column="message_id"),
                     "ymd", [ymd], "string", ["message_id"])


def _old_table(redshift: Any, standin: FakeRedshiftDataApi, s3: Any) -> RedshiftLoader:
    """marts.keyed as an earlier loader made it (a 64-byte distribution key), with a row, an explicit
    grant to BI and comments."""
    loader = _as_loader(standin, s3, redshift.secret_arn)
    loader.api.execute('create schema if not exists "marts"')
    loader.api.execute(OLD_DDL)
    loader.load(_keyed("2023-11-07", ["short-id"]), DIST)
    _sql(redshift, "do $$ begin if not exists (select from pg_roles where rolname = 'bi_reader') then "
                   "create role bi_reader; end if; end $$")
    _sql(redshift, "grant usage on schema marts to bi_reader")
    _sql(redshift, "grant select on marts.keyed to bi_reader")
    _sql(redshift, "comment on table marts.keyed is 'one row per event'")
    _sql(redshift, "comment on column marts.keyed.message_id is 'Segment messageId'")
    return loader


def test_a_key_column_too_narrow_for_a_long_id_is_rebuilt_in_one_transaction(redshift, standin, s3) -> None:
    """Redshift refuses ALTER COLUMN TYPE on a distribution-key column: the loader sees that in the
    catalog and rebuilds the table (new table, insert-select, swap) in one batch, keeping the rows,
    the keys, the grants and the comments."""
    loader = _old_table(redshift, standin, s3)
    long_id = "x" * 100  # over 64 bytes
    result = loader.load(_keyed("2023-11-08", [long_id]), DIST)
    assert result.reconciled
    assert _sql(redshift, "select message_id from marts.keyed order by 1") == [("short-id",), (long_id,)]
    assert _sql(redshift, "select column_name, data_type, distkey, sortkey from svv_redshift_columns where "
                          "table_name = 'keyed' order by ordinal_position") == [
        ("message_id", "character varying(256)", True, 0), ("title", "character varying(64)", False, 0),
        ("ymd", "character varying(256)", False, 1)]
    assert _sql(redshift, "select has_table_privilege('bi_reader', 'marts.keyed', 'select'), "
                          "obj_description('marts.keyed'::regclass), col_description('marts.keyed'::regclass, 1), "
                          "pg_get_userbyid(relowner) from pg_class where oid = 'marts.keyed'::regclass") == [
        (True, "one row per event", "Segment messageId", "dbt_loader")]
    assert not _sql(redshift, "select relname from pg_class where relname like 'keyed%' and relname <> 'keyed'")


def test_a_column_redshift_encoded_bytedict_is_rebuilt_not_altered(redshift, standin, s3) -> None:
    loader = _old_table(redshift, standin, s3)
    redshift.chose_encoding("marts", "keyed", "title", "bytedict")  # automatic encoding's choice
    loader.load(_keyed("2023-11-08", ["id-2"], title="긴 제목" * 20), DIST)
    assert _sql(redshift, "select count(*) from marts.keyed") == [(2,)]
    assert _sql(redshift, "select data_type, encoding from svv_redshift_columns where table_name = 'keyed' and "
                          "column_name = 'title'") == [("character varying(256)", "zstd")]


def test_a_rebuild_a_bound_view_blocks_stops_with_the_instruction_and_keeps_the_rows(redshift, standin, s3) -> None:
    loader = _old_table(redshift, standin, s3)
    _sql(redshift, "create view marts.keyed_ids as select message_id from marts.keyed")
    with pytest.raises(LoadError) as err:
        loader.load(_keyed("2023-11-08", ["y" * 100]), DIST)
    assert "WITH NO SCHEMA BINDING" in str(err.value) and "previous rows are intact" in str(err.value)
    assert _sql(redshift, "select message_id from marts.keyed_ids") == [("short-id",)]


def test_bi_can_read_a_table_the_loader_creates_as_its_own_user(redshift, standin, s3) -> None:
    """The loader connects as dbt_loader through its secret, so the default privileges of
    docs/security.md reach a table its first load creates. As the IAM identity's own user
    (Serverless without a secret) BI could not read it: the reason the secret is required."""
    from test_secrets import _grants_sql

    _sql(redshift, "create schema if not exists marts")
    _sql(redshift, "create schema if not exists snapshots")
    _sql(redshift, "grant create, usage on schema marts, snapshots to dbt_loader")
    for statement in _grants_sql():  # as documented; the group renamed, as roles are shared by the whole server
        statement = statement.replace("bi_readonly", "bi_readonly_rs")
        if statement.startswith("CREATE GROUP"):
            statement = ("do $$ begin if not exists (select from pg_roles where rolname = 'bi_readonly_rs') then "
                         "create group bi_readonly_rs; end if; end $$")
        _sql(redshift, statement)
    _sql(redshift, "do $$ begin if not exists (select from pg_roles where rolname = 'bi_looker_rs') then "
                   "create user bi_looker_rs in group bi_readonly_rs; end if; end $$")
    _as_loader(standin, s3, redshift.secret_arn).load(_events("2023-11-08", ["m1"]), DIST)
    assert _sql(redshift, "select pg_get_userbyid(relowner), has_table_privilege('bi_looker_rs', 'marts.events', "
                          "'select') from pg_class where oid = 'marts.events'::regclass") == [("dbt_loader", True)]
    redshift.user_for({})  # Serverless makes the IAM identity's user on its first statement
    _sql(redshift, f'grant create on database {redshift.dbname} to "{redshift.iam_user}"')
    _sql(redshift, f'grant create, usage on schema marts to "{redshift.iam_user}"')
    as_iam = _keyed("2023-11-08", ["k1"])
    _as_loader(standin, s3, None, "iam").load(as_iam, {})
    assert _sql(redshift, "select has_table_privilege('bi_looker_rs', 'marts.keyed', 'select')") == [(False,)]


def test_reconcile_counts_a_table_redshift_does_not_have_as_absent(redshift, standin, s3) -> None:
    """`seglog reconcile --target redshift` before a model was ever loaded: 0 rows, marked absent, no traceback."""
    from seglog.loader._recount import compare, count_redshift
    from seglog.loader._source import Model

    loader = _as_loader(standin, s3, redshift.secret_arn)
    loader.load(_events("2023-11-08", ["m1", "m2"]), DIST)
    models = {"events": Model("events", "marts", "events", "ymd"), "keyed": Model("keyed", "marts", "keyed", "ymd")}
    spark = {"models": {"events": {"2023-11-08": 2}, "keyed": {"2023-11-08": 1}}}
    counts = compare(spark, models, lambda m, v: count_redshift(loader.api, m, v))
    assert [(c.model, c.spark, c.warehouse, c.ok, c.absent) for c in counts] == [
        ("events", 2, 2, True, False), ("keyed", 1, 0, False, True)]


def test_a_rebuild_gives_back_more_comments_than_one_batch_holds(redshift, standin, s3) -> None:
    """A batch holds at most 40 statements: the swap goes first, the rest of the comments just after."""
    wide = [f'"c{i:02d}" VARCHAR(64)' for i in range(45)]
    loader = _as_loader(standin, s3, redshift.secret_arn)
    loader.api.execute('create schema if not exists "marts"')
    loader.api.execute(f'create table "marts"."keyed" ("message_id" VARCHAR(64), "title" VARCHAR(64), '
                       f'"ymd" VARCHAR(64), {", ".join(wide)}) diststyle key distkey ("message_id")')
    for i in range(45):
        _sql(redshift, f"comment on column marts.keyed.c{i:02d} is 'column {i}'")
    loader.load(_keyed("2023-11-08", ["z" * 100]), DIST)
    assert _sql(redshift, "select count(*) from svv_redshift_columns where table_name = 'keyed' and "
                          "remarks like 'column %'") == [(45,)]
    assert max(len(b["Sqls"]) for b in standin.ops("BatchExecuteStatement")) <= 40
