"""A whole load of a run, without Spark: a warehouse folder laid out as Spark writes it (Hive
partitions, the run's audit row), loaded into the real PostgreSQL by load_all. Which partitions
are replaced comes from the audit; a partition Spark has no folder for ends empty; a date outside
the run's window is untouched; a long window goes in chunks; a date never run is refused."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from seglog.loader import _run as load_run
from seglog.loader._postgres import load
from seglog.loader._plan import TableLoad
from seglog.loader._type_mapping import map_table
from seglog.loader._run import PostgresTarget, dry_run, load_all
from seglog.loader._source import Model, SourceError, Warehouse

RUN = date(2023, 11, 8)
OWNED = [RUN - timedelta(days=n) for n in range(7, -1, -1)]  # the run for 11-08 with L = 7 owns 11-01..11-08
MISSING = "2023-11-03"  # the run found no rows of this date: Spark wrote no folder


def _warehouse(root: Path) -> Warehouse:
    audit = root / "audit.db" / "segment_run_audit" / f"run_ymd={RUN}"
    audit.mkdir(parents=True)
    pq.write_table(pa.table({"source_key": ["web", "app"], "owned_from_ymd": [str(OWNED[0])] * 2,
                             "owned_to_ymd": [str(RUN)] * 2}), audit / "part-0.parquet")
    _marker(root, "segment_run_started", "inv-1")
    _marker(root, "segment_run_completed", "inv-1")
    for day in OWNED:
        if str(day) == MISSING:
            continue
        folder = root / "marts.db" / "run_events" / f"ymd={day}"
        folder.mkdir(parents=True)
        pq.write_table(pa.table({"message_id": [f"{day}-a", f"{day}-b"],
                                 "attrs": pa.array([[("k", "v")], None], pa.map_(pa.string(), pa.string()))}),
                       folder / "part-0.parquet")
    return Warehouse.at(str(root))


def _marker(root: Path, table: str, invocation_id: str | None) -> None:
    """The run's row in audit.segment_run_started / segment_run_completed, as the invocation that
    began / finished it writes it (None: no row, as after a run that failed before its end)."""
    folder = root / "audit.db" / table / f"run_ymd={RUN}"
    if folder.exists():
        for old in folder.iterdir():
            old.unlink()
        folder.rmdir()
    if invocation_id:
        folder.mkdir(parents=True)
        pq.write_table(pa.table({"invocation_id": [invocation_id], "at_utc": ["2023-11-09 01:00:00"]}),
                       folder / "part-0.parquet")


def _rows(pg: dict[str, Any], sql: str) -> list[tuple]:
    with psycopg.connect(**pg) as conn:
        return conn.execute(sql).fetchall()


def test_a_run_is_loaded_by_its_audits_window_in_chunks_and_a_missing_partition_ends_empty(
        pg, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    warehouse = _warehouse(tmp_path)
    before = pa.table({"message_id": ["stale-0303", "keep-1109"], "attrs": pa.array([None, None], pa.map_(
        pa.string(), pa.string())), "ymd": [MISSING, "2023-11-09"]})
    for ymd in (MISSING, "2023-11-09"):  # what the warehouse held: a row of 11-03 and one outside the window
        part = before.filter(pc.equal(before.column("ymd"), ymd))
        load(pg, TableLoad("run_events", "marts", "run_events", part, map_table(part, "postgres"), "ymd", [ymd]))
    monkeypatch.setattr(load_run, "CHUNK", 3)  # 8 dates: transactions of 3, 3 and 2 partitions
    model = Model("run_events", "marts", "run_events", "ymd", grain=["message_id"], key_columns=["message_id"])

    outcome = load_all([model], warehouse, [RUN], PostgresTarget(pg))

    assert outcome.ok and not outcome.failed and outcome.owned == OWNED
    (result,) = outcome.loaded
    assert [(c.partition, c.rows, c.warehouse_rows) for c in result.checks] == [
        (f"ymd={d}", 0 if str(d) == MISSING else 2, 0 if str(d) == MISSING else 2) for d in OWNED]
    assert result.rows == 14 and all(c.checksum is not None for c in result.checks)
    assert _rows(pg, f"select message_id from marts.run_events where ymd in ('{MISSING}', '2023-11-09') order by 1") == [
        ("keep-1109",)]  # 11-03 emptied, 11-09 (not the run's) untouched
    assert _rows(pg, "select attrs from marts.run_events where message_id = '2023-11-01-a'") == [({"k": "v"},)]  # a map
    assert "1 model(s), 8 partition(s), 14 rows loaded into pg_local for 2023-11-01..2023-11-08" in outcome.summary()


def test_a_date_whose_run_is_not_in_the_warehouse_is_refused_and_nothing_is_deleted(pg, tmp_path: Path) -> None:
    warehouse = _warehouse(tmp_path)
    model = Model("run_events", "marts", "run_events", "ymd", grain=["message_id"])
    with pytest.raises(SourceError, match="the run for 2023-11-09 is not in the warehouse.*nothing was loaded"):
        load_all([model], warehouse, [date(2023, 11, 9)], PostgresTarget(pg))


def test_a_model_that_fails_is_reported_and_the_others_still_load(pg, tmp_path: Path) -> None:
    warehouse = _warehouse(tmp_path)
    broken = Model("nowhere", "marts", "nowhere", "ymd")  # no table in the warehouse
    good = Model("run_events", "marts", "run_events", "ymd", grain=["message_id"])
    outcome = load_all([broken, good], warehouse, [RUN], PostgresTarget(pg))
    assert [m for m, _ in outcome.failed] == ["nowhere"] and "has no data" in outcome.failed[0][1]
    assert [r.model for r in outcome.loaded] == ["run_events"] and not outcome.ok
    assert outcome.as_json()["ok"] is False and "FAILED: nowhere" in outcome.summary()


def test_a_403_on_a_folder_probe_is_answered_by_a_listing_never_taken_for_exists(tmp_path: Path) -> None:
    import pyarrow.fs as pafs

    (tmp_path / "marts.db" / "t" / "ymd=2023-11-08").mkdir(parents=True)
    (tmp_path / "marts.db" / "t" / "ymd=2023-11-08" / "part-0.parquet").write_bytes(b"x")
    local = pafs.LocalFileSystem()

    class PrefixOnlyS3:
        """What S3 gives a role that may list only under a prefix: a HEAD of any key that is not an
        object (a folder, a missing partition) is refused with 403; listings work. (S3 API Reference,
        HeadObject, "Permissions": without s3:ListBucket a missing key answers 403, not 404.)"""

        def get_file_info(self, what):
            if isinstance(what, str):
                raise OSError(f"When getting information for key '{what}': AWS Error ACCESS_DENIED during "
                              "HeadObject operation: No response body.")
            return local.get_file_info(what)

    wh = Warehouse(PrefixOnlyS3(), str(tmp_path), "s3://b/warehouse")
    assert wh.exists(f"{tmp_path}/marts.db/t/ymd=2023-11-08") is True
    assert wh.exists(f"{tmp_path}/marts.db/t/ymd=2023-11-09") is False

    class Broken:
        def get_file_info(self, what):
            raise OSError("AWS Error NETWORK_CONNECTION during HeadObject operation")

    with pytest.raises(OSError, match="NETWORK_CONNECTION"):  # any other failure is still an error
        Warehouse(Broken(), str(tmp_path), "s3://b/warehouse").exists(f"{tmp_path}/marts.db")


def test_a_dry_run_shows_each_models_statements_and_loads_nothing(pg, tmp_path: Path) -> None:
    """loader.dry_run (what `seglog load --dry-run` prints): per model a header with its rows and
    partitions and the statements it would send; a model that cannot be planned says why, and the
    others are still shown; nothing is written to the warehouse."""
    from seglog.loader import dry_run

    warehouse = _warehouse(tmp_path)
    good = Model("run_events", "marts", "run_events", "ymd", grain=["message_id"], key_columns=["message_id"])
    gone = Model("no_such_model", "marts", "no_such_model", "ymd", grain=["message_id"])
    exists = "select count(*) from information_schema.tables where table_schema = 'marts' and table_name = 'run_events'"
    before = _rows(pg, "select count(*) from marts.run_events") if _rows(pg, exists) == [(1,)] else None
    shown = list(dry_run([gone, good], warehouse, OWNED[-2:], PostgresTarget(pg)))
    assert [header.split(":")[0] for header, _ in shown] == ["-- no_such_model", "-- run_events"]
    assert "cannot plan" in shown[0][0] and shown[0][1] == []
    assert shown[1][0] == "-- run_events: 4 rows, partitions 2023-11-07, 2023-11-08"
    statements = shown[1][1]
    assert statements[-1].startswith("-- then one transaction: COPY") and "2023-11-07', '2023-11-08'" in statements[-1]
    if before is None:  # no table yet: the dry run shows the CREATE TABLE it would send, and sends nothing
        assert statements[0].lower().startswith("create table") and statements[0].endswith(";"), statements
        assert _rows(pg, exists) == [(0,)]
    else:  # the table of the test above: the same rows after the dry run
        assert _rows(pg, "select count(*) from marts.run_events") == before


def test_a_recount_says_what_differs_and_writes_what_the_scheduler_reads(tmp_path: Path) -> None:
    """recount.Recount (what `seglog reconcile` prints and writes): ok only when every partition
    agrees; the summary names the partitions that differ and the models never loaded."""
    import json

    from seglog.loader._recount import Count, Recount

    agree = Recount("2023-11-08", "pg_local", [Count("segment_log", "2023-11-07", 5, 5), Count("dim_users", "*", 2, 2)])
    assert agree.ok and agree.summary() == "2 model(s), 2 partition(s), 7 rows: Spark and the warehouse agree"
    differ = Recount("2023-11-08", "pg_local", [Count("segment_log", "2023-11-08", 5, 4),
                                                Count("hourly_traffic", "2023-11-08", 24, 0, absent=True)])
    assert not differ.ok
    assert differ.summary() == (
        "2 model(s), 2 partition(s), 29 rows: 2 partition(s) differ: segment_log 2023-11-08 (Spark 5, warehouse 4), "
        "hourly_traffic 2023-11-08 (Spark 24, warehouse 0); not in the warehouse at all (never loaded: run "
        "`seglog load` for the date): hourly_traffic")
    differ.write(tmp_path / "out" / "reconcile_results.json")
    written = json.loads((tmp_path / "out" / "reconcile_results.json").read_text())
    assert written["ok"] is False and written["run_date"] == "2023-11-08" and written["target"] == "pg_local"
    assert written["summary"] == differ.summary() and len(written["counts"]) == 2


def _users(root: Path, n: int) -> None:
    """The whole-table model's Spark folder, holding users 0..n-1 (n = 0: the folder emptied)."""
    folder = root / "marts.db" / "users_whole"
    if folder.exists():
        for old in folder.iterdir():
            old.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    if n:
        pq.write_table(pa.table({"user_key": [f"u{i:03d}" for i in range(n)]}), folder / "part-0.parquet")


def test_a_whole_table_that_shrank_or_emptied_in_spark_is_refused_and_the_warehouse_keeps_its_rows(
        pg, tmp_path: Path) -> None:
    """dim_users and the traits snapshot are loaded whole: a Spark table cut short (a failed
    overwrite) must not replace the warehouse's rows with part of them. Up to MAX_SHRINK fewer rows
    load (identity stitching folds users together); more, or none at all, is refused unless the
    caller passes allow_shrink (seglog load --allow-shrink)."""
    warehouse = _warehouse(tmp_path)
    model = Model("users_whole", "marts", "users_whole", None, grain=["user_key"], key_columns=["user_key"])
    target = PostgresTarget(pg)

    def load_users(n: int, allow_shrink: bool = False):
        _users(tmp_path, n)
        return load_all([model], warehouse, [RUN], target, allow_shrink=allow_shrink)

    def in_warehouse() -> int:
        return _rows(pg, "select count(*) from marts.users_whole")[0][0]

    assert load_users(100).ok and in_warehouse() == 100
    assert load_users(91).ok and in_warehouse() == 91  # 9 % fewer: within MAX_SHRINK (10 %)

    refused = load_users(81)  # 10 fewer of 91 is 11 %: refused
    assert not refused.ok and not refused.loaded and [m for m, _ in refused.failed] == ["users_whole"]
    message = refused.failed[0][1]
    assert "81 rows, 10 fewer than the 91" in message and "rows are intact" in message and "--allow-shrink" in message
    assert in_warehouse() == 91
    # seglog load --dry-run says the same before anything is sent, and plans the load when allowed
    planned = dict(dry_run([model], warehouse, [RUN], target))
    assert [s for s in next(iter(planned.values())) if "81 rows, 10 fewer than the 91" in s], planned
    allowed = next(iter(dict(dry_run([model], warehouse, [RUN], target, allow_shrink=True)).values()))
    assert not any("would stop" in s for s in allowed) and any("COPY" in s for s in allowed), allowed

    for emptied in (0,):  # the folder emptied: no row at all, while the warehouse holds 91
        out = load_users(emptied)
        assert not out.ok and "has no row at all" in out.failed[0][1] and "--allow-shrink" in out.failed[0][1]
        assert in_warehouse() == 91

    assert load_users(81, allow_shrink=True).ok and in_warehouse() == 81  # asked for: loaded


@pytest.mark.parametrize("completed_by", [None, "inv-1"])
def test_a_run_that_did_not_finish_is_refused_and_nothing_is_replaced(pg, tmp_path: Path, completed_by) -> None:
    """A rerun (invocation inv-2) recorded its start and then failed or was stopped: no
    segment_run_completed row, or only the earlier invocation's. It is refused, whatever it left."""
    warehouse = _warehouse(tmp_path)
    model = Model("run_events", "marts", "run_events", "ymd", grain=["message_id"])
    assert load_all([model], warehouse, [RUN], PostgresTarget(pg)).ok
    loaded = _rows(pg, "select count(*) from marts.run_events")

    _marker(tmp_path, "segment_run_started", "inv-2")
    _marker(tmp_path, "segment_run_completed", completed_by)
    with pytest.raises(SourceError, match=r"the run for 2023-11-08 did not finish.*seglog run --date 2023-11-08"):
        load_all([model], warehouse, [RUN], PostgresTarget(pg))
    assert _rows(pg, "select count(*) from marts.run_events") == loaded

    _marker(tmp_path, "segment_run_completed", "inv-2")  # the rerun finished: loaded
    assert load_all([model], warehouse, [RUN], PostgresTarget(pg)).ok


def test_a_run_built_before_runs_recorded_their_start_is_refused_with_what_to_do(pg, tmp_path: Path) -> None:
    warehouse = _warehouse(tmp_path)
    _marker(tmp_path, "segment_run_started", None)
    model = Model("run_events", "marts", "run_events", "ymd", grain=["message_id"])
    with pytest.raises(SourceError, match="built before runs recorded that they finished.*run `seglog run --date"):
        load_all([model], warehouse, [RUN], PostgresTarget(pg))
