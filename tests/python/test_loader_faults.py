"""Faults during a local load, against the real PostgreSQL: the loader runs in a process of its
own (load_worker.py), is held at a chosen point by a lock the test owns, and is then killed
(SIGKILL) or loses its connection (the server ends its backend). Every time the previous rows
of the date are exactly as they were, and a rerun completes.

The points, in the order of the load's one transaction:
- after staging: the rows are in the temp table, the DELETE waits (the test holds SHARE on the table);
- during the delete: the DELETE has removed some rows and waits on a row the test locked;
- before commit: the INSERT has written every new row, and a trigger of the test holds it
  (an advisory lock) before the statement returns; only COMMIT is left.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest


WORKER = Path(__file__).with_name("load_worker.py")
APP = "seglog-fault-test"
OLD = [("2023-11-07", "x1"), ("2023-11-08", "o1"), ("2023-11-08", "o2")]
NEW = [("2023-11-07", "x1"), ("2023-11-08", "n1"), ("2023-11-08", "n2"), ("2023-11-08", "n3")]
GATE = 4242  # advisory lock the before-commit trigger waits on


def _rows(ids: list[str], ymd: str) -> pa.Table:
    return pa.table({"message_id": ids, "title": ["제목"] * len(ids),
                     "event_at": [datetime(2023, 11, 8, 1, 0)] * len(ids), "ymd": [ymd] * len(ids)})


def _worker(pg: dict[str, Any], parquet: Path, table: str) -> subprocess.Popen[str]:
    conninfo = dict(pg, application_name=APP)
    env = dict(os.environ, PYTHONPATH=str(WORKER.parent))
    return subprocess.Popen([sys.executable, str(WORKER), json.dumps(conninfo), str(parquet), table], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _content(pg: dict[str, Any], table: str) -> list[tuple[str, str]]:
    with psycopg.connect(**pg) as conn:
        return conn.execute(f"select ymd, message_id from marts.{table} order by 1, 2").fetchall()


def _wait_for(pg: dict[str, Any], proc: subprocess.Popen[str], statement: str, event: str | None = None) -> int:
    """The worker's backend pid, once it waits on a lock in ``statement`` (delete/insert)."""
    deadline = time.monotonic() + 30
    with psycopg.connect(**pg, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(
                "select pid from pg_stat_activity where application_name = %s and wait_event_type = 'Lock' "
                "and query ilike %s and (%s::text is null or wait_event = %s)",
                (APP, f"{statement}%", event, event)).fetchone()
            if row:
                return int(row[0])
            if proc.poll() is not None:
                pytest.fail(f"the worker ended before reaching the {statement}: {proc.communicate()}")
            time.sleep(0.05)
    proc.kill()
    pytest.fail(f"the worker never waited in its {statement}")


def _gone(pg: dict[str, Any], pid: int) -> None:
    """Wait until the killed worker's backend has ended (its transaction rolled back)."""
    with psycopg.connect(**pg, autocommit=True) as conn:
        for _ in range(200):
            if not conn.execute("select 1 from pg_stat_activity where pid = %s", (pid,)).fetchone():
                return
            time.sleep(0.05)
    pytest.fail(f"backend {pid} is still there")


def _hold_share_lock(conn: psycopg.Connection[Any], table: str) -> None:
    conn.execute(f"lock table marts.{table} in share mode")  # DELETE needs ROW EXCLUSIVE: it waits


def _hold_a_row(conn: psycopg.Connection[Any], table: str) -> None:
    conn.execute(f"select 1 from marts.{table} where message_id = 'o2' for update")


def _hold_the_commit(conn: psycopg.Connection[Any], table: str) -> None:
    conn.execute("create or replace function marts.wait_gate() returns trigger language plpgsql as "
                 f"$$ begin perform pg_advisory_xact_lock_shared({GATE}); return null; end $$")
    conn.execute(f"create trigger gate after insert on marts.{table} for each statement execute function marts.wait_gate()")
    conn.commit()
    conn.execute("select pg_advisory_lock(%s)", (GATE,))


POINTS: dict[str, tuple[Callable[[psycopg.Connection[Any], str], None], str, str | None]] = {
    "after_staging": (_hold_share_lock, "delete", "relation"),
    "during_delete": (_hold_a_row, "delete", "transactionid"),
    "before_commit": (_hold_the_commit, "insert", "advisory"),
}


@pytest.mark.parametrize("how", ["killed", "connection_lost"])
@pytest.mark.parametrize("point", list(POINTS))
def test_a_load_stopped_at_any_point_keeps_the_previous_rows_and_a_rerun_completes(
        pg, tmp_path: Path, point: str, how: str) -> None:
    table = f"faults_{point}_{how}"
    old = tmp_path / "old.parquet"
    pq.write_table(pa.concat_tables([_rows(["x1"], "2023-11-07"), _rows(["o1", "o2"], "2023-11-08")]), old)
    first = _worker(pg, old, table)
    _, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    assert _content(pg, table) == OLD
    new = tmp_path / "new.parquet"
    pq.write_table(_rows(["n1", "n2", "n3"], "2023-11-08"), new)

    hold, statement, event = POINTS[point]
    blocker = psycopg.connect(**pg)
    try:
        hold(blocker, table)
        proc = _worker(pg, new, table)
        pid = _wait_for(pg, proc, statement, event)
        if how == "killed":
            os.kill(proc.pid, signal.SIGKILL)
            proc.communicate(timeout=10)
            assert proc.returncode == -signal.SIGKILL
        else:
            with psycopg.connect(**pg, autocommit=True) as admin:
                assert admin.execute("select pg_terminate_backend(%s)", (pid,)).fetchone() == (True,)
            _, err = proc.communicate(timeout=30)
            assert proc.returncode == 1
            assert "connection to PostgreSQL was lost during the load" in err
            assert "rolled back, the previous rows are intact" in err
    finally:
        blocker.rollback()
        if point == "before_commit":
            blocker.execute("select pg_advisory_unlock_all()")
            blocker.execute(f"drop trigger if exists gate on marts.{table}")
            blocker.commit()
        blocker.close()
    _gone(pg, pid)
    assert _content(pg, table) == OLD  # every previous row, none of the new

    rerun = _worker(pg, new, table)
    out, err = rerun.communicate(timeout=60)
    assert rerun.returncode == 0, err
    assert json.loads(out) == {"rows": 3, "reconciled": True}
    assert _content(pg, table) == NEW


def test_a_load_the_warehouse_refuses_midway_keeps_the_previous_rows_and_a_rerun_completes(
        pg, tmp_path: Path) -> None:
    """The warehouse refuses a row after the DELETE has run (a constraint here; a full disk fails the
    INSERT the same way): the whole transaction rolls back, the error says so and names the cause."""
    table = "faults_refused_row"
    old = tmp_path / "old.parquet"
    pq.write_table(pa.concat_tables([_rows(["x1"], "2023-11-07"), _rows(["o1", "o2"], "2023-11-08")]), old)
    first = _worker(pg, old, table)
    assert first.communicate(timeout=60) and first.returncode == 0
    with psycopg.connect(**pg) as conn:
        conn.execute(f"alter table marts.{table} add constraint no_n3 check (message_id <> 'n3')")
    new = tmp_path / "new.parquet"
    pq.write_table(_rows(["n1", "n2", "n3"], "2023-11-08"), new)
    refused = _worker(pg, new, table)
    _, err = refused.communicate(timeout=60)
    assert refused.returncode == 1
    assert "the load failed and was rolled back, the previous rows are intact" in err
    assert "no_n3" in err  # the cause, named
    assert _content(pg, table) == OLD
    with psycopg.connect(**pg) as conn:
        conn.execute(f"alter table marts.{table} drop constraint no_n3")
    rerun = _worker(pg, new, table)
    out, err = rerun.communicate(timeout=60)
    assert rerun.returncode == 0, err
    assert json.loads(out) == {"rows": 3, "reconciled": True}
    assert _content(pg, table) == NEW
