"""The project's local PostgreSQL 15 server: the stand-in for Redshift that the loader writes to.

One server per checkout, managed with `seglog pg start|stop|status` (or `make pg-start` …):

- data under ``data/pg`` (git-ignored; ``SEGLOG_PG_DIR`` overrides): ``pgdata/`` (the cluster),
  ``socket/`` (the unix socket) and ``server.log``;
- listens on 127.0.0.1 only, port 54329 (``PGPORT`` overrides), superuser ``postgres``,
  database ``analytics``: what the ``pg_local`` target of profiles.example.yml expects;
- password auth (scram-sha-256) on the port and the socket alike: the password is generated at
  the first start and kept in ``password`` beside ``pgdata/`` (mode 0600); conninfo() and
  ensure_running() hand it to every client of the project (export it as PGPASSWORD for psql or
  dbt's pg_local target). A cluster made before (trust auth) is moved to a password at its next
  start;
- ``initdb``/``pg_ctl`` refuse to run as root: as root they run as the ``postgres`` user
  (``runuser -u postgres --``), in directories owned by that user. When ``postgres`` cannot
  reach the data folder (a clone under a folder only root can enter), the server lives in
  ``/tmp/seglog-pg-<hash of the folder>`` instead, and the log says so.

For other code: ``ensure_running()`` (start when needed, return the connection parameters),
``conninfo()`` and ``status()``.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import logging
import os
import pwd
import re
import secrets
import shlex
import shutil
import socket
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

import psycopg
import typer
from psycopg import sql
from rich.console import Console
from rich.markup import escape

from .project import DATA_DIR
from .terminal import fail

log = logging.getLogger("seglog.pg")

HOST = "127.0.0.1"
DEFAULT_PORT = 54329
SUPERUSER = "postgres"  # the database superuser initdb creates
DBNAME = "analytics"
SERVER_USER = "postgres"  # the OS user initdb/pg_ctl run as when we are root
FALLBACK_ROOT = Path("/tmp")
TIMEOUT_S = 60
MAX_SOCKET_PATH = 107  # bytes of a unix socket path (sun_path is 108 with the NUL)


class PgError(RuntimeError):
    """Something the user has to fix; the message says what to do."""


@dataclass(frozen=True)
class Layout:
    """Where this checkout's server lives, and how its commands are run."""

    requested: Path  # data/pg or $SEGLOG_PG_DIR
    base: Path  # requested, or the /tmp fallback
    socket_dir: Path
    port: int  # the port asked for (PGPORT); a running server reports its own
    as_root: bool

    @property
    def pgdata(self) -> Path:
        return self.base / "pgdata"

    @property
    def log_file(self) -> Path:
        return self.base / "server.log"

    @property
    def password_file(self) -> Path:
        return self.base / "password"

    @property
    def hba_file(self) -> Path:
        return self.pgdata / "pg_hba.conf"

    @property
    def fallback(self) -> bool:
        return self.base != self.requested

    @property
    def initialised(self) -> bool:
        return (self.pgdata / "PG_VERSION").exists()


# ---------------------------------------------------------------- settings and layout


def configured_port() -> int:
    raw = os.environ.get("PGPORT") or str(DEFAULT_PORT)
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise PgError(f"PGPORT={raw!r} is not a port number (1-65535); unset it to use {DEFAULT_PORT}")
    return int(raw)


def requested_dir() -> Path:
    return Path(os.environ.get("SEGLOG_PG_DIR") or DATA_DIR / "pg").expanduser().resolve()


def _short_hash(path: Path) -> str:
    return hashlib.sha1(str(path).encode()).hexdigest()[:10]


def _is_root() -> bool:
    return os.geteuid() == 0


def _server_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(SERVER_USER)
    except KeyError:
        raise PgError(f"running as root, and PostgreSQL refuses to run as root, but there is no "
                      f"`{SERVER_USER}` user to run it as: install the apt package postgresql "
                      "(`apt-get install -y postgresql` creates the user), or run as a normal user") from None


def _reachable_by_server_user(path: Path) -> bool:
    """Whether `postgres` can enter `path`, or (when missing) its nearest existing parent."""
    probe = path
    while not probe.exists():
        probe = probe.parent
    cmd = ["runuser", "-u", SERVER_USER, "--", "test", "-x", str(probe)]
    return subprocess.run(cmd, capture_output=True, cwd="/").returncode == 0


def _socket_dir(base: Path, port: int) -> Path:
    preferred = base / "socket"
    if len(f"{preferred}/.s.PGSQL.{port}".encode()) <= MAX_SOCKET_PATH:
        return preferred
    return FALLBACK_ROOT / f"seglog-pg-{_short_hash(base)}-socket"


def layout() -> Layout:
    """Resolve the folders (creates nothing; as root, checks what `postgres` can reach)."""
    requested, port, as_root = requested_dir(), configured_port(), _is_root()
    base = requested
    if as_root:
        _server_user()
        if not _reachable_by_server_user(requested):
            base = FALLBACK_ROOT / f"seglog-pg-{_short_hash(requested)}"
    return Layout(requested, base, _socket_dir(base, port), port, as_root)


@lru_cache(maxsize=1)
def bindir() -> Path:
    """The folder with initdb, pg_ctl and postgres: the one of `pg_ctl` on PATH, else Debian's newest."""
    candidates = []
    if found := shutil.which("pg_ctl"):
        candidates.append(Path(found).resolve().parent)
    versions = Path("/usr/lib/postgresql").glob("*/bin")
    candidates += sorted(versions, key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0, reverse=True)
    for folder in candidates:
        if all((folder / exe).is_file() for exe in ("initdb", "pg_ctl", "postgres")):
            return folder
    raise PgError("PostgreSQL server binaries (initdb, pg_ctl, postgres) not found on PATH or in "
                  "/usr/lib/postgresql/*/bin: install the apt package postgresql "
                  "(`sudo apt-get install -y postgresql`; PostgreSQL 15 on Debian 12)")


# ---------------------------------------------------------------- running commands


def _run(lay: Layout, args: list[str]) -> subprocess.CompletedProcess[str]:
    """Run a PostgreSQL command, as `postgres` when we are root."""
    cmd = ["runuser", "-u", SERVER_USER, "--", *args] if lay.as_root else args
    log.debug("running %s", shlex.join(cmd))
    return subprocess.run(cmd, capture_output=True, text=True, cwd="/")


def _pg_ctl(lay: Layout, *args: str) -> subprocess.CompletedProcess[str]:
    return _run(lay, [str(bindir() / "pg_ctl"), *args, "-D", str(lay.pgdata)])


@contextmanager
def _lock(lay: Layout) -> Iterator[None]:
    """Serialise start/stop of one data dir (flock on the folder that holds it)."""
    lay.requested.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lay.requested.parent, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _make_dir(path: Path, lay: Layout) -> None:
    """Create `path` (mode 700) owned by the user the server runs as; refuse a stranger's /tmp folder."""
    owner = _server_user() if lay.as_root else pwd.getpwuid(os.geteuid())
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        uid = path.stat().st_uid
        if path.is_relative_to(FALLBACK_ROOT) and uid not in (owner.pw_uid, 0):
            raise PgError(f"{path} exists but belongs to uid {uid}, not {owner.pw_name}: remove it "
                          "or set SEGLOG_PG_DIR to a folder of your own") from None
    if lay.as_root and path.stat().st_uid != owner.pw_uid:
        os.chown(path, owner.pw_uid, owner.pw_gid)


def _prepare(lay: Layout) -> None:
    if lay.fallback:
        log.warning("the `%s` user cannot reach %s (a parent folder only root can enter): the server "
                    "lives in %s instead", SERVER_USER, lay.requested, lay.base)
    _make_dir(lay.base, lay)
    _make_dir(lay.socket_dir, lay)


# ---------------------------------------------------------------- state


def _pidfile(lay: Layout) -> dict[str, Any]:
    """postmaster.pid: pid, data dir, start time, port, socket dir, listen address, shm key, state."""
    try:
        lines = (lay.pgdata / "postmaster.pid").read_text().splitlines()
        return {"pid": int(lines[0]), "port": int(lines[3]), "listen": lines[5].strip()}
    except (OSError, IndexError, ValueError):
        return {}


def _is_running(lay: Layout) -> bool:
    if not lay.initialised:
        return False
    res = _pg_ctl(lay, "status")
    if res.returncode in (0, 3, 4):  # running / not running / no data dir
        return res.returncode == 0
    raise PgError(f"`pg_ctl status` failed (exit {res.returncode}): {res.stderr.strip() or res.stdout.strip()}")


def _password(lay: Layout) -> str | None:
    """The superuser's password (None before the first start made one)."""
    try:
        return lay.password_file.read_text().strip() or None
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise PgError(f"cannot read the local PostgreSQL's password file {lay.password_file} ({exc.strerror}): "
                      "run as the user who started the server, or give SEGLOG_PG_DIR a folder of your own") from None


def _refused_password(lay: Layout, exc: psycopg.OperationalError) -> PgError | None:
    """The error to show when the server refused our password (None for any other failure)."""
    text = str(exc)
    if "password authentication failed" not in text and "no password supplied" not in text:
        return None
    return PgError(f"the local PostgreSQL refused the password in {lay.password_file} (missing, or not the one "
                   f"its cluster {lay.pgdata} was made with). Its data is a stand-in for Redshift that `make run` "
                   f"loads again: stop it (`seglog pg stop`), remove {lay.base} and start again")


def _new_password(lay: Layout) -> str:
    """A fresh password in lay.password_file, readable by its owner only (the server's user when we
    are root: initdb, run as that user, reads it with --pwfile). Replaces an older file."""
    password = secrets.token_urlsafe(24)
    tmp = lay.password_file.with_name("password.new")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(password + "\n")
    if lay.as_root:
        owner = _server_user()
        os.chown(tmp, owner.pw_uid, owner.pw_gid)
    os.replace(tmp, lay.password_file)
    return password


def _connect(port: int, password: str | None, dbname: str = "postgres", timeout_s: int = 3) -> psycopg.Connection[Any]:
    return psycopg.connect(host=HOST, port=port, user=SUPERUSER, dbname=dbname, connect_timeout=timeout_s,
                           autocommit=True, password=password or "")


def _trusting(lay: Layout) -> bool:
    """Whether pg_hba.conf still lets anyone in without a password (a cluster made before)."""
    try:
        lines = lay.hba_file.read_text().splitlines()
    except OSError:
        return False
    return any(line.split()[-1:] == ["trust"] for line in lines if line.strip() and not line.lstrip().startswith("#"))


def _require_password(lay: Layout, port: int) -> None:
    """Move a cluster made with trust auth to scram-sha-256 with a generated password: set the
    password (while trust still lets us in), then switch pg_hba.conf and reload. Safe to repeat:
    a start after a stop halfway does the rest."""
    if not _trusting(lay):
        return
    password = _password(lay) or _new_password(lay)
    with _connect(port, None) as conn:  # trust: no password asked
        # the SCRAM verifier, made here, not the password: a statement log never holds it
        verifier = conn.pgconn.encrypt_password(password.encode(), SUPERUSER.encode(), b"scram-sha-256").decode()
        conn.execute(sql.SQL("alter role {} password {}").format(sql.Identifier(SUPERUSER), sql.Literal(verifier)))
    lines = lay.hba_file.read_text().splitlines(keepends=True)
    lay.hba_file.write_text("".join(
        re.sub(r"\btrust(\s*)$", r"scram-sha-256\1", line) if line.strip() and not line.lstrip().startswith("#")
        else line for line in lines))
    with _connect(port, password) as conn:  # trust still holds until the reload
        conn.execute("select pg_reload_conf()")
    log.info("password auth (scram-sha-256) on: the password is in %s", lay.password_file)


def _accepts(lay: Layout, port: int) -> bool:
    """Whether the server takes a connection; PgError when it answers but refuses our password."""
    try:
        with _connect(port, _password(lay), timeout_s=2) as conn:
            conn.execute("select 1")
        return True
    except psycopg.OperationalError as exc:
        refused = _refused_password(lay, exc)
        if refused:
            raise refused from None
        return False


def _status(lay: Layout) -> dict[str, Any]:
    running = _is_running(lay)
    pid = _pidfile(lay) if running else {}
    port = pid.get("port", lay.port)
    return {"running": running, "accepting": running and _accepts(lay, port), "host": HOST, "port": port,
            "pid": pid.get("pid"), "listen": pid.get("listen"), "initialised": lay.initialised,
            "data_dir": str(lay.pgdata), "socket_dir": str(lay.socket_dir), "log_file": str(lay.log_file),
            "fallback": lay.fallback, "requested_dir": str(lay.requested), "user": SUPERUSER, "dbname": DBNAME}


def status() -> dict[str, Any]:
    """Whether the server runs, where, on which port; changes nothing."""
    return _status(layout())


def conninfo() -> dict[str, Any]:
    """host, port, user, password, dbname for psycopg.connect(**conninfo()) (the running server's
    port if up; password None before the first start)."""
    lay = layout()
    port = _pidfile(lay).get("port", lay.port) if _is_running(lay) else lay.port
    return {"host": HOST, "port": port, "user": SUPERUSER, "password": _password(lay), "dbname": DBNAME}


# ---------------------------------------------------------------- start / stop


def _check_port_free(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as postgres does
        try:
            sock.bind((HOST, port))
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            raise PgError(_port_busy(port)) from None


def _port_busy(port: int) -> str:
    return (f"port {port} on {HOST} is already in use by another program (`ss -ltnp 'sport = :{port}'` shows "
            f"which). Choose another port with PGPORT, e.g. `PGPORT={port + 1} make pg-start`, and export the "
            "same PGPORT for dbt's pg_local target and the loader")


def _initdb(lay: Layout) -> None:
    log.info("initdb: a new cluster in %s (superuser %s, scram-sha-256 with the password in %s, UTF8, C.UTF-8)",
             lay.pgdata, SUPERUSER, lay.password_file)
    _new_password(lay)
    res = _run(lay, [str(bindir() / "initdb"), "-D", str(lay.pgdata), "-A", "scram-sha-256",
                     f"--pwfile={lay.password_file}", "-U", SUPERUSER, "-E", "UTF8", "--locale=C.UTF-8"])
    if res.returncode:
        raise PgError(f"initdb failed (exit {res.returncode}):\n{res.stderr.strip()}\n"
                      f"If {lay.pgdata} is left half-made, remove it and start again")


def _log_tail(lay: Layout, lines: int = 15) -> str:
    try:
        return "\n".join(lay.log_file.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no server log)"


def _start_server(lay: Layout) -> None:
    options = f"-p {lay.port} -k {shlex.quote(str(lay.socket_dir))} -c listen_addresses={HOST}"
    res = _pg_ctl(lay, "start", "-w", "-t", str(TIMEOUT_S), "-l", str(lay.log_file), "-o", options)
    if res.returncode == 0:
        return
    tail = _log_tail(lay)
    if "could not bind" in tail or "Address already in use" in tail:
        raise PgError(_port_busy(lay.port))
    raise PgError(f"PostgreSQL did not start (pg_ctl exit {res.returncode}: {res.stderr.strip()}). "
                  f"Last lines of {lay.log_file}:\n{tail}")


def _wait_listening(port: int) -> None:
    """Until the server answers on the port at all (a refused password is an answer)."""
    deadline = time.monotonic() + TIMEOUT_S
    while True:
        try:
            with socket.create_connection((HOST, port), timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise PgError(f"PostgreSQL started but does not listen on {HOST}:{port} after {TIMEOUT_S} s") from None
            time.sleep(0.2)


def _wait_accepting(lay: Layout, port: int) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while not _accepts(lay, port):
        if time.monotonic() > deadline:
            raise PgError(f"PostgreSQL started but accepts no connection on {HOST}:{port} after {TIMEOUT_S} s")
        time.sleep(0.2)


def _ensure_database(lay: Layout, port: int) -> None:
    try:
        with _connect(port, _password(lay)) as conn:
            if conn.execute("select 1 from pg_database where datname = %s", (DBNAME,)).fetchone():
                return
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(DBNAME)))
    except psycopg.OperationalError as exc:
        raise _refused_password(lay, exc) or PgError(f"cannot connect to the local PostgreSQL on {HOST}:{port} "
                                                     f"({exc}); see {lay.log_file}") from None
    log.info("created database %s", DBNAME)


def _already_running(lay: Layout) -> dict[str, Any]:
    _require_password(lay, _pidfile(lay).get("port", lay.port))
    current = _status(lay)
    log.info("PostgreSQL already running on %s:%s (pid %s): nothing to do", HOST, current["port"], current["pid"])
    if current["port"] != lay.port:
        log.warning("it runs on port %s, not PGPORT=%s: stop it first to change the port", current["port"], lay.port)
    _ensure_database(lay, current["port"])
    return current


def _cold_start(lay: Layout) -> dict[str, Any]:
    t0 = time.perf_counter()
    _check_port_free(lay.port)
    _prepare(lay)
    if not lay.initialised:
        _initdb(lay)
    _start_server(lay)
    _wait_listening(lay.port)
    _require_password(lay, lay.port)
    _wait_accepting(lay, lay.port)
    _ensure_database(lay, lay.port)
    log.info("PostgreSQL ready on %s:%s in %.1f s (data %s, log %s)", HOST, lay.port, time.perf_counter() - t0,
             lay.pgdata, lay.log_file)
    return _status(lay)


def start() -> dict[str, Any]:
    """Start the server unless it runs (initdb and the database on first use); return status()."""
    lay = layout()
    with _lock(lay):
        return _already_running(lay) if _is_running(lay) else _cold_start(lay)


def stop() -> bool:
    """Stop the server (fast shutdown); False when it was not running."""
    lay = layout()
    with _lock(lay):
        if not _is_running(lay):
            log.info("PostgreSQL is not running (data %s): nothing to stop", lay.pgdata)
            return False
        res = _pg_ctl(lay, "stop", "-m", "fast", "-w", "-t", str(TIMEOUT_S))
        if res.returncode:
            raise PgError(f"pg_ctl stop failed (exit {res.returncode}): {res.stderr.strip()}; see {lay.log_file}")
        log.info("PostgreSQL stopped (data %s)", lay.pgdata)
        return True


def ensure_running() -> dict[str, Any]:
    """Start the server when needed; return host, port, user, password, dbname (for psycopg.connect(**…))."""
    info = start()
    return {"host": info["host"], "port": info["port"], "user": info["user"], "password": _password(layout()),
            "dbname": info["dbname"]}


# ---------------------------------------------------------------- CLI: seglog pg …

pg_app = typer.Typer(add_completion=False, no_args_is_help=True,
                     help="The local PostgreSQL 15 standing in for Redshift (data/pg, 127.0.0.1:54329).")


@contextmanager
def _cli_errors() -> Iterator[None]:
    try:
        yield
    except PgError as exc:
        fail(exc, code=1)


def _dsn(info: dict[str, Any]) -> str:
    return f"postgresql://{info['user']}@{info['host']}:{info['port']}/{info['dbname']}"


@pg_app.command("start")
def cli_start() -> None:
    """Start the server (initdb and the analytics database on first use); a no-op when it runs."""
    with _cli_errors():
        info = start()
    Console().print(_dsn(info))


@pg_app.command("stop")
def cli_stop() -> None:
    """Stop the server (fast shutdown); a no-op when it is stopped."""
    with _cli_errors():
        stop()


@pg_app.command("status")
def cli_status() -> None:
    """Say whether the server runs, on which port, and where its data and log are (exit 0 either way)."""
    with _cli_errors():
        info = status()
    console = Console(soft_wrap=True)
    if info["running"]:
        ready = "accepting connections" if info["accepting"] else "[red]not accepting connections[/]"
        console.print(f"[green]running[/] (pid {info['pid']}), {ready}: {_dsn(info)}")
    else:
        console.print("stopped" + ("" if info["initialised"] else " (no cluster yet: `seglog pg start` creates it)"))
    console.print(escape(f"data {info['data_dir']}\nlog  {info['log_file']}\nsocket dir {info['socket_dir']}"))
    if info["fallback"]:
        console.print(escape(f"(in /tmp: the `{SERVER_USER}` user cannot reach {info['requested_dir']})"))
