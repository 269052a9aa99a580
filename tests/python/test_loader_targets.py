"""The load cases, run on both paths: PostgreSQL (the local stand-in, psycopg COPY) and Redshift
(Parquet staged on moto's S3, statements through the Data API fake onto the Redshift stand-in,
fakes/redshift_semantics.py, which behaves as Redshift does and refuses what it refuses). Atomic
replace of a date, create/evolve never drop, refusals, a failure mid-load that keeps the previous
rows, reconciliation that catches a missing row."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Callable, Iterator

import boto3
import psycopg
import pyarrow as pa
import pytest

from fakes.redshift_data_api import FakeRedshiftDataApi
from seglog.loader._data_api import Connection, DataApi, Polling
from seglog.loader._ddl import DdlError
from seglog.loader._plan import TableLoad
from seglog.loader._postgres import LoadError, load, warehouse_side
from seglog.loader._load_checksums import LoadResult, PartitionCheck, checks
from seglog.loader._redshift import RedshiftLoader, Staging, reconcile_statement
from seglog.loader._type_mapping import map_table

KOREAN_100 = "임플란트" * 25  # 100 characters, 300 UTF-8 bytes
BUCKET = "seglog-load-cases"
ROLE = "arn:aws:iam::123456789012:role/redshift-copy"


@dataclass
class Path_:
    """One load path: where its tables land (``info``, as the administrator) and how it loads."""

    name: str
    dialect: str
    info: dict[str, Any]
    load: Callable[[TableLoad], LoadResult]
    found: Callable[[TableLoad], dict[str, tuple[int, int | None]]]  # the warehouse side of a reconciliation


@pytest.fixture(params=["postgres", "redshift"])
def target(request: pytest.FixtureRequest) -> Iterator[Path_]:
    if request.param == "postgres":
        pg = request.getfixturevalue("pg")
        yield Path_("postgres", "postgres", pg, lambda job: load(pg, job), lambda job: warehouse_side(pg, job))
        return
    redshift, s3 = request.getfixturevalue("redshift"), _bucket(request.getfixturevalue("aws_env"))
    server = FakeRedshiftDataApi(s3=s3, warehouse=redshift)
    url = server.start()
    client = boto3.client("redshift-data", region_name="ap-northeast-2", endpoint_url=url)
    api = DataApi(client, Connection(database="analytics", workgroup="seglog-wg", secret_arn=redshift.secret_arn),
                  Polling(first=0.001, factor=1.5, longest=0.005, timeout=5))

    def found(job: TableLoad) -> dict[str, tuple[int, int | None]]:
        from seglog.loader._load_checksums import label

        params = {f"p{i}": v for i, v in enumerate(job.values)} or None
        return {label(job.partition, v): (int(n), None if s is None else int(s))
                for v, n, s in api.execute(reconcile_statement(job), params)}

    # a new loader (load id) per load, as each `seglog load` makes one
    yield Path_("redshift", "redshift", redshift.info,
                lambda job: RedshiftLoader(api, s3, Staging(BUCKET, "loads", ROLE)).load(job, {}), found)
    server.stop()


def _bucket(_: str) -> Any:
    s3 = boto3.client("s3", region_name="ap-northeast-2")
    if BUCKET not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "ap-northeast-2"})
    for obj in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        s3.delete_object(Bucket=BUCKET, Key=obj["Key"])
    return s3


def _day(ymd: str, ids: list[str], titles: list[str] | None = None, **extra: list[Any]) -> pa.Table:
    cols: dict[str, Any] = {"message_id": ids,
                            "title": titles or [KOREAN_100] * len(ids),
                            "event_at": [datetime(2023, 11, 8, 1, 0, 0)] * len(ids),
                            "tags": [["a", "b"]] * len(ids)}
    cols.update(extra)
    cols["ymd"] = [ymd] * len(ids)
    return pa.table(cols)


def _job(t: Path_, data: pa.Table, table: str = "events", ymd: str = "2023-11-08") -> TableLoad:
    return TableLoad(table, "marts", table, data, map_table(data, t.dialect, key_column="message_id"), "ymd", [ymd],
                     "string", ["message_id"])


def _load(t: Path_, data: pa.Table, table: str = "events", ymd: str = "2023-11-08") -> LoadResult:
    return t.load(_job(t, data, table, ymd))


def _reconcile(t: Path_, data: pa.Table, table: str) -> PartitionCheck:
    job = _job(t, data, table)
    (check,) = checks(job.expected(), t.found(job))
    return check


def _rows(info: dict[str, Any], sql: str) -> list[tuple]:
    with psycopg.connect(**info, client_encoding="utf8") as conn:
        return conn.execute(sql).fetchall()


def test_a_date_is_replaced_atomically_and_a_reload_leaves_one_copy(target: Path_) -> None:
    _load(target, _day("2023-11-07", ["a1", "a2"]), ymd="2023-11-07")
    first = _load(target, _day("2023-11-08", ["b1", "b2", "b3"]))
    again = _load(target, _day("2023-11-08", ["b1", "b2", "b3"]))
    assert first.reconciled and again.reconciled and again.checks[0].warehouse_rows == 3
    assert _rows(target.info, "select ymd, count(*) from marts.events group by ymd order by ymd") == [
        ("2023-11-07", 2), ("2023-11-08", 3)]  # the other date untouched
    title, tags = _rows(target.info, "select title, tags from marts.events where message_id = 'b1'")[0]
    assert title == KOREAN_100 and tags == ["a", "b"]  # 300 bytes fit; the array is jsonb
    assert _rows(target.info, "select character_maximum_length from information_schema.columns "
                     "where table_name = 'events' and column_name = 'title'") == [(384,)]


def test_new_columns_are_added_and_varchars_widened_never_dropped(target: Path_) -> None:
    _load(target, _day("2023-11-08", ["c1"]), table="evolving")
    longer = _day("2023-11-08", ["c1"], titles=["x" * 1000], score=[1.5])
    _load(target, longer.drop(["tags"]), table="evolving")
    columns = dict(_rows(target.info, "select column_name, coalesce(character_maximum_length, 0) from "
                             "information_schema.columns where table_name = 'evolving'"))
    assert columns["title"] == 1280 and "score" in columns and "tags" in columns  # widened, added, kept


def test_a_narrowing_or_incompatible_type_is_refused_before_anything_changes(target: Path_) -> None:
    _load(target, _day("2023-11-08", ["d1"]), table="typed")
    bad = _day("2023-11-08", ["d1"]).set_column(2, "event_at", pa.array(["not a time"]))
    with pytest.raises(DdlError, match="event_at: the warehouse has TIMESTAMP, the data needs VARCHAR"):
        _load(target, bad, table="typed")
    assert _rows(target.info, "select count(*) from marts.typed") == [(1,)]


def test_a_failure_during_the_load_keeps_the_previous_rows(target: Path_) -> None:
    _load(target, _day("2023-11-08", ["e1", "e2"]), table="guarded")
    with psycopg.connect(**target.info) as conn:  # a constraint the next load's rows break
        conn.execute("alter table marts.guarded add constraint no_bad check (message_id not like 'bad%')")
    with pytest.raises(LoadError, match="rolled back, the previous rows are intact"):
        _load(target, _day("2023-11-08", ["e1", "bad1", "e3"]), table="guarded")
    assert _rows(target.info, "select message_id from marts.guarded order by 1") == [("e1",), ("e2",)]


def test_reconciliation_catches_a_missing_row(target: Path_) -> None:
    data = _day("2023-11-08", ["f1", "f2", "f3"])
    assert _load(target, data, table="reconciled").reconciled
    with psycopg.connect(**target.info) as conn:
        conn.execute("delete from marts.reconciled where message_id = 'f2'")
    result = _reconcile(target, data, "reconciled")
    assert not result.reconciled and (result.rows, result.warehouse_rows) == (3, 2)
    with psycopg.connect(**target.info) as conn:  # same count, another key: the checksum tells
        conn.execute("insert into marts.reconciled (message_id, ymd) values ('zz', '2023-11-08')")
    result = _reconcile(target, data, "reconciled")
    assert result.warehouse_rows == 3 and result.checksum != result.warehouse_checksum and not result.reconciled


def test_no_server_says_how_to_start_it(pg) -> None:
    """The PostgreSQL path only (the Redshift path's unreachable endpoint: test_loader_redshift.py)."""
    stopped = dict(pg, port=1)  # nothing listens there
    with pytest.raises(LoadError, match="make pg-start"):
        data = _day("2023-11-08", ["g1"])
        load(stopped, TableLoad("nowhere", "marts", "nowhere", data, map_table(data, "postgres"), "ymd", ["2023-11-08"]))


def test_grants_and_dependent_views_survive_loads_and_evolution(target: Path_) -> None:
    """Create or evolve, never drop: a BI role's grant and a view on the table outlive a reload that
    adds a column. A VARCHAR the view uses cannot be widened (PostgreSQL and Redshift refuse): the
    load stops with what to do and the rows stay."""
    _load(target, _day("2023-11-08", ["h1"]), table="granted")
    with psycopg.connect(**target.info) as conn:
        conn.execute("do $$ begin if not exists (select from pg_roles where rolname = 'bi_reader') "
                     "then create role bi_reader; end if; end $$")
        conn.execute("grant usage on schema marts to bi_reader")
        conn.execute("grant select on marts.granted to bi_reader")
        conn.execute("create view marts.granted_titles as select message_id, title from marts.granted")
    _load(target, _day("2023-11-08", ["h1", "h2"], score=[2.0, 3.0]), table="granted")
    assert _rows(target.info, "select count(*) from marts.granted_titles") == [(2,)]
    assert _rows(target.info, "select has_table_privilege('bi_reader', 'marts.granted', 'select')") == [(True,)]
    assert "score" in dict(_rows(target.info, "select column_name, 1 from information_schema.columns where table_name = 'granted'"))
    with pytest.raises(LoadError, match="view that depends on the column.*previous rows are intact|previous rows are "
                                        "intact.*view that depends on the column"):
        _load(target, _day("2023-11-08", ["h3"], titles=["y" * 700], score=[1.0]), table="granted")
    assert _rows(target.info, "select message_id from marts.granted_titles order by 1") == [("h1",), ("h2",)]


def test_the_runs_window_is_replaced_in_one_transaction_and_an_emptied_date_loses_its_rows(target: Path_) -> None:
    """The run for 11-08 owns 11-07..11-08: both are replaced together; a date it found no rows for
    (Spark has no partition folder) ends with none; the date outside the window is untouched."""
    for ymd, ids in (("2023-11-06", ["w1"]), ("2023-11-07", ["w2", "w3"]), ("2023-11-08", ["w4"])):
        _load(target, _day(ymd, ids), table="window", ymd=ymd)
    data = _day("2023-11-08", ["w5", "w6"])
    job = TableLoad("window", "marts", "window", data, map_table(data, target.dialect, key_column="message_id"), "ymd",
                    ["2023-11-07", "2023-11-08"], "string", ["message_id"])
    result = target.load(job)
    assert [(c.partition, c.rows, c.warehouse_rows, c.reconciled) for c in result.checks] == [
        ("ymd=2023-11-07", 0, 0, True), ("ymd=2023-11-08", 2, 2, True)]
    assert _rows(target.info, "select ymd, message_id from marts.window order by 1, 2") == [
        ("2023-11-06", "w1"), ("2023-11-08", "w5"), ("2023-11-08", "w6")]


def _md5_32(text: str) -> int:
    return int(hashlib.md5(text.encode()).hexdigest()[:8], 16)


def test_a_composite_grain_is_checksummed_alike_in_python_and_in_postgresql(target: Path_) -> None:
    """Aggregate marts have a grain of several columns (strings, booleans, integers, dates): the key
    text joins them with '|', NULL as '<null>'; the sums below are worked out by hand from that rule."""
    data = pa.table({"ymd": ["2023-11-08", "2023-11-08"], "platform": ["web", None],
                     "is_identified": [True, False], "hour": pa.array([0, 23], pa.int32()),
                     "cohort_ywd": pa.array([date(2023, 11, 5), None], pa.date32()), "users": [3, 4]})
    grain = ["ymd", "platform", "is_identified", "hour", "cohort_ywd"]
    job = TableLoad("grain", "marts", "grain", data, map_table(data, target.dialect), "ymd", ["2023-11-08"], "string",
                    grain)
    (check,) = target.load(job).checks
    expected = _md5_32("2023-11-08|web|true|0|2023-11-05") + _md5_32("2023-11-08|<null>|false|23|<null>")
    assert check.checksum == expected == check.warehouse_checksum and check.reconciled
    with psycopg.connect(**target.info) as conn:  # one key changed in the warehouse: same count, other sum
        conn.execute("update marts.grain set hour = 22 where hour = 23")
    (check,) = checks(job.expected(), target.found(job))
    assert check.rows == check.warehouse_rows == 2 and not check.reconciled
