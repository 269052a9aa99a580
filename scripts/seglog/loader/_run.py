"""Load a set of models for a set of run dates into one target, and report what happened.

The target is ``pg_local`` (the project's PostgreSQL, see postgres.py) or ``redshift`` (S3 +
COPY through the Data API, see _redshift.py). Each model is one load (one transaction) covering
every partition the runs rewrote; a model that fails does not stop the others, and the results
(rows, bytes, seconds, reconciliation per partition) are returned for the table and the JSON
that the scheduler posts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Callable, Iterator, Protocol

import pyarrow as pa

from ..redact import redact
from ._ddl import create_table, evolve
from ._load_checksums import LoadResult
from ._plan import Step, TableLoad, plan, plan_partitions
from ._source import Model, Warehouse
from .errors import ConfigError, DdlError, LoadError, ShrinkRefused, SourceError, TypeMappingError

TARGETS = ("pg_local", "redshift")


class Target(Protocol):
    name: str
    where: str  # for the results table's title

    def load(self, job: TableLoad, model: Model, step: Step) -> LoadResult: ...

    def dry_run(self, job: TableLoad, model: Model) -> list[str]: ...

    def current_rows(self, job: TableLoad) -> int: ...


class PostgresTarget:
    name = "pg_local"
    dialect = "postgres"

    def __init__(self, conninfo: dict[str, Any]):
        self.conninfo = conninfo
        self.where = f"PostgreSQL {conninfo['host']}:{conninfo['port']}/{conninfo['dbname']}"

    def load(self, job: TableLoad, model: Model, step: Step) -> LoadResult:
        from ._postgres import load

        return load(self.conninfo, job, step)

    def current_rows(self, job: TableLoad) -> int:
        """The rows the warehouse's table holds now (0 when there is no table)."""
        import psycopg

        from ._postgres import existing_columns, unreachable

        try:
            with psycopg.connect(**self.conninfo) as conn:
                if not existing_columns(conn, job.schema, job.table):
                    return 0
                return int(conn.execute(f"select count(*) from {job.target}").fetchone()[0])
        except psycopg.OperationalError as exc:
            raise unreachable(job.model, exc) from None

    def dry_run(self, job: TableLoad, model: Model) -> list[str]:
        import psycopg

        from ._postgres import existing_columns

        try:
            with psycopg.connect(**self.conninfo, connect_timeout=3) as conn:
                have = existing_columns(conn, job.schema, job.table)
        except psycopg.OperationalError:
            have = {}
        ddl = evolve(job.schema, job.table, have, job.columns).statements if have else [
            create_table(job.schema, job.table, job.columns, "postgres")]
        where = "" if job.partition is None else f" where {job.partition} in ({', '.join(map(repr, job.values))})"
        return ddl + [f"-- then one transaction: COPY … FROM STDIN into a temp table, delete from {job.target}{where}, "
                      "insert the staged rows"]


class RedshiftTarget:
    name = "redshift"
    dialect = "redshift"

    def __init__(self, staging_uri: str | None = None, iam_role: str | None = None, loader: Any = None):
        from ._redshift import RedshiftLoader, Staging

        staging = Staging.from_env(staging_uri, iam_role)
        self.loader = loader or RedshiftLoader.from_env(staging)
        conn = self.loader.api.connection
        self.where = f"Redshift {conn.workgroup or conn.cluster_id}/{conn.database}"

    def load(self, job: TableLoad, model: Model, step: Step) -> LoadResult:
        return self.loader.load(job, model.redshift, step)

    def current_rows(self, job: TableLoad) -> int:
        """The rows the warehouse's table holds now (0 when there is no table)."""
        from ._data_api import StatementFailed

        try:
            if not self.loader.existing_columns(job):
                return 0
            rows = self.loader.api.execute(f"select count(*) from {job.target}")
        except StatementFailed as exc:
            raise LoadError(f"{job.model}: cannot count the rows of {job.target} ({exc}); nothing was "
                            "loaded, the previous rows are intact") from None
        return int(rows[0][0]) if rows else 0

    def dry_run(self, job: TableLoad, model: Model) -> list[str]:
        from ._redshift import batch_statements, ddl_statements

        try:
            have = self.loader.existing_columns(job)
            note = []
        except Exception as exc:  # a dry run must work without AWS access: show the plan for a new table
            have, note = {}, [f"-- (the table's current columns could not be read: {exc.__class__.__name__}; "
                              "shown as a new table)"]
        stage = self.loader.staging.uri(self.loader.staging_prefix(job) + "manifest")
        return note + ddl_statements(job, have, model.redshift) + [
            "-- then one transaction (Data API batch):"] + batch_statements(
            job, stage if job.data.num_rows else None, self.loader.staging.iam_role)


@dataclass
class Outcome:
    target: str
    where: str
    dates: list[date]  # run dates asked for
    owned: list[date]  # the dates their runs rewrote (what was loaded)
    loaded: list[LoadResult] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (model, error)

    @property
    def ok(self) -> bool:
        return not self.failed and all(r.reconciled for r in self.loaded)

    def summary(self) -> str:
        rows = sum(r.rows for r in self.loaded)
        parts = sum(len(r.checks) for r in self.loaded)
        bad = [r.model for r in self.loaded if not r.reconciled]
        empty = [r.model for r in self.loaded if r.no_rows_yet]
        text = (f"{len(self.loaded)} model(s), {parts} partition(s), {rows:,} rows loaded into {self.target} "
                f"for {self.owned[0]}..{self.owned[-1]}" if self.owned else f"nothing loaded into {self.target}")
        if empty:
            text += f"; warning: no rows yet in {', '.join(empty)} (the table is created, nothing to load)"
        warned = [w for r in self.loaded for w in r.warnings]
        if warned:
            text += f"; {len(warned)} warning(s): " + " | ".join(warned)
        if bad:
            text += f"; NOT reconciled: {', '.join(bad)}"
        if self.failed:
            text += f"; FAILED: {', '.join(m for m, _ in self.failed)}"
        return text + ("; all reconciled" if self.ok else "")

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "summary": self.summary(), "target": self.target, "where": self.where,
                "dates": [d.isoformat() for d in self.dates], "owned_dates": [d.isoformat() for d in self.owned],
                "loaded": [r.as_json() for r in self.loaded],
                "no_rows_yet": [r.model for r in self.loaded if r.no_rows_yet],
                "failed": [{"model": m, "error": e} for m, e in self.failed]}

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.as_json(), indent=2, ensure_ascii=False))


def owned_dates(warehouse: Warehouse, run_dates: list[date]) -> list[date]:
    """Every date the runs for ``run_dates`` rewrote, from their audit rows."""
    return sorted({d for run in run_dates for d in warehouse.owned_dates(run)})


CHUNK = 7  # partitions per transaction: a backfill holds a week of one model in memory, not a year
# A whole-table load (dim_users, the traits snapshot) may hold at most this share fewer rows than
# the warehouse's table before it is refused (unless allow_shrink): these tables only grow, or
# shrink a little when identity stitching folds anonymous users into known ones. A Spark table
# cut short by a failed overwrite would otherwise replace the warehouse's rows with a part of them.
MAX_SHRINK = 0.10


def check_not_lost(job: TableLoad, model: Model, target: Target, allow_shrink: bool = False) -> None:
    """Refuse (LoadError) a load that would take rows away that Spark did not mean to drop: a Spark
    table with no row at all while the warehouse's holds rows, or a whole table with more than
    MAX_SHRINK fewer rows than the warehouse's. ``allow_shrink``: the caller knows and accepts, for
    whole tables only (a partitioned mart with no row at all is always refused: it was lost)."""
    if job.partition is not None and not job.no_rows_yet:
        return
    if allow_shrink and job.partition is None:
        return
    have = target.current_rows(job)
    new = 0 if job.no_rows_yet else job.data.num_rows
    if not have:
        return
    if job.no_rows_yet:
        raise ShrinkRefused(
            f"{model.name}: its Spark table has no row at all, yet {job.target} in {target.where} holds "
            f"{have:,} rows: that is not a mart never written but one whose Spark table was lost or emptied. "
            "Nothing was replaced; the warehouse's rows are intact. Check the Spark warehouse "
            "(SEGLOG_WAREHOUSE) and rerun the dates it is missing before loading"
            + ("; if the table is meant to be empty, load again with --allow-shrink" if job.partition is None else ""))
    if new < have * (1 - MAX_SHRINK):
        raise ShrinkRefused(
            f"{model.name}: its Spark table holds {new:,} rows, {have - new:,} fewer than the {have:,} of "
            f"{job.target} in {target.where} ({(have - new) / have:.0%} fewer; a whole-table load may drop at "
            f"most {MAX_SHRINK:.0%}). Nothing was replaced; the warehouse's rows are intact. If Spark's table "
            "was cut short (a failed run), rerun the latest date with `seglog run` first; if the drop is "
            "meant (users deleted, history rebuilt), load again with --allow-shrink")


def load_all(models: list[Model], warehouse: Warehouse, run_dates: list[date], target: Target,
             progress: Callable[[str, str], None] = lambda model, step: None,
             done: Callable[[str], None] = lambda model: None, owned: list[date] | None = None,
             allow_shrink: bool = False) -> Outcome:
    """Load each model, at most CHUNK partitions per transaction; a failure is recorded and the
    next model goes on (the results are always complete enough to write). ``owned``: the runs'
    dates from owned_dates, when the caller has read them already. ``allow_shrink``: see
    check_not_lost."""
    owned = owned if owned is not None else owned_dates(warehouse, run_dates)
    outcome = Outcome(target.name, target.where, run_dates, owned)
    dialect = getattr(target, "dialect", "postgres")
    for model in models:
        values = model.partition_values(owned)
        chunks = [values[i:i + CHUNK] for i in range(0, len(values), CHUNK)] or [[]]
        parts: list[LoadResult] = []
        error = None
        for chunk in chunks:
            progress(model.name, "reading the Parquet rows and deriving types"
                     + (f" ({chunk[0]}..{chunk[-1]})" if len(chunks) > 1 else ""))
            try:
                job = plan_partitions(model, warehouse, chunk, dialect)
                check_not_lost(job, model, target, allow_shrink)
                part = target.load(job, model, lambda step, m=model.name: progress(m, step))
                part.no_rows_yet = job.no_rows_yet  # created with its columns, nothing to load: a warning
                parts.append(part)
            except (SourceError, TypeMappingError, DdlError, LoadError, ConfigError) as exc:
                error = str(exc)
            except (pa.ArrowException, OSError) as exc:  # reading the Spark table's files, or converting its rows
                error = (f"{model.name}: reading or converting its rows failed ({exc.__class__.__name__}: "
                         f"{str(exc)[:300]}); nothing of these partitions was loaded, their previous rows are intact")
            except Exception as exc:  # noqa: BLE001 - a bug must not lose the other models' results
                error = (f"{model.name}: unexpected {exc.__class__.__name__}: {str(exc)[:300]}; the load of "
                         f"{', '.join(chunk) or 'the table'} may not have completed: load again (safe to repeat)")
            if error:
                if parts:
                    error += f" (the partitions before {chunk[0]} were loaded)"
                break
        if parts:
            outcome.loaded.append(LoadResult.merged(parts))
        if error:
            outcome.failed.append((model.name, redact(error)))
        done(model.name)
    return outcome


def dry_run(models: list[Model], warehouse: Warehouse, owned: list[date],
            target: Target, allow_shrink: bool = False) -> Iterator[tuple[str, list[str]]]:
    """What a load would do, loading nothing: per model a header line and the statements (DDL,
    ALTERs, the load's own) it would send; a model that cannot be planned, or whose change or
    shrink the load would refuse, says so in a comment, and the others are still shown."""
    for model in models:
        try:
            job = plan(model, warehouse, owned, target.dialect)
        except Exception as exc:  # noqa: BLE001 - shown, and the other models are still shown
            yield f"-- {model.name}: cannot plan: {exc}", []
            continue
        header = f"-- {model.name}: {job.data.num_rows:,} rows" + (
            f", partitions {', '.join(job.values)}" if job.partition else " (whole table)")
        statements: list[str] = []
        try:
            statements = target.dry_run(job, model) or ["-- (table up to date)"]
            check_not_lost(job, model, target, allow_shrink)
        except (DdlError, ShrinkRefused) as exc:  # what the load would refuse: shown as the load would say it
            statements = [f"-- the load would stop here: {exc}"]
        except LoadError:  # the warehouse's rows could not be counted (not reachable): the plan stands
            pass
        yield header, [stmt + ("" if stmt.startswith("--") else ";") for stmt in statements]
