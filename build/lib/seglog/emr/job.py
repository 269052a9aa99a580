"""The EMR Serverless job's entry point: runs inside the Spark driver, one dbt build per date.

    python -m seglog.emr.job --date 2023-11-08 [--to …] [--vars '{…}'] \
        --artifacts s3://bucket/segment-spark/runs [--target emr]

For each date, oldest first: validate the vars (a bad value exits 2 before Spark starts), run
``dbt build`` through dbtRunner with the given target (``emr``: the session spark-submit made,
Glue as the metastore; ``local`` for the rehearsal), then write the run's artifacts under
``{artifacts}/ymd={date}/``:

    run_results.json, manifest.json   dbt's own (what ran, what failed, the models' contract)
    audit.json                        the run's audit rows (lines read and where each went)
    row_counts.json                   rows per loadable model and owned partition, counted by
                                      Spark SQL: what the scheduler reconciles the warehouse with

The artifacts are written even when dbt fails (run_results.json says what failed); the process
then exits 1, so EMR marks the job FAILED and the scheduler never loads a half-built day.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Sequence

log = logging.getLogger("seglog.emr.job")

ARTIFACTS = ("run_results.json", "manifest.json")
EXIT_BAD_ARGS = 2
EXIT_DBT_FAILED = 1


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="seglog.emr.job", description=__doc__.split("\n\n")[0])
    p.add_argument("--date", required=True, help="KST business date (YYYY-MM-DD)")
    p.add_argument("--to", help="last date of a backfill (each date is built in order)")
    p.add_argument("--vars", default="{}", help="more dbt vars as JSON/YAML (date is given by --date)")
    p.add_argument("--target", default="emr", help="dbt target in profiles.yml (emr on EMR, local to rehearse)")
    p.add_argument("--artifacts", required=True, help="s3://bucket/prefix (or a local folder) for the run's artifacts")
    return p.parse_args(list(argv))


def run_dates(args: argparse.Namespace) -> tuple[list[date], dict[str, Any]]:
    """The dates and the validated vars; raises VarError on a bad value (before any work)."""
    import yaml

    from ..run_vars import VarError, parse_date, validate

    try:
        overrides = yaml.safe_load(args.vars) if args.vars else {}
    except (yaml.YAMLError, ValueError) as exc:
        raise VarError(f"--vars is not valid JSON/YAML: {exc}") from None
    if not isinstance(overrides, dict):
        raise VarError(f"--vars must be a mapping, got {args.vars!r}")
    if "date" in overrides:
        raise VarError("--vars must not hold date: give it as --date")
    effective = validate(dict(overrides, date=args.date))
    first = parse_date(effective["date"])
    last = parse_date(args.to, "to") if args.to else first
    if last < first:
        raise VarError(f"--to {last} is before --date {first}")
    if (last - first).days > 366:
        raise VarError(f"--date {first} --to {last} is more than a year of runs; split the backfill")
    if not (args.artifacts.startswith("s3://") or args.artifacts.startswith("/")):
        raise VarError(f"--artifacts {args.artifacts!r}: give s3://bucket/prefix or an absolute folder")
    return [first + timedelta(days=i) for i in range((last - first).days + 1)], effective


class Artifacts:
    """Writes a run's files under ``{root}/ymd={date}/``: S3 (boto3) or a local folder."""

    def __init__(self, root: str):
        self.root = root.rstrip("/")
        self._s3 = None
        if self.root.startswith("s3://"):
            import boto3

            self._s3 = boto3.client("s3")

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

    return SparkSession.builder.getOrCreate()  # the session dbt's session method made


def _relation(schema: str, table: str) -> str:
    return f"`{schema}`.`{table}`"


def audit_rows(spark: Any, audit_schema: str, day: date) -> list[dict[str, Any]]:
    rows = spark.sql(f"select * from {_relation(audit_schema, 'segment_run_audit')} "
                     f"where run_ymd = '{day.isoformat()}' order by source_key").collect()
    return [r.asDict() for r in rows]


def row_counts(spark: Any, models: dict[str, Any], owned: list[date]) -> dict[str, dict[str, int]]:
    """Rows per model and partition of the owned dates, counted by Spark SQL (an independent path
    from the loader's Parquet reading). A model without a partition is counted whole ("*")."""
    out: dict[str, dict[str, int]] = {}
    for name, model in sorted(models.items()):
        rel = _relation(model.schema, model.table)
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


def build_one(day: date, effective: dict[str, Any], target: str, artifacts: Artifacts) -> bool:
    from ..loader.source import loadable_models
    from ..project import PROJECT_DIR
    from ..runner import DbtFailed, dbt_build

    day_vars = dict(effective, date=day.isoformat())
    log.info("dbt build for %s (target %s)", day, target)
    ok = True
    try:
        dbt_build(day_vars, ["--target", target])
    except DbtFailed as exc:
        log.error("%s: %s", day, exc)
        ok = False
    target_dir = Path(os.environ.get("DBT_TARGET_PATH", PROJECT_DIR / "target"))
    for name in ARTIFACTS:
        if (target_dir / name).exists():
            log.info("wrote %s", artifacts.put(day, name, (target_dir / name).read_bytes()))
    if not ok:
        return False
    spark = _spark()
    models = loadable_models(target_dir / "manifest.json")
    audit = audit_rows(spark, f"{os.environ.get('SEGLOG_SCHEMA_PREFIX', '')}audit", day)
    if not audit:
        log.error("%s: dbt succeeded but the run wrote no audit row", day)
        return False
    owned_from = min(date.fromisoformat(r["owned_from_ymd"]) for r in audit)
    owned_to = max(date.fromisoformat(r["owned_to_ymd"]) for r in audit)
    owned = [owned_from + timedelta(days=i) for i in range((owned_to - owned_from).days + 1)]
    artifacts.put(day, "audit.json", json.dumps(audit, default=str, indent=2).encode())
    counts = {"run_date": day.isoformat(), "owned_dates": [d.isoformat() for d in owned],
              "models": row_counts(spark, models, owned)}
    log.info("wrote %s", artifacts.put(day, "row_counts.json", json.dumps(counts, indent=2).encode()))
    return True


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    from ..run_vars import VarError

    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        days, effective = run_dates(args)
    except VarError as exc:
        log.error("refused before Spark started: %s", exc)
        return EXIT_BAD_ARGS
    artifacts = Artifacts(args.artifacts)
    for day in days:
        if not build_one(day, effective, args.target, artifacts):
            log.error("the job failed on %s%s", day, f"; later dates were not built (resume with --date {day})"
                      if day != days[-1] else "")
            return EXIT_DBT_FAILED
    log.info("built %s..%s", days[0], days[-1])
    return 0


if __name__ == "__main__":  # pragma: no cover - spark-submit / python -m entry
    sys.exit(main())
