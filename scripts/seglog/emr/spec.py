"""The EMR Serverless application and job request, as code: one place for the settings the
application is created with and the exact start_job_run request (the DAG builds the same
request; tests/dags checks the two agree).

Layout under the EMR root (``SEGLOG_EMR_ROOT``, e.g. ``s3://analytics-emr/segment-spark``):

    code/entrypoint.py          the job's entry point (calls seglog.emr.job)
    code/seglog-env.tar.gz      Python 3.11 venv with dbt and seglog (venv-pack) → ./environment
    code/project.tar.gz         the dbt project (models, macros, profiles.yml, …) → ./project
    warehouse/                  spark.sql.warehouse.dir: the tables' Parquet ({schema}.db/{table})
    runs/ymd=YYYY-MM-DD/        the run's artifacts (run_results, manifest, audit, row_counts)
    logs/                       the job's driver/executor logs (monitoringConfiguration)
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

RELEASE = "emr-7.5.0"  # Spark 3.5 (as pyspark 3.5 locally), Python 3.11 is brought by the env archive
# The releases the project runs on: EMR 7.0-7.9 (Spark 3.5 with EMRFS and its S3-optimised committer).
# From emr-7.10.0 S3A replaces EMRFS and its commit protocol, which nothing here has been run with.
RELEASES = re.compile(r"emr-7\.[0-9]\.\d{1,2}")
DATABASE_PREFIX = "segment_"  # Glue databases segment_staging, segment_marts, …: names are account-wide
APPLICATION_NAME = "segment-spark"

# Every worker the job uses has this size; the job's driver/executor settings below fit inside it
# (memory + 10% overhead <= worker memory), so the pre-initialised workers are the ones it gets.
WORKER = {"cpu": "4vCPU", "memory": "16GB", "disk": "20GB"}
INITIAL_WORKERS = {"DRIVER": 1, "EXECUTOR": 4}
MAXIMUM = {"cpu": "80vCPU", "memory": "320GB", "disk": "400GB"}  # a backfill can burst to 20 workers
IDLE_MINUTES = 15  # auto-stop: the warm workers are released (and stop costing) after this idle time
JOB_TIMEOUT_MINUTES = 120  # executionTimeoutMinutes: EMR cancels a job stuck longer than this
# The scheduler's patience, consistent with EMR's: its waiter outlasts EMR's own timeout (EMR ends a
# stuck job, not the waiter), and Airflow's operator waits for a stopped application to start with
# the same waiter before the job's, so the task's own timeout holds both waits.
WAITER_MINUTES = JOB_TIMEOUT_MINUTES + 10
TASK_TIMEOUT_MINUTES = 2 * WAITER_MINUTES + 10

SPARK_CONF = {
    "spark.driver.cores": "4",
    "spark.driver.memory": "14g",
    "spark.executor.cores": "4",
    "spark.executor.memory": "14g",
    "spark.executor.instances": "4",
    "spark.dynamicAllocation.enabled": "false",
    "spark.sql.shuffle.partitions": "64",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.sources.partitionOverwriteMode": "dynamic",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.hadoop.hive.metastore.client.factory.class":
        "com.amazonaws.glue.catalog.metastore.AWSGlueDataCatalogHiveClientFactory",
}

S3_ROOT = re.compile(r"s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[A-Za-z0-9_./=-]*)?")
ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}")
APPLICATION_ID = re.compile(r"[0-9a-z]{16}")
APPLICATION_NAME_RE = re.compile(r"[A-Za-z0-9._/#-]{1,64}")  # EMR Serverless's own rule for a name
RELEASE_RE = re.compile(r"emr-\d+\.\d+\.\d+")
PREFIX_RE = re.compile(r"[a-z][a-z0-9_]{0,40}_")
REGION_RE = re.compile(r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d")


class SpecError(ValueError):
    """A setting that cannot make a valid request; the message says the right form."""


def check_application(name: str, release: str) -> None:
    """The application's name and release label, refused before any AWS call when malformed."""
    if not APPLICATION_NAME_RE.fullmatch(name):
        raise SpecError(f"application name {name!r}: 1-64 of letters, digits and . _ / # -")
    if not RELEASE_RE.fullmatch(release):
        raise SpecError(f"release {release!r}: an EMR release label such as {RELEASE}")


@dataclass(frozen=True)
class JobSettings:
    """What the scheduler and the job must agree on, in one place: the DAG passes the same values
    from its Variable (tests/dags checks the two requests are equal)."""

    application_id: str
    role_arn: str
    root: str  # s3://bucket/prefix of code/, warehouse/, runs/, logs/
    raw_root: str  # s3://bucket/segment-logs: the folder the sensors watch and the job reads
    region: str
    database_prefix: str = DATABASE_PREFIX
    timeout_minutes: int = JOB_TIMEOUT_MINUTES

    def check(self) -> "JobSettings":
        rules = (  # (pattern, value, what it names, the right form)
            (APPLICATION_ID, self.application_id, "application id",
             "16 lower-case letters/digits, as `seglog emr app` prints"),
            (ROLE_ARN, self.role_arn, "job role", "an IAM role ARN, arn:aws:iam::<account>:role/<name>"),
            (S3_ROOT, self.root, "EMR root", "s3://bucket/prefix"),
            (S3_ROOT, self.raw_root, "raw root",
             "s3://bucket/prefix of the Segment source-id folders (the folder the DAG's sensors watch)"),
            (REGION_RE, self.region, "region", "an AWS region such as ap-northeast-2"),
            (PREFIX_RE, self.database_prefix, "database prefix", "lower-case letters, digits and _, ending in _"),
        )
        for pattern, value, what, form in rules:
            if not pattern.fullmatch(value):
                raise SpecError(f"{what} {value!r}: {form}")
        if not 1 <= self.timeout_minutes <= 1440:
            raise SpecError(f"timeout {self.timeout_minutes} minutes: 1 to 1440")
        return self

    @property
    def base(self) -> str:
        return self.root.rstrip("/")


def spark_submit_parameters(root: str) -> str:
    base = root.rstrip("/")
    conf = {
        "spark.archives": f"{base}/code/seglog-env.tar.gz#environment,{base}/code/project.tar.gz#project",
        "spark.emr-serverless.driverEnv.PYSPARK_DRIVER_PYTHON": "./environment/bin/python",
        "spark.emr-serverless.driverEnv.PYSPARK_PYTHON": "./environment/bin/python",
        "spark.executorEnv.PYSPARK_PYTHON": "./environment/bin/python",
        "spark.sql.warehouse.dir": f"{base}/warehouse",
        **SPARK_CONF,
    }
    return " ".join(f"--conf {k}={v}" for k, v in conf.items())


def job_run_request(settings: JobSettings, first: date, last: date | None = None,
                    vars_: dict[str, Any] | None = None) -> dict[str, Any]:
    """The start_job_run arguments for the dates first..last (one job builds them in order)."""
    base = settings.check().base
    args = ["--date", first.isoformat()]
    if last is not None and last != first:
        args += ["--to", last.isoformat()]
    args += ["--artifacts", f"{base}/runs", "--raw-root", settings.raw_root.rstrip("/"),
             "--database-prefix", settings.database_prefix, "--region", settings.region,
             "--vars", json.dumps(vars_ or {}, sort_keys=True)]
    name = f"segment-daily-{first.isoformat()}" + (f"-{last.isoformat()}" if last and last != first else "")
    return {
        "applicationId": settings.application_id,
        "executionRoleArn": settings.role_arn,
        "name": name,
        "jobDriver": {"sparkSubmit": {"entryPoint": f"{base}/code/entrypoint.py", "entryPointArguments": args,
                                      "sparkSubmitParameters": spark_submit_parameters(base)}},
        "configurationOverrides": {"monitoringConfiguration": {
            "s3MonitoringConfiguration": {"logUri": f"{base}/logs/"}}},
        "executionTimeoutMinutes": settings.timeout_minutes,
    }


def application_config(release: str = RELEASE) -> dict[str, Any]:
    """The application's settings (create_application / update_application arguments)."""
    if not RELEASES.fullmatch(release):
        raise SpecError(f"release {release!r}: the project runs on emr-7.0.0 to emr-7.9.x (Spark 3.5 with EMRFS), "
                        f"such as {RELEASE}; from emr-7.10.0 S3A replaces EMRFS and its commit protocol, untested here")
    return {
        "releaseLabel": release,
        "initialCapacity": {kind: {"workerCount": n, "workerConfiguration": {
            "cpu": WORKER["cpu"], "memory": WORKER["memory"], "disk": WORKER["disk"]}}
            for kind, n in INITIAL_WORKERS.items()},
        "maximumCapacity": dict(MAXIMUM),
        "autoStartConfiguration": {"enabled": True},
        "autoStopConfiguration": {"enabled": True, "idleTimeoutMinutes": IDLE_MINUTES},
    }
