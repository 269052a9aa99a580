"""Shared fixtures. Spark-backed tests share one in-process Spark session (one JVM, one Derby
metastore) and one small generated data set, built once per pytest run."""

from __future__ import annotations

import gzip
import os
import shutil
import socket
import tempfile
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, Iterator

import pytest

from seglog import generator
from seglog.project import default_vars

# Small but with every fault present: rates higher than the sample's so each kind shows up.
PIPELINE_RATES = generator.FaultRates(duplicate=0.03, malformed=0.01, late=0.03)
PIPELINE_START, PIPELINE_END = date(2023, 11, 6), date(2023, 11, 10)


# Hand-written lines, one per reason, added to the web source's 2023-11-08 folder: (line, expected reason).
HANDMADE = [
    (b'{"messageId":"hm-type","timestamp":"not a time","receivedAt":"2023-11-08T01:00:00Z","type":"track"}',
     "invalid_timestamp"),
    (b'{"messageId":"hm-trunc","timestamp":"2023-11-08T01:00:00Z","properties":{"pa', "malformed_json"),
    (b'{"messageId":"hm-norecv","timestamp":"2023-11-08T01:00:00Z","type":"track"}', "missing_received_at"),
    (b'{"messageId":"","timestamp":"2023-11-08T01:00:00Z","receivedAt":"2023-11-08T01:00:01Z"}', "missing_message_id"),
    (b'{"messageId":"hm-nots","receivedAt":"2023-11-08T01:00:01Z","type":"track"}', "missing_timestamp"),
    (b'{"messageId":"hm-ids","timestamp":"2023-11-08T01:00:00Z","receivedAt":"2023-11-08T01:00:01Z",'
     b'"type":"track","anonymousId":["a-1","a-2"]}', "invalid_id"),
    # a field of another type costs that field only: staged, context_user_agent_data_mobile null
    (b'{"messageId":"hm-nested","timestamp":"2023-11-08T01:00:00Z","receivedAt":"2023-11-08T01:00:01Z",'
     b'"type":"track","anonymousId":"a-hm","context":{"userAgentData":{"mobile":"yes"}}}', None),
    (b"   ", "empty_line"),
    (b'"just a string"', "not_json"),
    (b'[{"messageId":"hm-array"}]', "json_array"),
    (b'{"messageId":"hm-bytes","timestamp":"2023-11-08T01:00:00Z","name":"\xff"}', "invalid_utf8"),
    (b'{"messageId":"hm-ok","timestamp":"2023-11-08T01:00:00Z","receivedAt":"2023-11-08T01:00:01Z","type":"page",'
     b'"anonymousId":"a-hm","properties":{"page":"Legacy"}}', None),
]


# Hand-written events for the session and late-data tests: (received-day folder, line).
#  - a-midnight: 23:50 KST on 11-07 and 00:10 KST on 11-08, 20 minutes apart: one session of
#    11-07 that the run for 11-07 sees half of (the 11-08 event is not its partition) and the
#    run for 11-08 (which owns 11-07 and 11-08) completes.
#  - hm-late: an event of 11-07 (KST) received a day late, in the 11-08 folder: the run for
#    11-07 does not read that folder; the run for 11-08 owns 11-07 and picks it up.
SESSION_LINES = [
    (date(2023, 11, 7), b'{"messageId":"hm-mid-1","anonymousId":"a-midnight","type":"page","name":"Home",'
                        b'"timestamp":"2023-11-07T14:50:00.000Z","receivedAt":"2023-11-07T14:50:01.000Z",'
                        b'"context":{"page":{"path":"/home"}},"properties":{"page":{"name":"Home"}}}'),
    (date(2023, 11, 7), b'{"messageId":"hm-mid-2","anonymousId":"a-midnight","type":"page","name":"Search",'
                        b'"timestamp":"2023-11-07T15:10:00.000Z","receivedAt":"2023-11-07T15:10:01.000Z",'
                        b'"context":{"page":{"path":"/search","search":"?q=%EC%9E%84%ED%94%8C%EB%9E%80%ED%8A%B8"}}}'),
    (date(2023, 11, 8), b'{"messageId":"hm-late","anonymousId":"a-late","type":"track","event":"Button Clicked",'
                        b'"timestamp":"2023-11-07T03:00:00.000Z","receivedAt":"2023-11-08T03:00:00.000Z",'
                        b'"properties":{"button":{"name":"late-button","position":"top"}}}'),
]


@pytest.fixture(scope="session")
def pipeline_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("raw") / "segment-logs"
    generator.generate(root, PIPELINE_START, PIPELINE_END, seed=7, events_per_day=3000, files_per_day=12,
                       rates=PIPELINE_RATES, source_ids=default_vars()["segment_sources"])
    folder = root / default_vars()["segment_sources"]["web"] / str(generator.received_day_ms(date(2023, 11, 8)))
    (folder / "1699405200000.events-archiver-1.handmade.tests.gz").write_bytes(
        gzip.compress(b"\n".join(line for line, _ in HANDMADE) + b"\n", mtime=0))
    # Not Segment's files, which the read must skip (the audit tie-outs count only the .gz files
    # directly in a folder): a plain-text file and a .gz one folder down, both holding an event.
    stray = (b'{"messageId":"stray","timestamp":"2023-11-08T01:00:00Z","receivedAt":"2023-11-08T01:00:01Z",'
             b'"type":"track","event":"Stray"}\n')
    (folder / "notes.txt").write_bytes(stray)
    (folder / "nested").mkdir()
    (folder / "nested" / "1699405200000.events-archiver-1.nested.tests.gz").write_bytes(gzip.compress(stray, mtime=0))
    for day in sorted({day for day, _ in SESSION_LINES}):
        folder = root / default_vars()["segment_sources"]["web"] / str(generator.received_day_ms(day))
        lines = [line for d, line in SESSION_LINES if d == day]
        (folder / f"{generator.received_day_ms(day) + 3_600_000}.events-archiver-1.sessions.tests.gz").write_bytes(
            gzip.compress(b"\n".join(lines) + b"\n", mtime=0))
    return root


@pytest.fixture(scope="session")
def spark_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh warehouse + metastore for this pytest run, set before Spark starts."""
    path = tmp_path_factory.mktemp("spark")
    os.environ["SEGLOG_SPARK_DIR"] = str(path)
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def scratch_postgres(root: Path) -> Iterator[dict[str, Any]]:
    """The project's PostgreSQL on ``root``/pg and a free port (never data/pg), running; stopped after."""
    from seglog import pg_local

    root.chmod(0o755)  # as root the server runs as `postgres`, who must enter it
    env = pytest.MonkeyPatch()
    env.setenv("SEGLOG_PG_DIR", str(root / "pg"))
    env.setenv("PGPORT", str(free_port()))
    try:
        yield pg_local.ensure_running()
    finally:
        pg_local.stop()
        env.undo()


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """moto's standalone server (the `moto_server` of the venv) on a free loopback port: S3 for the
    loader's staging and an S3 warehouse. Yields its endpoint URL."""
    import subprocess
    import sys
    import time
    import urllib.request

    port = free_port()
    exe = Path(sys.executable).with_name("moto_server")
    proc = subprocess.Popen([str(exe), "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=1)
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"moto_server did not start on {url}")
            time.sleep(0.2)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def aws_env(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Fake credentials and boto3's S3 endpoint set to moto (never a real account)."""
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_REGION": "ap-northeast-2", "AWS_DEFAULT_REGION": "ap-northeast-2",
                        "AWS_ENDPOINT_URL_S3": moto_server}.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    return moto_server


@pytest.fixture(scope="session")
def pg() -> Iterator[dict[str, Any]]:
    """One scratch PostgreSQL for the loader tests (each test uses tables of its own)."""
    root = Path(tempfile.mkdtemp(prefix="seglog-loader-test-"))
    with scratch_postgres(root) as info:
        yield info
    shutil.rmtree(root, ignore_errors=True)


STANDIN_SECRET = "seglog/redshift/dbt_loader"  # the name of the loader's secret in moto  # pragma: allowlist secret


@pytest.fixture(scope="session")
def redshift_standin(pg: dict[str, Any], moto_server: str) -> Iterator[Any]:
    """A database of the scratch PostgreSQL that behaves as Redshift (fakes/redshift_semantics.py),
    with the loader's database user ``dbt_loader`` and its secret in moto's Secrets Manager."""
    import boto3
    import psycopg

    from fakes.redshift_semantics import RedshiftOnPostgres

    creds = {"region_name": "ap-northeast-2", "aws_access_key_id": "testing", "aws_secret_access_key": "testing",
             "endpoint_url": moto_server}
    s3, secrets = boto3.client("s3", **creds), boto3.client("secretsmanager", **creds)
    warehouse = RedshiftOnPostgres(pg, s3=s3, secrets=secrets)
    with psycopg.connect(**pg, autocommit=True) as conn:
        if not conn.execute("select 1 from pg_roles where rolname = 'dbt_loader'").fetchone():
            conn.execute("create role dbt_loader login")
        conn.execute(f"grant create on database {warehouse.dbname} to dbt_loader")
    try:
        arn = secrets.describe_secret(SecretId=STANDIN_SECRET)["ARN"]
    except secrets.exceptions.ResourceNotFoundException:
        arn = secrets.create_secret(Name=STANDIN_SECRET, SecretString='{"username": "dbt_loader", '
                                    '"password": "unused-by-the-stand-in"}')["ARN"]  # pragma: allowlist secret
    warehouse.secret_arn = arn  # type: ignore[attr-defined]
    yield warehouse
    warehouse.drop()


@pytest.fixture
def redshift(redshift_standin: Any) -> Any:
    """The Redshift stand-in, emptied of the previous test's schemas and system rows."""
    with redshift_standin.connect() as conn:
        for (schema,) in conn.execute("select nspname from pg_namespace where nspname not like 'pg_%' and nspname "
                                      "not in ('information_schema', 'public', '_redshift')").fetchall():
            conn.execute(f'drop schema "{schema}" cascade')
        for (table,) in conn.execute("select tablename from pg_tables where schemaname = 'public' and "
                                     "tablename <> 'sys_load_error_detail'").fetchall():
            conn.execute(f'drop table public."{table}" cascade')
        conn.execute("delete from _redshift.column_attrs where relid not in (select oid from pg_class)")
        conn.execute("truncate sys_load_error_detail")
        conn.execute("grant create on schema public to public")  # Redshift's default, which a test may revoke
    return redshift_standin
