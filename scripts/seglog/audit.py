"""The run audit (`audit.segment_run_audit`, one row per source and run date), read back in one
place: a run's rows, the dates it owns, the rule that its counts tie out, and whether the run
finished (`audit.segment_run_started` / `segment_run_completed`). The model writes
the rows and tests the same rule in SQL (models/audit/segment_run_audit.sql and its YAML);
everything in Python that needs them (`seglog audit`, `seglog run`, the loader, the EMR job, the
benchmarks) calls this module."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Iterable

import pyarrow.parquet as pq

from .kst_calendar import date_range
from .project import schema_folder, spark_dir

# The counts of a row, in the order the audit table prints them.
COUNTS = ("lines_read", "events_staged", "duplicates", "quarantined", "out_of_window", "kept_aside")
# Where every line read went (kept_aside is part of out_of_window, not a term of the sum).
TIE_OUT = ("events_staged", "duplicates", "quarantined", "out_of_window")
TIE_OUT_RULE = "lines read = events staged + duplicates + quarantined + out of window"
# The files of the folders read, by what became of them (base_segment__files.file_status).
FILE_COUNTS = ("files_read", "files_truncated", "files_corrupt", "files_unreadable", "files_skipped")


def ties_out(row: dict[str, Any]) -> bool:
    """Every line the run read for the row's source is accounted for, once."""
    return row["lines_read"] == sum(row[c] for c in TIE_OUT)


def owned_dates(rows: Iterable[dict[str, Any]]) -> list[date]:
    """The business dates the run rewrote (D-L..D), from its rows' owned_from_ymd..owned_to_ymd."""
    rows = list(rows)
    if not rows:
        return []
    first = min(date.fromisoformat(str(r["owned_from_ymd"])) for r in rows)
    last = max(date.fromisoformat(str(r["owned_to_ymd"])) for r in rows)
    return date_range(first, last)


def unfinished(run_day: date, started: Iterable[dict[str, Any]], completed: Iterable[dict[str, Any]]) -> str | None:
    """Why the run's marts must not be loaded (None when they may): the dbt invocation recorded in
    audit.segment_run_started (written before anything the loader loads is rewritten) must also
    have written audit.segment_run_completed (written after every mart and the snapshot were
    built and tested)."""
    began = {r.get("invocation_id") for r in started}
    if not began:
        return (f"the run for {run_day} was built before runs recorded that they finished (no "
                f"audit.segment_run_started row): run `seglog run --date {run_day}` again, then load")
    if not began & {r.get("invocation_id") for r in completed}:
        return (f"the run for {run_day} did not finish: the dbt invocation that began rewriting its partitions "
                "did not build every mart (a model or a test failed, or the run was stopped), so the marts may "
                f"hold a part of it. Fix what failed, run `seglog run --date {run_day}` again and load after it "
                "succeeds")
    return None


def read_run(run_ymd: str, spark_root: Path | None = None) -> list[dict[str, Any]]:
    """The audit rows of one run date from the local warehouse's Parquet files (the project's
    SEGLOG_SPARK_DIR, or the one under ``spark_root``), by source; [] when the date has not run."""
    part = (spark_root or spark_dir()) / "warehouse" / schema_folder("audit") / "segment_run_audit" / f"run_ymd={run_ymd}"
    if not part.exists():
        return []
    return sorted(pq.read_table(part).to_pylist(), key=lambda r: r["source_key"])
