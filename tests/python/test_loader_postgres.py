"""The local load path against a real PostgreSQL (the project's own server on a scratch data
dir and a free port): atomic replace of a date, create/evolve never drop, refusals, a failure
mid-load that keeps the previous rows, reconciliation that catches a missing row."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import Any

import psycopg
import pyarrow as pa
import pytest

from seglog.loader.ddl import DdlError
from seglog.loader.plan import TableLoad
from seglog.loader.postgres import LoadError, load, warehouse_side
from seglog.loader.reconcile import checks
from seglog.loader.redshift_types import map_table

KOREAN_100 = "임플란트" * 25  # 100 characters, 300 UTF-8 bytes


def _day(ymd: str, ids: list[str], titles: list[str] | None = None, **extra: list[Any]) -> pa.Table:
    cols: dict[str, Any] = {"message_id": ids,
                            "title": titles or [KOREAN_100] * len(ids),
                            "event_at": [datetime(2023, 11, 8, 1, 0, 0)] * len(ids),
                            "tags": [["a", "b"]] * len(ids)}
    cols.update(extra)
    cols["ymd"] = [ymd] * len(ids)
    return pa.table(cols)


def _job(data: pa.Table, table: str = "events", ymd: str = "2023-11-08") -> TableLoad:
    return TableLoad(table, "marts", table, data, map_table(data, "postgres", key_column="message_id"), "ymd", [ymd],
                     "string", ["message_id"])


def _load(info: dict[str, Any], data: pa.Table, table: str = "events", ymd: str = "2023-11-08"):
    return load(info, _job(data, table, ymd))


def _reconcile(info: dict[str, Any], data: pa.Table, table: str):
    job = _job(data, table)
    (check,) = checks(job.expected(), warehouse_side(info, job))
    return check


def _rows(info: dict[str, Any], sql: str) -> list[tuple]:
    with psycopg.connect(**info) as conn:
        return conn.execute(sql).fetchall()


def test_a_date_is_replaced_atomically_and_a_reload_leaves_one_copy(pg) -> None:
    _load(pg, _day("2023-11-07", ["a1", "a2"]), ymd="2023-11-07")
    first = _load(pg, _day("2023-11-08", ["b1", "b2", "b3"]))
    again = _load(pg, _day("2023-11-08", ["b1", "b2", "b3"]))
    assert first.reconciled and again.reconciled and again.checks[0].warehouse_rows == 3
    assert _rows(pg, "select ymd, count(*) from marts.events group by ymd order by ymd") == [
        ("2023-11-07", 2), ("2023-11-08", 3)]  # the other date untouched
    title, tags = _rows(pg, "select title, tags from marts.events where message_id = 'b1'")[0]
    assert title == KOREAN_100 and tags == ["a", "b"]  # 300 bytes fit; the array is jsonb
    assert _rows(pg, "select character_maximum_length from information_schema.columns "
                     "where table_name = 'events' and column_name = 'title'") == [(384,)]


def test_new_columns_are_added_and_varchars_widened_never_dropped(pg) -> None:
    _load(pg, _day("2023-11-08", ["c1"]), table="evolving")
    longer = _day("2023-11-08", ["c1"], titles=["x" * 1000], score=[1.5])
    _load(pg, longer.drop(["tags"]), table="evolving")
    columns = dict(_rows(pg, "select column_name, coalesce(character_maximum_length, 0) from "
                             "information_schema.columns where table_name = 'evolving'"))
    assert columns["title"] == 1280 and "score" in columns and "tags" in columns  # widened, added, kept


def test_a_narrowing_or_incompatible_type_is_refused_before_anything_changes(pg) -> None:
    _load(pg, _day("2023-11-08", ["d1"]), table="typed")
    bad = _day("2023-11-08", ["d1"]).set_column(2, "event_at", pa.array(["not a time"]))
    with pytest.raises(DdlError, match="event_at: the warehouse has TIMESTAMP, the data needs VARCHAR"):
        _load(pg, bad, table="typed")
    assert _rows(pg, "select count(*) from marts.typed") == [(1,)]


def test_a_failure_during_the_load_keeps_the_previous_rows(pg) -> None:
    _load(pg, _day("2023-11-08", ["e1", "e2"]), table="guarded")
    with psycopg.connect(**pg) as conn:  # a constraint the next load's rows break
        conn.execute("alter table marts.guarded add constraint no_bad check (message_id not like 'bad%')")
    with pytest.raises(LoadError, match="rolled back, the previous rows are intact"):
        _load(pg, _day("2023-11-08", ["e1", "bad1", "e3"]), table="guarded")
    assert _rows(pg, "select message_id from marts.guarded order by 1") == [("e1",), ("e2",)]


def test_reconciliation_catches_a_missing_row(pg) -> None:
    data = _day("2023-11-08", ["f1", "f2", "f3"])
    assert _load(pg, data, table="reconciled").reconciled
    with psycopg.connect(**pg) as conn:
        conn.execute("delete from marts.reconciled where message_id = 'f2'")
    result = _reconcile(pg, data, "reconciled")
    assert not result.reconciled and (result.rows, result.warehouse_rows) == (3, 2)
    with psycopg.connect(**pg) as conn:  # same count, another key: the checksum tells
        conn.execute("insert into marts.reconciled (message_id, ymd) values ('zz', '2023-11-08')")
    result = _reconcile(pg, data, "reconciled")
    assert result.warehouse_rows == 3 and result.checksum != result.warehouse_checksum and not result.reconciled


def test_no_server_says_how_to_start_it(pg) -> None:
    stopped = dict(pg, port=1)  # nothing listens there
    with pytest.raises(LoadError, match="make pg-start"):
        _load(stopped, _day("2023-11-08", ["g1"]), table="nowhere")


def test_grants_and_dependent_views_survive_loads_and_evolution(pg) -> None:
    """Create or evolve, never drop: a BI role's grant and a view on the table outlive a reload that
    adds a column. A VARCHAR the view uses cannot be widened (PostgreSQL and Redshift refuse): the
    load stops with what to do and the rows stay."""
    _load(pg, _day("2023-11-08", ["h1"]), table="granted")
    with psycopg.connect(**pg) as conn:
        conn.execute("do $$ begin if not exists (select from pg_roles where rolname = 'bi_reader') "
                     "then create role bi_reader; end if; end $$")
        conn.execute("grant usage on schema marts to bi_reader")
        conn.execute("grant select on marts.granted to bi_reader")
        conn.execute("create view marts.granted_titles as select message_id, title from marts.granted")
    _load(pg, _day("2023-11-08", ["h1", "h2"], score=[2.0, 3.0]), table="granted")
    assert _rows(pg, "select count(*) from marts.granted_titles") == [(2,)]
    assert _rows(pg, "select has_table_privilege('bi_reader', 'marts.granted', 'select')") == [(True,)]
    assert "score" in dict(_rows(pg, "select column_name, 1 from information_schema.columns where table_name = 'granted'"))
    with pytest.raises(LoadError, match="view that depends on the column.*previous rows are intact|previous rows are "
                                        "intact.*view that depends on the column"):
        _load(pg, _day("2023-11-08", ["h3"], titles=["y" * 700], score=[1.0]), table="granted")
    assert _rows(pg, "select message_id from marts.granted_titles order by 1") == [("h1",), ("h2",)]


def test_the_runs_window_is_replaced_in_one_transaction_and_an_emptied_date_loses_its_rows(pg) -> None:
    """The run for 11-08 owns 11-07..11-08: both are replaced together; a date it found no rows for
    (Spark has no partition folder) ends with none; the date outside the window is untouched."""
    for ymd, ids in (("2023-11-06", ["w1"]), ("2023-11-07", ["w2", "w3"]), ("2023-11-08", ["w4"])):
        _load(pg, _day(ymd, ids), table="window", ymd=ymd)
    data = _day("2023-11-08", ["w5", "w6"])
    job = TableLoad("window", "marts", "window", data, map_table(data, "postgres", key_column="message_id"), "ymd",
                    ["2023-11-07", "2023-11-08"], "string", ["message_id"])
    result = load(pg, job)
    assert [(c.partition, c.rows, c.warehouse_rows, c.reconciled) for c in result.checks] == [
        ("ymd=2023-11-07", 0, 0, True), ("ymd=2023-11-08", 2, 2, True)]
    assert _rows(pg, "select ymd, message_id from marts.window order by 1, 2") == [
        ("2023-11-06", "w1"), ("2023-11-08", "w5"), ("2023-11-08", "w6")]


def _md5_32(text: str) -> int:
    return int(hashlib.md5(text.encode()).hexdigest()[:8], 16)


def test_a_composite_grain_is_checksummed_alike_in_python_and_in_postgresql(pg) -> None:
    """Aggregate marts have a grain of several columns (strings, booleans, integers, dates): the key
    text joins them with '|', NULL as '<null>'; the sums below are worked out by hand from that rule."""
    data = pa.table({"ymd": ["2023-11-08", "2023-11-08"], "platform": ["web", None],
                     "is_identified": [True, False], "hour": pa.array([0, 23], pa.int32()),
                     "cohort_ywd": pa.array([date(2023, 11, 5), None], pa.date32()), "users": [3, 4]})
    grain = ["ymd", "platform", "is_identified", "hour", "cohort_ywd"]
    job = TableLoad("grain", "marts", "grain", data, map_table(data, "postgres"), "ymd", ["2023-11-08"], "string",
                    grain)
    (check,) = load(pg, job).checks
    expected = _md5_32("2023-11-08|web|true|0|2023-11-05") + _md5_32("2023-11-08|<null>|false|23|<null>")
    assert check.checksum == expected == check.warehouse_checksum and check.reconciled
    with psycopg.connect(**pg) as conn:  # one key changed in the warehouse: same count, other sum
        conn.execute("update marts.grain set hour = 22 where hour = 23")
    (check,) = checks(job.expected(), warehouse_side(pg, job))
    assert check.rows == check.warehouse_rows == 2 and not check.reconciled
