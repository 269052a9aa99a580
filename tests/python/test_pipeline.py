"""dbt on local Spark over small generated logs: the audit against an independent count,
idempotent reruns, the late-arrival window's partitions, the KST edge, and documentation.

One Spark session serves the whole module (dbt's session method runs in this process)."""

from __future__ import annotations

import gzip
import json
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from conftest import HANDMADE
from seglog.project import default_vars
from seglog.runner import dbt, dbt_build, table_dir

pytestmark = pytest.mark.spark

HANDMADE_REASONS = dict(HANDMADE)

SOURCE_IDS = default_vars()["segment_sources"]
KEY_OF = {v: k for k, v in SOURCE_IDS.items()}
PARTITIONED = {  # table -> partition column
    "staging.stg_segment__events": "ymd",
    "staging.stg_segment__procedure_events": "ymd",
    "marts.segment_log": "ymd",
    "marts.procedure_log": "ymd",
    "audit.segment_quarantine": "received_ymd",
    "audit.segment_run_audit": "run_ymd",
}


def _build(root: Path, run_date: str) -> None:
    dbt_build({"date": run_date, "segment_root": str(root)})


@pytest.fixture(scope="module")
def spark(pipeline_root: Path, spark_dir: Path):
    _build(pipeline_root, "2023-11-08")
    from pyspark.sql import SparkSession

    return SparkSession.builder.getOrCreate()  # the session dbt created


def _checksums(spark) -> dict[tuple[str, str], tuple[int, int]]:
    """(table, partition) -> (rows, order-independent checksum of every column)."""
    out = {}
    for table, part in PARTITIONED.items():
        for row in spark.sql(f"select {part} as p, count(*) as n, sum(xxhash64(*)) as h from {table} group by {part}").collect():
            out[(table, row.p)] = (row.n, row.h)
    return out


def _is_timestamp(value) -> bool:
    try:
        datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _expected_audit(root: Path, run: date, late: int = 1) -> dict[str, Counter]:
    """The audit worked out in plain Python from the raw files, by the documented rules."""
    days = [run - timedelta(days=n) for n in range(late + 1, -1, -1)]
    owned = {run - timedelta(days=n) for n in range(late + 1)}
    out: dict[str, Counter] = defaultdict(Counter)
    parsed: dict[str, list] = defaultdict(list)
    for source_id, key in KEY_OF.items():
        for day in days:
            folder = root / source_id / str(int(datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp() * 1000))
            for path in sorted(folder.glob("*.gz")) if folder.exists() else []:
                for raw in gzip.decompress(path.read_bytes()).split(b"\n")[:-1]:
                    out[key]["lines_read"] += 1
                    if HANDMADE_REASONS.get(raw):  # the hand-written bad lines say what they are
                        out[key]["quarantined"] += 1
                        continue
                    try:
                        ev = json.loads(raw.decode("utf-8"))
                    except (UnicodeDecodeError, json.JSONDecodeError):
                        out[key]["quarantined"] += 1
                        continue
                    if not isinstance(ev, dict) or not ev.get("messageId") or not ev.get("receivedAt") \
                            or not _is_timestamp(ev.get("timestamp")):
                        out[key]["quarantined"] += 1
                        continue
                    parsed[key].append((ev, day))
    for key, events in parsed.items():
        seen = set()
        for ev, received_day in sorted(events, key=lambda e: e[0]["receivedAt"]):
            ts = datetime.fromisoformat(ev["timestamp"].replace("Z", "+00:00"))
            kst_day = (ts + timedelta(hours=9)).date()
            lag = (received_day - kst_day).days
            kept_aside = lag > late or lag < -1  # the final run for kst_day never reads this folder
            out[key]["kept_aside"] += kept_aside  # every copy
            if ev["messageId"] in seen:
                out[key]["duplicates"] += 1
                continue
            seen.add(ev["messageId"])
            if kst_day in owned and not kept_aside:
                out[key]["events_staged"] += 1
            else:
                out[key]["out_of_window"] += 1
    return out


def test_audit_matches_an_independent_count_of_the_raw_files(spark, pipeline_root: Path) -> None:
    expected = _expected_audit(pipeline_root, date(2023, 11, 8))
    rows = spark.sql("select * from audit.segment_run_audit where run_ymd = '2023-11-08'").collect()
    assert {r.source_key for r in rows} == {"web", "app", "procedure"}
    for r in rows:
        exp = expected[r.source_key]
        got = {k: getattr(r, k) for k in ("lines_read", "quarantined", "duplicates", "events_staged", "out_of_window", "kept_aside")}
        assert got == {k: exp[k] for k in got}, r.source_key
        assert r.lines_read == r.quarantined + r.duplicates + r.events_staged + r.out_of_window
        assert (r.owned_from_ymd, r.owned_to_ymd) == ("2023-11-07", "2023-11-08")
    assert sum(r.quarantined for r in rows) > 0 and sum(r.duplicates for r in rows) > 0


def test_each_kind_of_bad_line_gets_its_reason(spark) -> None:
    rows = spark.sql("""
        select reason, raw_line from audit.segment_quarantine
        where file_name like '%handmade.tests.gz'""").collect()
    got = sorted(r.reason for r in rows)
    assert got == sorted(reason for _, reason in HANDMADE if reason)
    ok = spark.sql("select page_name, ymd from marts.segment_log where message_id = 'hm-ok'").collect()
    assert [(r.page_name, r.ymd) for r in ok] == [("Legacy", "2023-11-08")]  # properties.page as a plain string


def test_every_malformed_line_is_in_quarantine_with_a_reason(spark) -> None:
    reasons = {r.reason: r.n for r in spark.sql(
        "select reason, count(*) as n from audit.segment_quarantine where kind = 'malformed' group by reason").collect()}
    # the generator's six kinds, as the reader names them (a garbage line is `not_json`)
    assert {"malformed_json", "not_json", "empty_line", "invalid_utf8", "json_array", "missing_message_id"} <= set(reasons)


def test_lines_that_are_not_utf8_are_kept_exactly_and_every_table_stays_valid_utf8(spark) -> None:
    import base64

    import pyarrow.parquet as pq

    rows = spark.sql("select raw_line, raw_line_base64 from audit.segment_quarantine where reason = 'invalid_utf8'").collect()
    assert rows
    for r in rows:
        original = base64.b64decode(r.raw_line_base64)
        with pytest.raises(UnicodeDecodeError):
            original.decode("utf-8")
        assert r.raw_line == original.decode("utf-8", errors="replace")
    # pyarrow (and so the loader) reads every string of every table: no invalid UTF-8 stored
    for table in PARTITIONED:
        schema, name = table.split(".")
        pq.read_table(table_dir(schema, name)).to_pylist()


def test_kst_midnight_edge_lands_on_the_right_business_date(spark) -> None:
    rows = spark.sql("""
        select cast(event_at_utc as string) as utc, ymd, count(*) as n from marts.segment_log
        where event_at_utc in (timestamp'2023-11-07 14:59:59.999', timestamp'2023-11-07 15:00:00')
        group by 1, 2""").collect()
    got = {(r.utc, r.ymd) for r in rows}
    assert ("2023-11-07 14:59:59.999", "2023-11-07") in got
    assert ("2023-11-07 15:00:00", "2023-11-08") in got
    assert len(got) == 2


def test_segment_log_has_one_row_per_message_and_only_owned_dates(spark) -> None:
    row = spark.sql("select count(*) as n, count(distinct message_id) as d, min(ymd) as lo, max(ymd) as hi from marts.segment_log").first()
    assert row.n == row.d > 0
    assert (row.lo, row.hi) == ("2023-11-07", "2023-11-08")


def test_rerun_of_the_same_date_gives_identical_tables(spark, pipeline_root: Path) -> None:
    before = _checksums(spark)
    _build(pipeline_root, "2023-11-08")
    assert _checksums(spark) == before


def test_later_date_rewrites_only_its_own_partitions(spark, pipeline_root: Path) -> None:
    before = _checksums(spark)
    stg_dir = table_dir("staging", "stg_segment__events")
    files_0808 = {p.name: p.stat().st_mtime_ns for p in (stg_dir / "ymd=2023-11-08").iterdir()}
    _build(pipeline_root, "2023-11-10")
    after = _checksums(spark)
    # 2023-11-07 and 2023-11-08 are not the run's (it owns 11-09..11-10): untouched, to the file
    for table in ("staging.stg_segment__events", "marts.segment_log", "staging.stg_segment__procedure_events"):
        for day in ("2023-11-07", "2023-11-08"):
            assert after[(table, day)] == before[(table, day)]
        assert (table, "2023-11-09") in after and (table, "2023-11-10") in after
    assert {p.name: p.stat().st_mtime_ns for p in (stg_dir / "ymd=2023-11-08").iterdir()} == files_0808
    assert after[("audit.segment_run_audit", "2023-11-08")] == before[("audit.segment_run_audit", "2023-11-08")]
    # the quarantine of a folder read by both runs (received 2023-11-08) is the same whichever run wrote it
    assert after[("audit.segment_quarantine", "2023-11-08")] == before[("audit.segment_quarantine", "2023-11-08")]
    expected = _expected_audit(pipeline_root, date(2023, 11, 10))
    for r in spark.sql("select * from audit.segment_run_audit where run_ymd = '2023-11-10'").collect():
        assert r.events_staged == expected[r.source_key]["events_staged"]


def test_every_model_column_is_described(spark) -> None:
    manifest = json.loads((Path(__file__).resolve().parents[2] / "target" / "manifest.json").read_text())
    missing = []
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model":
            continue
        assert node["description"].strip(), f"model {node['name']} has no description"
        table = f"{node['schema']}.{node['alias']}"
        documented = {name for name, col in node["columns"].items() if col["description"].strip()}
        for field in spark.table(table).schema.fieldNames():
            if field not in documented:
                missing.append(f"{node['name']}.{field}")
    assert not missing, f"undocumented columns: {missing}"


def test_docs_generate_has_no_warnings(spark, pipeline_root: Path) -> None:
    warnings = []

    def collect(event) -> None:
        if event.info.level in ("warn", "error"):
            warnings.append(event.info.msg)

    dbt(["docs", "generate", "--vars", json.dumps({"date": "2023-11-08", "segment_root": str(pipeline_root)})],
        callbacks=[collect])
    assert warnings == []


# Last: the failed build leaves the scratch guard table dropped.
def test_a_source_folder_that_has_not_landed_stops_the_run_and_keeps_the_tables(
        spark, pipeline_root: Path, tmp_path: Path) -> None:
    """The app source's folder of 2023-11-08 is missing: the build fails before rewriting anything."""
    from seglog.runner import DbtFailed

    partial = tmp_path / "segment-logs"
    missing = pipeline_root / SOURCE_IDS["app"] / "1699401600000"
    for folder in pipeline_root.glob("*/*"):
        if folder != missing:
            (partial / folder.parent.name).mkdir(parents=True, exist_ok=True)
            (partial / folder.parent.name / folder.name).symlink_to(folder)
    before = _checksums(spark)
    with pytest.raises(DbtFailed, match="base_segment__landed_folders"):
        _build(partial, "2023-11-08")
    assert _checksums(spark) == before
