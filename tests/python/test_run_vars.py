"""Vars are refused before any work starts: by the CLI (Python) and by dbt itself (at parse
time, before a Spark session exists) — the same rules on both sides."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from seglog.cli import app
from seglog.project import PROJECT_DIR
from seglog.run_request import VarError, validate

# (vars as YAML, the words the message must contain)
BAD_VARS = [
    ("{date: '2023-02-30'}", "YYYY-MM-DD"),
    ("{date: 20231108}", "YYYY-MM-DD"),
    ("{date: '2023-11-08; drop table x'}", "YYYY-MM-DD"),
    ("{date: '2023-13-01'}", "YYYY-MM-DD"),
    ("{date: '0000-01-01'}", "YYYY-MM-DD"),
    ("{date: 2023-11-08T10:00:00}", "YYYY-MM-DD"),
    ("{date: null}", "YYYY-MM-DD"),
    ("{date: ''}", "YYYY-MM-DD"),
    ("{late_arrival_days: -1}", "0 to 30"),
    ("{late_arrival_days: 'one'}", "0 to 30"),
    ("{late_arrival_days: 1.5}", "0 to 30"),
    ("{late_arrival_days: 1.0}", "0 to 30"),
    ("{late_arrival_days: true}", "0 to 30"),
    ("{session_inactivity_minutes: 0}", "1 to 1440"),
    ("{session_inactivity_minutes: 1441}", "1 to 1440"),
    ("{session_inactivity_minutes: '30'}", "1 to 1440"),
    ("{session_inactivity_minutes: 29.5}", "1 to 1440"),
    ("{segment_root: \"data/x'; drop table y; --\"}", "segment_root"),
    ("{segment_sources: {web: a, app: b}}", "web, app and procedure"),
    ("{segment_sources: {web: a, app: a, procedure: c}}", "different source ids"),
    ("{segment_sources: {web: 'a b', app: b, procedure: c}}", "letters, digits"),
    # a key YAML reads as a number or a boolean: a clear message, not a TypeError from sorting
    ("{segment_sources: {1: a, app: b, procedure: c}}", "web, app and procedure"),
    ("{segment_sources: {1: a, web: x, app: b, procedure: c}}", "web, app and procedure"),
    ("{segment_sources: {true: a, app: b, procedure: c}}", "web, app and procedure"),
]
GOOD_VARS = ["{date: 2023-11-08}", "{session_inactivity_minutes: 1}", "{session_inactivity_minutes: 1440}",
             "{date: '2024-02-29', late_arrival_days: 0}", "{late_arrival_days: 30}",
             "{segment_root: 's3://my-bucket/segment-logs'}",
             "{segment_sources: {web: abc, app: ABC, procedure: c-1_2}}"]


@pytest.mark.parametrize("vars_yaml,words", BAD_VARS + [("{date: 2023-02-30}", "YYYY-MM-DD")])
def test_cli_refuses_bad_vars(vars_yaml: str, words: str) -> None:
    result = CliRunner().invoke(app, ["check-vars", "--vars", vars_yaml])
    assert result.exit_code == 2, result.output
    assert words in " ".join(result.output.split())


@pytest.mark.parametrize("vars_yaml", GOOD_VARS)
def test_cli_accepts_good_vars(vars_yaml: str) -> None:
    result = CliRunner().invoke(app, ["check-vars", "--vars", vars_yaml])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("vars_yaml", ["{1: 2}", "{late_arrival_days: 1, 2: x}", "{null: 1}"])
def test_cli_refuses_a_var_name_that_is_not_a_word(vars_yaml: str) -> None:
    """dbt itself ignores vars it is not asked for, so only the Python side names this one."""
    result = CliRunner().invoke(app, ["check-vars", "--vars", vars_yaml])
    assert result.exit_code == 2, result.output
    assert "is not a var name" in " ".join(result.output.split())


def test_cli_run_refuses_bad_date_before_dbt(monkeypatch: pytest.MonkeyPatch) -> None:
    import seglog.runner

    def boom(*_a, **_k):  # dbt must never be reached
        raise AssertionError("dbt was called")

    monkeypatch.setattr(seglog.runner, "dbt_build", boom)
    result = CliRunner().invoke(app, ["run", "--date", "2023-02-30"])
    assert result.exit_code == 2
    assert "YYYY-MM-DD" in result.output


def test_validate_normalises() -> None:
    import datetime

    out = validate({"date": datetime.date(2023, 11, 8), "segment_root": "s3://b/segment-logs/"})
    assert out["date"] == "2023-11-08" and out["segment_root"] == "s3://b/segment-logs"
    with pytest.raises(VarError, match="Unknown var"):
        validate({"dat": "2023-11-08"})


UNQUOTED_IMPOSSIBLE_DATE = "{date: 2023-02-30}"
DBT_CASES = ([("build", v) for v, _ in BAD_VARS] + [("build", UNQUOTED_IMPOSSIBLE_DATE)]
             + [("parse", v) for v in GOOD_VARS])


@pytest.fixture(scope="module")
def dbt_cli(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], dict]:
    """`dbt build`/`dbt parse --vars …` from the command line, once per case, each in a process of its
    own with a fresh Spark dir, target and log path (tests/python/dbt_vars_worker.py: dbt imported
    once, then one fork per case running dbt's real entry point). (command, vars) -> returncode,
    output, whether the Spark dir exists afterwards, whether the process started Spark's JVM."""
    import json

    root = tmp_path_factory.mktemp("dbt-vars")
    cases = []
    for n, (command, vars_yaml) in enumerate(DBT_CASES):
        case_dir = root / f"case-{n}"
        case_dir.mkdir()
        cases.append({"args": [command, "--vars", vars_yaml], "cwd": str(PROJECT_DIR),
                      "env": {"SEGLOG_SPARK_DIR": str(case_dir / "spark"), "SEGLOG_HOME": str(PROJECT_DIR),
                              "DBT_TARGET_PATH": str(case_dir / "target"), "DBT_LOG_PATH": str(case_dir / "logs")},
                      "output": str(case_dir / "output.txt"), "marker": str(case_dir / "jvm")})
    (root / "cases.json").write_text(json.dumps(cases))
    worker = Path(__file__).with_name("dbt_vars_worker.py")
    proc = subprocess.run([sys.executable, str(worker), str(root / "cases.json"), str(root / "results.json")],
                          cwd=PROJECT_DIR, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = json.loads((root / "results.json").read_text())
    out = {}
    for key, case, result in zip(DBT_CASES, cases, results):
        assert not result["timed_out"], f"dbt {' '.join(case['args'])} did not finish in time: {result['output']}"
        out[key] = dict(result, spark_dir_exists=Path(case["env"]["SEGLOG_SPARK_DIR"]).exists())
    return out


@pytest.mark.parametrize("vars_yaml,words", BAD_VARS)
def test_dbt_refuses_bad_vars_before_spark_starts(vars_yaml: str, words: str, dbt_cli) -> None:
    """Plain `dbt build` with a bad var fails at parse time: no Spark session, no metastore."""
    proc = dbt_cli[("build", vars_yaml)]
    output = proc["output"]
    assert proc["returncode"] != 0, output
    assert "Invalid var" in output and words in " ".join(output.split()), output
    assert not proc["spark_dir_exists"], "Spark started (its warehouse/metastore dir was created) before the var was refused"
    assert not proc["jvm_started"], "Spark's JVM was started before the var was refused"


def test_dbt_refuses_an_unquoted_impossible_date_before_spark_starts(dbt_cli) -> None:
    """Unquoted, 2023-02-30 never reaches our macro: dbt's own YAML reading of --vars fails
    ("day is out of range for month"). Still refused, still before Spark."""
    proc = dbt_cli[("build", UNQUOTED_IMPOSSIBLE_DATE)]
    assert proc["returncode"] != 0
    assert "day is out of range for month" in proc["output"]
    assert not proc["spark_dir_exists"]
    assert not proc["jvm_started"]


@pytest.mark.parametrize("vars_yaml", GOOD_VARS)
def test_dbt_accepts_what_the_cli_accepts(vars_yaml: str, dbt_cli) -> None:
    """The good values pass dbt's own check too (dbt parse renders every model, no Spark)."""
    proc = dbt_cli[("parse", vars_yaml)]
    assert proc["returncode"] == 0, proc["output"]


def test_cli_run_hands_dbt_validated_json_vars(monkeypatch: pytest.MonkeyPatch) -> None:
    """`seglog run --date 2023-11-08 --vars '{late_arrival_days: 2}'` reaches dbt as plain JSON."""
    import json

    import seglog.cli
    import seglog.runner

    seen = {}

    def fake_build(vars_, extra=(), unit_tests=False):
        seen["vars"] = json.loads(json.dumps(vars_))
        seen["unit_tests"] = unit_tests
        return seglog.runner.BuildResult(success=True, nodes=[])

    monkeypatch.setattr(seglog.runner, "dbt_build", fake_build)
    monkeypatch.setattr(seglog.cli, "_print_audit", lambda run_ymd, hidden=None: None)
    result = CliRunner().invoke(app, ["run", "--date", "2023-11-08", "--vars", "{late_arrival_days: 2}"])
    assert result.exit_code == 0, result.output
    assert seen["vars"]["date"] == "2023-11-08" and seen["vars"]["late_arrival_days"] == 2
    assert seen["unit_tests"] is False  # the daily job skips dbt's unit tests


def test_cli_run_unit_tests_run_once_with_the_first_date(monkeypatch: pytest.MonkeyPatch) -> None:
    """`seglog run --unit-tests --date D --to D+2`: unit tests with D's build only (they never read the date's data)."""
    import seglog.cli
    import seglog.runner

    calls = []
    monkeypatch.setattr(seglog.runner, "dbt_build", lambda vars_, extra=(), unit_tests=False:
                        calls.append((vars_["date"], unit_tests)) or seglog.runner.BuildResult(success=True, nodes=[]))
    monkeypatch.setattr(seglog.cli, "_print_audit", lambda run_ymd, hidden=None: None)
    result = CliRunner().invoke(app, ["run", "--unit-tests", "--date", "2023-11-06", "--to", "2023-11-08"])
    assert result.exit_code == 0, result.output
    assert calls == [("2023-11-06", True), ("2023-11-07", False), ("2023-11-08", False)]


def test_cli_run_of_a_subset_still_records_the_runs_start_and_end(monkeypatch: pytest.MonkeyPatch) -> None:
    """`seglog run --select x`: dbt also builds audit.segment_run_started and segment_run_completed,
    so the loader can tell a subset run that finished from one that failed."""
    import seglog.cli
    import seglog.runner

    selections = []
    monkeypatch.setattr(seglog.runner, "dbt_build", lambda vars_, extra=(), unit_tests=False:
                        selections.append(list(extra)) or seglog.runner.BuildResult(success=True, nodes=[]))
    monkeypatch.setattr(seglog.cli, "_print_audit", lambda run_ymd, hidden=None: None)
    result = CliRunner().invoke(app, ["run", "--date", "2023-11-08", "--select", "page_views_daily+ tag:core"])
    assert result.exit_code == 0, result.output
    assert selections == [["--select", "page_views_daily+ tag:core segment_run_started segment_run_completed"]]


def test_a_date_inside_vars_is_refused_by_every_command_the_same_way(tmp_path) -> None:
    """One rule for every caller: the date is --date (and --to), never a var of --vars."""
    from seglog.emr.job import parse_args, run_dates
    from seglog.run_request import VarError

    message = "--vars must not hold date: give it as --date"
    for command in (["run", "--date", "2023-11-08"], ["emr", "submit", "--date", "2023-11-08", "--dry-run"]):
        result = CliRunner().invoke(app, [*command, "--vars", "{date: 2023-11-09}"])
        assert result.exit_code == 2 and message in " ".join(result.output.split()), (command, result.output)
    args = parse_args(["--date", "2023-11-08", "--vars", '{"date": "2023-11-09"}', "--target", "local",
                       "--artifacts", str(tmp_path)])
    with pytest.raises(VarError, match=message):
        run_dates(args)
