"""The local PostgreSQL (scripts/seglog/pg_local.py) against a real server: start, connect, stop.

Each test gets its own data dir (SEGLOG_PG_DIR) and a free port (PGPORT), never data/pg. The
temp dirs are made under /tmp with mode 755 so that, as root, the `postgres` user can reach
them (pytest's own tmp_path sits in a root-only folder: that is the fallback test's case).
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Iterator

import psycopg
import pytest
from typer.testing import CliRunner

import seglog
from conftest import free_port
from seglog import pg_local
from seglog.cli import app

# No skip on a machine without PostgreSQL: the tests fail there with pg_local's message
# (install the server binaries: apt-get install postgresql).

IS_ROOT = os.geteuid() == 0


@pytest.fixture
def scratch(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder `postgres` can enter; SEGLOG_PG_DIR=<it>/pg and a free PGPORT; the server stopped after."""
    root = Path(tempfile.mkdtemp(prefix="seglog-pg-test-"))
    root.chmod(0o755)
    monkeypatch.setenv("SEGLOG_PG_DIR", str(root / "pg"))
    monkeypatch.setenv("PGPORT", str(free_port()))
    yield root
    lay = pg_local.layout()
    pg_local.stop()
    shutil.rmtree(root, ignore_errors=True)
    if lay.fallback:
        shutil.rmtree(lay.base, ignore_errors=True)


def _select_one(info: dict) -> int:
    with psycopg.connect(**info, connect_timeout=5) as conn:
        return conn.execute("select 1").fetchone()[0]


def test_status_before_first_start_creates_nothing(scratch: Path) -> None:
    info = pg_local.status()
    assert not info["running"] and not info["initialised"]
    assert not (scratch / "pg").exists()
    assert pg_local.conninfo() == {"host": "127.0.0.1", "port": int(os.environ["PGPORT"]), "user": "postgres",
                                   "password": None, "dbname": "analytics"}  # no password before the first start


def test_start_connect_stop_start(scratch: Path, caplog: pytest.LogCaptureFixture,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    caplog.set_level(logging.INFO, logger="seglog.pg")
    port = int(os.environ["PGPORT"])
    info = pg_local.ensure_running()
    password = (scratch / "pg" / "password").read_text().strip()
    assert info == {"host": "127.0.0.1", "port": port, "user": "postgres", "password": password, "dbname": "analytics"}
    assert pg_local.conninfo() == info
    assert _select_one(info) == 1

    caplog.clear()
    assert pg_local.ensure_running() == info  # idempotent
    assert "already running" in caplog.text

    with psycopg.connect(**info) as conn:
        assert conn.execute("select current_database(), current_setting('listen_addresses'), "
                            "pg_encoding_to_char(encoding) from pg_database where datname = 'analytics'"
                            ).fetchone() == ("analytics", "127.0.0.1", "UTF8")
        assert conn.execute("show unix_socket_directories").fetchone()[0] == str(scratch / "pg" / "socket")

    state = pg_local.status()
    assert state["running"] and state["accepting"] and state["port"] == port and state["pid"]
    assert state["data_dir"] == str(scratch / "pg" / "pgdata") and not state["fallback"]
    assert (scratch / "pg" / "server.log").is_file()

    monkeypatch.setenv("PGPORT", str(free_port()))  # a running server keeps its port, and says so
    assert pg_local.ensure_running() == info and pg_local.conninfo() == info
    assert f"not PGPORT={os.environ['PGPORT']}" in caplog.text
    monkeypatch.setenv("PGPORT", str(port))

    assert pg_local.stop() is True
    state = pg_local.status()
    assert not state["running"] and state["initialised"]
    assert pg_local.stop() is False  # idempotent

    assert pg_local.ensure_running() == info  # again, on the existing cluster
    assert _select_one(info) == 1


def _refused_without_password(port: int) -> str:
    """The error a client gets on the port with no password (and none in the environment)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PGPASSWORD", "PGPASSFILE")}
    probe = ("import psycopg, sys\n"
             "try:\n"
             f"    psycopg.connect(host='127.0.0.1', port={port}, user='postgres', dbname='analytics', password='',"
             " connect_timeout=5, passfile='/nonexistent')\n"
             "except psycopg.OperationalError as exc:\n"
             "    print(exc)\n"
             "    sys.exit(0)\n"
             "sys.exit('connected without a password')\n")
    res = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr
    return res.stdout


def test_the_port_answers_nobody_without_the_generated_password(scratch: Path) -> None:
    """Any local user could connect as the superuser under trust auth: now the server asks for a
    password (scram-sha-256), generated at the first start and kept readable by its owner only."""
    info = pg_local.ensure_running()
    password_file = scratch / "pg" / "password"
    assert password_file.stat().st_mode & 0o777 == 0o600
    assert len(info["password"]) >= 24 and info["password"] == password_file.read_text().strip()
    assert "no password supplied" in _refused_without_password(info["port"])
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(**dict(info, password="wrong-" + info["password"]), connect_timeout=5)  # pragma: allowlist secret
    with psycopg.connect(**info) as conn:
        assert conn.execute("select rolpassword like 'SCRAM-SHA-256$%' from pg_authid "
                            "where rolname = 'postgres'").fetchone()[0]
    hba = [line.split() for line in (scratch / "pg" / "pgdata" / "pg_hba.conf").read_text().splitlines()
           if line.strip() and not line.startswith("#")]
    assert hba and all(fields[-1] == "scram-sha-256" for fields in hba), hba

    # a password file that is not the cluster's: a message that names the file and the way out
    password_file.write_text("not-the-cluster-password\n")
    with pytest.raises(pg_local.PgError, match=r"refused the password in .*password.*seglog pg stop"):
        pg_local.ensure_running()
    password_file.write_text(info["password"] + "\n")
    assert _select_one(pg_local.ensure_running()) == 1


def test_a_cluster_made_with_trust_auth_gets_a_password_at_its_next_start(scratch: Path) -> None:
    """A checkout's data/pg made before password auth: its next start sets a password and switches
    pg_hba.conf, keeping the data; a second start changes nothing."""
    info = pg_local.ensure_running()
    with psycopg.connect(**info) as conn:
        conn.execute("create table kept (x int)")
        conn.execute("insert into kept values (7)")
    pg_local.stop()
    hba = scratch / "pg" / "pgdata" / "pg_hba.conf"
    hba.write_text(hba.read_text().replace("scram-sha-256", "trust"))  # as initdb -A trust wrote it
    (scratch / "pg" / "password").unlink()

    again = pg_local.ensure_running()
    assert again["password"] and again["password"] != info["password"]
    assert "trust" not in " ".join(line for line in hba.read_text().splitlines() if not line.startswith("#"))
    assert "no password supplied" in _refused_without_password(again["port"])
    with psycopg.connect(**again) as conn:
        assert conn.execute("select x from kept").fetchone() == (7,)
    assert pg_local.ensure_running() == again


def test_cli_start_status_stop(scratch: Path) -> None:
    runner = CliRunner()
    port = os.environ["PGPORT"]
    for _ in range(2):  # the second start is a no-op
        result = runner.invoke(app, ["pg", "start"])
        assert result.exit_code == 0, result.output
        assert f"postgresql://postgres@127.0.0.1:{port}/analytics" in result.output
    result = runner.invoke(app, ["pg", "status"])
    assert result.exit_code == 0 and "running" in result.output and "accepting connections" in result.output
    for _ in range(2):
        assert runner.invoke(app, ["pg", "stop"]).exit_code == 0
    result = runner.invoke(app, ["pg", "status"])
    assert result.exit_code == 0 and result.output.startswith("stopped")


def test_busy_port_says_which_and_how_to_choose(scratch: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", int(os.environ["PGPORT"])))
        squatter.listen()
        with pytest.raises(pg_local.PgError, match=rf"port {os.environ['PGPORT']} .* in use.*PGPORT="):
            pg_local.start()
    assert not pg_local.status()["running"]


def test_unreachable_dir_falls_back_to_tmp(scratch: Path, monkeypatch: pytest.MonkeyPatch,
                                           caplog: pytest.LogCaptureFixture) -> None:
    """As root the server runs as `postgres`, who cannot enter a mode-700 folder of root's: it moves to
    /tmp. As a normal user the folder is the user's own, so the server stays where it was asked to."""
    locked = scratch / "root-only"
    locked.mkdir(mode=0o700)
    monkeypatch.setenv("SEGLOG_PG_DIR", str(locked / "pg"))
    lay = pg_local.layout()
    if not IS_ROOT:
        assert not lay.fallback and lay.pgdata == locked / "pg" / "pgdata"
        assert _select_one(pg_local.ensure_running()) == 1
        return
    assert lay.fallback and lay.base.parent == Path("/tmp") and lay.base.name.startswith("seglog-pg-")

    caplog.set_level(logging.INFO, logger="seglog.pg")
    info = pg_local.ensure_running()
    assert "cannot reach" in caplog.text and str(lay.base) in caplog.text
    assert _select_one(info) == 1
    assert lay.base.stat().st_uid == pg_local._server_user().pw_uid
    assert pg_local.status()["data_dir"] == str(lay.base / "pgdata")
    assert not (locked / "pg").exists()


def test_a_socket_path_too_long_moves_the_socket_to_tmp(scratch: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    deep = scratch / ("x" * 100) / "pg"
    monkeypatch.setenv("SEGLOG_PG_DIR", str(deep))
    lay = pg_local.layout()
    assert lay.pgdata == deep / "pgdata" and lay.socket_dir.parent == Path("/tmp")
    assert len(f"{lay.socket_dir}/.s.PGSQL.{lay.port}") <= pg_local.MAX_SOCKET_PATH


def _system_python() -> str | None:
    """A python the `postgres` user can run, of our version (the venv's may live under /root)."""
    exe = shutil.which(f"python{sys.version_info.major}.{sys.version_info.minor}", path="/usr/bin:/usr/local/bin")
    if not exe:
        return None
    probe = subprocess.run(["runuser", "-u", "postgres", "--", exe, "-c", "0"], capture_output=True)
    return exe if probe.returncode == 0 else None


def test_as_a_normal_user(scratch: Path) -> None:
    """The same CLI run by a non-root user (as root: the `postgres` user; otherwise: ourselves):
    initdb and pg_ctl run directly."""
    python = sys.executable
    as_user: list[str] = []
    if IS_ROOT:
        shutil.chown(scratch, "postgres")
        python = _system_python() or pytest.fail(
            f"as root this test runs the CLI as `postgres`, which needs /usr/bin/python{sys.version_info.major}."
            f"{sys.version_info.minor} (the venv's python may sit where `postgres` cannot read)")
        as_user = ["runuser", "-u", "postgres", "--"]
    site = Path(psycopg.__file__).parents[1]
    env = {"SEGLOG_PG_DIR": str(scratch / "pg"), "PGPORT": os.environ["PGPORT"],
           "PYTHONPATH": f"{Path(seglog.__file__).parents[1]}:{site}"}
    cmd = [*as_user, "env", *(f"{k}={v}" for k, v in env.items()), python,
           "-c", "import sys; from seglog.cli import app; sys.argv[0] = 'seglog'; app()", "pg"]
    try:
        for action in ("start", "start", "status"):
            result = subprocess.run([*cmd, action], capture_output=True, text=True, cwd="/")
            assert result.returncode == 0, result.stderr
        assert "accepting connections" in result.stdout
        assert _select_one(pg_local.conninfo()) == 1
    finally:
        subprocess.run([*cmd, "stop"], capture_output=True, cwd="/")
    owner = pg_local._server_user().pw_uid if IS_ROOT else os.geteuid()
    assert (scratch / "pg" / "pgdata").stat().st_uid == owner
