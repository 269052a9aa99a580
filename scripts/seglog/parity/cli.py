"""`seglog parity`: the command line of the parity harness (registered in seglog/cli.py)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from ..terminal import fail
from .harness import RESULTS


def parity(
    only: Optional[str] = typer.Option(
        None, "--only", help="Comma-separated models or query ids (segment_log,Q02): compare just these. "
                             "Without it every query Q01–Q17 is compared and one without legacy SQL fails the run."),
    reuse_spark: bool = typer.Option(
        False, "--reuse-spark", help="Skip the dbt run when data/parity-spark already holds the marts of this "
                                     "fixture and of the current models/macros (a stamp says so): a rerun of "
                                     "the legacy queries then takes seconds."),
    max_diffs: int = typer.Option(20, min=1, help="Differences shown per query (all of them go to the JSON)."),
    results: Path = typer.Option(RESULTS, help="Where to write the results as JSON."),
) -> None:
    """Parity of each converted query: its legacy Redshift SQL (legacy/redshift/<model>.sql) on
    the local PostgreSQL with the Redshift shim, against the dbt model on local Spark, over the
    same fixture events (generated + hand-written, 2020-12-27..2021-01-04).

    Writes the fixture (data/parity/segment-logs), loads every delivered line into the `parity`
    database (schemas legacy_raw and redshift_shim, recreated each run), runs `dbt run` once on
    a fresh warehouse in data/parity-spark (artifacts in target/parity), then compares each
    query's rows per fixture date on its grain key. Prints a table (query, model, legacy rows,
    dbt rows, matching, differing) and the first differing rows side by side, and writes
    target/parity/parity_results.json. Exit 1 on any difference, on a query that errors, or on
    a query without legacy SQL yet."""
    from .. import pg_local
    from .catalogue import select
    from .harness import run

    names = [t for t in (only or "").replace(",", " ").split() if t]
    try:
        select(names)
    except KeyError as exc:
        fail(exc.args[0])
    console = Console() if sys.stdout.isatty() else Console(width=200)
    try:
        code = run(only=names or None, reuse_spark=reuse_spark, max_diffs=max_diffs, results=results,
                   console=console)
    except pg_local.PgError as exc:
        fail(exc, code=1)
    raise typer.Exit(code)
