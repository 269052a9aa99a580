"""Everything the rehearsal of segment_daily needs, started on loopback ports and torn down after:

- moto's standalone server (S3, EMR Serverless) with the raw bucket holding the sample logs of
  the date's folders, the EMR root bucket, and the EMR application created by ``seglog emr app``
  (the application-as-code path, against moto);
- the Slack recorder (slack_recorder.py) behind the ``slack_default`` connection;
- an Airflow home in a temp dir (SQLite metastore, ``airflow db migrate``), the ``segment_daily``
  Variable and the connections given as AIRFLOW_VAR_/AIRFLOW_CONN_ environment variables;
- the loader's target: the project's local PostgreSQL (``seglog pg``), or another data dir/port
  when SEGLOG_PG_DIR/PGPORT are set (the tests' scratch server).

The environment is set before Airflow is imported (Airflow reads its configuration once).
"""

from __future__ import annotations

import calendar
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
DBT_VENV = PROJECT / ".venv" / "bin"
SAMPLE = PROJECT / "data" / "sample" / "segment-logs"
RAW_BUCKET, EMR_BUCKET = "segment-raw", "segment-emr"
RAW_ROOT, EMR_ROOT = f"s3://{RAW_BUCKET}/segment-logs", f"s3://{EMR_BUCKET}/segment-spark"
ROLE_ARN = "arn:aws:iam::123456789012:role/segment-emr-job"
REGION = "ap-northeast-2"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def utc_folder(day: date) -> str:
    return str(calendar.timegm(day.timetuple()) * 1000)


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
        self.moto = subprocess.Popen([str(moto_bin), "-H", "127.0.0.1", "-p", str(port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._wait_for(port)
        self.slack.__enter__()
        self._environment()
        self._airflow_db()
        self._aws()
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
                "emr_role_arn": ROLE_ARN, "load_target": "pg_local", "seglog": str(DBT_VENV / "seglog"),
                "warehouse": str(self.spark_dir / "warehouse")}

    def _environment(self) -> None:
        env = {
            "AWS_ACCESS_KEY_ID": "rehearsal", "AWS_SECRET_ACCESS_KEY": "rehearsal", "AWS_SESSION_TOKEN": "rehearsal",
            "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION, "AWS_ENDPOINT_URL": self.moto_url,
            "AIRFLOW_HOME": str(self.home), "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.home}/airflow.db",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": os.environ.get("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING"),
            "AIRFLOW_CONN_SLACK_DEFAULT": json.dumps({"conn_type": "slackwebhook", "password": self.slack.url}),
            "AIRFLOW_CONN_AWS_DEFAULT": json.dumps({"conn_type": "aws", "extra": {"region_name": REGION}}),
            "SEGMENT_DAILY_LOCAL_JOB_PYTHON": str(DBT_VENV / "python"),
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
        import boto3

        s3 = boto3.client("s3")
        for bucket in (RAW_BUCKET, EMR_BUCKET):
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        out = subprocess.run([str(DBT_VENV / "seglog"), "emr", "app"], check=True, capture_output=True, text=True)
        found = re.search(r"id ([0-9a-z]{16})", out.stdout)
        if not found:
            raise RuntimeError(f"`seglog emr app` printed no application id: {out.stdout} {out.stderr}")
        self.application_id = found.group(1)
        os.environ["AIRFLOW_VAR_SEGMENT_DAILY"] = json.dumps(self.settings())

    def land(self, business_date: date) -> int:
        """Upload the sample files of the UTC folders the run for the date reads (D-2..D) to the
        raw bucket, as Segment's S3 destination would have written them. Returns the file count."""
        import boto3

        s3 = boto3.client("s3")
        n = 0
        for days_back in (2, 1, 0):
            folder = utc_folder(business_date - timedelta(days=days_back))
            for path in sorted(SAMPLE.glob(f"*/{folder}/*")):
                key = f"segment-logs/{path.relative_to(SAMPLE).as_posix()}"
                s3.upload_file(str(path), RAW_BUCKET, key)
                n += 1
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
        import boto3

        emr = boto3.client("emr-serverless")
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
