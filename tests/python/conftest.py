"""Shared fixtures. Spark-backed tests share one in-process Spark session (one JVM, one Derby
metastore) and one small generated data set, built once per pytest run."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from seglog import generator
from seglog.project import default_vars

# Small but with every fault present: rates higher than the sample's so each kind shows up.
PIPELINE_RATES = generator.FaultRates(duplicate=0.03, malformed=0.01, late=0.03)
PIPELINE_START, PIPELINE_END = date(2023, 11, 6), date(2023, 11, 10)


@pytest.fixture(scope="session")
def pipeline_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("raw") / "segment-logs"
    generator.generate(root, PIPELINE_START, PIPELINE_END, seed=7, events_per_day=3000, files_per_day=12,
                       rates=PIPELINE_RATES, source_ids=default_vars()["segment_sources"])
    return root


@pytest.fixture(scope="session")
def spark_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh warehouse + metastore for this pytest run, set before Spark starts."""
    path = tmp_path_factory.mktemp("spark")
    os.environ["SEGLOG_SPARK_DIR"] = str(path)
    return path
