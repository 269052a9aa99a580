"""Case 1, run as its own process (one JVM): the typed read of one business day against schema
inference and the decompress floor, over the same folders, each several times, interleaved.

  typed     our staging read: the SQL dbt compiles for base_segment__web_app_lines and
            base_segment__procedure_lines (declared schema, flattened, classified), with
            late_arrival_days 0 so it reads exactly the two UTC folders of the KST day
  inferred  spark.read.json over the same folders: a first pass infers the schema, a second reads
  floor     spark.read.text(...).count(): only decompressing and splitting lines

Every variant is forced to compute every column (the noop sink), not just a count. The Spark
session is the one dbt creates from profiles.yml (dbt compile runs in this process first), so
the settings are the local default's. Writes one JSON object to OUT.

    python -m benchmarks.read_case ROOT DATE REPS OUT
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Any, Callable

from benchmarks.harness import run_callable
from seglog.runner import dbt

LINES_MODELS = ("base_segment__web_app_lines", "base_segment__procedure_lines")


def compiled_reads(root: str, day: str) -> list[str]:
    vars_ = {"date": day, "late_arrival_days": 0, "segment_root": root}
    dbt(["compile", "--quiet", "--select", *LINES_MODELS, "--vars", json.dumps(vars_)])
    target = Path(os.environ.get("DBT_TARGET_PATH", "target"))
    if not target.is_absolute():
        target = Path(__file__).resolve().parents[1] / target
    base = target / "compiled" / "segment_spark" / "models" / "staging" / "segment" / "base"
    return [(base / f"{m}.sql").read_text() for m in LINES_MODELS]


def main(root: str, day: str, reps: int) -> dict[str, Any]:
    from pyspark.sql import SparkSession

    sqls = compiled_reads(root, day)
    spark = SparkSession.builder.getOrCreate()  # dbt's session, with the profile's settings
    spark.sparkContext.setLogLevel("ERROR")
    # `dbt compile` creates no view (macro segment_raw_view): create the two the SQL reads, as
    # that macro does, from the folders its compiled comment names.
    reads = [r for s in sqls for r in re.findall(r"from (seglog_raw_text__\w+) /\* folders: (\S+) \*/", s)]
    assert len(reads) == 2, f"expected one raw read per lines model, found {reads}"
    for view, glob in reads:
        spark.sql(f"create or replace temporary view {view} using text options (path '{glob}', ignoreCorruptFiles 'true')")
    globs = [glob for _, glob in reads]
    # the settings the lines models run as a pre-hook (macro segment_reader_session), as compiled
    settings = sorted({s for sql in sqls for s in re.findall(r"-- session: (set [^\n]+)", sql)})
    assert settings, "the compiled lines models name no session setting (macro segment_reader_session)"
    for statement in settings:
        spark.sql(statement)

    def floor() -> dict[str, Any]:
        return {"lines": sum(spark.read.text(g).count() for g in globs)}

    def typed() -> dict[str, Any]:
        for sql in sqls:
            spark.sql(sql).write.format("noop").mode("overwrite").save()
        return {}

    def inferred() -> dict[str, Any]:
        for g in globs:
            spark.read.json(g).write.format("noop").mode("overwrite").save()
        return {}

    variants: dict[str, Callable[[], dict[str, Any]]] = {"floor": floor, "typed": typed, "inferred": inferred}
    floor()  # warm-up, not counted: the files into the page cache, the JIT through the reader
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in variants}
    for _ in range(reps):
        for name, fn in variants.items():
            run = run_callable(fn)
            runs[name].append({"seconds": run.seconds, "peak_rss": run.peak_rss, **run.detail})
    return {"globs": globs, "lines": runs["floor"][0]["lines"], "runs": runs}


if __name__ == "__main__":
    Path(sys.argv[4]).write_text(json.dumps(main(sys.argv[1], sys.argv[2], int(sys.argv[3]))))
