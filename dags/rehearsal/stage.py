"""Everything the rehearsal of segment_daily needs, started on loopback ports and torn down after:

- moto's standalone server (S3, EMR Serverless) with the raw bucket holding the sample logs of
  the date's folders, the EMR root bucket holding the job's bundle as ``seglog emr bundle``
  uploads it (the real env archive of ``make emr-env``), and the EMR application created by
  ``seglog emr app`` and then stopped, as the daily run finds it after 15 idle minutes;
- three identities with keys of their own, as in production: the deployer (sets all this up),
  the Airflow worker's role (only in the ``aws_default`` connection: the process environment
  holds no AWS_* variable) and the job's execution role (the EMR stand-in runs the job with it).
  moto records every request once the stage is set, so the tests can check each call against
  that role's policy in docs/iam/ (permissions.py);
- the Slack recorder (slack_recorder.py) behind the ``slack_default`` connection;
- an Airflow home in a temp dir (SQLite metastore, ``airflow db migrate``), the ``segment_daily``
  Variable and the connections given as AIRFLOW_VAR_/AIRFLOW_CONN_ environment variables;
- the loader's target: the project's local PostgreSQL (``seglog pg``), or another data dir/port
  when SEGLOG_PG_DIR/PGPORT are set (the tests' scratch server).

The environment is set before Airflow is imported (Airflow reads its configuration once).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from .slack_recorder import SlackRecorder

PROJECT = Path(__file__).resolve().parents[2]
# The project's KST calendar is standard library only, so Airflow's venv can import it from the
# source tree (seglog's other modules need the dbt venv and are never imported here).
sys.path.insert(0, str(PROJECT / "scripts"))
from seglog.kst_calendar import folder_name  # noqa: E402

DBT_VENV = PROJECT / ".venv" / "bin"
SAMPLE = PROJECT / "data" / "sample" / "segment-logs"
RAW_BUCKET, EMR_BUCKET = "segment-raw", "segment-emr"
RAW_ROOT, EMR_ROOT = f"s3://{RAW_BUCKET}/segment-logs", f"s3://{EMR_BUCKET}/segment-spark"
ACCOUNT = "123456789012"  # moto's default account
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/segment-emr-job"
REGION = "ap-northeast-2"
DATABASE_PREFIX = "segment_"
ENV_ARCHIVE = PROJECT / "target" / "emr" / "seglog-env.tar.gz"
# Access key id -> who holds it. The secrets are the rehearsal's own, never a real account's.
KEYS = {"deployer": "AKIAREHEARSALDEPLOY1", "airflow": "AKIAREHEARSALAIRFLOW", "emr-job": "AKIAREHEARSALEMRJOB1"}  # pragma: allowlist secret
SECRET = "rehearsal-secret"  # pragma: allowlist secret


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Stage:
    def __init__(self, spark_dir: Path | None = None, sensor_timeout_s: int = 20, poke_s: int = 2):
        self.home = Path(tempfile.mkdtemp(prefix="segment-daily-"))
        self.spark_dir = spark_dir or PROJECT / "data" / "rehearsal" / "spark"
        self.sensor_timeout_s, self.poke_s = sensor_timeout_s, poke_s
        self.slack = SlackRecorder()
        self.moto: subprocess.Popen[bytes] | None = None
        self.application_id = ""

    # -- lifecycle ---------------------------------------------------------------------------------
    def __enter__(self) -> "Stage":
        port = free_port()
        self.moto_url = f"http://127.0.0.1:{port}"
        moto_bin = Path(sys.executable).with_name("moto_server")
        self.recording = self.home / "moto-recording.jsonl"
        self.moto = subprocess.Popen([str(moto_bin), "-H", "127.0.0.1", "-p", str(port)],
                                     env={**os.environ, "MOTO_RECORDER_FILEPATH": str(self.recording)},
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            self._wait_for(port)
            self.slack.__enter__()
            self._environment()
            self._airflow_db()
            self._aws()
            self.record(True)
        except BaseException:  # a stage that fails to set up stops what it started (`with` would not)
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        self.slack.__exit__(*exc)
        if self.moto:
            self.moto.terminate()
            self.moto.wait(timeout=10)
        shutil.rmtree(self.home, ignore_errors=True)

    @staticmethod
    def _wait_for(port: int, timeout_s: float = 30) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"moto_server did not listen on {port} within {timeout_s:.0f} s")

    # -- configuration -----------------------------------------------------------------------------
    def settings(self) -> dict[str, Any]:
        return {"raw_root": RAW_ROOT, "emr_root": EMR_ROOT, "emr_application_id": self.application_id,
                "emr_role_arn": ROLE_ARN, "glue_database_prefix": DATABASE_PREFIX, "load_target": "pg_local",
                "seglog": str(DBT_VENV / "seglog"), "warehouse": str(self.spark_dir / "warehouse")}

    def aws_env(self, who: str) -> dict[str, str]:
        """The environment of a process acting as ``who`` (deployer, airflow, emr-job) against moto."""
        return {"AWS_ACCESS_KEY_ID": KEYS[who], "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_REGION": REGION,
                "AWS_DEFAULT_REGION": REGION, "AWS_ENDPOINT_URL": self.moto_url}

    def client(self, service: str, who: str = "deployer") -> Any:
        import boto3

        return boto3.client(service, aws_access_key_id=KEYS[who], aws_secret_access_key=SECRET, region_name=REGION,
                            endpoint_url=self.moto_url)

    def _environment(self) -> None:
        for name in [n for n in os.environ if n.startswith("AWS_")]:
            del os.environ[name]  # Airflow's AWS access is the connection's alone, as on a worker
        spark_home = subprocess.run([str(DBT_VENV / "python"), "-c", "import os, pyspark; "
                                     "print(os.path.dirname(pyspark.__file__))"],
                                    check=True, capture_output=True, text=True).stdout.strip()
        env = {
            "AIRFLOW_HOME": str(self.home), "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.home}/airflow.db",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": os.environ.get("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING"),
            "AIRFLOW_CONN_SLACK_DEFAULT": json.dumps({"conn_type": "slackwebhook", "password": self.slack.url}),
            "AIRFLOW_CONN_AWS_DEFAULT": json.dumps({
                "conn_type": "aws", "login": KEYS["airflow"], "password": SECRET,
                "extra": {"region_name": REGION, "endpoint_url": self.moto_url}}),
            "SEGMENT_DAILY_LOCAL_SPARK_HOME": spark_home, "SEGMENT_DAILY_LOCAL_EMR_DIR": str(self.home / "emr"),
            "SEGMENT_DAILY_LOCAL_JOB_ROLE": json.dumps({"access_key": KEYS["emr-job"], "secret_key": SECRET,
                                                        "region": REGION, "endpoint": self.moto_url}),
            "SEGMENT_DAILY_SENSOR_TIMEOUT_S": str(self.sensor_timeout_s), "SEGMENT_DAILY_POKE_S": str(self.poke_s),
            "SEGMENT_DAILY_RETRIES": "0",
            "SEGLOG_HOME": str(PROJECT), "SEGLOG_SPARK_DIR": str(self.spark_dir),
            # the job's dbt artifacts stay in the stage (the project's target/ is not touched; the
            # loader and reconcile read the manifest the job uploaded, as on the worker)
            "DBT_TARGET_PATH": str(self.home / "target"), "DBT_LOG_PATH": str(self.home / "logs"),
        }
        os.environ.update(env)

    def _airflow_db(self) -> None:
        subprocess.run([str(Path(sys.executable).with_name("airflow")), "db", "migrate"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def _aws(self) -> None:
        s3 = self.client("s3")
        for bucket in (RAW_BUCKET, EMR_BUCKET):
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        deployer = {**os.environ, **self.aws_env("deployer")}
        out = subprocess.run([str(DBT_VENV / "seglog"), "emr", "app"], check=True, capture_output=True, text=True,
                             env=deployer)
        found = re.search(r"id ([0-9a-z]{16})", out.stdout)
        if not found:
            raise RuntimeError(f"`seglog emr app` printed no application id: {out.stdout} {out.stderr}")
        self.application_id = found.group(1)
        # idle for 15 minutes, it stopped: the run must start it (moto keeps a new one STARTED)
        self.client("emr-serverless").stop_application(applicationId=self.application_id)
        if not ENV_ARCHIVE.is_file():
            raise RuntimeError(f"{ENV_ARCHIVE} is missing: `make emr-env` builds the job's env archive")
        subprocess.run([str(DBT_VENV / "seglog"), "emr", "bundle", "--root", EMR_ROOT, "--env-archive",
                        str(ENV_ARCHIVE)], check=True, capture_output=True, text=True, env=deployer)
        os.environ["AIRFLOW_VAR_SEGMENT_DAILY"] = json.dumps(self.settings())

    # -- what each role asked AWS --------------------------------------------------------------------
    def record(self, on: bool) -> None:
        """Start (or pause) moto's recording of every request it gets."""
        import urllib.request

        verb = "start-recording" if on else "stop-recording"
        urllib.request.urlopen(urllib.request.Request(f"{self.moto_url}/moto-api/recorder/{verb}", method="POST"))

    def policies(self) -> dict[str, Any]:
        """docs/iam/'s policy of each recorded role, with the rehearsal's names filled in."""
        from .permissions import POLICIES, load_policy

        values = {"account": ACCOUNT, "region": REGION, "raw-bucket": RAW_BUCKET, "raw-prefix": "segment-logs",
                  "emr-bucket": EMR_BUCKET, "emr-prefix": "segment-spark", "load-bucket": "segment-load",
                  "load-prefix": "redshift-staging", "application-id": self.application_id, "workgroup-id": "wg",
                  "job-role": ROLE_ARN.rsplit("/", 1)[1], "database-prefix": DATABASE_PREFIX,
                  "loader-secret-name": "seglog/redshift/dbt_loader"}
        return {role: load_policy(role, values) for role in POLICIES}

    def calls(self) -> list[Any]:
        """Every AWS call recorded so far, as (role, IAM action, resource, condition context)."""
        from .permissions import calls_from_recording

        roles = {key: who for who, key in KEYS.items()}
        lines = self.recording.read_text().splitlines() if self.recording.exists() else []
        return calls_from_recording(lines, roles, REGION, ACCOUNT)

    def land(self, business_date: date) -> int:
        """Upload the sample files of the UTC folders the run for the date reads (D-2..D) to the
        raw bucket, as Segment's S3 destination would have written them. Returns the file count.
        (Segment's writes are not a role of ours: not recorded.)"""
        self.record(False)
        s3 = self.client("s3")
        n = 0
        for days_back in (2, 1, 0):
            folder = folder_name(business_date - timedelta(days=days_back))
            for path in sorted(SAMPLE.glob(f"*/{folder}/*")):
                key = f"segment-logs/{path.relative_to(SAMPLE).as_posix()}"
                s3.upload_file(str(path), RAW_BUCKET, key)
                n += 1
        self.record(True)
        return n

    # -- running -----------------------------------------------------------------------------------
    def dag(self):
        from airflow.models.dagbag import DagBag

        bag = DagBag(dag_folder=str(PROJECT / "dags"), include_examples=False)
        if bag.import_errors:
            raise RuntimeError(f"the DAG does not import: {bag.import_errors}")
        return bag.get_dag("segment_daily")

    def run(self, business_date: date, conf: dict[str, Any] | None = None, mark_success: str | None = None):
        """dag.test() of the run for the business date (logical date D 10:30 KST, as scheduled)."""
        import pendulum

        logical = pendulum.datetime(business_date.year, business_date.month, business_date.day, 10, 30,
                                    tz="Asia/Seoul")
        return self.dag().test(logical_date=logical, run_conf=conf or {}, mark_success_pattern=mark_success)

    def job_runs(self) -> list[dict[str, Any]]:
        emr = self.client("emr-serverless")
        emr.get_application(applicationId=self.application_id)  # the application itself must exist
        try:
            runs = emr.list_job_runs(applicationId=self.application_id)["jobRuns"]
        except emr.exceptions.ResourceNotFoundException:  # moto says so for an application without runs
            return []
        return [emr.get_job_run(applicationId=self.application_id, jobRunId=r["id"])["jobRun"] for r in runs]


def warehouse_sql(sql: str) -> list[list[Any]]:
    """Run SQL on the loader's PostgreSQL (the tests check what was loaded). Through the project's
    venv, which has psycopg and knows the server's port (the Airflow venv has neither)."""
    script = ("import json, sys, psycopg; from seglog.pg_local import conninfo\n"
              "with psycopg.connect(**conninfo()) as c:\n"
              "    cur = c.execute(sys.argv[1])\n"
              "    print(json.dumps(cur.fetchall() if cur.description else [], default=str))\n")
    out = subprocess.run([str(DBT_VENV / "python"), "-c", script, sql], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)
