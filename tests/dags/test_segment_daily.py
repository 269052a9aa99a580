"""segment_daily: it parses cleanly, its graph is as designed, and dag.test() runs of it behave:
a happy day (files → EMR job → load → reconcile → Slack), no files, a failed job, a mismatch.

Expected values come from independent paths: the sample files on disk (files and bytes), the
request `seglog emr submit --dry-run` builds (the EMR arguments), the job's audit (events staged
= rows of segment_log in the warehouse), and rows deleted by the test (the mismatch)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date

import pytest
import yaml

from rehearsal.permissions import Call, granted, ungranted
from rehearsal.stage import (DATABASE_PREFIX, DBT_VENV, EMR_ROOT, PROJECT, RAW_BUCKET, RAW_ROOT, REGION, ROLE_ARN,
                             SAMPLE, warehouse_sql)
from seglog import kst_calendar  # importable here: rehearsal.stage puts the project's scripts/ on the path

DAY = date(2023, 11, 8)  # a sample date: its folders (and the two before) are in data/sample
START_DATE = "2023-10-01"
EMPTY_DAY = date(2023, 12, 24)  # no files at all
SOURCE_IDS = yaml.safe_load((PROJECT / "dbt_project.yml").read_text())["vars"]["segment_sources"]

PARSE = r"""
import json, socket, subprocess, sys
events = []
def hook(name, args):
    if name in ("socket.connect", "subprocess.Popen", "os.system"):
        events.append(name + " " + repr(args)[:120])
from airflow.sdk import Variable
import airflow.models.variable as mv
def refuse(*a, **k):
    raise RuntimeError("Variable.get at parse time")
Variable.get = refuse
mv.Variable.get = refuse
from airflow.models.dagbag import DagBag
sys.addaudithook(hook)
bag = DagBag(dag_folder=sys.argv[1], include_examples=False)
dag = bag.get_dag("segment_daily") if not bag.import_errors else None
out = {"errors": {k: str(v)[:500] for k, v in bag.import_errors.items()}, "dag_ids": sorted(bag.dag_ids),
       "events": events}
if dag is not None:
    import pendulum
    from airflow.timetables.base import DataInterval, TimeRestriction
    t = dag.task_dict
    info = dag.timetable.next_dagrun_info(
        last_automated_data_interval=DataInterval(pendulum.datetime(2023, 11, 7, 1, 30), pendulum.datetime(2023, 11, 8, 1, 30)),
        restriction=TimeRestriction(earliest=None, latest=None, catchup=True))
    out.update(
        downstream={k: sorted(v.downstream_task_ids) for k, v in t.items()},
        retries={k: v.retries for k, v in t.items()},
        backoff={k: v.retry_exponential_backoff for k, v in t.items()},
        catchup=dag.catchup, max_active_runs=dag.max_active_runs,
        dagrun_timeout_s=dag.dagrun_timeout.total_seconds(),
        sensor_timeout_s=t["wait_for_web"].timeout, sensor_mode=t["wait_for_web"].mode,
        emr_wait_s=t["run_emr_job"].waiter_delay * t["run_emr_job"].waiter_max_attempts,
        emr_config=t["run_emr_job"].config, emr_class=type(t["run_emr_job"]).__name__,
        failure_callbacks={k: bool(v.on_failure_callback) for k, v in t.items()},
        run_failure_callback=bool(dag.on_failure_callback),
        next_logical=info.logical_date.isoformat(), next_run_after=info.run_after.isoformat(),
        kst_date=dag.user_defined_macros["kst_date"](info.logical_date),
        start_date=dag.start_date.isoformat(),
        first_after_unpause=dag.timetable.next_dagrun_info(
            last_automated_data_interval=None,
            restriction=TimeRestriction(earliest=dag.start_date, latest=None, catchup=dag.catchup)).logical_date.isoformat(),
        emr_args=t["run_emr_job"].job_driver["sparkSubmit"]["entryPointArguments"],
        emr_params=t["run_emr_job"].job_driver["sparkSubmit"]["sparkSubmitParameters"],
        sensor_keys=t["wait_for_web"].bucket_key,
        task_timeout_s={k: v.execution_timeout.total_seconds() for k, v in t.items() if v.execution_timeout},
    )
print("RESULT " + json.dumps(out, default=str))
"""


@pytest.fixture(scope="module")
def parsed(stage) -> dict:
    """The DAG file parsed in a fresh process with the deployment's environment (no rehearsal
    knobs), Variable.get refused and network/subprocess use recorded during the parse."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEGMENT_DAILY_")}
    env["SEGMENT_DAILY_START_DATE"] = START_DATE
    proc = subprocess.run([sys.executable, "-c", PARSE, str(PROJECT / "dags")], env=env, capture_output=True,
                          text=True, timeout=300)
    line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
    assert line, proc.stdout[-2000:] + proc.stderr[-3000:]
    return json.loads(line[len("RESULT "):])


def test_the_dag_file_imports_without_errors_or_top_level_work(parsed: dict) -> None:
    assert parsed["errors"] == {}
    assert parsed["dag_ids"] == ["segment_daily"]
    assert parsed["events"] == [], "parsing the DAG opened a socket or started a process"


def test_task_graph_is_as_designed(parsed: dict) -> None:
    down = parsed["downstream"]
    for source in ("web", "app", "procedure"):
        assert down[f"wait_for_{source}"] == ["report_landed"]
    assert down["report_landed"] == ["report_success", "run_emr_job"]
    assert down["run_emr_job"] == ["account_files"]
    assert down["account_files"] == ["load_warehouse", "report_success"]
    assert down["load_warehouse"] == ["reconcile", "report_success"]
    assert down["reconcile"] == ["report_success"]
    assert down["report_success"] == []
    assert parsed["emr_class"] == "EmrServerlessStartJobOperator"  # the real operator outside rehearsals


def test_schedule_keys_each_run_by_its_kst_business_date(parsed: dict) -> None:
    # after the run for 2023-11-07 comes the run for 2023-11-08, started at 2023-11-09 10:30 KST (01:30 UTC)
    assert parsed["next_logical"].startswith("2023-11-08T10:30:00+09:00") or parsed["next_logical"].startswith(
        "2023-11-08T01:30:00+00:00")
    assert parsed["kst_date"] == "2023-11-08"
    assert parsed["next_run_after"].replace("+00:00", "Z").startswith(("2023-11-09T01:30:00", "2023-11-09T10:30:00+09"))
    assert parsed["max_active_runs"] == 1


def test_unpausing_the_dag_runs_the_latest_day_first_not_every_day_since_its_start(parsed: dict) -> None:
    import pendulum

    assert pendulum.parse(parsed["start_date"]) == pendulum.parse(START_DATE, tz="Asia/Seoul")
    assert parsed["catchup"] is False  # history comes from `airflow backfill create`, on purpose
    first = pendulum.parse(parsed["first_after_unpause"])
    assert pendulum.now("UTC").subtract(days=2) <= first <= pendulum.now("UTC"), first


def test_the_job_is_told_the_raw_root_the_sensors_watch(parsed: dict) -> None:
    args = parsed["emr_args"]
    assert "--raw-root" in args, "the job would read dbt_project.yml's sample folder, not the raw logs"
    given = args[args.index("--raw-root") + 1]
    assert given == "{{ var.json.segment_daily.raw_root.rstrip('/') }}"
    # the sensors watch the same Variable's folder, under the same source ids the job gets in its vars
    assert all(key.startswith(given + "/") for key in parsed["sensor_keys"]), parsed["sensor_keys"]
    assert args[args.index("--vars") + 1] == "{{ job_vars(params.vars) }}"
    assert "--database-prefix" in args and "--region" in args

def test_waits_retries_and_timeouts_make_a_stuck_day_visible(parsed: dict) -> None:
    sys.path.insert(0, str(PROJECT / "scripts"))
    from seglog.emr import spec  # the request's source of truth: the DAG must keep to its timeouts

    assert parsed["sensor_timeout_s"] == 6 * 3600 and parsed["sensor_mode"] == "reschedule"
    assert parsed["emr_config"] == {"executionTimeoutMinutes": spec.JOB_TIMEOUT_MINUTES}
    assert parsed["emr_wait_s"] == spec.WAITER_MINUTES * 60 > spec.JOB_TIMEOUT_MINUTES * 60, \
        "the waiter would cancel the job before EMR's own timeout"
    # the operator waits for a stopped application to start, then for the job, with one waiter each
    assert parsed["task_timeout_s"]["run_emr_job"] == spec.TASK_TIMEOUT_MINUTES * 60 > 2 * parsed["emr_wait_s"]
    for task in ("report_landed", "load_warehouse", "reconcile"):
        assert parsed["retries"][task] == 3 and parsed["backoff"][task] is True
    assert parsed["retries"]["run_emr_job"] == 1
    assert 0 < parsed["dagrun_timeout_s"] <= 24 * 3600
    assert all(parsed["failure_callbacks"].values()) and parsed["run_failure_callback"]


def test_the_dag_watches_the_sources_dbt_reads() -> None:
    sys.path.insert(0, str(PROJECT / "dags"))
    import segment_daily

    project = yaml.safe_load((PROJECT / "dbt_project.yml").read_text())
    assert segment_daily.SOURCES == project["vars"]["segment_sources"]


def test_the_dags_calendar_says_what_the_projects_says() -> None:
    """The DAG spells the KST calendar with pendulum (Airflow's venv has no seglog): its business
    date and its two UTC folders must be seglog.kst_calendar's, at every KST midnight edge of a
    year that crosses a leap day and a year's end."""
    sys.path.insert(0, str(PROJECT / "dags"))
    import pendulum
    import segment_daily

    # worked out by hand: 2023-11-07 00:00 UTC is 19,668 days after 1970-01-01
    assert segment_daily.utc_folders("2023-11-08") == ["1699315200000", "1699401600000"]
    for day in kst_calendar.date_range(date(2023, 12, 20), date(2025, 1, 5)):
        assert segment_daily.utc_folders(day.isoformat()) == list(kst_calendar.utc_folders(day)), day
        for late in (0, 1, 3):
            assert segment_daily.read_folders(day.isoformat(), late) == [
                kst_calendar.folder_name(d) for d in kst_calendar.read_days(day, late)], (day, late)
        edge = pendulum.datetime(day.year, day.month, day.day, 15, tz="UTC")  # 00:00 KST of the next day
        for instant in (edge.subtract(microseconds=1), edge):
            assert segment_daily.kst_date(instant) == kst_calendar.business_date(instant).isoformat(), instant


def test_the_dags_hidden_file_rule_is_the_projects() -> None:
    """The DAG's copy of Spark's hidden-name rule (it counts the files no run reads) says what
    seglog.landed_files says, for names worked out from Spark's InMemoryFileIndex rule."""
    sys.path.insert(0, str(PROJECT / "dags"))
    import segment_daily
    from seglog import landed_files

    names = {"a.gz": False, "_a.gz": True, ".a.gz": True, "_p=1": False, "a.gz._COPYING_": True, "a_b.gz": False,
             "_": True, ".": True, "a.GZ": False}
    assert {n: segment_daily._hidden(n) for n in names} == {n: landed_files.is_hidden(n) for n in names} == names


def _landed_on_disk(day: date) -> dict[str, tuple[int, int]]:
    """Files and bytes per source in the sample folders of KST day D (UTC folders D-1 and D)."""
    project = yaml.safe_load((PROJECT / "dbt_project.yml").read_text())
    out = {}
    for source, source_id in project["vars"]["segment_sources"].items():
        files = [p for folder in kst_calendar.utc_folders(day) for p in (SAMPLE / source_id / folder).glob("*")]
        out[source] = (len(files), sum(p.stat().st_size for p in files))
    return out


def _human(n: float) -> str:
    return f"{n / 1024 / 1024:,.1f} MB" if n >= 1024 * 1024 else f"{n / 1024:,.1f} KB"


@pytest.fixture(scope="module")
def happy(stage):
    stage.land(DAY)
    stage.slack.clear()
    run = stage.run(DAY)
    return run, list(stage.slack.texts())


def test_happy_day_runs_every_task_and_reports_to_slack(happy) -> None:
    run, texts = happy
    assert str(run.state) == "success", texts
    assert len(texts) == 2, texts
    landed, done = texts
    assert landed.startswith(":inbox_tray: segment_daily 2023-11-08: the day's files landed")
    for source, (files, size) in _landed_on_disk(DAY).items():
        assert f"{source}: {files:,} files, {_human(size)}" in landed
    assert done.startswith(":white_check_mark: segment_daily 2023-11-08 done")
    read = sum(len([p for p in (SAMPLE / source_id / kst_calendar.folder_name(d)).glob("*") if p.stat().st_size])
               for source_id in SOURCE_IDS.values() for d in kst_calendar.read_days(DAY, 1))
    assert f"the run's folders hold {read:,} files, each read or set aside by name" in done
    assert "all reconciled" in done and "Spark and the warehouse agree" in done


def test_happy_day_sends_the_emr_request_the_cli_builds(stage, happy) -> None:
    runs = [r for r in stage.job_runs() if r["name"] == "segment-daily-2023-11-08"]
    assert runs, "moto saw no start_job_run for the date"
    seen = runs[0]
    cli = subprocess.run([str(DBT_VENV / "seglog"), "emr", "submit", "--date", "2023-11-08", "--root", EMR_ROOT,
                          "--application-id", stage.application_id, "--role-arn", ROLE_ARN, "--raw-root", RAW_ROOT,
                          "--region", REGION, "--dry-run"], capture_output=True, text=True, check=True)
    expected = json.loads(cli.stdout)[0]
    assert seen["jobDriver"] == expected["jobDriver"]
    assert seen["configurationOverrides"] == expected["configurationOverrides"]
    assert seen["executionRole"] == ROLE_ARN  # get_job_run's name for start_job_run's executionRoleArn
    assert seen["executionTimeoutMinutes"] == expected["executionTimeoutMinutes"] == 120
    assert seen["state"] == "SUCCESS"
    args = seen["jobDriver"]["sparkSubmit"]["entryPointArguments"]
    assert args[args.index("--raw-root") + 1] == RAW_ROOT  # what the sensors watched (the Variable's raw_root)


def test_happy_day_loads_what_the_job_staged(stage, happy) -> None:
    bucket, _, prefix = EMR_ROOT[len("s3://"):].partition("/")
    s3 = stage.client("s3")
    audit = json.loads(s3.get_object(Bucket=bucket, Key=f"{prefix}/runs/ymd=2023-11-08/audit.json")["Body"].read())
    for name in ("run_results.json", "manifest.json", "row_counts.json", "dbt.log"):
        s3.head_object(Bucket=bucket, Key=f"{prefix}/runs/ymd=2023-11-08/{name}")
    counts = json.loads(s3.get_object(Bucket=bucket, Key=f"{prefix}/runs/ymd=2023-11-08/row_counts.json")["Body"].read())
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=f"{prefix}/runs/ymd=2023-11-08/manifest.json")["Body"].read())
    assert {r["owned_from_ymd"] for r in audit} == {"2023-11-07"} and {r["owned_to_ymd"] for r in audit} == {"2023-11-08"}
    assert counts["owned_dates"] == ["2023-11-07", "2023-11-08"]
    # the test's own count of every loaded table, partition by partition, against Spark SQL's
    for model, parts in counts["models"].items():
        schema_table = warehouse_sql("select table_schema, table_name from information_schema.tables "
                                     f"where table_name = '{model}'")
        assert len(schema_table) == 1, f"{model} was not loaded"
        schema, table = schema_table[0]
        for part, n in parts.items():
            where = "" if part == "*" else f" where cast({_partition_column(manifest, model)} as text) = '{part}'"
            assert warehouse_sql(f'select count(*) from "{schema}"."{table}"{where}') == [[n]], (model, part)
    rows = warehouse_sql("select count(*) from marts.segment_log where ymd in ('2023-11-07', '2023-11-08')")
    assert 0 < rows[0][0] <= sum(r["events_staged"] for r in audit)  # event-level: at most every staged event


def test_the_job_read_the_raw_logs_under_the_root_the_sensors_watched(stage, happy) -> None:
    # the rehearsal's raw logs exist only in the moto bucket the sensors watch: the job's own record of
    # the files it listed says where it read, and every file was under that root
    bucket, _, prefix = EMR_ROOT[len("s3://"):].partition("/")
    got = json.loads(stage.client("s3").get_object(Bucket=bucket, Key=f"{prefix}/runs/ymd=2023-11-08/job.json")["Body"].read())
    assert got["raw_root"] == RAW_ROOT
    assert got["raw_roots_read"] == [RAW_ROOT]
    assert got["database_prefix"] == DATABASE_PREFIX and got["target"] == "emr"
    # the job ran as EMR runs it: the env archive's interpreter, the project archive, dbt beside them
    work = next((stage.home / "emr").glob("job-*"))
    log = (work / "driver.log").read_text()
    assert "raw logs under s3://segment-raw/segment-logs" in log
    assert (work / "environment" / "bin" / "python3.11").is_file() and (work / "project" / "dbt_project.yml").is_file()
    assert (work / "dbt" / "target" / "manifest.json").is_file() and not (work / "project" / "target").exists()


def test_each_role_calls_only_what_its_policy_in_docs_iam_grants(stage, happy) -> None:
    calls = stage.calls()
    policies = stage.policies()
    assert ungranted(calls, policies) == []
    made = {(c.role, c.action) for c in calls}
    # the calls that matter were made and checked: a stopped application started by the worker's
    # role, the job role passed, the job's reads and writes under its own role
    for expected in [("airflow", "emr-serverless:StartApplication"), ("airflow", "emr-serverless:StartJobRun"),
                     ("airflow", "iam:PassRole"), ("airflow", "s3:ListBucket"), ("airflow", "s3:GetObject"),
                     ("emr-job", "s3:GetObject"), ("emr-job", "s3:ListBucket"), ("emr-job", "s3:PutObject")]:
        assert expected in made, expected
    # ...and the check is not vacuous: without StartApplication the first daily run would fail
    trimmed = json.loads(json.dumps(policies["airflow"]))
    for st in trimmed["Statement"]:
        if st["Sid"] == "RunTheJob":
            st["Action"] = [a for a in st["Action"] if a != "emr-serverless:StartApplication"]
    missing = ungranted(calls, {**policies, "airflow": trimmed})
    assert missing and {c.action for c in missing} == {"emr-serverless:StartApplication"}


def test_the_policy_check_follows_iam_on_prefixes_and_passed_roles(stage) -> None:
    policy = stage.policies()["airflow"]
    listing = Call("airflow", "s3:ListBucket", "arn:aws:s3:::segment-raw", (("s3:prefix", "segment-logs/a/1/"),))
    assert granted(policy, listing)
    assert not granted(policy, Call("airflow", "s3:ListBucket", "arn:aws:s3:::segment-raw"))  # no prefix: a HEAD
    assert not granted(policy, Call("airflow", "s3:ListBucket", "arn:aws:s3:::segment-raw", (("s3:prefix", "other/"),)))
    passed = Call("airflow", "iam:PassRole", ROLE_ARN, (("iam:PassedToService", "emr-serverless.amazonaws.com"),))
    assert granted(policy, passed)
    assert not granted(policy, Call("airflow", "iam:PassRole", ROLE_ARN, (("iam:PassedToService", "ec2.amazonaws.com"),)))
    assert not granted(policy, Call("airflow", "iam:PassRole", "arn:aws:iam::123456789012:role/admin",
                                    (("iam:PassedToService", "emr-serverless.amazonaws.com"),)))


def test_the_worker_process_holds_no_aws_credentials_of_its_own(happy) -> None:
    # the happy day ran every step, the load and reconcile subprocesses included, on the connection's
    assert [k for k in os.environ if k.startswith("AWS_")] == []
    run, _ = happy
    assert str(run.state) == "success"


def _partition_column(manifest: dict, model: str) -> str:
    node = next(n for n in manifest["nodes"].values() if n["name"] == model and n["resource_type"] == "model")
    part = node["config"]["partition_by"]
    return part[0] if isinstance(part, list) else part


def test_no_files_by_the_timeout_fails_the_run_and_starts_no_job(stage) -> None:
    stage.slack.clear()
    run = stage.run(EMPTY_DAY)
    texts = stage.slack.texts()
    assert str(run.state) == "failed"
    task_failures = [t for t in texts if t.startswith(":x: segment_daily 2023-12-24 FAILED at task `wait_for_")]
    named = {t.split("`")[1] for t in task_failures}
    assert len(task_failures) == 3 and named == {"wait_for_web", "wait_for_app", "wait_for_procedure"}, texts
    assert all("| log: http" in t for t in task_failures)
    assert any(t.startswith(":rotating_light: segment_daily 2023-12-24: the run failed") for t in texts)
    assert not any("files landed" in t for t in texts)
    assert not [r for r in stage.job_runs() if r["name"] == "segment-daily-2023-12-24"]


def test_a_failed_emr_job_fails_the_run_and_loads_nothing(stage, happy) -> None:
    before = warehouse_sql("select count(*) from marts.segment_log")
    stage.slack.clear()
    # a var the job refuses: the job exits non-zero (before Spark starts), as a FAILED job run would
    run = stage.run(DAY, conf={"vars": {"session_inactivity_minutes": 0}})
    texts = stage.slack.texts()
    assert str(run.state) == "failed"
    states = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
    assert states["run_emr_job"] == "failed"
    assert states["load_warehouse"] == "upstream_failed" and states["reconcile"] == "upstream_failed"
    failed = [t for t in texts if "FAILED at task `run_emr_job`" in t]
    assert len(failed) == 1 and "| log: http" in failed[0], texts
    assert not any(t.startswith(":white_check_mark:") for t in texts)
    assert warehouse_sql("select count(*) from marts.segment_log") == before


def test_files_the_run_did_not_account_for_are_told_to_slack_and_the_run_goes_on(stage, happy) -> None:
    """A file that lands after the job listed its folders, and a hidden one: Slack says so, per source;
    the task succeeds (a late file is the next run's, a hidden one is for a redelivery)."""
    s3 = stage.client("s3")
    web = SOURCE_IDS["web"]
    folder = kst_calendar.folder_name(DAY)
    late_file = next((SAMPLE / web / folder).glob("*.gz"))
    for name in ("late-arrival.gz", "_hidden.gz"):
        s3.upload_file(str(late_file), RAW_BUCKET, f"segment-logs/{web}/{folder}/{name}")
    stage.slack.clear()
    try:
        run = stage.run(DAY, mark_success="wait_for_.*|report_landed|run_emr_job|load_warehouse|reconcile|report_success")
    finally:
        for name in ("late-arrival.gz", "_hidden.gz"):
            s3.delete_object(Bucket=RAW_BUCKET, Key=f"segment-logs/{web}/{folder}/{name}")
    states = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
    assert states["account_files"] == "success", states
    warning = [t for t in stage.slack.texts() if t.startswith(":warning:")]
    assert len(warning) == 1, stage.slack.texts()
    assert "web: " in warning[0] and "the run accounted for" in warning[0] and "more landed after the job listed them" in warning[0]
    assert "web: 1 hidden files" in warning[0]
    assert "app:" not in warning[0] and "procedure:" not in warning[0]


def test_a_reconciliation_mismatch_fails_the_run(stage, happy) -> None:
    warehouse_sql("delete from marts.segment_log where ymd = '2023-11-08' and event_at_kst = "
                  "(select min(event_at_kst) from marts.segment_log where ymd = '2023-11-08')")
    stage.slack.clear()
    # only reconcile runs: the warehouse now lacks rows Spark counted
    run = stage.run(DAY, mark_success="wait_for_.*|report_landed|run_emr_job|load_warehouse")
    texts = stage.slack.texts()
    assert str(run.state) == "failed"
    states = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
    assert states["reconcile"] == "failed" and states["report_success"] == "upstream_failed"
    assert any("FAILED at task `reconcile`" in t for t in texts), texts
    assert not any(t.startswith(":white_check_mark:") for t in texts)
