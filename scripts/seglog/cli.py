"""seglog — the project's command line.

    seglog generate     write the sample Segment logs (deterministic from a seed)
    seglog run          the daily job: dbt build for one KST business date, then the audit
    seglog audit        print the audit of a date already run
    seglog check-vars   validate dbt vars without running anything
    seglog ddl          print the warehouse DDL the loader derives for a date
    seglog load         load the marts of a run into the local PostgreSQL or Redshift, reconciled
    seglog reconcile    compare the warehouse's rows per partition with the counts Spark wrote
    seglog pg           start/stop/status of the local PostgreSQL standing in for Redshift
    seglog emr          EMR Serverless: the application as code, the job bundle, submissions
"""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.table import Table

from . import generator
from .emr.cli import emr_app
from .pg_local import pg_app
from .project import SAMPLE_ROOT, default_vars, spark_dir
from .terminal import fail, print_error
from .run_request import RunRequest, VarError, check_selector, parse_date, parse_vars_text, validate

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
app.add_typer(pg_app, name="pg")  # seglog pg start|stop|status (scripts/seglog/pg_local.py)
app.add_typer(emr_app, name="emr")  # seglog emr app|bundle|submit (scripts/seglog/emr/cli.py)
console = Console() if sys.stdout.isatty() else Console(width=160)
log = logging.getLogger("seglog")

SAMPLE_START = "2023-11-06"
SAMPLE_END = "2023-11-10"
DATE_HELP = "KST business date (YYYY-MM-DD) of the run; default from dbt_project.yml."


@app.callback()
def _main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging.")) -> None:
    err = Console(stderr=True) if sys.stderr.isatty() else Console(stderr=True, width=160)
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format="%(message)s",
                        handlers=[RichHandler(console=err, show_path=False)])
    logging.getLogger("py4j").setLevel(logging.WARNING)  # pyspark's gateway chatter


def _request(date_: Optional[str], to: Optional[str] = None, vars_: Optional[str] = None, **options) -> RunRequest:
    """The command's RunRequest, or exit 2 with the message that names the option."""
    try:
        return RunRequest.parse(date_, to, vars_, **options)
    except VarError as exc:
        fail(str(exc))


@app.command()
def generate(
    root: Path = typer.Option(SAMPLE_ROOT, help="Folder that will hold the source-id folders (…/segment-logs)."),
    start: str = typer.Option(SAMPLE_START, help="First KST business date (YYYY-MM-DD)."),
    end: str = typer.Option(SAMPLE_END, help="Last KST business date (YYYY-MM-DD)."),
    seed: int = typer.Option(42, help="Random seed: the same seed gives byte-identical files."),
    events_per_day: int = typer.Option(20_000, min=1, help="Events per business date over all sources."),
    files_per_day: int = typer.Option(48, min=1, max=1440, help="Files per source and received day."),
    duplicate_rate: float = typer.Option(0.02, min=0, max=1, help="Share of events delivered twice."),
    malformed_rate: float = typer.Option(0.003, min=0, max=1, help="Share of events followed by a malformed line."),
    late_rate: float = typer.Option(0.01, min=0, max=1, help="Share of events received 1-3 days late."),
    workers: int = typer.Option(1, min=1, help="Processes that make the events, one run of dates each (big data: "
                                "one per core). Deterministic, but other files than --workers 1 for the same seed."),
    if_missing: bool = typer.Option(False, "--if-missing", help="Do nothing when the root already holds a manifest."),
    force: bool = typer.Option(False, "--force", help="Replace the contents of a non-empty root that holds no "
                               "manifest of the generator's (refused without it)."),
) -> None:
    """Write sample Segment logs in the real S3 layout, with faults injected at set rates."""
    if if_missing and (root / "_manifest.json").exists():
        console.print(f"sample logs already in {root} (delete the folder or drop --if-missing to rewrite)")
        return
    try:
        d0, d1 = parse_date(start, "start"), parse_date(end, "end")
    except VarError as exc:
        fail(str(exc))
    if d1 < d0:
        fail(f"--end {d1} is before --start {d0}")
    try:
        generator.check_root(root, force)
    except generator.NotOurFolder as exc:
        fail(str(exc))
    rates = generator.FaultRates(duplicate=duplicate_rate, malformed=malformed_rate, late=late_rate)
    t0 = time.perf_counter()
    with console.status(f"generating {events_per_day:,} events a day, {d0}..{d1}"):
        result = generator.generate(root, d0, d1, seed=seed, events_per_day=events_per_day,
                                    files_per_day=files_per_day, rates=rates,
                                    source_ids=default_vars()["segment_sources"], workers=workers, force=force)
    table = Table(title=f"sample Segment logs in {root}")
    for col in ("source", "received_day", "files", "lines", "events", "duplicates", "late", "malformed", "bytes"):
        table.add_column(col, justify="left" if col in ("source", "received_day") else "right")
    for row in result.summary_rows():
        table.add_row(*(f"{v:,}" if isinstance(v, int) else str(v) for v in row.values()))
    console.print(table)
    console.print(f"{result.total_events:,} events in {time.perf_counter() - t0:.1f} s; manifest {root / '_manifest.json'}")


def _print_audit(run_ymd: str, hidden: dict[str, int] | None = None) -> None:
    from . import audit

    rows = audit.read_run(run_ymd)
    if not rows:
        fail(f"no audit for {run_ymd}: run `seglog run --date {run_ymd}` first", code=1)
    table = Table(title=f"audit of the run for {run_ymd} (owned partitions {rows[0]['owned_from_ymd']}..{rows[0]['owned_to_ymd']})")
    table.add_column("source")
    for col in audit.COUNTS:
        table.add_column(col.replace("_", " "), justify="right")
    table.add_column("ties out", justify="center")
    for r in rows:
        table.add_row(r["source_key"], *(f"{r[c]:,}" for c in audit.COUNTS), "yes" if audit.ties_out(r) else "[red]NO[/]")
    table.add_row("all", *(f"{sum(r[c] for r in rows):,}" for c in audit.COUNTS), "", style="bold")
    console.print(table)
    console.print(f"{audit.TIE_OUT_RULE} (kept aside: outside every run's window, in audit.segment_quarantine)")
    _print_files(rows, hidden)


def _print_files(rows: list[dict], hidden: dict[str, int] | None) -> None:
    """The files of the folders read: read, lost lines (truncated, corrupt, unreadable), not read by
    name, and (from `seglog run`'s own listing) hidden ones Spark never lists."""
    from . import audit

    counts = {r["source_key"]: {c: r.get(c) or 0 for c in audit.FILE_COUNTS} for r in rows}  # null before the columns
    if hidden is not None:
        for key in counts:
            counts[key]["hidden"] = hidden.get(key, 0)
    columns = list(next(iter(counts.values())))
    table = Table(title="files of the folders read")
    table.add_column("source")
    for col in columns:
        table.add_column(col.removeprefix("files_").replace("_", " ") + (" (not listed by Spark)" if col == "hidden" else ""),
                         justify="right")
    for key, row in counts.items():
        table.add_row(key, *(f"{row[c]:,}" for c in columns))
    console.print(table)
    lost = sum(row[c] for row in counts.values() for c in columns if c != "files_read")
    if lost:
        console.print(f"[yellow]{lost:,} files lost lines or were not read: kind 'file' in audit.segment_quarantine, "
                      "status in staging.base_segment__files (truncated, corrupt, unreadable_file, not_gz, nested); "
                      "hidden ones (a name starting with _ or .) are in no table; ask for a redelivery[/]")


def _hidden_files(day_vars: dict) -> dict[str, int]:
    """Per source, the files of the run's folders Spark never lists (a name starting with _ or .), from our own listing."""
    from . import landed_files
    from .kst_calendar import read_days

    tallied = landed_files.tally(str(day_vars["segment_root"]), day_vars["segment_sources"],
                                 read_days(parse_date(day_vars["date"]), int(day_vars["late_arrival_days"])))
    return {key: len(kinds["hidden"]) for key, kinds in tallied.items()}


@app.command()
def run(
    date_: Optional[str] = typer.Option(None, "--date", help="KST business date (YYYY-MM-DD); default from dbt_project.yml."),
    to: Optional[str] = typer.Option(None, "--to", help="Backfill: run every date from --date to this one, in date order."),
    late_arrival_days: Optional[int] = typer.Option(None, help="Late-arrival window in days (var late_arrival_days)."),
    vars_: Optional[str] = typer.Option(None, "--vars", help="More dbt vars as YAML, as for dbt --vars."),
    select: Optional[str] = typer.Option(None, help="dbt --select (default: everything)."),
    unit_tests: bool = typer.Option(False, "--unit-tests", help="Also run dbt's unit tests (once, with the first date's build)."),
) -> None:
    """The daily job: validate the vars, dbt build on local Spark, print the tables and the audit.

    With --to, a backfill: one dbt build per date, oldest first (first-seen users and
    retention assume dates are built in order), all in one Spark session."""
    request = _request(date_, to, vars_, late_arrival_days=late_arrival_days)
    if select is not None:
        try:
            check_selector(select)
        except VarError as exc:
            fail(str(exc))
    from .runner import DbtFailed, dbt_build, schema_dir

    # a subset still records its start and end, so the loader can tell it finished (audit.segment_run_*)
    extra = ["--select", f"{select} segment_run_started segment_run_completed"] if select else []
    built: set[str] = set()
    for offset, day in enumerate(request.days()):
        day_vars = request.dbt_vars(day)
        log.info("dbt build for %s (late_arrival_days=%s) on local Spark", day_vars["date"],
                 day_vars["late_arrival_days"])
        t0 = time.perf_counter()
        try:
            result = dbt_build(day_vars, extra, unit_tests=unit_tests and offset == 0)
        except DbtFailed as exc:
            fail(f"{day_vars['date']}: {exc}" + (f" (dates before it are done; resume with --date {day_vars['date']})"
                                                 if offset else ""), code=1)
        log.info("dbt build for %s finished in %.0f s", day_vars["date"], time.perf_counter() - t0)
        built |= {n["relation"] for n in result.nodes if n["resource_type"] == "model" and n["relation"]}
        _print_audit(day_vars["date"], _hidden_files(day_vars))
    console.print(f"[bold]tables[/] (Spark warehouse {spark_dir() / 'warehouse'}):")
    by_schema: dict[str, list[str]] = {}
    for rel in sorted(built):
        schema, _, name = rel.partition(".")
        by_schema.setdefault(schema, []).append(name)
    for schema, names in by_schema.items():
        console.print(f"  [bold]{schema}[/] ({len(names)}): {', '.join(names)}")
    console.print(f"Parquet files under {schema_dir('marts').parent}")


@app.command()
def audit(date_: Optional[str] = typer.Option(None, "--date", help=DATE_HELP)) -> None:
    """Print the audit of a run already done (lines read and where every line went)."""
    _print_audit(_request(date_).first.isoformat())


@app.command("check-vars")
def check_vars(vars_: str = typer.Option("{}", "--vars", help="dbt vars as YAML/JSON.")) -> None:
    """Validate dbt vars (the same rules dbt applies) and print the effective values."""
    try:
        effective = validate(parse_vars_text(vars_))
    except VarError as exc:
        fail(str(exc))
    console.print_json(json.dumps(effective))


def _split(text: Optional[str]) -> list[str]:
    return [t for t in (text or "").replace(",", " ").split() if t]


def _chosen_models(models: Optional[str], select: Optional[str]) -> list:
    from .loader import SourceError, loadable_models, select_models

    try:
        for option, value in (("models", models), ("select", select)):
            if value is not None:
                check_selector(value, option)
    except VarError as exc:
        fail(str(exc))
    try:
        return select_models(loadable_models(), _split(models), _split(select))
    except SourceError as exc:
        fail(str(exc), code=1)
    return []


MODELS_HELP = "Comma-separated model names (default: every mart and the snapshot)."
SELECT_HELP = "dbt-style selection, space- or comma-separated: model names and tag:<tag> (e.g. tag:core)."


@app.command()
def ddl(
    date_: Optional[str] = typer.Option(None, "--date", help="KST business date whose rows decide the types; "
                                                            "default from dbt_project.yml."),
    models: Optional[str] = typer.Option(None, help=MODELS_HELP),
    select: Optional[str] = typer.Option(None, help=SELECT_HELP),
    dialect: str = typer.Option("redshift", help="redshift (DISTSTYLE/SORTKEY, SUPER) or postgres (jsonb)."),
) -> None:
    """Print the CREATE TABLE the loader derives for each model from the Parquet rows of the
    date: Spark types mapped to the warehouse's, VARCHAR sized from the longest UTF-8 value
    with headroom, YAML meta overrides and dist/sort keys. Reads target/manifest.json and the
    warehouse (SEGLOG_WAREHOUSE, default the local Spark warehouse); connects to nothing."""
    from .loader import DdlError, SourceError, TypeMappingError, Warehouse, create_table, plan

    if dialect not in ("redshift", "postgres"):
        fail(f"--dialect {dialect!r}: use redshift or postgres")
    day = _request(date_).first
    try:
        warehouse = Warehouse.from_env()
        for model in _chosen_models(models, select):
            job = plan(model, warehouse, [day], dialect)
            console.print(f"-- {model.name}: {job.data.num_rows:,} rows"
                          + (f" of {model.partition}={job.values[0]}" if model.partition else " (whole table)"))
            console.print(create_table(model.schema, model.table, job.columns, dialect, model.redshift) + ";\n",
                          highlight=False, markup=False)
    except (SourceError, TypeMappingError, DdlError) as exc:
        fail(str(exc), code=1)


@app.command()
def load(
    date_: Optional[str] = typer.Option(None, "--date",
                              help="Run date (KST): load every partition the run for this date rewrote (D-L..D, "
                                   "from its audit row), so the warehouse matches Spark."),
    to: Optional[str] = typer.Option(None, "--to", help="Last run date of a range (a backfill): --date..--to."),
    models: Optional[str] = typer.Option(None, help=MODELS_HELP),
    select: Optional[str] = typer.Option(None, help=SELECT_HELP),
    target: str = typer.Option("pg_local", help="pg_local: the project's local PostgreSQL (started when needed). "
                                                "redshift: S3 staging + COPY through the Redshift Data API "
                                                "(REDSHIFT_WORKGROUP or REDSHIFT_CLUSTER_ID, REDSHIFT_DATABASE, …)."),
    staging: Optional[str] = typer.Option(None, help="redshift: s3://bucket/prefix for the staged Parquet "
                                                     "(default $SEGLOG_REDSHIFT_STAGING)."),
    iam_role: Optional[str] = typer.Option(None, help="redshift: the IAM role ARN COPY reads S3 with "
                                                      "(default $REDSHIFT_COPY_ROLE_ARN)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the DDL, ALTERs and load statements; load nothing."),
    results: Path = typer.Option(Path("target/load_results.json"), help="Where to write the results as JSON."),
    allow_shrink: bool = typer.Option(False, "--allow-shrink", help="Load a whole table (dim_users, the snapshot) "
                                      "even when Spark's holds no row or more than 10% fewer rows than the "
                                      "warehouse's (refused without it: the warehouse keeps its rows)."),
) -> None:
    """Load finished models into the warehouse: derive the column types from the Parquet rows,
    create or evolve each table (never drop), replace the partitions' rows in one transaction
    per model, then reconcile row counts and a key checksum per partition with Spark's.

    Exit 1 when a load fails (its previous rows stay) or a count differs. The results table is printed and written as JSON, with a one-line summary for the scheduler."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from .loader import (TARGETS, ConfigError, PostgresTarget, RedshiftTarget, SourceError, Warehouse,
                         load_all, owned_dates)

    if target not in TARGETS:
        fail(f"--target {target!r}: use one of {', '.join(TARGETS)}")
    from .loader import check_role_arn, check_staging_uri

    try:  # they go into COPY's quoted literals: refused here, before the manifest or any connection
        if staging is not None:
            check_staging_uri(staging)
        if iam_role is not None:
            check_role_arn(iam_role)
    except ConfigError as exc:
        fail(str(exc))
    run_dates = _request(date_, to).days()
    chosen = _chosen_models(models, select)
    try:
        warehouse = Warehouse.from_env()
        owned = owned_dates(warehouse, run_dates)  # refuses a date whose run is not in the warehouse
        if target == "redshift":
            tgt = RedshiftTarget(staging, iam_role)
        else:
            from .pg_local import PgError, conninfo, ensure_running

            try:
                tgt = PostgresTarget(conninfo() if dry_run else ensure_running())
            except PgError as exc:
                fail(str(exc), code=1)
    except (SourceError, ConfigError) as exc:
        hint = ("; `seglog ddl --dialect redshift` prints the derived DDL without any Redshift setting"
                if dry_run and isinstance(exc, ConfigError) else "")
        fail(str(exc) + hint, code=1)
    if dry_run:
        from .loader import dry_run as planned

        for header, statements in planned(chosen, warehouse, owned, tgt, allow_shrink=allow_shrink):
            for line in (header, *statements):
                console.print(line, highlight=False, markup=False)
        return
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("loading", total=len(chosen))
        outcome = load_all(chosen, warehouse, run_dates, tgt,
                           progress=lambda m, step: progress.update(task, description=f"{m}: {step}"),
                           done=lambda m: progress.advance(task), owned=owned, allow_shrink=allow_shrink)
    _print_load(outcome)
    outcome.write(results)
    console.print(outcome.summary() + f" (results: {results})", highlight=False)
    for name, error in outcome.failed:
        print_error(error)
    if not outcome.ok:
        raise typer.Exit(1)


@app.command()
def reconcile(
    date_: Optional[str] = typer.Option(None, "--date", help="Run date (KST) whose counts to check; default from "
                                                            "dbt_project.yml."),
    expected: str = typer.Option(..., help="Spark's counts: the job's row_counts.json (a path or s3://…)."),
    target: str = typer.Option("pg_local", help="pg_local or redshift (REDSHIFT_WORKGROUP|REDSHIFT_CLUSTER_ID, …)."),
    results: Path = typer.Option(Path("target/reconcile_results.json"), help="Where to write the results as JSON."),
) -> None:
    """Count the warehouse's rows per model and partition afresh and compare them with the counts
    Spark SQL wrote at the end of the job. Exit 1 on any difference (the table shows which)."""
    from .loader import ConfigError, DataApi, SourceError, StatementFailed, loadable_models
    from .loader import recount

    day = _request(date_).first
    if target not in ("pg_local", "redshift"):
        fail(f"--target {target!r}: use pg_local or redshift")
    try:
        spark = recount.read_expected(expected)
        if spark.get("run_date") != day.isoformat():
            fail(f"{expected} holds the counts of the run for {spark.get('run_date')}, not {day}", code=1)
        models = loadable_models()
        if target == "redshift":
            api = DataApi.from_env()
            counts = recount.compare(spark, models, lambda m, v: recount.count_redshift(api, m, v))
        else:
            from .pg_local import PgError, ensure_running

            try:
                info = ensure_running()
            except PgError as exc:
                fail(str(exc), code=1)
            counts = recount.compare(spark, models, lambda m, v: recount.count_postgres(info, m, v))
    except (SourceError, ConfigError) as exc:
        fail(str(exc), code=1)
    except StatementFailed as exc:
        fail(f"counting the rows in Redshift failed: {exc}", code=1)
    table = Table(title=f"Spark vs {target}, run {day}")
    for col in ("model", "partition", "spark rows", "warehouse rows", "equal"):
        table.add_column(col, justify="left" if col in ("model", "partition") else "right")
    for c in counts:
        table.add_row(c.model, c.partition, f"{c.spark:,}", "[red]no table[/]" if c.absent else f"{c.warehouse:,}",
                      ("[yellow]no rows yet[/]" if c.no_rows_yet else "yes") if c.ok else "[red]NO[/]")
    console.print(table)
    outcome = recount.Recount(day.isoformat(), target, counts)
    outcome.write(results)
    console.print(outcome.summary(), highlight=False)
    if not outcome.ok:
        raise typer.Exit(1)


def _print_load(outcome) -> None:
    table = Table(title=f"loaded into {outcome.where} (runs {outcome.dates[0]}..{outcome.dates[-1]}, "
                        f"dates {outcome.owned[0]}..{outcome.owned[-1]})")
    for col in ("model", "partition", "rows", "bytes", "seconds", "rows/s", "warehouse rows", "reconciled"):
        table.add_column(col, justify="left" if col in ("model", "partition") else "right")
    for r in outcome.loaded:
        for i, c in enumerate(r.checks):
            first = i == 0
            table.add_row(r.model if first else "", c.partition, f"{c.rows:,}",
                          f"{r.bytes:,}" if first else "", f"{r.seconds:.2f}" if first else "",
                          (f"{r.rows / r.seconds:,.0f}" if r.seconds else "-") if first else "",
                          f"{c.warehouse_rows:,}",
                          "[yellow]no rows yet[/]" if r.no_rows_yet and c.reconciled else "yes" if c.reconciled else "[red]NO[/]")
        if not r.checks and r.no_rows_yet:
            table.add_row(r.model, "", "0", "", "", "", "0", "[yellow]no rows yet[/]")
    for name, _ in outcome.failed:
        table.add_row(name, "", "", "", "", "", "", "[red]FAILED[/]")
    console.print(table)


from .parity.cli import parity as _parity  # noqa: E402 - seglog parity (scripts/seglog/parity/cli.py)

app.command("parity")(_parity)


def main() -> None:  # pragma: no cover - entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
