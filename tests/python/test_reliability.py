"""Nothing lost, nothing let in: a hostile day runs to the end with every bad line and file set
aside with its reason, and a property-based test (hypothesis) checks the reader's verdict on
generated lines against an independent classification in plain Python, and the audit's tie-out.

Runs in the shared pytest Spark session, after test_pipeline.py, on dates of its own
(2024-02-29 and 2024-03-10), so the pipeline module's partitions are not touched."""

from __future__ import annotations

import base64
import gzip
import json
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seglog import generator, hostile, landed_files
from seglog.project import default_vars
from seglog.runner import dbt, dbt_build

pytestmark = pytest.mark.spark

SOURCE_IDS = default_vars()["segment_sources"]
HOSTILE_DAY = date(2024, 2, 29)
PROPERTY_DAY = date(2024, 3, 10)
CALLS = ("page", "screen", "track", "identify", "group", "alias")
IDS = ("messageId", "userId", "anonymousId", "previousId", "groupId")
NULLED_STRINGS = ("event", "name", "category", "channel", "projectId")  # top-level strings nulled on another kind


def _folder(root: Path, key: str, day: date) -> Path:
    return root / SOURCE_IDS[key] / str(generator.received_day_ms(day))


def _lines_of(path: Path) -> list[bytes]:
    return gzip.decompress(path.read_bytes()).split(b"\n")[:-1]


def _read_days(day: date) -> list[date]:
    return [day - timedelta(days=n) for n in (2, 1, 0)]  # folders D-L-1..D, L = 1


def _spark():
    from pyspark.sql import SparkSession

    return SparkSession.builder.getOrCreate()  # the session dbt created in this process


# --- the hostile day -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def hostile_day(tmp_path_factory: pytest.TempPathFactory, spark_dir: Path) -> hostile.HostileDay:
    root = tmp_path_factory.mktemp("hostile") / "segment-logs"
    generator.generate(root, HOSTILE_DAY - timedelta(days=2), HOSTILE_DAY, seed=11, events_per_day=600,
                       files_per_day=3, source_ids=SOURCE_IDS)
    day = hostile.write_hostile_day(root, HOSTILE_DAY, SOURCE_IDS)
    dbt_build({"date": HOSTILE_DAY.isoformat(), "segment_root": str(root)})  # models and every data test
    return day


def test_the_hostile_day_runs_to_the_end_and_ties_out(hostile_day: hostile.HostileDay) -> None:
    """The build passed (with assert_run_audit_ties_out); the audit's lines are the files' lines
    counted here, the cut and the bad-CRC files' lines excepted (as many as the reader could
    decompress), and its file counts are the folders' files counted here by name."""
    root = hostile_day.root
    spark = _spark()
    audit = {r.source_key: r for r in spark.sql(
        f"select * from audit.segment_run_audit where run_ymd = '{HOSTILE_DAY}'").collect()}
    assert set(audit) == {"web", "app", "procedure"}
    status = {r.name: r for r in spark.sql(
        "select regexp_extract(file_name, '([^/]+)$', 1) as name, lines, file_status from staging.base_segment__files"
    ).collect()}
    cut, crc = status[hostile_day.cut_file.name], status[hostile_day.crc_file.name]
    assert cut.file_status == "truncated" and 0 < cut.lines <= hostile_day.cut_complete_lines + 1
    assert crc.file_status == "corrupt" and 0 < crc.lines < hostile_day.crc_lines  # its last buffer lost
    for key, row in audit.items():
        files = [p for day in _read_days(HOSTILE_DAY) if _folder(root, key, day).exists()
                 for p in sorted(_folder(root, key, day).rglob("*"))
                 if p.is_file() and p.stat().st_size > 0]  # a 0-byte file is not listed
        hidden = [p for p in files if p.name[0] in "_."]
        by_name = [p for p in files if p not in hidden and (p.parent.parent != root / SOURCE_IDS[key] or not p.name.endswith(".gz"))]
        gz = [p for p in files if p not in hidden and p not in by_name]
        faulty = (hostile_day.not_gzip_file, hostile_day.cut_file, hostile_day.crc_file)
        expected_lines = sum(len(_lines_of(p)) for p in gz if p not in faulty) + (cut.lines + crc.lines if key == "web" else 0)
        assert row.lines_read == expected_lines, key
        assert row.lines_read == row.quarantined + row.duplicates + row.events_staged + row.out_of_window, key
        assert row.files_read == len(gz), key
        assert (row.files_unreadable, row.files_truncated, row.files_corrupt, row.files_skipped, len(hidden)) == (
            (1, 1, 1, 3, 2) if key == "web" else (0, 0, 0, 0, 0)), key
    assert list(hostile_day.empty_folder.iterdir()) == []  # the app folder of D-2 was read empty
    # our own listing (what `seglog run` shows and the DAG compares) accounts for the same files
    tallied = landed_files.counts(landed_files.tally(str(root), SOURCE_IDS, _read_days(HOSTILE_DAY)))
    for key, row in audit.items():
        assert (tallied[key]["gz"], tallied[key]["not_gz"] + tallied[key]["nested"]) == (row.files_read, row.files_skipped), key
    assert tallied["web"]["hidden"] == len(hostile_day.hidden_files) == 2


def test_every_hostile_line_is_set_aside_with_its_reason(hostile_day: hostile.HostileDay) -> None:
    rows = _spark().sql(f"""
        select kind, reason, raw_line, raw_line_base64 from audit.segment_quarantine
        where received_ymd = '{HOSTILE_DAY}' and file_name like '%{hostile_day.lines_file.name}'""").collect()
    got = Counter()
    for r in rows:
        line = base64.b64decode(r.raw_line_base64) if r.raw_line_base64 else r.raw_line.encode()
        got[(line, r.reason)] += 1
    expected = Counter((line, reason) for line, _, reason in hostile_day.lines if reason)
    missing = {what: reason for line, what, reason in hostile_day.lines if reason and not got[(line, reason)]}
    assert not missing, f"not set aside with their reason: {missing}; got reasons {sorted(r.reason for r in rows)}"
    assert got == expected
    five_mb = next(r for r in rows if r.reason == "line_too_long")
    assert len(five_mb.raw_line) > hostile.FIVE_MB  # kept whole, to the last byte


def test_the_good_lines_of_the_hostile_file_are_staged(hostile_day: hostile.HostileDay) -> None:
    """The good event, and the events whose only fault is a field of another type: staged, that
    field nulled (an id sent as a number kept as its text, a version kept as sent)."""
    rows = _spark().sql("select message_id, user_id, version, context_user_agent_data_mobile as mobile, ymd "
                        "from staging.stg_segment__events where message_id in ('hostile-good', 'hostile-string-id', "
                        "'12345', 'hostile-user-bool', 'hostile-version-text', 'hostile-mobile-text')").collect()
    assert sorted((r.message_id, r.user_id, r.version, r.mobile, r.ymd) for r in rows) == sorted([
        ("hostile-good", None, None, None, str(HOSTILE_DAY)), ("hostile-string-id", "12345", None, None, str(HOSTILE_DAY)),
        ("12345", None, None, None, str(HOSTILE_DAY)), ("hostile-user-bool", None, None, None, str(HOSTILE_DAY)),
        ("hostile-version-text", None, "two", None, str(HOSTILE_DAY)),
        ("hostile-mobile-text", None, None, None, str(HOSTILE_DAY))])
    clashes = {(r.field, r.outcome): r.lines for r in _spark().sql(
        f"select field, outcome, lines from audit.segment_field_clashes where run_ymd = '{HOSTILE_DAY}' "
        "and source_key = 'web'").collect()}
    assert clashes == {("messageId", "kept_as_text"): 1, ("userId", "nulled"): 1,
                       ("context.userAgentData.mobile", "nulled"): 1}


def test_every_file_that_lost_lines_or_was_not_read_is_set_aside_and_an_empty_one_ignored(hostile_day: hostile.HostileDay) -> None:
    rows = _spark().sql(f"""
        select file_name, reason, raw_line from audit.segment_quarantine
        where received_ymd = '{HOSTILE_DAY}' and kind = 'file'""").collect()
    assert {r.file_name.rsplit("/", 1)[-1]: r.reason for r in rows} == hostile_day.files
    assert all(r.raw_line is None for r in rows)
    listed = _spark().sql(f"select count(*) as n from staging.base_segment__files "
                          f"where file_name like '%{hostile_day.empty_file.name}'").first()
    assert listed.n == 0  # 0 bytes: no line to lose, and Spark's scan does not even list it
    plain = _spark().sql("select count(*) as n from staging.stg_segment__events "
                         "where message_id = 'hostile-in-plain-text'").first()
    assert plain.n == 0  # in a file that is not gzip: set aside with its file, never half-read


# --- property-based: generated lines, an independent verdict ---------------------------------

def _at(day: date, hour: int) -> str:
    return generator.iso_ms(datetime(day.year, day.month, day.day, tzinfo=timezone.utc) + timedelta(hours=hour))


D = PROPERTY_DAY
TIMES = {  # the timestamps a generated event may carry, as text
    "owned_today": _at(D, 3), "owned_early": _at(D - timedelta(days=1), 16), "owned_yesterday": _at(D - timedelta(days=1), 3),
    "next_day": _at(D, 20), "three_days_late": _at(D - timedelta(days=3), 3), "epoch": "1970-01-01T00:00:00.000Z",
    "future": "2099-06-01T00:00:00.000Z", "not_a_time": "last tuesday",
}
text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
value_of_wrong_type = st.one_of(st.integers(-10**6, 10**6), st.booleans(), st.just({"k": 1}), st.just(["x"]))
# A valid event, then at most one fault; most lines keep none, so dedup, the window statuses
# and the staging are exercised as much as the reasons.
event = st.fixed_dictionaries({
    "messageId": st.sampled_from([f"hyp-{i}" for i in range(12)]),
    "anonymousId": st.sampled_from(["a-1", "a-2", "12345"]),
    "type": st.sampled_from(CALLS),
    "event": text,
    "timestamp": st.sampled_from([v for k, v in TIMES.items() if k != "not_a_time"]),  # owned first
    "receivedAt": st.sampled_from([_at(D, 4), _at(D, 5)]),
    "properties": st.fixed_dictionaries({"note": text}),
}, optional={"userId": st.sampled_from(["u-1", "12345"])})
FAULTS = ["none"] * 10 + [
    "drop:messageId", "drop:timestamp", "drop:receivedAt", "drop:type", "blank:messageId", "wrong:messageId",
    "wrong:anonymousId", "wrong:userId", "wrong:type", "wrong:event", "unknown:type", "not_a_time:timestamp",
    "truncated", "latin1", "array"]
line = st.tuples(event, st.sampled_from(FAULTS), value_of_wrong_type, st.integers(1, 200))


def _encode(ev: dict, fault: str, wrong, cut: int) -> bytes:
    ev = dict(ev)
    kind, _, name = fault.partition(":")
    if kind == "drop":
        ev.pop(name)
    elif kind == "blank":
        ev[name] = ""
    elif kind == "wrong":
        ev[name] = wrong
    elif kind == "unknown":
        ev[name] = "Track"  # case matters: not one of Segment's calls
    elif kind == "not_a_time":
        ev[name] = TIMES["not_a_time"]
    raw = json.dumps(ev, ensure_ascii=False, separators=(",", ":")).encode()
    if fault == "truncated":
        return raw[: max(1, min(cut, len(raw) - 1))]
    if fault == "latin1":
        return raw + b"\xe9"
    if fault == "array":
        return b"[" + raw + b"]"
    return raw


def _kst_date(ts: str) -> date:
    return (datetime.fromisoformat(ts.replace("Z", "+00:00")) + timedelta(hours=9)).date()


def _clashes(raw: bytes) -> Counter:
    """The documented clashes of a line that is an event (docs/reading-raw-logs.md "What quarantines a line, what
    only nulls a field"): (field, outcome) -> 1."""
    ev = json.loads(raw)
    out = Counter()
    for f in IDS:
        if isinstance(ev.get(f), bool):
            out[(f, "nulled")] += 1
        elif isinstance(ev.get(f), (int, float)):
            out[(f, "kept_as_text")] += 1
    for f in NULLED_STRINGS:
        if ev.get(f) is not None and not isinstance(ev[f], str):
            out[(f, "nulled")] += 1
    return out


def _id_text(value) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _verdict(raw: bytes) -> tuple[str, str | None]:
    """The documented rules (macro segment_base_lines, window_status), in plain Python:
    ('malformed', reason) / ('outside_window', reason) / ('event', window status)."""
    if raw.strip(b" ") == b"":
        return "malformed", "empty_line"
    try:
        text_ = raw.decode("utf-8")
    except UnicodeDecodeError:
        return "malformed", "invalid_utf8"
    try:
        ev = json.loads(text_)
    except json.JSONDecodeError:
        ev = None
    if not isinstance(ev, dict):
        first = text_.lstrip(" ")[:1]
        return "malformed", "json_array" if first == "[" else "not_json" if first != "{" else "malformed_json"
    if any(isinstance(ev.get(f), (dict, list)) for f in IDS):
        return "malformed", "invalid_id"
    mid = ev.get("messageId")
    if mid is None or isinstance(mid, bool) or (isinstance(mid, str) and not mid.strip(" ")):
        return "malformed", "missing_message_id"  # a boolean messageId is nulled: no usable id
    if ev.get("timestamp") is None:
        return "malformed", "missing_timestamp"
    if ev["timestamp"] == TIMES["not_a_time"]:  # the declared type is timestamp
        return "malformed", "invalid_timestamp"
    if ev.get("receivedAt") is None:
        return "malformed", "missing_received_at"
    if ev.get("type") is None:
        return "malformed", "missing_type"
    if ev["type"] not in CALLS:  # a type of another JSON kind is no call either
        return "malformed", "unknown_type"
    lag = (D - _kst_date(ev["timestamp"])).days  # the file is in folder D
    if lag < -1:
        return "outside_window", "ahead_of_receipt"
    if 0 <= lag <= 1:
        return "event", "owned"
    if lag > 1:
        return "outside_window", "beyond_window"
    return "event", "other_run"


@pytest.fixture(scope="module")
def property_root(tmp_path_factory: pytest.TempPathFactory, spark_dir: Path) -> Path:
    """A clean small day for every source (the landing guard needs them); each example adds one file."""
    root = tmp_path_factory.mktemp("property") / "segment-logs"
    generator.generate(root, D - timedelta(days=1), D, seed=5, events_per_day=200, files_per_day=1,
                       rates=generator.FaultRates(duplicate=0, malformed=0, late=0, clock_ahead=0),
                       source_ids=SOURCE_IDS)
    return root


@settings(max_examples=3, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large])
@given(lines=st.lists(line, min_size=30, max_size=80))
def test_generated_lines_get_the_documented_verdict_and_the_audit_ties_out(property_root: Path, lines) -> None:
    raws = [_encode(*drawn) for drawn in lines]
    path = _folder(property_root, "web", D) / f"{generator.received_day_ms(D) + 7_200_000}.events-archiver-1.hypothesis.tests.gz"
    path.write_bytes(gzip.compress(b"\n".join(raws) + b"\n", mtime=0))
    dbt(["run", "--select", "+segment_run_audit +segment_quarantine +segment_field_clashes",
         "--vars", json.dumps({"date": D.isoformat(), "segment_root": str(property_root)})])
    spark = _spark()

    verdicts = [_verdict(raw) for raw in raws]
    expected_aside = Counter((raw, reason) for raw, (kind, reason) in zip(raws, verdicts) if kind != "event")
    got_aside = Counter()
    for r in spark.sql(f"select raw_line, raw_line_base64, reason from audit.segment_quarantine "
                       f"where received_ymd = '{D}' and file_name like '%hypothesis.tests.gz'").collect():
        got_aside[(base64.b64decode(r.raw_line_base64) if r.raw_line_base64 else r.raw_line.encode(), r.reason)] += 1
    assert got_aside == expected_aside

    # dedup: the earliest receivedAt wins, then the line's bytes (one file); the kept copy's status counts
    kept: dict[str, tuple] = {}  # messageId -> (rank key, status) of its kept copy
    for raw, (kind, status) in zip(raws, verdicts):
        if kind != "malformed":  # events and the kept-aside ones are ranked together
            ev = json.loads(raw)
            key, mid = (ev["receivedAt"], raw), _id_text(ev["messageId"])  # a numeric id is kept as its text
            if mid not in kept or key < kept[mid][0]:
                kept[mid] = (key, status)
    staged = {mid for mid, (_, status) in kept.items() if status == "owned"}
    got_staged = {r.message_id for r in spark.sql(
        "select message_id from staging.base_segment__web_app_events "
        "where duplicate_rank = 1 and window_status = 'owned' and file_name like '%hypothesis.tests.gz'").collect()}
    assert got_staged == staged

    baseline = sum(len(_lines_of(p)) for day in _read_days(D) if _folder(property_root, "web", day).exists()
                   for p in _folder(property_root, "web", day).glob("*.gz") if p != path)
    web = spark.sql(f"select * from audit.segment_run_audit where run_ymd = '{D}' and source_key = 'web'").first()
    assert web.lines_read == baseline + len(raws)
    assert web.quarantined == sum(kind == "malformed" for kind, _ in verdicts)
    assert web.lines_read == web.quarantined + web.duplicates + web.events_staged + web.out_of_window
    assert web.kept_aside == sum(kind == "outside_window" for kind, _ in verdicts)
    # a field of another type costs that field: counted per field, and in the audit's total
    clashes = sum((_clashes(raw) for raw, (kind, _) in zip(raws, verdicts) if kind != "malformed"), Counter())
    got_clashes = {(r.field, r.outcome): r.lines for r in spark.sql(
        f"select field, outcome, lines from audit.segment_field_clashes where run_ymd = '{D}' and source_key = 'web'").collect()}
    assert got_clashes == dict(clashes)
    assert web.field_clashes == sum(clashes.values())
