"""seglog emr — the EMR Serverless side: the application as code, the job's bundle, submissions.

    seglog emr app       create or update the application (release, pre-initialised capacity, …)
    seglog emr env       build the job's Python env archive (Python 3.11 itself + dbt + seglog)
    seglog emr bundle    build (or take) the env archive and the project archive, upload them
    seglog emr submit    start the job for a date or a range (a backfill), and wait for each run

Settings: SEGLOG_EMR_ROOT (s3://bucket/prefix holding code/, warehouse/, runs/, logs/),
SEGLOG_RAW_ROOT (s3://bucket/prefix of the Segment source-id folders), SEGLOG_EMR_APPLICATION_ID,
SEGLOG_EMR_ROLE_ARN (the job's execution role); AWS credentials as boto3 reads them (AWS_PROFILE,
…), and the region from AWS_REGION / AWS_DEFAULT_REGION, given to every client.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from ..terminal import fail
from . import spec

emr_app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
console = Console() if sys.stdout.isatty() else Console(width=160)


def _region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or ""


def _client(service: str):
    import boto3

    return boto3.client(service, region_name=_region() or None)


def _root(root: Optional[str]) -> str:
    value = root or os.environ.get("SEGLOG_EMR_ROOT", "")
    if not spec.S3_ROOT.fullmatch(value):
        fail(f"EMR root {value!r}: give --root or SEGLOG_EMR_ROOT as s3://bucket/prefix")
    return value.rstrip("/")


@emr_app.command("app")
def app_(
    name: str = typer.Option(spec.APPLICATION_NAME, help="The application's name (one application per name)."),
    release: str = typer.Option(spec.RELEASE, help="EMR release label (7.x: Spark 3.5)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Say what would change; change nothing."),
) -> None:
    """Create the EMR Serverless application, or update it to the settings in seglog/emr/spec.py
    (pre-initialised driver and executors, maximum capacity, auto-start, auto-stop when idle).
    Prints the application id: set it as SEGLOG_EMR_APPLICATION_ID / the DAG's Variable."""
    from botocore.exceptions import BotoCoreError, ClientError

    from .application import ensure

    try:
        spec.check_application(name, release)
    except spec.SpecError as exc:
        fail(str(exc))
    try:
        applied = ensure(_client("emr-serverless"), name, release, dry_run=dry_run)
    except (spec.SpecError, RuntimeError, TimeoutError) as exc:
        fail(str(exc), code=1)
    except (BotoCoreError, ClientError) as exc:
        fail(f"EMR Serverless refused: {exc}", code=1)
    changes = f" ({', '.join(applied.changed)})" if applied.changed and applied.action == "updated" else ""
    verb = {"created": "would create", "updated": "would update", "unchanged": "unchanged"} if dry_run else {}
    console.print(f"application {name}: {verb.get(applied.action, applied.action)}{changes}; "
                  f"id {applied.application_id}", highlight=False)


@emr_app.command("env")
def env_(
    out: Path = typer.Option(Path("target/emr/seglog-env.tar.gz"), help="The archive to write."),
    python: str = typer.Option(sys.executable, help="The Python 3.11 whose interpreter the archive carries."),
) -> None:
    """Build the job's Python env archive: Python 3.11 itself (interpreter, standard library,
    libpython) with dbt-core, dbt-spark and seglog, relocatable, no link out of its folder.
    Build it on Amazon Linux 2023 for production (see scripts/seglog/emr/job_env.py)."""
    from .job_env import EnvArchiveError, build_env, check_archive

    with tempfile.TemporaryDirectory() as work, console.status("building the job's Python env"):
        try:
            built = build_env(out.resolve(), Path(work), python)
        except EnvArchiveError as exc:
            fail(str(exc), code=1)
    problems = check_archive(built)
    if problems:
        fail("the archive points outside its folder: " + "; ".join(problems[:5]), code=1)
    console.print(f"{built} ({built.stat().st_size / 1e6:,.0f} MB)", highlight=False)


@emr_app.command()
def bundle(
    root: Optional[str] = typer.Option(None, help="s3://bucket/prefix (default $SEGLOG_EMR_ROOT)."),
    env_archive: Optional[Path] = typer.Option(None, help="A seglog-env.tar.gz built before (`seglog emr env`)."),
    out: Path = typer.Option(Path("target/emr"), help="Where the archives are built."),
) -> None:
    """Upload the job's entry point, the dbt project archive and the Python env archive to
    {root}/code/. Without --env-archive the env is built first (about a minute)."""
    from .bundle import upload
    from .job_env import build_env, check_archive

    base = _root(root)
    if env_archive is None:
        with tempfile.TemporaryDirectory() as work, console.status("building the job's Python env"):
            env_archive = build_env(out.resolve() / "seglog-env.tar.gz", Path(work))
    elif not env_archive.is_file():
        fail(f"--env-archive {env_archive}: no such file")
    problems = check_archive(env_archive)
    if problems:
        fail(f"--env-archive {env_archive} points outside its folder ({'; '.join(problems[:3])}): EMR could not "
              "start it; build it with `seglog emr env`")
    written = upload(_client("s3"), base, env_archive)
    for name, where in written.items():
        console.print(f"  {name:<18} → {where}", highlight=False)


@emr_app.command()
def submit(
    date_: str = typer.Option(..., "--date", help="KST business date (YYYY-MM-DD)."),
    to: Optional[str] = typer.Option(None, "--to", help="Backfill to this date: one job run per date, in order."),
    vars_: Optional[str] = typer.Option(None, "--vars", help="More dbt vars as YAML/JSON (not date)."),
    root: Optional[str] = typer.Option(None, help="s3://bucket/prefix (default $SEGLOG_EMR_ROOT)."),
    application_id: Optional[str] = typer.Option(None, help="Default $SEGLOG_EMR_APPLICATION_ID."),
    role_arn: Optional[str] = typer.Option(None, help="The job's execution role (default $SEGLOG_EMR_ROLE_ARN)."),
    raw_root: Optional[str] = typer.Option(None, help="s3://bucket/prefix of the Segment source-id folders "
                                                      "(default $SEGLOG_RAW_ROOT): what the job reads."),
    region: Optional[str] = typer.Option(None, help="AWS region (default $AWS_REGION / $AWS_DEFAULT_REGION)."),
    database_prefix: str = typer.Option(spec.DATABASE_PREFIX, help="Prefix of the job's Glue databases."),
    timeout_minutes: int = typer.Option(spec.JOB_TIMEOUT_MINUTES, help="executionTimeoutMinutes of each run."),
    poll: float = typer.Option(30, help="Seconds between state checks."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the start_job_run requests as JSON; start nothing."),
) -> None:
    """Run the daily job on EMR Serverless from a laptop: one date, or a range oldest first.
    Vars are validated here first (a bad one never reaches EMR). Exit 1 when a run fails."""
    from ..run_request import RunRequest, VarError
    from .submit import submit_dates

    try:
        request = RunRequest.parse(date_, to, vars_)
        if "segment_root" in request.given:
            raise VarError("--vars must not hold segment_root (give the raw root as --raw-root)")
    except VarError as exc:
        fail(str(exc))
    days = request.days()
    settings = spec.JobSettings(application_id or os.environ.get("SEGLOG_EMR_APPLICATION_ID", ""),
                                role_arn or os.environ.get("SEGLOG_EMR_ROLE_ARN", ""), _root(root),
                                raw_root or os.environ.get("SEGLOG_RAW_ROOT", ""), region or _region(),
                                database_prefix, timeout_minutes)
    try:
        settings.check()
    except spec.SpecError as exc:
        fail(str(exc))
    # the source ids go with the job explicitly, as the DAG sends the ids its sensors watch
    overrides = json.loads(json.dumps(dict(request.given, segment_sources=request.vars["segment_sources"]), default=str))
    if dry_run:
        console.print_json(json.dumps([spec.job_run_request(settings, d, None, overrides) for d in days]))
        return
    runs = submit_dates(_client("emr-serverless"), settings, days, overrides, poll_s=poll,
                        on_state=lambda d, s: console.print(f"{d}: {s}", highlight=False))
    table = Table(title=f"EMR Serverless runs on {settings.application_id}")
    for col in ("date", "job run", "state", "details"):
        table.add_column(col)
    for r in runs:
        table.add_row(r.day.isoformat(), r.job_run_id, r.state if r.state == "SUCCESS" else f"[red]{r.state}[/]",
                      r.details)
    console.print(table)
    if len(runs) < len(days) or runs[-1].state != "SUCCESS":
        fail(f"stopped at {runs[-1].day} ({runs[-1].state}); resume with --date {runs[-1].day}", code=1)
