"""How long the local Spark session takes to start, on its own: the part of every local run that
no model can make shorter. Run as its own process; writes the seconds to OUT.

The session is built exactly as dbt-spark's session method builds it (enableHiveSupport and
the profile's server_side_parameters), from profiles.yml rendered with the same env_var()
defaults dbt uses; only dbt itself is left out, so its parse time is not counted here.

    python -m benchmarks.jvm_start OUT
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import jinja2
import yaml

from seglog.runner import ensure_profile


def local_parameters() -> dict[str, str]:
    def env_var(name: str, default: str | None = None) -> str:
        if name in os.environ:
            return os.environ[name]
        if default is None:
            raise KeyError(f"env var {name} is not set and has no default in profiles.yml")
        return default

    text = jinja2.Template(ensure_profile().read_text()).render(env_var=env_var)
    return dict(yaml.safe_load(text)["segment_spark"]["outputs"]["local"]["server_side_parameters"])


def main(out: Path) -> None:
    from pyspark.sql import SparkSession

    os.environ.setdefault("SEGLOG_HOME", str(Path(__file__).resolve().parents[1]))
    builder = SparkSession.builder.enableHiveSupport()
    for key, value in local_parameters().items():
        builder = builder.config(key, str(value))
    t0 = time.perf_counter()
    spark = builder.getOrCreate()
    spark.sql("select 1").collect()  # the first query: the session is usable
    out.write_text(json.dumps({"seconds": time.perf_counter() - t0}))
    spark.stop()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
