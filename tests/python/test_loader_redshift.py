"""The Redshift path: Parquet staged on moto's S3 server, the statements sent to a recording fake
of the Redshift Data API (moto's never finishes a statement). Asserts the exact statements and
their order, what COPY would read from S3 at that moment, the polling, and the failures.
Expected statements are written out by hand from the rules in loader/redshift.py's docstring."""

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
from seglog.loader.data_api import ConfigError, Connection, DataApi, Polling, StatementFailed
from seglog.loader.ddl import DdlError
from seglog.loader.plan import TableLoad
from seglog.loader.postgres import LoadError
from seglog.loader.redshift import RedshiftLoader, Staging
from seglog.loader.redshift_types import map_table

KOREAN_100 = "임플란트" * 25  # 100 characters, 300 UTF-8 bytes
ROLE = "arn:aws:iam::123456789012:role/redshift-copy"
BUCKET = "seglog-staging"
PREFIX = "loads/test-load/marts.events/"
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
    f"copy \"stage_events\" ({COLUMNS}) from 's3://{BUCKET}/{PREFIX}' iam_role '{ROLE}' format as parquet "
    "serializetojson",
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
        ("execute", 'create table "marts"."events" (\n    "message_id" VARCHAR(64),\n    "title" VARCHAR(384),\n'
                    '    "event_at" TIMESTAMP,\n    "tags" SUPER,\n    "ymd" VARCHAR(64)\n)\n'
                    'diststyle key\ndistkey ("message_id")\ncompound sortkey ("ymd")'),
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
    assert seen["uri"] == f"s3://{BUCKET}/{PREFIX}" and list(seen["objects"]) == [f"{PREFIX}part-00000.parquet"]
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
    assert fake.statements()[1:4] == [
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
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix=PREFIX)["KeyCount"] == 1  # kept for the post-mortem


def fake_describe_subs(fake: FakeRedshiftDataApi) -> list[dict[str, Any]]:
    batch_id = next(s for s in fake._statements.values() if s.batch).id
    return fake._describe({"Id": batch_id})[1]["SubStatements"]


def test_reconciliation_catches_a_row_missing_in_redshift(fake, s3) -> None:
    _answer_reconciliation(fake, drop_one=True)
    result = _loader(fake, s3).load(_job(), DIST)
    assert not result.reconciled
    bad = [c for c in result.checks if not c.reconciled]
    assert [(c.partition, c.rows, c.warehouse_rows) for c in bad] == [("ymd=2023-11-08", 2, 1)]
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix=PREFIX)["KeyCount"] == 1  # kept for the post-mortem


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
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix=PREFIX)["KeyCount"] == 1  # kept


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
    monkeypatch.setenv("REDSHIFT_CLUSTER_ID", "analytics-cluster")
    with pytest.raises(ConfigError, match="REDSHIFT_SECRET_ARN .* or\\s+REDSHIFT_USER"):
        Connection.from_env()
    monkeypatch.setenv("REDSHIFT_USER", "loader")
    assert Connection.from_env().args() == {"Database": "analytics", "ClusterIdentifier": "analytics-cluster",
                                            "DbUser": "loader"}


def test_a_composite_grain_is_checksummed_in_redshift_sql_with_the_same_key_text() -> None:
    from seglog.loader.redshift import reconcile_statement

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
