"""dbt on local Spark over small generated logs: the audit against an independent count,
idempotent reruns, the late-arrival window's partitions, the KST edge, and documentation.

One Spark session serves the whole module (dbt's session method runs in this process)."""

from __future__ import annotations

import gzip
import json
import os
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa
import pytest

from conftest import HANDMADE
from seglog.project import PROJECT_DIR, default_vars
from seglog.runner import dbt, dbt_build, table_dir

pytestmark = pytest.mark.spark

HANDMADE_REASONS = dict(HANDMADE)

SOURCE_IDS = default_vars()["segment_sources"]
KEY_OF = {v: k for k, v in SOURCE_IDS.items()}
DAILY_MARTS = ["segment_log", "procedure_log", "segment_log_session", "daily_active_users", "active_users_rolling",
               "page_views_daily", "article_views_daily", "hospital_engagement_daily", "button_clicks_daily",
               "sessions_daily", "new_vs_returning_daily", "traffic_sources_daily", "search_keywords_daily",
               "promotion_performance_daily", "hourly_traffic", "device_breakdown_daily"]
PARTITIONED = {  # table -> partition column
    "staging.stg_segment__events": "ymd",
    "staging.stg_segment__procedure_events": "ymd",
    "audit.segment_quarantine": "received_ymd",
    "audit.segment_run_audit": "run_ymd",
    "intermediate.int_sessionised_events": "ymd",
    "intermediate.int_sessions": "ymd",
    "intermediate.int_user_daily_activity": "ymd",
    "intermediate.int_user_first_seen": "first_seen_ymd",
    "marts.retention_weekly_cohorts": "activity_ywd",
    **{f"marts.{m}": "ymd" for m in DAILY_MARTS},
}
# Not partitioned by date: cumulative state merged by every run (table -> its version column: the
# latest version is compared, without the column, which names the run), and the dimension built from it.
STATE_TABLES = {"intermediate.int_identity_map": "map_partition", "intermediate.int_users": "state_partition",
                "marts.dim_users": None}
EARLY: dict[str, object] = {}  # what the tables held after the run for 2023-11-07, before 2023-11-08's


def _build(root: Path, run_date: str) -> None:
    """dbt build: models and data tests (the unit tests run once, in `make dbt-test`)."""
    dbt_build({"date": run_date, "segment_root": str(root)})


def _run(root: Path, run_date: str) -> None:
    """dbt run: models only (the data tests of the dates are run by the build of 2023-11-08 and `make dbt-test`)."""
    dbt(["run", "--vars", json.dumps({"date": run_date, "segment_root": str(root)})])


# Credentials in the environment of every run and load of this module, as on EMR or a laptop with
# a profile: the module's last test checks that no log or result file holds one of them.
FAKE_SECRETS = {"PGPASSWORD": "pg-fake-4b1d9e07c3", "REDSHIFT_PASSWORD": "rs-fake-8c2a6f51d0",  # pragma: allowlist secret
                "AWS_SECRET_ACCESS_KEY": "aws-fake-0e7b3c9a4d5f",  # pragma: allowlist secret
                "SLACK_WEBHOOK_URL": "https://hooks.slack.test/services/fake-6d2e8a"}  # pragma: allowlist secret


@pytest.fixture(scope="module")
def fake_secrets():
    env = pytest.MonkeyPatch()
    for name, value in FAKE_SECRETS.items():
        env.setenv(name, value)
    yield FAKE_SECRETS
    env.undo()


@pytest.fixture(scope="module")
def spark(pipeline_root: Path, spark_dir: Path, fake_secrets):
    """Three consecutive dates in order, the last one built with every test."""
    from pyspark.sql import SparkSession

    for day in ("2023-11-06", "2023-11-07"):
        _run(pipeline_root, day)
    session = SparkSession.builder.getOrCreate()  # the session dbt created
    EARLY["midnight"] = [r.asDict() for r in session.sql(
        "select ymd, event_count, duration_seconds from marts.segment_log_session where anonymous_id = 'a-midnight'"
    ).collect()]
    EARLY["late"] = session.sql("select count(*) from marts.segment_log where message_id = 'hm-late'").first()[0]
    _build(pipeline_root, "2023-11-08")
    return session


def _checksums(spark) -> dict[tuple[str, str], tuple[int, int]]:
    """(table, partition) -> (rows, order-independent checksum of every column)."""
    out = {}
    for table, part in PARTITIONED.items():
        for row in spark.sql(f"select {part} as p, count(*) as n, sum(xxhash64(*)) as h from {table} group by {part}").collect():
            out[(table, str(row.p))] = (row.n, row.h)
    for table, version in STATE_TABLES.items():
        rows = spark.table(table)
        if version:
            latest = spark.sql(f"select max({version}) from {table}").first()[0]
            rows = rows.where(rows[version] == latest).drop(version)
        row = rows.selectExpr("count(*) as n", "sum(xxhash64(*)) as h").first()
        out[(table, "*")] = (row.n, row.h)
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


def test_only_the_gz_files_directly_in_a_folder_are_read(spark) -> None:
    # conftest puts an event in notes.txt and in nested/….gz of the web folder of 2023-11-08
    for table in ("marts.segment_log", "audit.segment_quarantine"):
        assert spark.sql(f"select count(*) as n from {table} where message_id = 'stray'").first().n == 0, table
    # never read, but listed and set aside by name, with the reason (kind file: no line of them)
    files = {r.name: (r.reason, r.raw_line) for r in spark.sql(
        "select regexp_extract(file_name, '(nested/[^/]+|[^/]+)$', 1) as name, reason, raw_line "
        "from audit.segment_quarantine where kind = 'file' and (file_name like '%/nested/%' or file_name like '%notes.txt')"
    ).collect()}
    assert files == {"nested/1699405200000.events-archiver-1.nested.tests.gz": ("nested", None),
                     "notes.txt": ("not_gz", None)}


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
    assert (row.lo, row.hi) == ("2023-11-05", "2023-11-08")  # runs 11-06, 11-07, 11-08 own 11-05..11-08


@pytest.mark.parametrize("mart", DAILY_MARTS)
def test_every_daily_mart_has_rows_for_the_three_dates(spark, mart: str) -> None:
    days = {r.ymd for r in spark.sql(f"select distinct ymd from marts.{mart}").collect()}
    assert {"2023-11-06", "2023-11-07", "2023-11-08"} <= days


def test_retention_and_users_are_built(spark) -> None:
    weeks = spark.sql("select cast(activity_ywd as string) as w, sum(cohort_size) as n from marts.retention_weekly_cohorts "
                      "where weeks_since = 0 group by 1").collect()
    assert {r.w for r in weeks} == {"2023-11-05"}  # 11-05..11-08 are in the week that starts on Sunday 11-05
    users = spark.sql("select count(*) as n, count(distinct user_key) as d, count(user_id) as ids from marts.dim_users").first()
    assert users.n == users.d > 0 and 0 < users.ids < users.n


def test_a_session_over_midnight_is_completed_by_the_run_that_owns_both_dates(spark) -> None:
    """a-midnight: 23:50 KST on 11-07, 00:10 KST on 11-08. The run for 11-07 saw the first event only;
    the run for 11-08 owns 11-07 and 11-08 and rewrites the session whole, on 11-07, not cut."""
    import hashlib

    assert EARLY["midnight"] == [{"ymd": "2023-11-07", "event_count": 1, "duration_seconds": 0}]
    rows = spark.sql("select session_id, ymd, event_count, duration_seconds, landing_page_path, exit_page_path "
                     "from marts.segment_log_session where anonymous_id = 'a-midnight'").collect()
    expected_id = hashlib.md5(b"a-midnight|2023-11-07 14:50:00.000000").hexdigest()
    assert [r.asDict() for r in rows] == [{"session_id": expected_id, "ymd": "2023-11-07", "event_count": 2,
                                           "duration_seconds": 1200, "landing_page_path": "/home",
                                           "exit_page_path": "/search"}]
    events = spark.sql("select message_id, ymd, session_id from intermediate.int_sessionised_events "
                       "where anonymous_id = 'a-midnight' order by message_id").collect()
    assert [(r.message_id, r.ymd, r.session_id) for r in events] == [
        ("hm-mid-1", "2023-11-07", expected_id), ("hm-mid-2", "2023-11-08", expected_id)]
    keyword = spark.sql("select searches from marts.search_keywords_daily where ymd = '2023-11-08' and keyword = '임플란트'")
    assert keyword.first().searches >= 1  # ?q=%EC%9E%84… is URL-decoded


def test_a_late_event_is_picked_up_by_the_next_run(spark) -> None:
    """hm-late: an event of 11-07 received in the 11-08 folder. Not in the tables after the run for 11-07;
    the run for 11-08 (owning 11-07) stages it and the marts of 11-07 count it."""
    assert EARLY["late"] == 0
    assert [r.ymd for r in spark.sql("select ymd from marts.segment_log where message_id = 'hm-late'").collect()] == [
        "2023-11-07"]
    clicks = spark.sql("select clicks from marts.button_clicks_daily where ymd = '2023-11-07' and button_name = 'late-button'")
    assert [r.clicks for r in clicks.collect()] == [1]


def test_hourly_traffic_matches_a_count_of_the_raw_files(spark, pipeline_root: Path) -> None:
    """Events per KST hour of 2023-11-08, counted in plain Python from the raw folders the run read."""
    expected = Counter()
    seen = set()
    lines = []
    for source_id in (SOURCE_IDS["web"], SOURCE_IDS["app"]):
        for day in (date(2023, 11, 6), date(2023, 11, 7), date(2023, 11, 8)):  # the folders D-L-1..D
            folder = pipeline_root / source_id / str(int(datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp() * 1000))
            for path in sorted(folder.glob("*.gz")):
                lines += [(raw, day) for raw in gzip.decompress(path.read_bytes()).split(b"\n")[:-1]]
    events = []
    for raw, received_day in lines:
        if raw in HANDMADE_REASONS and HANDMADE_REASONS[raw]:
            continue
        try:
            ev = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            continue
        if isinstance(ev, dict) and ev.get("messageId") and ev.get("receivedAt") and _is_timestamp(ev.get("timestamp")):
            events.append((ev, received_day))
    for ev, received_day in sorted(events, key=lambda e: e[0]["receivedAt"]):
        if ev["messageId"] in seen:  # a later copy
            continue
        seen.add(ev["messageId"])
        kst = datetime.fromisoformat(ev["timestamp"].replace("Z", "+00:00")) + timedelta(hours=9)
        if kst.date() == date(2023, 11, 8) and (received_day - kst.date()).days >= -1:  # not ahead of receipt
            expected[kst.hour] += 1
    got = {r.hour: r.events for r in spark.sql("select hour, events from marts.hourly_traffic where ymd = '2023-11-08'").collect()}
    assert got == {h: expected.get(h, 0) for h in range(24)}


def test_rerun_of_the_same_date_gives_identical_tables(spark, pipeline_root: Path) -> None:
    before = _checksums(spark)
    _run(pipeline_root, "2023-11-08")
    assert _checksums(spark) == before


def test_later_date_rewrites_only_its_own_partitions(spark, pipeline_root: Path) -> None:
    before = _checksums(spark)
    stg_dir = table_dir("staging", "stg_segment__events")
    files_0808 = {p.name: p.stat().st_mtime_ns for p in (stg_dir / "ymd=2023-11-08").iterdir()}
    _run(pipeline_root, "2023-11-10")
    after = _checksums(spark)
    # 2023-11-07 and 2023-11-08 are not the run's (it owns 11-09..11-10): untouched, to the file
    for table, part in PARTITIONED.items():
        if part not in ("ymd", "first_seen_ymd"):
            continue
        for day in ("2023-11-05", "2023-11-06", "2023-11-07", "2023-11-08"):
            assert after.get((table, day)) == before.get((table, day)), (table, day)
        assert (table, "2023-11-10") in after, table
    # Rewritten besides 11-09..11-10: retention's week of 11-05 (11-09 and 11-10 are in it) and the
    # cumulative user and identity state.
    assert after[("marts.retention_weekly_cohorts", "2023-11-05")] != before[("marts.retention_weekly_cohorts", "2023-11-05")]
    assert after[("marts.dim_users", "*")][0] >= before[("marts.dim_users", "*")][0]
    assert {p.name: p.stat().st_mtime_ns for p in (stg_dir / "ymd=2023-11-08").iterdir()} == files_0808
    assert after[("audit.segment_run_audit", "2023-11-08")] == before[("audit.segment_run_audit", "2023-11-08")]
    # the quarantine of a folder read by both runs (received 2023-11-08) is the same whichever run wrote it
    assert after[("audit.segment_quarantine", "2023-11-08")] == before[("audit.segment_quarantine", "2023-11-08")]
    expected = _expected_audit(pipeline_root, date(2023, 11, 10))
    for r in spark.sql("select * from audit.segment_run_audit where run_ymd = '2023-11-10'").collect():
        assert r.events_staged == expected[r.source_key]["events_staged"]


def test_dates_in_any_order_give_the_same_tables(spark, pipeline_root: Path) -> None:
    """After the runs 11-06, 11-07, 11-08, 11-08, 11-10: 11-07 and then 11-08 again, i.e. the dates
    in the order D, D+2, D-1, D. Every partition is rewritten by the last run that owns it from
    the raw files, and a run stitches identities with the links it can know (dated and received
    by its date), so every table comes back identical, checksum by checksum, the user keys too,
    with one exception: a partition that runs of several dates own, retention's week of 11-05
    (11-08 and 11-10 are both in it), is as of the last run that wrote it, here 11-08 (README
    "Known limits"). Rerunning 11-10 makes the state exactly the in-order one again.
    In between, the documented caveat: the run for 11-07 does not read folder 11-08, so the late
    event hm-late (of 11-07, received on 11-08) is out of partition 11-07 until 11-08 runs again.

    The fixture has identity links that arrive late (dated by 11-07, received from 11-08): the
    rerun of 11-07 must not count them, as the in-order run of 11-07 did not."""
    # anonymous ids whose links dated by 11-07 all arrived from 11-08: stitched by the in-order
    # run of 11-08 but not by that of 11-07, nor (now) by its rerun
    only_late_links = """
        select anonymous_id from staging.stg_segment__events
        where anonymous_id is not null and user_id is not null and ymd <= '2023-11-07'
        group by anonymous_id
        having min(received_day) >= date'2023-11-08'"""
    assert spark.sql(only_late_links).count() > 0  # the case the stitching must get right
    before = _checksums(spark)
    _run(pipeline_root, "2023-11-07")
    between = _checksums(spark)
    assert spark.sql("select count(*) from marts.segment_log where message_id = 'hm-late'").first()[0] == 0
    assert between[("marts.segment_log", "2023-11-07")] != before[("marts.segment_log", "2023-11-07")]
    assert between[("marts.segment_log", "2023-11-06")] == before[("marts.segment_log", "2023-11-06")]
    _run(pipeline_root, "2023-11-08")
    after = _checksums(spark)
    assert len(before) > 60 and set(after) == set(before)  # every partition of 25 tables, and the 3 state tables
    assert {key for key in before if before[key] != after[key]} == {("marts.retention_weekly_cohorts", "2023-11-05")}
    _run(pipeline_root, "2023-11-10")
    assert _checksums(spark) == before


LAYERS = ("staging.base_segment__web_app_lines", "staging.base_segment__procedure_lines")


def _layer(spark) -> dict[tuple[str, str, str], tuple[str, int, int]]:
    """The parsed layer: (table, source id, received day) -> (folder listing, rows, checksum of every column)."""
    out = {}
    for table in LAYERS:
        for r in spark.sql(f"select source_id, cast(received_day as string) as day, min(folder_listing) as listing, "
                           f"count(distinct folder_listing) as listings, count(*) as n, sum(xxhash64(*)) as h "
                           f"from {table} group by source_id, received_day").collect():
            assert r.listings == 1, (table, r.source_id, r.day)  # one parse per folder, never two mixed
            out[(table, r.source_id, r.day)] = (r.listing, r.n, r.h)
    return out


def test_a_file_landing_in_a_parsed_folder_is_read_by_the_next_run_and_only_that_folder_is_parsed_again(
        spark, pipeline_root: Path) -> None:
    """The base lines models keep every folder parsed (the parsed layer); a run parses again only a
    folder whose files changed. A file landing in folder 11-08 after the runs that read it: the
    next run that reads that folder (11-10) stages its event, and only that folder's partition is
    rewritten; the file removed again, the next run gives back the tables as they were."""
    before, layer_before = _checksums(spark), _layer(spark)
    web_lines = table_dir("staging", "base_segment__web_app_lines")
    untouched = {p: p.stat().st_mtime_ns for p in web_lines.glob("source_id=*/received_day=*/*.parquet")
                 if not (p.parent.parent.name == f"source_id={SOURCE_IDS['web']}" and p.parent.name == "received_day=2023-11-08")}
    assert len(layer_before) >= 3 * 6 and untouched  # 3 sources, the folders the runs read (11-05..11-10 at least)
    folder = pipeline_root / SOURCE_IDS["web"] / "1699401600000"  # received 2023-11-08 (UTC)
    late = folder / "1699462800000.events-archiver-9.late-file.tests.gz"
    # KST 2023-11-09 01:00, received 2023-11-08 16:00 UTC: the run for 11-10 owns 11-09 and reads folder 11-08
    event = {"messageId": "late-file-1", "type": "track", "event": "Late File", "anonymousId": "a-late-file",
             "timestamp": "2023-11-08T16:00:00Z", "receivedAt": "2023-11-08T16:00:05Z"}
    late.write_bytes(gzip.compress(json.dumps(event).encode() + b"\n", mtime=0))
    try:
        _run(pipeline_root, "2023-11-10")
        assert [r.ymd for r in spark.sql("select ymd from marts.segment_log where message_id = 'late-file-1'").collect()] == [
            "2023-11-09"]
        layer = _layer(spark)
        assert {key for key in layer if layer[key] != layer_before.get(key)} == {
            ("staging.base_segment__web_app_lines", SOURCE_IDS["web"], "2023-11-08")}
        assert layer[("staging.base_segment__web_app_lines", SOURCE_IDS["web"], "2023-11-08")][1] == \
            layer_before[("staging.base_segment__web_app_lines", SOURCE_IDS["web"], "2023-11-08")][1] + 1
        assert {p: p.stat().st_mtime_ns for p in untouched} == untouched  # not parsed again, to the file
    finally:
        late.unlink()
    _run(pipeline_root, "2023-11-10")  # a removed file changes the folder too
    assert spark.sql("select count(*) from marts.segment_log where message_id = 'late-file-1'").first()[0] == 0
    assert _layer(spark) == layer_before
    after = _checksums(spark)
    # every partition as it was; int_users keeps every user key ever seen (docs/data-layout.md "Data layout"), so the late user stays
    assert {key for key in after if after[key] != before[key]} == {("intermediate.int_users", "*"), ("marts.dim_users", "*")}
    assert spark.sql("select count(*) from marts.dim_users where user_key = 'a-late-file'").first()[0] == 1


def test_the_parsed_layer_gives_the_tables_a_fresh_parse_gives(spark, pipeline_root: Path) -> None:
    """The layer built run by run (11-06, 11-07, 11-08, reruns, 11-10 and the late file above)
    against a fresh parse: the layer dropped, the run for 11-10 parses its folders again and every
    table, and every folder it parsed, comes out the same."""
    before, layer_before = _checksums(spark), _layer(spark)
    for table in LAYERS:
        spark.sql(f"drop table {table}")
    _run(pipeline_root, "2023-11-10")
    fresh = _layer(spark)
    assert {day for _, _, day in fresh} == {"2023-11-08", "2023-11-09", "2023-11-10"}  # the folders of the run for 11-10
    assert {key: layer_before[key] for key in fresh} == fresh
    assert _checksums(spark) == before


def test_the_audit_of_every_run_ties_out_with_an_independent_count(spark, pipeline_root: Path) -> None:
    """Each run's audit (11-06, 11-07, 11-08, 11-10: every step of this module) against the raw
    files counted in plain Python, including kept_aside: the events later than the window."""
    kept_aside = 0
    for run in (date(2023, 11, 6), date(2023, 11, 7), date(2023, 11, 8), date(2023, 11, 10)):
        expected = _expected_audit(pipeline_root, run)
        rows = spark.sql(f"select * from audit.segment_run_audit where run_ymd = '{run}'").collect()
        assert {r.source_key for r in rows} == {"web", "app", "procedure"}, run
        for r in rows:
            got = {k: getattr(r, k) for k in ("lines_read", "quarantined", "duplicates", "events_staged",
                                              "out_of_window", "kept_aside")}
            assert got == {k: expected[r.source_key][k] for k in got}, (run, r.source_key)
            kept_aside += r.kept_aside
    assert kept_aside > 0  # the generated late and clock-ahead events include some beyond every window


def test_ddl_is_derived_from_the_dates_parquet_rows(spark) -> None:
    """`seglog ddl` maps the Spark table's types and sizes strings from the data of the date."""
    from typer.testing import CliRunner

    from seglog.cli import app

    result = CliRunner().invoke(app, ["ddl", "--date", "2023-11-08", "--models", "segment_log,retention_weekly_cohorts"])
    assert result.exit_code == 0, result.output
    longest_context = spark.sql("select max(octet_length(context)) from marts.segment_log where ymd = '2023-11-08'").first()[0]
    declared = int(result.output.split('"context" VARCHAR(')[1].split(")")[0])
    assert longest_context <= declared <= 65535
    assert '"event_at_kst" TIMESTAMP' in result.output and '"ywd" DATE' in result.output
    assert 'distkey ("anonymous_id")' in result.output and 'compound sortkey ("ymd", "event_at_kst")' in result.output
    assert '"activity_ywd" DATE' in result.output  # the partition column's YAML data_type
    missing = CliRunner().invoke(app, ["ddl", "--models", "nope"])
    assert missing.exit_code == 1 and "loadable:" in missing.output and "segment_log" in missing.output


def _spark_counts(spark, table: str, key: str) -> dict[str, tuple[int, int]]:
    """Per ymd of the run for 11-08 (11-07, 11-08): rows and the key checksum, computed by Spark
    (md5 + conv), a path independent of the loader's Python."""
    rows = spark.sql(f"select ymd, count(*) as n, sum(cast(conv(substr(md5({key}), 1, 8), 16, 10) as bigint)) as h "
                     f"from {table} where ymd in ('2023-11-07', '2023-11-08') group by ymd").collect()
    return {r.ymd: (r.n, r.h) for r in rows}


def test_load_puts_the_runs_partitions_into_postgresql_reconciled(spark, tmp_path_factory) -> None:
    """`seglog load` end to end: the project's PostgreSQL on a scratch dir and port; the run for
    11-08 rewrote 11-07..11-08 (its audit says so), and both dates land, counted again in SQL."""
    import psycopg
    from typer.testing import CliRunner

    from conftest import scratch_postgres
    from seglog.cli import app

    root = tmp_path_factory.mktemp("pg")
    results = root / "load.json"
    with scratch_postgres(root) as info:
        for _ in range(2):  # twice: one copy
            out = CliRunner().invoke(app, ["load", "--date", "2023-11-08", "--results", str(results),
                                           "--select", "segment_log dim_users retention_weekly_cohorts"])
            assert out.exit_code == 0, out.output
        report = json.loads(results.read_text())
        assert report["ok"] and report["owned_dates"] == ["2023-11-07", "2023-11-08"]
        loaded = {r["model"]: r for r in report["loaded"]}
        assert set(loaded) == {"segment_log", "dim_users", "retention_weekly_cohorts"}
        assert [p["partition"] for p in loaded["segment_log"]["partitions"]] == ["ymd=2023-11-07", "ymd=2023-11-08"]
        assert [p["partition"] for p in loaded["retention_weekly_cohorts"]["partitions"]] == [
            "activity_ywd=2023-11-05"]  # both dates are in the week starting Sunday 11-05
        expected = _spark_counts(spark, "marts.segment_log", "message_id")
        with psycopg.connect(**info) as conn:
            found = conn.execute("select ymd, count(*), count(distinct message_id) from marts.segment_log "
                                 "group by ymd order by ymd").fetchall()
            assert found == [(d, n, n) for d, (n, _) in sorted(expected.items())]
            assert conn.execute("select count(*) from marts.dim_users").fetchone()[0] == spark.table("marts.dim_users").count()
        unknown = CliRunner().invoke(app, ["load", "--date", "2023-11-08", "--select", "tag:nope"])
        assert unknown.exit_code == 1 and "no loadable model has the tag 'nope'" in unknown.output
        never_run = CliRunner().invoke(app, ["load", "--date", "2023-12-01", "--models", "segment_log"])
        assert never_run.exit_code == 1 and "the run for 2023-12-01 is not in the warehouse" in never_run.output
        assert "nothing was loaded" in never_run.output


def test_load_into_redshift_stages_parquet_on_s3_and_sends_one_batch_per_model(spark, aws_env, redshift,
                                                                              monkeypatch) -> None:
    """`seglog load --target redshift` on the real Spark tables: Parquet of both dates staged on moto's S3,
    the statements sent to the Data API fake and executed on the Redshift stand-in (which COPYs the
    staged Parquet by its manifest), reconciled in its SQL; the rows there are Spark's, by an
    independent count and checksum computed in Spark SQL."""
    import boto3
    import psycopg
    import pyarrow.parquet as pq
    from typer.testing import CliRunner

    from fakes.redshift_data_api import FakeRedshiftDataApi
    from seglog.cli import app

    s3 = boto3.client("s3", region_name="ap-northeast-2")
    s3.create_bucket(Bucket="seglog-redshift-staging", CreateBucketConfiguration={"LocationConstraint": "ap-northeast-2"})
    for name in ("SEGLOG_REDSHIFT_STAGING", "REDSHIFT_COPY_ROLE_ARN", "REDSHIFT_CLUSTER_ID", "SEGLOG_WAREHOUSE"):
        monkeypatch.delenv(name, raising=False)
    refused = CliRunner().invoke(app, ["load", "--target", "redshift", "--models", "segment_log"])
    assert refused.exit_code == 1 and "SEGLOG_REDSHIFT_STAGING" in refused.output
    fake = FakeRedshiftDataApi(s3=s3, warehouse=redshift)
    counts = _spark_counts(spark, "marts.segment_log", "message_id")
    users = spark.sql("select count(*) as n, sum(cast(conv(substr(md5(user_key), 1, 8), 16, 10) as bigint)) as h "
                      "from marts.dim_users").first()
    monkeypatch.setenv("AWS_ENDPOINT_URL_REDSHIFT_DATA", fake.start())
    monkeypatch.setenv("REDSHIFT_WORKGROUP", "seglog-wg")
    monkeypatch.setenv("REDSHIFT_SECRET_ARN", redshift.secret_arn)
    monkeypatch.setenv("SEGLOG_REDSHIFT_STAGING", "s3://seglog-redshift-staging/loads")
    monkeypatch.setenv("REDSHIFT_COPY_ROLE_ARN", "arn:aws:iam::123456789012:role/redshift-copy")
    try:
        out = CliRunner().invoke(app, ["load", "--date", "2023-11-08", "--target", "redshift",
                                       "--models", "segment_log,dim_users"])
    finally:
        fake.stop()
    assert out.exit_code == 0, out.output
    assert "all reconciled" in out.output
    # per model: column lookup, create schema + table (new), the batch, the reconciliation; dim_users first
    # (sorted), after the whole-table guard's own column lookup (no table yet: no rows to count, none to lose)
    assert [op for op, _ in fake.statements()] == ["execute"] + ["execute", "execute", "execute", "batch", "execute"] * 2
    assert fake.statements()[0] == fake.statements()[1]  # the guard's lookup is the load's own statement
    dim_batch, log_batch = (sqls for op, sqls in fake.statements() if op == "batch")
    assert dim_batch[2] == 'delete from "marts"."dim_users"'  # meta.load: full replaces the whole table
    assert log_batch[2] == 'delete from "marts"."segment_log" where "ymd" in (:p0, :p1)'
    assert {p["name"]: p["value"] for p in fake.ops("BatchExecuteStatement")[1]["Parameters"]} == {
        "p0": "2023-11-07", "p1": "2023-11-08"}
    create_log = next(sql for op, sql in fake.statements() if op == "execute" and sql.startswith('create table "marts"."segment_log"'))
    assert 'distkey ("anonymous_id")' in create_log and '"properties" VARCHAR(' in create_log
    (staged,) = [c for c in fake.copied if "marts.segment_log/" in c["uri"]]
    tables = [pq.read_table(pa.BufferReader(body)) for body in staged["objects"].values()]
    assert sum(t.num_rows for t in tables) == sum(n for n, _ in counts.values())
    for body in staged["objects"].values():  # event_at_kst: INT64 micros, never INT96
        schema = pq.ParquetFile(pa.BufferReader(body)).metadata.schema
        assert schema.column(schema.names.index("event_at_kst")).physical_type == "INT64"
    assert s3.list_objects_v2(Bucket="seglog-redshift-staging").get("KeyCount") == 0  # cleaned up after success
    with psycopg.connect(**redshift.info, client_encoding="utf8") as conn:  # what Redshift holds: Spark's rows
        found = conn.execute("select ymd, count(*), sum(strtol(substring(md5(message_id), 1, 8), 16)) "
                             "from marts.segment_log group by 1 order by 1").fetchall()
        assert found == [(d, n, h) for d, (n, h) in sorted(counts.items())]
        assert conn.execute("select count(*), sum(strtol(substring(md5(user_key), 1, 8), 16)) "
                            "from marts.dim_users").fetchone() == (users.n, users.h)


def test_the_loader_reads_the_spark_tables_from_an_s3_warehouse(spark, aws_env, monkeypatch) -> None:
    """SEGLOG_WAREHOUSE=s3://… (the EMR job's warehouse): the same tables read from moto's S3 give the same DDL."""
    import boto3
    from typer.testing import CliRunner

    from seglog.cli import app

    local = CliRunner().invoke(app, ["ddl", "--date", "2023-11-08", "--models", "segment_log"])
    s3 = boto3.client("s3", region_name="ap-northeast-2")
    s3.create_bucket(Bucket="seglog-warehouse", CreateBucketConfiguration={"LocationConstraint": "ap-northeast-2"})
    warehouse = table_dir("marts", "segment_log").parents[1]
    for folder in ("marts.db/segment_log/ymd=2023-11-08", "audit.db/segment_run_audit/run_ymd=2023-11-08"):
        for f in (warehouse / folder).iterdir():
            s3.upload_file(str(f), "seglog-warehouse", f"wh/{folder}/{f.name}")
    monkeypatch.setenv("SEGLOG_WAREHOUSE", "s3://seglog-warehouse/wh")
    remote = CliRunner().invoke(app, ["ddl", "--date", "2023-11-08", "--models", "segment_log"])
    assert local.exit_code == remote.exit_code == 0, remote.output
    assert remote.output == local.output and '"message_id" VARCHAR(' in remote.output


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


def test_each_finished_run_is_marked_by_the_invocation_that_began_it(spark) -> None:
    """audit.segment_run_completed depends on every model the loader loads and on the run audit
    (so dbt build skips it when one of them or its tests failed), the base events models (upstream
    of all staging) depend on audit.segment_run_started, and the runs of this module, all finished, carry the same
    invocation id in both: what `seglog load` checks before it loads a date."""
    from seglog.loader import loadable_models

    target = Path(os.environ.get("DBT_TARGET_PATH", PROJECT_DIR / "target"))
    manifest = json.loads((target / "manifest.json").read_text())
    nodes = {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] in ("model", "snapshot")}
    parents = {manifest["nodes"][p]["name"] for p in nodes["segment_run_completed"]["depends_on"]["nodes"]}
    loadable = set(loadable_models(target / "manifest.json"))
    assert loadable | {"segment_run_audit"} <= parents, (loadable | {"segment_run_audit"}) - parents
    for base in ("base_segment__web_app_events", "base_segment__procedure_events"):  # upstream of all staging
        assert "model.segment_spark.segment_run_started" in nodes[base]["depends_on"]["nodes"], base
    mine = "run_ymd like '2023-11-%'"  # other modules build other dates in the same warehouse
    began = {(r.run_ymd, r.invocation_id) for r in spark.sql(
        f"select run_ymd, invocation_id from audit.segment_run_started where {mine}").collect()}
    done = {(r.run_ymd, r.invocation_id) for r in spark.sql(
        f"select run_ymd, invocation_id from audit.segment_run_completed where {mine}").collect()}
    assert {day for day, _ in began} >= {"2023-11-06", "2023-11-07", "2023-11-08"}
    assert all(inv for _, inv in began) and began == done, (began, done)


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


def test_no_credential_of_the_environment_reached_a_log_or_a_result(spark, tmp_path_factory) -> None:
    """Every dbt run, build, docs run and load above ran with FAKE_SECRETS in the environment, and
    the failed build and load refusals printed errors: none of the values is in dbt's log, dbt's
    JSON artifacts, or a result file (load.json, …) the module wrote."""
    import os

    assert os.environ["PGPASSWORD"] == FAKE_SECRETS["PGPASSWORD"]  # the runs above had them
    project = Path(__file__).resolve().parents[2]
    log_dir = Path(os.environ.get("DBT_LOG_PATH") or project / "logs")
    files = [*sorted(log_dir.glob("dbt.log*")), *sorted(Path(os.environ.get("DBT_TARGET_PATH") or project / "target").glob("*.json")),
             *sorted(tmp_path_factory.getbasetemp().rglob("*.json"))]
    names = {f.name for f in files}
    assert {"dbt.log", "run_results.json", "manifest.json", "load.json"} <= names, names
    for path in files:
        content = path.read_bytes()
        for name, value in FAKE_SECRETS.items():
            assert value.encode() not in content, f"the value of {name} is in {path}"


def test_the_emr_job_owns_its_databases_and_refuses_one_that_lives_elsewhere(spark, tmp_path: Path) -> None:
    from seglog.emr.job import LAYER_SCHEMAS, JobRefused, ensure_databases
    from seglog.project import PROJECT_DIR

    # every schema the build wrote is one the job makes its own (an unlisted one would escape the check)
    manifest = json.loads((Path(os.environ.get("DBT_TARGET_PATH", PROJECT_DIR / "target")) / "manifest.json").read_text())
    written = {n["schema"] for n in manifest["nodes"].values() if n["resource_type"] in ("model", "snapshot", "seed")}
    assert written <= set(LAYER_SCHEMAS), written - set(LAYER_SCHEMAS)
    warehouse = spark.conf.get("spark.sql.warehouse.dir").removeprefix("file:").rstrip("/")
    assert ensure_databases(spark, "jobt_") == [f"jobt_{s}" for s in LAYER_SCHEMAS]
    for schema in LAYER_SCHEMAS:
        where = {r[0].lower(): r[1] for r in spark.sql(f"describe database jobt_{schema}").collect()}["location"]
        assert where.removeprefix("file:").rstrip("/") == f"{warehouse}/jobt_{schema}.db"
    assert ensure_databases(spark, "jobt_") == []  # a second run finds them all its own
    # another team's database of the same name, somewhere else: the run stops, and creates nothing
    spark.sql(f"create database jobx_marts location '{tmp_path}/other-team/jobx_marts.db'")
    with pytest.raises(JobRefused, match=r"jobx_marts at .*/other-team/jobx_marts\.db, not under this job's warehouse"):
        ensure_databases(spark, "jobx_")
    assert [r[0] for r in spark.sql("show databases like 'jobx_*'").collect()] == ["jobx_marts"]
