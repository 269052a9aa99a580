"""The DAG's tests run in the Airflow virtualenv (`make dag-test`), never in dbt's.

One Stage (dags/rehearsal/stage.py) for the session: moto's standalone server with the raw and
EMR buckets and the EMR application, the Slack recorder, an Airflow home with a SQLite
metastore, a scratch Spark warehouse, and a scratch PostgreSQL (its own data dir and port) for
the loader. Airflow is imported only after the Stage has set the environment.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

PROJECT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(PROJECT / "dags"))

from rehearsal.stage import DBT_VENV, Stage, free_port  # noqa: E402


@pytest.fixture(scope="session")
def stage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stage]:
    pg_root = tmp_path_factory.mktemp("pg")
    pg_root.chmod(0o755)  # as root the server runs as `postgres`, who must enter it
    os.environ["SEGLOG_PG_DIR"] = str(pg_root / "pg")
    os.environ["PGPORT"] = str(free_port())
    # SEGMENT_DAILY_SPARK_DIR: a warehouse that already holds earlier dates (make test passes
    # the one `make dbt-test` built), else a fresh one
    spark = Path(os.environ.get("SEGMENT_DAILY_SPARK_DIR") or tmp_path_factory.mktemp("spark"))
    with Stage(spark_dir=spark, sensor_timeout_s=6, poke_s=2) as st:
        try:
            yield st
        finally:
            subprocess.run([str(DBT_VENV / "seglog"), "pg", "stop"], check=False, capture_output=True)
