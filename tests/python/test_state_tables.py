"""The cumulative state tables (int_identity_map, int_users) survive a run killed at any point of
their write: the next run has every user and every link a run that was never killed gives.

How the kill is made: a real run of the date writes the state, then the table is put back in the
state Spark's commit leaves when the process dies half way through moving the written partition
into place (InsertIntoHadoopFsRelationCommand with dynamic partition overwrite: the task files
are written under <table>/.spark-staging-<job>/; at commit an existing partition's folder is
deleted, the staged folder moved in, file by file on S3, and a new partition is registered in
the metastore last). Half of the written files are left staged, the other half moved in, and a
new partition left unregistered. On the single in-place partition of old ('all', rewritten by
every run) that is the old files deleted and half the new ones in place: the next run merged into
half a state. Runs in the shared pytest Spark session, after test_pipeline.py, on its data."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from seglog.runner import dbt

pytestmark = pytest.mark.spark

EARLIER_DATE, RUN_DATE = "2023-11-06", "2023-11-08"  # dates test_pipeline.py has built: a rerun changes no state
STATE = {"intermediate.int_identity_map": "map_partition", "intermediate.int_users": "state_partition"}


def _spark():
    from pyspark.sql import SparkSession

    return SparkSession.builder.getOrCreate()  # the session dbt created in this process


def _run(root: Path, select: str = "+int_users", day: str = RUN_DATE) -> None:
    dbt(["run", "--select", select, "--vars", json.dumps({"date": day, "segment_root": str(root)})])


def _partitions(table: str) -> list[str]:
    return [row[0] for row in _spark().sql(f"show partitions {table}").collect()]


def _location(table: str) -> Path:
    rows = _spark().sql(f"describe formatted {table}").collect()
    location = next(row.data_type for row in rows if row.col_name == "Location")
    return Path(location.removeprefix("file:"))


def _latest(table: str) -> dict[str, tuple]:
    """The latest version's rows (without the version column), by key."""
    column = STATE[table]
    spark = _spark()
    latest = spark.sql(f"select max({column}) from {table}").first()[0]
    rows = spark.table(table).where(f"{column} = '{latest}'").drop(column).collect()
    key = ("anonymous_id", "received_day") if "identity_map" in table else ("user_key",)
    return {tuple(row[k] for k in key): tuple(row) for row in rows}


def _kill_while_moving(table: str, before: list[str], aside: Path) -> None:
    """Put `table` back as a run killed half way through moving its written partition leaves it."""
    after = _partitions(table)
    written = max(set(after) - set(before)) if set(after) - set(before) else max(after)  # new, or rewritten in place
    folder = _location(table) / written
    copy = aside / table / written
    shutil.copytree(folder, copy)
    if written in before:  # rewritten in place: Spark deleted the old files before moving the new ones
        shutil.rmtree(folder)
    else:  # a new partition is registered only after the move: roll the registration back
        column, value = written.split("=", 1)
        _spark().sql(f"alter table {table} drop if exists partition ({column} = '{value}')")
    folder.mkdir(parents=True, exist_ok=True)
    staged = _location(table) / ".spark-staging-killed" / written
    staged.mkdir(parents=True)
    files = sorted(copy.glob("part-*"))
    assert files, f"the run wrote no file in {written}"
    for n, path in enumerate(files):
        shutil.copy(path, (folder if n < len(files) // 2 else staged) / path.name)
    _spark().catalog.refreshTable(table)


@pytest.fixture(scope="module")
def reference(pipeline_root: Path, spark_dir: Path) -> dict[str, dict[str, tuple]]:
    """The state after runs of EARLIER_DATE and RUN_DATE that nobody killed. It holds users and
    links that only EARLIER_DATE's window brings (checked), so a later run of RUN_DATE that
    merged into a lost state could not give it back."""
    _run(pipeline_root, day=EARLIER_DATE)
    _run(pipeline_root)
    state = {table: _latest(table) for table in STATE}
    spark = _spark()
    earlier_only = spark.sql("select count(*) from intermediate.int_users where state_partition = "
                             "(select max(state_partition) from intermediate.int_users) "
                             "and last_seen_at_utc < timestamp'2023-11-06 15:00:00'").first()[0]  # before KST 11-07
    assert earlier_only > 0, "the state holds no user that RUN_DATE's run would not bring back"
    return state


@pytest.mark.parametrize("killed", ["int_users", "int_identity_map"])
def test_a_run_killed_while_writing_a_state_table_loses_no_user_and_no_link(
        reference, pipeline_root: Path, tmp_path: Path, killed: str) -> None:
    """Killed while int_users' write was being moved in (int_identity_map already switched), or while
    int_identity_map's was (int_users never started): the next run's state is the unkilled one."""
    before = {table: _partitions(table) for table in STATE}
    _run(pipeline_root, "+int_users" if killed == "int_users" else "+int_identity_map")
    _kill_while_moving(f"intermediate.{killed}", before[f"intermediate.{killed}"], tmp_path)
    _run(pipeline_root)
    for table, expected in reference.items():
        got = _latest(table)
        assert len(got) == len(expected), f"{table}: {len(got)} rows after the kill, {len(expected)} without"
        assert got == expected, f"{table} differs from the run nobody killed"


def test_a_state_table_keeps_its_newest_versions_only(reference) -> None:
    """Three runs have written each state table since the fixture's: it keeps the newest 3 (the
    post-hook state_prune)."""
    for table in STATE:
        versions = _partitions(table)
        assert len(versions) == 3, versions
        assert all(v.split("=", 1)[1].startswith("v") for v in versions), versions
