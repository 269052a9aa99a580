"""The EMR Serverless job's entry point: runs inside the Spark driver, one dbt build per date.

    python -m seglog.emr.job --date 2023-11-08 [--to …] [--vars '{…}'] \
        --raw-root s3://bucket/segment-logs --database-prefix segment_ --region ap-northeast-2 \
        --artifacts s3://bucket/segment-spark/runs [--target emr]

The scheduler tells the job everything it must agree on: the raw root its sensors watched
(``--raw-root``: the job never falls back to dbt_project.yml's sample folder on the ``emr``
target, and exits 2 without it), the Segment source ids (``segment_sources`` in ``--vars``),
the Glue databases' prefix and the region. Before dbt starts, the job makes sure each Glue
database it writes (``{prefix}staging``, ``{prefix}marts``, …) is its own: created under the
session's warehouse when missing, and the run stops (exit 2) when a database of that name
already lives somewhere else (Glue names are account-wide: it may be another team's).

For each date, oldest first: validate the vars (a bad value exits 2 before Spark starts), run
``dbt build`` through dbtRunner with the given target (``emr``: the session spark-submit made,
Glue as the metastore; ``local`` for tests), then write the run's artifacts under
``{artifacts}/ymd={date}/``:

    run_results.json, manifest.json   dbt's own (what ran, what failed, the models' contract)
    audit.json                        the run's audit rows (lines read and where each went)
    row_counts.json                   rows per loadable model and owned partition, counted by
                                      Spark SQL: what the scheduler reconciles the warehouse with
    job.json                          the raw root given and the roots of the files actually read
    dbt.log                           dbt's log of the run (dbt's target/ and logs/ are written
                                      beside the unpacked archives, never inside them)

The artifacts are written even when dbt fails (run_results.json says what failed); the process
then exits 1, so EMR marks the job FAILED and the scheduler never loads a half-built day.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from datetime import date
from pathlib import Path
from typing import Any, Sequence

log = logging.getLogger("seglog.emr.job")

ARTIFACTS = ("run_results.json", "manifest.json")
EXIT_BAD_ARGS = 2
EXIT_DBT_FAILED = 1
# The schemas the project's models, snapshot and seeds write (dbt_project.yml, generate_schema_name);
# tests/python checks the list against a manifest.
LAYER_SCHEMAS = ("analytics", "staging", "intermediate", "marts", "snapshots", "audit")


class JobRefused(RuntimeError):
    """The job will not build: its settings disagree with the scheduler's or the catalog's."""


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="seglog.emr.job", description=__doc__.split("\n\n")[0])
    p.add_argument("--date", required=True, help="KST business date (YYYY-MM-DD)")
    p.add_argument("--to", help="last date of a backfill (each date is built in order)")
    p.add_argument("--vars", default="{}", help="more dbt vars as JSON/YAML (date is given by --date)")
    p.add_argument("--target", default="emr", help="dbt target in profiles.yml (emr on EMR, local to rehearse)")
    p.add_argument("--artifacts", required=True, help="s3://bucket/prefix (or a local folder) for the run's artifacts")
    p.add_argument("--raw-root", help="the folder holding the Segment source-id folders (s3://bucket/segment-logs), "
                                      "the one the scheduler's sensors watched; required on the emr target")
    p.add_argument("--database-prefix", default="", help="prefix of the Glue databases the job writes "
                                                           "(segment_ gives segment_staging, segment_marts, …)")
    p.add_argument("--region", help="the AWS region of the buckets and the catalog (every client's region)")
    return p.parse_args(list(argv))


def run_dates(args: argparse.Namespace) -> tuple[list[date], dict[str, Any]]:
    """The dates and the validated vars; raises VarError on a bad value (before any work)."""
    from ..run_request import RunRequest, VarError, parse_vars_text

    if "segment_root" in parse_vars_text(args.vars):
        raise VarError("--vars must not hold segment_root: give the raw root as --raw-root")
    if not args.raw_root and args.target == "emr":
        raise VarError("the emr target needs --raw-root: the folder of the Segment source-id folders that the "
                       "scheduler's sensors watched (s3://bucket/segment-logs); dbt_project.yml's sample folder "
                       "is not in the job's bundle")
    request = RunRequest.parse(args.date, args.to, args.vars, segment_root=args.raw_root)
    from .spec import PREFIX_RE, REGION_RE  # the request's own rules, not a second copy

    if args.database_prefix and not PREFIX_RE.fullmatch(args.database_prefix):
        raise VarError(f"--database-prefix {args.database_prefix!r}: lower-case letters, digits and _, ending in _ "
                       "(e.g. segment_)")
    if args.target == "emr" and not args.database_prefix:
        raise VarError("the emr target needs --database-prefix (e.g. segment_): Glue database names are "
                       "account-wide, and bare names such as marts may be another team's")
    if args.region is not None and not REGION_RE.fullmatch(args.region):
        raise VarError(f"--region {args.region!r}: an AWS region such as ap-northeast-2")
    if not (args.artifacts.startswith("s3://") or args.artifacts.startswith("/")):
        raise VarError(f"--artifacts {args.artifacts!r}: give s3://bucket/prefix or an absolute folder")
    return request.days(), request.vars


class Artifacts:
    """Writes a run's files under ``{root}/ymd={date}/``: S3 (boto3) or a local folder."""

    def __init__(self, root: str, region: str | None = None):
        self.root = root.rstrip("/")
        self._s3 = None
        if self.root.startswith("s3://"):
            import boto3

            self._s3 = boto3.client("s3", region_name=region)

    def put(self, day: date, name: str, body: bytes) -> str:
        where = f"{self.root}/ymd={day.isoformat()}/{name}"
        if self._s3 is not None:
            bucket, _, key = where[len("s3://"):].partition("/")
            self._s3.put_object(Bucket=bucket, Key=key, Body=body)
        else:
            Path(where).parent.mkdir(parents=True, exist_ok=True)
            Path(where).write_bytes(body)
        return where


def _spark():
    from pyspark.sql import SparkSession

    # the session spark-submit made, with the Hive catalog (Glue on EMR) as dbt-spark's session
    # method asks for: the first getOrCreate fixes the catalog for the whole process
    return SparkSession.builder.enableHiveSupport().getOrCreate()


def _relation(schema: str, table: str) -> str:
    return f"`{schema}`.`{table}`"


def _location(value: str) -> str:
    """A database location as Spark or Glue reports it, in one form (file:/x, file:///x and /x alike)."""
    text = value.rstrip("/")
    if text.startswith("file:"):
        text = "/" + text[len("file:"):].lstrip("/")
    return text


def ensure_databases(spark: Any, prefix: str, schemas: Sequence[str] = LAYER_SCHEMAS) -> list[str]:
    """Create the job's databases under the session's warehouse, or check that the existing ones
    are there; raise JobRefused naming each that lives elsewhere. Returns the databases created."""
    warehouse = _location(spark.conf.get("spark.sql.warehouse.dir"))
    missing, elsewhere = [], []
    for schema in schemas:
        name = f"{prefix}{schema}"
        if not spark.sql(f"show databases like '{name}'").collect():
            missing.append(name)
            continue
        info = {r[0].lower(): r[1] for r in spark.sql(f"describe database `{name}`").collect()}
        found = _location(str(info.get("location", "")))
        if found != f"{warehouse}/{name}.db":
            elsewhere.append(f"{name} at {found}")
    if elsewhere:
        raise JobRefused(f"database(s) {'; '.join(elsewhere)}, not under this job's warehouse {warehouse}: a "
                         "database of that name belongs to someone else (Glue names are account-wide) or to "
                         "another warehouse. Choose another prefix (--database-prefix; the DAG's Variable "
                         "glue_database_prefix) or move the database; nothing was built")
    for name in missing:
        spark.sql(f"create database if not exists `{name}` location '{warehouse}/{name}.db'")
    return missing


def raw_roots_read(spark: Any, staging_schema: str) -> list[str]:
    """The folders above the source-id folders of every file the run listed (base_segment__files)."""
    rows = spark.sql(f"select distinct file_name from {_relation(staging_schema, 'base_segment__files')}").collect()
    return sorted({str(r[0]).rsplit("/", 3)[0] for r in rows if r[0]})


def audit_rows(spark: Any, audit_schema: str, day: date) -> list[dict[str, Any]]:
    rows = spark.sql(f"select * from {_relation(audit_schema, 'segment_run_audit')} "
                     f"where run_ymd = '{day.isoformat()}' order by source_key").collect()
    return [r.asDict() for r in rows]


def row_counts(spark: Any, models: dict[str, Any], owned: list[date], prefix: str = "") -> dict[str, dict[str, int]]:
    """Rows per model and partition of the owned dates, counted by Spark SQL (an independent path
    from the loader's Parquet reading). A model without a partition is counted whole ("*")."""
    out: dict[str, dict[str, int]] = {}
    for name, model in sorted(models.items()):
        rel = _relation(f"{prefix}{model.schema}", model.table)
        if model.partition is None:
            out[name] = {"*": int(spark.sql(f"select count(*) as n from {rel}").collect()[0]["n"])}
            continue
        values = model.partition_values(owned)
        in_list = ", ".join(f"'{v}'" for v in values)  # dates built here, never user text
        counted = {str(r["p"]): int(r["n"]) for r in spark.sql(
            f"select cast(`{model.partition}` as string) as p, count(*) as n from {rel} "
            f"where cast(`{model.partition}` as string) in ({in_list}) group by 1").collect()}
        out[name] = {v: counted.get(v, 0) for v in values}
    return out


def never_written(spark: Any, models: dict[str, Any], prefix: str = "") -> list[str]:
    """The loadable models whose table has no row at all yet (a first deployment, an event not sent
    yet): the reconciliation reports them as "no rows yet", a warning."""
    return [name for name, model in sorted(models.items())
            if not spark.sql(f"select 1 from {_relation(f'{prefix}{model.schema}', model.table)} limit 1").collect()]


def _put_dbt_files(day: date, artifacts: Artifacts) -> None:
    """dbt's own files of the run (also when it failed): run_results, manifest, dbt.log."""
    from ..project import PROJECT_DIR

    target_dir = Path(os.environ.get("DBT_TARGET_PATH", PROJECT_DIR / "target"))
    log_file = Path(os.environ.get("DBT_LOG_PATH", PROJECT_DIR / "logs")) / "dbt.log"
    for path in [*(target_dir / name for name in ARTIFACTS), log_file]:
        if path.exists():
            log.info("wrote %s", artifacts.put(day, path.name, path.read_bytes()))


def build_one(day: date, effective: dict[str, Any], target: str, artifacts: Artifacts) -> bool:
    from ..audit import owned_dates as audit_owned_dates
    from ..loader import loadable_models
    from ..project import PROJECT_DIR
    from ..runner import DbtFailed, dbt_build

    day_vars = dict(effective, date=day.isoformat())
    log.info("dbt build for %s (target %s), raw logs under %s", day, target, effective["segment_root"])
    ok = True
    try:
        dbt_build(day_vars, ["--target", target])
    except DbtFailed as exc:
        log.error("%s: %s", day, exc)
        ok = False
    _put_dbt_files(day, artifacts)
    if not ok:
        return False
    spark = _spark()
    prefix = os.environ.get("SEGLOG_SCHEMA_PREFIX", "")
    models = loadable_models(Path(os.environ.get("DBT_TARGET_PATH", PROJECT_DIR / "target")) / "manifest.json")
    audit = audit_rows(spark, f"{prefix}audit", day)
    if not audit:
        log.error("%s: dbt succeeded but the run wrote no audit row", day)
        return False
    owned = audit_owned_dates(audit)
    artifacts.put(day, "audit.json", json.dumps(audit, default=str, indent=2).encode())
    read = raw_roots_read(spark, f"{prefix}staging")
    log.info("the run read files under %s (raw root given: %s)", ", ".join(read) or "nothing",
             effective["segment_root"])
    artifacts.put(day, "job.json", json.dumps({"raw_root": effective["segment_root"], "raw_roots_read": read,
                                               "database_prefix": prefix, "target": target}, indent=2).encode())
    counts = {"run_date": day.isoformat(), "owned_dates": [d.isoformat() for d in owned],
              "models": row_counts(spark, models, owned, prefix),
              "no_rows_yet": never_written(spark, models, prefix)}
    log.info("wrote %s", artifacts.put(day, "row_counts.json", json.dumps(counts, indent=2).encode()))
    return True


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    from ..run_request import VarError

    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        days, effective = run_dates(args)
    except VarError as exc:
        log.error("refused before Spark started: %s", exc)
        return EXIT_BAD_ARGS
    os.environ["SEGLOG_SCHEMA_PREFIX"] = args.database_prefix  # dbt's generate_schema_name reads it
    if args.target == "emr":  # the session spark-submit made (Glue); other targets' dbt makes its own
        try:
            made = ensure_databases(_spark(), args.database_prefix)
        except JobRefused as exc:
            log.error("refused before dbt started: %s", exc)
            return EXIT_BAD_ARGS
        if made:
            log.info("created database(s) %s under the warehouse", ", ".join(made))
    artifacts = Artifacts(args.artifacts, args.region)
    for day in days:
        if not build_one(day, effective, args.target, artifacts):
            log.error("the job failed on %s%s", day, f"; later dates were not built (resume with --date {day})"
                      if day != days[-1] else "")
            return EXIT_DBT_FAILED
    log.info("built %s..%s", days[0], days[-1])
    return 0


if __name__ == "__main__":  # pragma: no cover - spark-submit / python -m entry
    sys.exit(main())
