"""segment_daily — one KST business day of Segment logs: landed → EMR Serverless → Redshift → reconciled.

    wait_for_<source> ×3 ─→ report_landed ─→ run_emr_job ─→ account_files ─→ load_warehouse ─→ reconcile ─→ report_success

Keyed by the logical date. The schedule is ``30 10 * * *`` in Asia/Seoul with data intervals, so
the run for business date D has logical date D 10:30 KST and starts at D+1 10:30 KST (01:30
UTC): KST day D spans the UTC folders D-1 and D, folder D closes at 00:00 UTC of D+1, and the
90 minutes after that leave Segment's S3 destination time to flush its last files.

Today first: catchup is off (SEGMENT_DAILY_CATCHUP), so unpausing the DAG schedules the latest
day, never a queue of every day since its start date. The start date (SEGMENT_DAILY_START_DATE)
is the oldest business date the DAG may ever run, backfills included: Airflow creates no task
for a date before it. History is loaded on purpose, by a backfill over a range (one run per
date, oldest first, ``max_active_runs=1``):

    airflow backfill create --dag-id segment_daily --from-date 2023-11-01 --to-date 2023-11-30

Tasks:
- ``wait_for_<source>``: S3 sensor per configured source, both UTC folders of D must hold a file;
  gives up after SEGMENT_DAILY_SENSOR_TIMEOUT_S (6 h) and the run fails (no EMR job is started).
- ``report_landed``: files and bytes per source, posted to Slack.
- ``run_emr_job``: the dbt job on EMR Serverless (``seglog.emr.job``; the request is the one
  ``seglog emr submit --dry-run`` prints), with executionTimeoutMinutes=120 and a waiter that
  outlasts it (the operator's default gives up after 25 minutes and cancels the job).
- ``account_files``: every file of the folders the job read (D-L-1..D), listed again, against the
  files the job's audit accounts for (read, or set aside by name); a difference (files that
  landed after the job listed its folders, or went away) and hidden files (a name starting with
  ``_`` or ``.``, which Spark never reads) are posted to Slack; a difference never fails the run.
- ``load_warehouse``: ``seglog load`` of the partitions the run rewrote, from the job's warehouse
  on S3, into Redshift (COPY through the Data API; one transaction per model).
- ``reconcile``: ``seglog reconcile``: the warehouse's rows per model and partition, counted
  afresh, against the counts Spark SQL wrote at the end of the job. A difference fails the run.
- ``report_success``: the numbers, to Slack. Any task failing (after its retries) posts the
  failing task, its error and a log link (SlackWebhookNotifier on the failure callback).

Run-time settings are one JSON Variable ``segment_daily`` (read when a task runs, never when the
file is parsed), the one source of what the sensors, the job and the load must agree on:
raw_root (the sensors watch it and the job reads it: passed as ``--raw-root``), emr_root (code,
warehouse, runs, logs), glue_database_prefix (default ``segment_``: the job's Glue databases and
the loader's warehouse folders), emr_application_id, emr_role_arn, and for the load load_target
(redshift), redshift_workgroup or redshift_cluster_id, redshift_database, redshift_secret_arn,
redshift_staging, redshift_copy_role_arn, seglog (the CLI's path on the worker, from the
project's own venv). The source ids are the sensors' (SEGMENT_DAILY_SOURCES), sent to the job in
its vars. Connections: aws_default (credentials and region, for the operators and every
``seglog`` step), slack_default (Slack incoming webhook). The parse-time knobs below come from
the environment (cheap, no metastore access).
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from datetime import timedelta
from typing import Any, Iterator

import pendulum
from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook
from airflow.providers.amazon.aws.hooks.s3 import S3Hook
from airflow.providers.amazon.aws.operators.emr import EmrServerlessStartJobOperator
from airflow.providers.amazon.aws.sensors.s3 import S3KeySensor
from airflow.providers.slack.hooks.slack_webhook import SlackWebhookHook
from airflow.providers.slack.notifications.slack_webhook import SlackWebhookNotifier
from airflow.sdk import DAG, Variable, task
from airflow.timetables.interval import CronDataIntervalTimetable

KST = "Asia/Seoul"
SLACK_CONN = "slack_default"
AWS_CONN = "aws_default"
# The Segment source ids (the same as dbt_project.yml's segment_sources; tests/dags checks it).
SOURCES: dict[str, str] = json.loads(os.environ.get("SEGMENT_DAILY_SOURCES") or json.dumps(
    {"web": "wXsRmVq7Lk", "app": "aPp4Tz9QmN", "procedure": "pRc8Hj2VbY"}))
SENSOR_TIMEOUT_S = int(os.environ.get("SEGMENT_DAILY_SENSOR_TIMEOUT_S", 6 * 3600))
POKE_S = int(os.environ.get("SEGMENT_DAILY_POKE_S", 300))
RETRIES = int(os.environ.get("SEGMENT_DAILY_RETRIES", 3))
# The oldest business date the DAG may run (Airflow makes no task before its start date, for a
# backfill neither); with catchup off, unpausing runs the latest day only, whatever this is.
START_DATE = pendulum.parse(os.environ.get("SEGMENT_DAILY_START_DATE", "2023-11-01"), tz=KST)
CATCHUP = os.environ.get("SEGMENT_DAILY_CATCHUP", "false").lower() == "true"
# As seglog.emr.spec (tests/dags checks they agree): EMR's own timeout, a waiter that outlasts it,
# and a task timeout that holds the application's start and the job's wait (one waiter each).
JOB_TIMEOUT_MINUTES = 120
WAITER_MINUTES = JOB_TIMEOUT_MINUTES + 10
TASK_TIMEOUT_MINUTES = 2 * WAITER_MINUTES + 10
DATABASE_PREFIX = "segment_"
# Set by `make rehearse` and the DAG tests only: after moto has accepted the start_job_run, the
# EMR job also runs here, as EMR runs it (dags/rehearsal/local_emr.py), with its work under this folder.
LOCAL_EMR_DIR = os.environ.get("SEGMENT_DAILY_LOCAL_EMR_DIR")

SETTINGS = "var.json.segment_daily"


def kst_date(logical_date: Any) -> str:
    """The business date of a run: its logical date on the KST calendar."""
    return pendulum.instance(logical_date).in_timezone(KST).strftime("%Y-%m-%d")


def utc_folders(business_date: str) -> list[str]:
    """The Segment folders (epoch milliseconds of a UTC day) that hold most of KST day D: the UTC
    days D-1 (from 15:00) and D (until 15:00). The DAG keeps its own copy of the project's
    seglog.kst_calendar (it runs in Airflow's venv, without seglog); tests/dags pins the two."""
    day = pendulum.parse(business_date, tz="UTC")
    return [str(int(d.timestamp() * 1000)) for d in (day.subtract(days=1), day)]


def read_folders(business_date: str, late_arrival_days: int) -> list[str]:
    """The folders the job for D reads: the UTC days D-L-1..D (seglog.kst_calendar.read_days)."""
    day = pendulum.parse(business_date, tz="UTC")
    return [str(int(day.subtract(days=n).timestamp() * 1000)) for n in range(late_arrival_days + 1, -1, -1)]


def _s3_location(uri: str) -> tuple[str, str]:
    """The bucket and the key prefix (no slash at either end) of an s3:// URI."""
    bucket, _, prefix = uri[len("s3://"):].rstrip("/").partition("/")
    return bucket, prefix


def _folder_objects(conn: Any, root: str, source_id: str, folder: str) -> Iterator[tuple[str, int]]:
    """(key below the folder, size) of every object in {root}/{source_id}/{folder}/. ListObjectsV2
    returns at most 1,000 keys a call, so through boto3's paginator (ContinuationToken):
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html"""
    bucket, prefix = _s3_location(root)
    folder_prefix = f"{prefix}/{source_id}/{folder}/".lstrip("/")
    for page in conn.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=folder_prefix):
        for obj in page.get("Contents", []):
            yield obj["Key"][len(folder_prefix):], obj["Size"]


def _hidden(name: str) -> bool:
    """A name Spark's file listing skips (InMemoryFileIndex.shouldFilterOutPathName), so no run reads it."""
    return name.startswith(".") or (name.startswith("_") and "=" not in name) or name.endswith("._COPYING_")


def account(landed: dict[str, dict[str, int]], audit_rows: list[dict[str, Any]]) -> list[str]:
    """What differs between the files listed (per source: `listed`, not hidden and not empty;
    `hidden`) and the files the run's audit accounts for (files_read + files_skipped): one line
    per source that differs, and one per source with hidden files. Empty when all agree."""
    audit = {row["source_key"]: row for row in audit_rows}
    out = []
    for source, seen in landed.items():
        row = audit.get(source, {})
        accounted = (row.get("files_read") or 0) + (row.get("files_skipped") or 0)
        if seen["listed"] != accounted:
            out.append(f"{source}: {seen['listed']:,} files in its folders, the run accounted for {accounted:,} "
                       f"({'more landed after the job listed them' if seen['listed'] > accounted else 'some went away'})")
        if seen["hidden"]:
            out.append(f"{source}: {seen['hidden']:,} hidden files (a name starting with _ or .): Spark never reads them")
    return out


def job_vars(extra: dict[str, Any] | None) -> str:
    """The job's dbt vars: a manual run's extras plus the source ids the sensors watch. The raw
    root and the source ids come from the DAG only, never from a run's params."""
    extra = dict(extra or {})
    clash = sorted(set(extra) & {"segment_sources", "segment_root", "date"})
    if clash:
        raise ValueError(f"params.vars must not hold {', '.join(clash)}: the DAG sets them (raw_root in the "
                         "segment_daily Variable, the sources in SEGMENT_DAILY_SOURCES, the date from the run)")
    return json.dumps(dict(extra, segment_sources=SOURCES), sort_keys=True)


def _settings() -> dict[str, Any]:
    return Variable.get("segment_daily", deserialize_json=True)


def _aws_env() -> dict[str, str]:
    """The aws_default connection's credentials, region and endpoint for a subprocess: a worker's
    own environment may hold none of them (they live in the connection)."""
    hook = AwsBaseHook(aws_conn_id=AWS_CONN, client_type="sts")
    creds = hook.get_credentials()
    env = {"AWS_ACCESS_KEY_ID": creds.access_key, "AWS_SECRET_ACCESS_KEY": creds.secret_key}
    if creds.token:
        env["AWS_SESSION_TOKEN"] = creds.token
    region = hook.conn_region_name or hook.region_name
    if region:
        env["AWS_REGION"] = env["AWS_DEFAULT_REGION"] = region
    endpoint = hook.conn_config.endpoint_url
    if endpoint:
        env["AWS_ENDPOINT_URL"] = endpoint
    return env


def _post(text: str) -> None:
    SlackWebhookHook(slack_webhook_conn_id=SLACK_CONN).send(text=text)


def _seglog(args: list[str], env: dict[str, str]) -> None:
    """Run the project's CLI (its own venv on the worker); its output goes to the task log."""
    own = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}  # the connection's, not the worker's
    proc = subprocess.run(args, env={**own, **_aws_env(), **env}, capture_output=True, text=True)
    print(proc.stdout[-20000:])
    print(proc.stderr[-20000:])
    if proc.returncode != 0:
        errors = [line for line in proc.stderr.splitlines() if "error" in line.lower()][-3:]
        raise RuntimeError(f"`{' '.join(args[:2])}` failed with exit {proc.returncode}: "
                           + (" ".join(errors) or proc.stderr.strip()[-500:]))


def _loader_env(cfg: dict[str, Any], business_date: str) -> dict[str, str]:
    root = cfg["emr_root"].rstrip("/")
    env = {"SEGLOG_WAREHOUSE": cfg.get("warehouse") or f"{root}/warehouse",
           "SEGLOG_MANIFEST": f"{root}/runs/ymd={business_date}/manifest.json",
           "SEGLOG_SCHEMA_PREFIX": cfg.get("glue_database_prefix", DATABASE_PREFIX)}
    for key, name in (("redshift_workgroup", "REDSHIFT_WORKGROUP"), ("redshift_cluster_id", "REDSHIFT_CLUSTER_ID"),
                      ("redshift_database", "REDSHIFT_DATABASE"), ("redshift_secret_arn", "REDSHIFT_SECRET_ARN"),
                      ("redshift_user", "REDSHIFT_USER"), ("redshift_staging", "SEGLOG_REDSHIFT_STAGING"),
                      ("redshift_copy_role_arn", "REDSHIFT_COPY_ROLE_ARN")):
        if cfg.get(key):
            env[name] = str(cfg[key])
    return env


def _human(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} GB"


FAILURE_TEXT = (":x: segment_daily {{ kst_date(logical_date) }} FAILED at task `{{ ti.task_id }}` "
                "(try {{ ti.try_number }}): {{ exception | default('see the log', true) | string | truncate(300) }} "
                "| log: {{ ti.log_url }}")


def on_failure(context: dict[str, Any]) -> None:
    """The failing task, its error and a log link, to Slack. A fresh notifier per call: a notifier
    renders its template in place, so one shared by every task would repeat the first task's text
    when several tasks fail in one process (as under dag.test())."""
    SlackWebhookNotifier(slack_webhook_conn_id=SLACK_CONN, text=FAILURE_TEXT)(context)


def on_run_failure(context: dict[str, Any]) -> None:
    """The run as a whole failed, also when no task failed but the run timed out (dagrun_timeout).
    A plain callback rather than a notifier: the run-level callback gets no template environment
    under dag.test()."""
    _post(f":rotating_light: segment_daily {kst_date(context['logical_date'])}: the run failed "
          f"({context.get('reason', 'unknown reason')}); the steps after the failure did not run, so the "
          "warehouse keeps its previous load of these dates")


default_args = {
    "owner": "data-engineering",
    "retries": RETRIES,
    "retry_delay": timedelta(minutes=2),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=20),
    "execution_timeout": timedelta(hours=3),
    "on_failure_callback": on_failure,
}

with DAG(
    dag_id="segment_daily",
    description="Segment logs of one KST business day: landed → EMR Serverless (dbt) → Redshift → reconciled",
    schedule=CronDataIntervalTimetable("30 10 * * *", timezone=KST),
    start_date=START_DATE,
    catchup=CATCHUP,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=12),  # a stuck day fails visibly instead of blocking the next
    on_failure_callback=on_run_failure,
    default_args=default_args,
    user_defined_macros={"kst_date": kst_date, "utc_folders": utc_folders, "job_vars": job_vars},
    params={"vars": {}},  # more dbt vars for a manual run, e.g. {"late_arrival_days": 3}
    tags=["segment", "emr-serverless", "redshift"],
    doc_md=__doc__,
) as dag:
    day = "{{ kst_date(logical_date) }}"

    sensors = [
        S3KeySensor(
            task_id=f"wait_for_{source}",
            bucket_key=[f"{{{{ {SETTINGS}.raw_root.rstrip('/') }}}}/{source_id}/{{{{ utc_folders(kst_date(logical_date))[{i}] }}}}/*"
                        for i in (0, 1)],
            wildcard_match=True,
            mode="reschedule",
            poke_interval=POKE_S,
            timeout=SENSOR_TIMEOUT_S,
            retries=0,  # the timeout is the sensor's patience; a retry would only double it
        )
        for source, source_id in SOURCES.items()
    ]

    @task
    def report_landed(logical_date=None) -> dict[str, dict[str, int]]:
        cfg = _settings()
        business_date = kst_date(logical_date)
        conn = S3Hook().get_conn()
        landed: dict[str, dict[str, int]] = {}
        for source, source_id in SOURCES.items():
            files = size = 0
            for utc_folder in utc_folders(business_date):
                for _, obj_size in _folder_objects(conn, cfg["raw_root"], source_id, utc_folder):
                    files, size = files + 1, size + obj_size
            landed[source] = {"files": files, "bytes": size}
        lines = ", ".join(f"{s}: {v['files']:,} files, {_human(v['bytes'])}" for s, v in landed.items())
        _post(f":inbox_tray: segment_daily {business_date}: the day's files landed ({lines})")
        return landed

    job_class = EmrServerlessStartJobOperator
    if LOCAL_EMR_DIR:
        from rehearsal.local_emr import LocalEmrServerlessJob as job_class  # noqa: N813

    run_emr_job = job_class(
        task_id="run_emr_job",
        application_id=f"{{{{ {SETTINGS}.emr_application_id }}}}",
        execution_role_arn=f"{{{{ {SETTINGS}.emr_role_arn }}}}",
        name=f"segment-daily-{day}",
        job_driver={"sparkSubmit": {
            "entryPoint": f"{{{{ {SETTINGS}.emr_root }}}}/code/entrypoint.py",
            "entryPointArguments": [
                "--date", day, "--artifacts", f"{{{{ {SETTINGS}.emr_root }}}}/runs",
                "--raw-root", f"{{{{ {SETTINGS}.raw_root.rstrip('/') }}}}",
                "--database-prefix", f"{{{{ {SETTINGS}.get('glue_database_prefix', '{DATABASE_PREFIX}') }}}}",
                "--region", f"{{{{ conn.{AWS_CONN}.extra_dejson.region_name }}}}",
                "--vars", "{{ job_vars(params.vars) }}"],
            "sparkSubmitParameters": (
                "--conf spark.archives={{ %(s)s.emr_root }}/code/seglog-env.tar.gz#environment,"
                "{{ %(s)s.emr_root }}/code/project.tar.gz#project "
                "--conf spark.emr-serverless.driverEnv.PYSPARK_DRIVER_PYTHON=./environment/bin/python "
                "--conf spark.emr-serverless.driverEnv.PYSPARK_PYTHON=./environment/bin/python "
                "--conf spark.executorEnv.PYSPARK_PYTHON=./environment/bin/python "
                "--conf spark.sql.warehouse.dir={{ %(s)s.emr_root }}/warehouse "
                "--conf spark.driver.cores=4 --conf spark.driver.memory=14g "
                "--conf spark.executor.cores=4 --conf spark.executor.memory=14g "
                "--conf spark.executor.instances=4 --conf spark.dynamicAllocation.enabled=false "
                "--conf spark.sql.shuffle.partitions=64 --conf spark.sql.session.timeZone=UTC "
                "--conf spark.sql.sources.partitionOverwriteMode=dynamic "
                "--conf spark.sql.parquet.outputTimestampType=TIMESTAMP_MICROS "
                "--conf spark.hadoop.hive.metastore.client.factory.class="
                "com.amazonaws.glue.catalog.metastore.AWSGlueDataCatalogHiveClientFactory") % {"s": SETTINGS},
        }},
        configuration_overrides={"monitoringConfiguration": {"s3MonitoringConfiguration": {
            "logUri": f"{{{{ {SETTINGS}.emr_root }}}}/logs/"}}},
        config={"executionTimeoutMinutes": JOB_TIMEOUT_MINUTES},
        # poll every minute for longer than EMR's own timeout: EMR ends a stuck job, not the waiter
        waiter_delay=60,
        waiter_max_attempts=WAITER_MINUTES,
        execution_timeout=timedelta(minutes=TASK_TIMEOUT_MINUTES),
        retries=min(RETRIES, 1),  # a failed job is rarely fixed by running it again at once
    )

    @task
    def account_files(logical_date=None) -> dict[str, Any]:
        cfg = _settings()
        business_date = kst_date(logical_date)
        conn = S3Hook().get_conn()
        runs_bucket, runs_prefix = _s3_location(cfg["emr_root"])
        audit_key = f"{runs_prefix}/runs/ymd={business_date}/audit.json".lstrip("/")
        audit_rows = json.loads(conn.get_object(Bucket=runs_bucket, Key=audit_key)["Body"].read())
        late = int(audit_rows[0]["late_arrival_days"]) if audit_rows else 1
        landed: dict[str, dict[str, int]] = {}
        for source, source_id in SOURCES.items():
            seen = {"listed": 0, "hidden": 0}
            for folder in read_folders(business_date, late):
                for below, obj_size in _folder_objects(conn, cfg["raw_root"], source_id, folder):
                    if any(_hidden(part) for part in below.split("/")):
                        seen["hidden"] += 1
                    elif obj_size > 0:  # Spark's listing skips 0-byte files: no line to lose
                        seen["listed"] += 1
            landed[source] = seen
        differences = account(landed, audit_rows)
        if differences:
            _post(f":warning: segment_daily {business_date}: files landed and files the run read differ: "
                  + "; ".join(differences))
        files = sum(seen["listed"] for seen in landed.values())
        return {"summary": f"the run's folders hold {files:,} files, "
                           + ("some not read (see above)" if differences else "each read or set aside by name"),
                "differences": differences}

    @task
    def load_warehouse(logical_date=None) -> dict[str, Any]:
        cfg = _settings()
        business_date = kst_date(logical_date)
        with tempfile.TemporaryDirectory() as tmp:
            results = f"{tmp}/load_results.json"
            _seglog([cfg.get("seglog", "seglog"), "load", "--date", business_date,
                     "--target", cfg.get("load_target", "redshift"), "--results", results],
                    _loader_env(cfg, business_date))
            with open(results, encoding="utf-8") as fh:
                outcome = json.load(fh)
        return {"ok": outcome["ok"], "summary": outcome["summary"],
                "rows": sum(r["rows"] for r in outcome["loaded"])}

    @task
    def reconcile(logical_date=None) -> dict[str, Any]:
        cfg = _settings()
        business_date = kst_date(logical_date)
        root = cfg["emr_root"].rstrip("/")
        with tempfile.TemporaryDirectory() as tmp:
            results = f"{tmp}/reconcile_results.json"
            try:
                _seglog([cfg.get("seglog", "seglog"), "reconcile", "--date", business_date,
                         "--expected", f"{root}/runs/ymd={business_date}/row_counts.json",
                         "--target", cfg.get("load_target", "redshift"), "--results", results],
                        _loader_env(cfg, business_date))
            except RuntimeError:
                if not os.path.exists(results):  # it failed before comparing: its own error says why
                    raise
                with open(results, encoding="utf-8") as fh:
                    raise RuntimeError(f"Spark and the warehouse differ: {json.load(fh)['summary']}") from None
            with open(results, encoding="utf-8") as fh:
                checked = json.load(fh)
        return {"summary": checked["summary"], "partitions": len(checked["counts"])}

    @task
    def report_success(landed: dict, accounted: dict, loaded: dict, checked: dict, logical_date=None) -> str:
        files = sum(v["files"] for v in landed.values())
        text = (f":white_check_mark: segment_daily {kst_date(logical_date)} done: {files:,} files in; "
                f"{accounted['summary']}; "
                f"{loaded['summary']}; reconciled with Spark: {checked['summary']}")
        _post(text)
        return text

    # Each task works out the business date from its own logical date (kst_date): @task functions
    # get the context as arguments, and Airflow's docs say they do not render Jinja passed as one
    # (https://airflow.apache.org/docs/apache-airflow/3.1.0/core-concepts/operators.html).
    landed = report_landed()
    accounted = account_files()
    loaded = load_warehouse()
    checked = reconcile()
    sensors >> landed >> run_emr_job >> accounted >> loaded >> checked
    report_success(landed, accounted, loaded, checked)
