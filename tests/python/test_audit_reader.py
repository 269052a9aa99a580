"""seglog.audit, the one reader of the run audit, on hand-made rows (no Spark): the tie-out rule
and the owned window as docs/data-layout.md "The audit" defines them, and a run that is not there."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from seglog import audit
from seglog.project import schema_folder

ROW = {"source_key": "web", "lines_read": 100, "events_staged": 80, "duplicates": 5, "quarantined": 3,
       "out_of_window": 12, "kept_aside": 2, "owned_from_ymd": "2023-11-07", "owned_to_ymd": "2023-11-08"}


def test_a_row_ties_out_when_every_line_read_went_exactly_one_way() -> None:
    assert audit.ties_out(ROW)  # 80 + 5 + 3 + 12 = 100; kept_aside is part of out_of_window
    assert not audit.ties_out(dict(ROW, lines_read=101))
    assert not audit.ties_out(dict(ROW, kept_aside=0, out_of_window=14))


def test_the_owned_dates_span_every_sources_window() -> None:
    app = dict(ROW, source_key="app", owned_from_ymd="2023-11-06", owned_to_ymd="2023-11-08")
    assert audit.owned_dates([ROW]) == [date(2023, 11, 7), date(2023, 11, 8)]
    assert audit.owned_dates([ROW, app]) == [date(2023, 11, 6), date(2023, 11, 7), date(2023, 11, 8)]
    assert audit.owned_dates([]) == []


def test_a_run_is_read_from_its_partition_by_source_and_a_missing_one_is_empty(tmp_path: Path) -> None:
    part = tmp_path / "warehouse" / schema_folder("audit") / "segment_run_audit" / "run_ymd=2023-11-08"
    part.mkdir(parents=True)
    rows = [dict(ROW, source_key=k) for k in ("web", "procedure", "app")]
    pq.write_table(pa.Table.from_pylist(rows), part / "part-0.parquet")
    assert [r["source_key"] for r in audit.read_run("2023-11-08", tmp_path)] == ["app", "procedure", "web"]
    assert audit.read_run("2023-11-09", tmp_path) == []
