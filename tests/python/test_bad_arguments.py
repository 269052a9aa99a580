"""Promise 5 of the reliability suite: every string option of every command refuses a hostile
value with a clear message before any work starts (no subprocess, no dbt, no AWS client, no
database connection), so a date or an identifier never reaches SQL unquoted."""

from __future__ import annotations

import subprocess

import boto3
import psycopg
import pytest
from typer.testing import CliRunner

from seglog.cli import app

HOSTILE = ["'; drop table x; --", "2023-11-08'; delete from marts.segment_log; --", "x\" or 1=1 --"]

# (command, option, other arguments the command needs to get as far as checking that option)
OPTIONS = [
    (["generate"], "--start", []), (["generate"], "--end", []),
    (["run"], "--date", []), (["run"], "--to", []), (["run"], "--vars", []), (["run"], "--select", []),
    (["audit"], "--date", []),
    (["check-vars"], "--vars", []),
    (["ddl"], "--date", []), (["ddl"], "--models", []), (["ddl"], "--select", []), (["ddl"], "--dialect", []),
    (["load"], "--date", []), (["load"], "--to", []), (["load"], "--models", []), (["load"], "--select", []),
    (["load"], "--target", []), (["load"], "--staging", ["--target", "redshift"]),
    (["load"], "--iam-role", ["--target", "redshift"]),
    (["reconcile"], "--date", ["--expected", "counts.json"]), (["reconcile"], "--target", ["--expected", "counts.json"]),
    (["emr", "app"], "--name", []), (["emr", "app"], "--release", []),
    (["emr", "bundle"], "--root", []),
    (["emr", "submit"], "--date", []), (["emr", "submit"], "--to", ["--date", "2023-11-08"]),
    (["emr", "submit"], "--vars", ["--date", "2023-11-08"]), (["emr", "submit"], "--root", ["--date", "2023-11-08"]),
    (["emr", "submit"], "--application-id", ["--date", "2023-11-08"]),
    (["emr", "submit"], "--role-arn", ["--date", "2023-11-08", "--application-id", "00abcdefghijklmn"]),
]


class WorkStarted(Exception):
    pass


@pytest.fixture()
def no_work(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Any process, AWS client or database connection counts as work having started."""
    started: list[str] = []

    def refuse(what: str):
        def call(*args, **kwargs):
            started.append(what)
            raise WorkStarted(what)
        return call

    for name in ("run", "Popen", "check_call", "check_output"):
        monkeypatch.setattr(subprocess, name, refuse(f"subprocess.{name}"))
    monkeypatch.setattr(boto3, "client", refuse("boto3.client"))
    monkeypatch.setattr(psycopg, "connect", refuse("psycopg.connect"))
    monkeypatch.setenv("SEGLOG_EMR_ROOT", "s3://analytics-emr/segment-spark")
    for name in ("SEGLOG_EMR_APPLICATION_ID", "SEGLOG_EMR_ROLE_ARN"):
        monkeypatch.delenv(name, raising=False)
    return started


@pytest.mark.parametrize("hostile", HOSTILE)
@pytest.mark.parametrize("command, option, extra", OPTIONS, ids=lambda v: " ".join(v) if isinstance(v, list) else v)
def test_every_option_refuses_a_hostile_value_before_any_work(command, option, extra, hostile, no_work) -> None:
    res = CliRunner().invoke(app, [*command, *extra, option, hostile])
    assert no_work == [], f"{' '.join(command)} {option}: work started ({no_work}) before the value was refused"
    assert not isinstance(res.exception, WorkStarted)
    assert res.exit_code == 2, f"{' '.join(command)} {option}: exit {res.exit_code}, output {res.output!r}"
    assert "error" in res.output.lower() or "invalid" in res.output.lower(), res.output
    # the message names what was wrong: the option or the var it sets
    assert option.lstrip("-").replace("-", " ").split()[0] in res.output.lower().replace("_", " "), res.output


def test_good_selections_still_pass() -> None:
    from seglog.run_request import check_selector

    for ok in ["tag:core", "+fct_daily_active_users", "path:models/marts", "config.materialized:table",
               "segment_log,tag:core", "int_sessions+ mart_retention", "@stg_segment__events", "result:fail"]:
        assert check_selector(ok) == ok
