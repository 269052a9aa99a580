"""Shared fixtures. Spark-backed tests share one in-process Spark session (one JVM, one Derby
metastore) and one small generated data set, built once per pytest run."""

from __future__ import annotations

import gzip
import os
from datetime import date
from pathlib import Path

import pytest

from seglog import generator
from seglog.project import default_vars

# Small but with every fault present: rates higher than the sample's so each kind shows up.
PIPELINE_RATES = generator.FaultRates(duplicate=0.03, malformed=0.01, late=0.03)
PIPELINE_START, PIPELINE_END = date(2023, 11, 6), date(2023, 11, 10)


# Hand-written lines, one per reason, added to the web source's 2023-11-08 folder: (line, expected reason).
HANDMADE = [
    (b'{"messageId":"hm-type","timestamp":"not a time","receivedAt":"2023-11-08T01:00:00Z","type":"track"}',
     "field_type_mismatch"),
    (b'{"messageId":"hm-trunc","timestamp":"2023-11-08T01:00:00Z","properties":{"pa', "malformed_json"),
    (b'{"messageId":"hm-norecv","timestamp":"2023-11-08T01:00:00Z","type":"track"}', "missing_received_at"),
    (b'{"messageId":"","timestamp":"2023-11-08T01:00:00Z","receivedAt":"2023-11-08T01:00:01Z"}', "missing_message_id"),
    (b'{"messageId":"hm-nots","receivedAt":"2023-11-08T01:00:01Z","type":"track"}', "missing_timestamp"),
    (b'{"messageId":"hm-nested","timestamp":"2023-11-08T01:00:00Z","receivedAt":"2023-11-08T01:00:01Z",'
     b'"type":"track","context":{"userAgentData":{"mobile":"yes"}}}', "field_type_mismatch"),
    (b"   ", "empty_line"),
    (b'"just a string"', "not_json"),
    (b'[{"messageId":"hm-array"}]', "json_array"),
    (b'{"messageId":"hm-bytes","timestamp":"2023-11-08T01:00:00Z","name":"\xff"}', "invalid_utf8"),
    (b'{"messageId":"hm-ok","timestamp":"2023-11-08T01:00:00Z","receivedAt":"2023-11-08T01:00:01Z","type":"page",'
     b'"anonymousId":"a-hm","properties":{"page":"Legacy"}}', None),
]


@pytest.fixture(scope="session")
def pipeline_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("raw") / "segment-logs"
    generator.generate(root, PIPELINE_START, PIPELINE_END, seed=7, events_per_day=3000, files_per_day=12,
                       rates=PIPELINE_RATES, source_ids=default_vars()["segment_sources"])
    folder = root / default_vars()["segment_sources"]["web"] / str(generator.received_day_ms(date(2023, 11, 8)))
    (folder / "1699405200000.events-archiver-1.handmade.tests.gz").write_bytes(
        gzip.compress(b"\n".join(line for line, _ in HANDMADE) + b"\n", mtime=0))
    return root


@pytest.fixture(scope="session")
def spark_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh warehouse + metastore for this pytest run, set before Spark starts."""
    path = tmp_path_factory.mktemp("spark")
    os.environ["SEGLOG_SPARK_DIR"] = str(path)
    return path
