"""The dbt side: one `dbt run` on local Spark over the fixture, in a warehouse of its own, and
the marts read back from its Parquet files (pyarrow, no Spark session).

The run is the last fixture date with ``late_arrival_days`` = the number of days before it, so
it owns every fixture date (D-L..D) and reads every folder (D-L-1..D). On a fresh warehouse this
gives each date the same rows as building the dates one by one in order for the queries that
read one date, and for those that read history it gives what a full recompute over all the
fixture's events gives (every anonymous id stitched with every link the fixture holds, first-seen
dates over the whole fixture, WAU/MAU windows over all of it): the meaning a legacy query over
the whole raw table has. Date-by-date runs with L = 1 differ only where a date became final
before a later event changed it (a login after D+L, a next session after D+L): see
legacy/README.md.

Where: ``data/parity-spark`` (SEGLOG_SPARK_DIR) and dbt's artifacts in ``target/parity``
(DBT_TARGET_PATH, logs in target/parity/logs), never data/spark or target/. A stamp beside the
warehouse records the fixture's digest and a digest of the dbt project's sources (models/,
macros/, dbt_project.yml), so ``--reuse-spark`` reuses the warehouse only when both still match.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ..project import DATA_DIR, PROJECT_DIR, schema_folder
from .fixture import Fixture

log = logging.getLogger("seglog.parity")

SPARK_DIR = DATA_DIR / "parity-spark"
TARGET_DIR = PROJECT_DIR / "target" / "parity"
STAMP = "parity_stamp.json"
PROJECT_SOURCES = ("models", "macros", "dbt_project.yml")


class SparkSideError(RuntimeError):
    """The dbt run failed or a mart is not in the warehouse; the message says what to do."""


def project_digest() -> str:
    """sha256 of the dbt project's sources that decide the marts (models/, macros/, dbt_project.yml)."""
    h = hashlib.sha256()
    for name in PROJECT_SOURCES:
        path = PROJECT_DIR / name
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for f in files:
            h.update(str(f.relative_to(PROJECT_DIR)).encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def _stamp_path() -> Path:
    return SPARK_DIR / STAMP


def reusable(fixture: Fixture) -> tuple[bool, str]:
    """Whether the warehouse holds the marts of this fixture and of the current models (and why not)."""
    path = _stamp_path()
    if not path.exists():
        return False, f"no finished parity run in {SPARK_DIR}"
    stamp = json.loads(path.read_text())
    if stamp.get("fixture_digest") != fixture.digest:
        return False, "the fixture changed since the warehouse was built"
    if stamp.get("project_digest") != project_digest():
        return False, "models/, macros/ or dbt_project.yml changed since the warehouse was built"
    if stamp.get("dbt_vars") != fixture.dbt_vars():
        return False, "the run's vars changed"
    return True, f"warehouse built {stamp.get('finished_at')} from this fixture and these models"


def _environment() -> dict[str, str]:
    return {"SEGLOG_SPARK_DIR": str(SPARK_DIR), "DBT_TARGET_PATH": str(TARGET_DIR),
            "DBT_LOG_PATH": str(TARGET_DIR / "logs")}


def run_dbt(fixture: Fixture) -> float:
    """`dbt run` of every model over the fixture on a fresh warehouse; returns its seconds."""
    from ..runner import DbtFailed, dbt

    shutil.rmtree(SPARK_DIR, ignore_errors=True)
    SPARK_DIR.mkdir(parents=True)
    TARGET_DIR.mkdir(parents=True, exist_ok=True)
    os.environ.update(_environment())  # read by profiles.yml and seglog.project when dbt starts Spark
    args = ["run", "--target", "local", "--vars", json.dumps(fixture.dbt_vars())]
    log.info("dbt %s (warehouse %s, artifacts %s)", " ".join(args), SPARK_DIR, TARGET_DIR)
    t0 = time.perf_counter()
    try:
        dbt(args)
    except DbtFailed as exc:
        raise SparkSideError(f"{exc}; dbt's log: {TARGET_DIR / 'logs' / 'dbt.log'}") from None
    seconds = time.perf_counter() - t0
    _stamp_path().write_text(json.dumps({
        "fixture_digest": fixture.digest, "project_digest": project_digest(), "dbt_vars": fixture.dbt_vars(),
        "finished_at": time.strftime("%Y-%m-%d %H:%M:%S"), "dbt_seconds": round(seconds, 1)}, indent=2) + "\n")
    return seconds


def table_dir(model: str, schema: str = "marts") -> Path:
    return SPARK_DIR / "warehouse" / schema_folder(schema) / model


def read_partition(model: str, partition: str, value: str, typed: Any) -> tuple[list[str], list[dict[str, Any]]]:
    """The columns and rows of one partition of a mart (the partition column included)."""
    root = table_dir(model)
    if not root.exists():
        raise SparkSideError(f"marts.{model} is not in the parity warehouse {root.parent}: did its dbt model "
                             "fail? Run `seglog parity` without --reuse-spark")
    part = root / f"{partition}={value}"
    if part.exists():
        table = pq.read_table(part)
    else:  # no rows for the date: Spark wrote no folder; the columns come from any other partition
        files = sorted(p for p in root.rglob("*.parquet") if not p.name.startswith((".", "_")))
        table = pq.read_schema(files[0]).empty_table() if files else pa.table({})
    if partition in table.column_names:
        table = table.drop_columns([partition])
    columns = table.column_names + [partition]
    rows = [dict(r, **{partition: typed}) for r in table.to_pylist()]
    return columns, rows


def partition_value(query_partition: str, value: str) -> Any:
    """A partition folder's value as the column holds it (week partitions are DATE columns)."""
    return date.fromisoformat(value) if query_partition.endswith("ywd") else value
