"""The sample-log generator: layout, determinism, realism and fault rates."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from collections import Counter
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from seglog import generator
from seglog.project import default_vars

SOURCE_IDS = default_vars()["segment_sources"]
FILE_NAME = re.compile(r"^(\d{13})\.events-archiver-\d\.[0-9a-f]{8}\.[0-9a-f-]{36}\.gz$")


def _digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*.gz"))}


def _lines(root: Path) -> list[tuple[str, str, bytes]]:
    """(source key, folder, raw line) for every line written."""
    by_id = {v: k for k, v in SOURCE_IDS.items()}
    out = []
    for path in sorted(root.rglob("*.gz")):
        for line in gzip.decompress(path.read_bytes()).split(b"\n")[:-1]:
            out.append((by_id[path.parent.parent.name], path.parent.name, line))
    return out


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, generator.GenerateResult]:
    root = tmp_path_factory.mktemp("gen") / "segment-logs"
    rates = generator.FaultRates(duplicate=0.05, malformed=0.02, late=0.04, missing_ids=0.02,
                                 page_as_string=0.1, long_string=0.02)
    result = generator.generate(root, date(2023, 11, 7), date(2023, 11, 8), seed=11, events_per_day=8000,
                                files_per_day=24, rates=rates, source_ids=SOURCE_IDS)
    return root, result


def test_same_seed_gives_identical_files_and_another_seed_does_not(tmp_path: Path) -> None:
    kwargs = dict(events_per_day=500, files_per_day=6, source_ids=SOURCE_IDS)
    generator.generate(tmp_path / "a", date(2023, 11, 8), date(2023, 11, 8), seed=3, **kwargs)
    generator.generate(tmp_path / "b", date(2023, 11, 8), date(2023, 11, 8), seed=3, **kwargs)
    generator.generate(tmp_path / "c", date(2023, 11, 8), date(2023, 11, 8), seed=4, **kwargs)
    a, b, c = (_digest(tmp_path / x) for x in "abc")
    assert a and a == b
    assert a != c


def test_several_workers_give_the_same_files_every_time_and_a_day_of_their_own_each(tmp_path: Path) -> None:
    kwargs = dict(seed=3, events_per_day=600, files_per_day=6, source_ids=SOURCE_IDS)
    d0, d1 = date(2023, 11, 7), date(2023, 11, 8)
    results = [generator.generate(tmp_path / x, d0, d1, workers=2, **kwargs) for x in "ab"]
    one = generator.generate(tmp_path / "one", d0, d1, **kwargs)
    a, b = _digest(tmp_path / "a"), _digest(tmp_path / "b")
    assert a and a == b  # deterministic, whatever order the processes finish in
    assert a != _digest(tmp_path / "one")  # each process draws its own stream
    # the same amount of data and faults, nothing lost or doubled in the merge: every event of
    # each business date once (1 + the duplicate copies), the manifest equal to what the files hold
    lines = _lines(tmp_path / "a")
    ids = Counter(ev["messageId"] for ev in (_event(raw) for _, _, raw in lines) if ev)
    assert results[0].total_events == one.total_events == len(ids)
    manifest = json.loads((tmp_path / "a" / "_manifest.json").read_text())
    assert sum(f["lines"] for f in manifest["folders"]) == len(lines)
    assert sum(f["events"] for f in manifest["folders"]) == results[0].total_events
    assert sum(f["duplicates"] for f in manifest["folders"]) == sum(n - 1 for n in ids.values())
    with pytest.raises(ValueError, match="workers 0"):
        generator.generate(tmp_path / "z", d0, d1, workers=0, **kwargs)


def _event(raw: bytes) -> dict | None:
    """The event a line holds, or None for the malformed kinds (none of which is an object with a messageId)."""
    try:
        ev = json.loads(raw)
    except ValueError:
        return None
    return ev if isinstance(ev, dict) and ev.get("messageId") else None


def test_layout_is_segments_real_one(sample) -> None:
    root, _ = sample
    files = list(root.rglob("*.gz"))
    assert {p.parent.parent.name for p in files} == set(SOURCE_IDS.values())
    for p in files:
        folder_ms = int(p.parent.name)
        # received-day folder = UNIX ms of 00:00 UTC; files are named by a ms inside (or just after) that day
        day = datetime.fromtimestamp(folder_ms / 1000, tz=timezone.utc)
        assert (day.hour, day.minute, day.second) == (0, 0, 0)
        m = FILE_NAME.match(p.name)
        assert m, p.name
        assert folder_ms <= int(m.group(1)) < folder_ms + 86_400_000 + 60_000
    # 00:00 UTC 2023-11-08 is 1699401600000, as DESIGN.md says
    assert (root / SOURCE_IDS["web"] / "1699401600000").is_dir()
    # many small files a day: 24 per source and full day
    per_folder = Counter((p.parent.parent.name, p.parent.name) for p in files)
    assert max(per_folder.values()) == 24


def test_faults_present_at_the_asked_rates(sample) -> None:
    root, result = sample
    lines = _lines(root)
    events, malformed, copies = 0, 0, Counter()
    late = 0
    for _source, folder, raw in lines:
        try:
            ev = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            malformed += 1
            continue
        if not isinstance(ev, dict) or "messageId" not in ev:
            malformed += 1
            continue
        copies[ev["messageId"]] += 1
        ts = datetime.fromisoformat(ev["timestamp"].replace("Z", "+00:00"))
        rec = datetime.fromisoformat(ev["receivedAt"].replace("Z", "+00:00"))
        if copies[ev["messageId"]] == 1:
            events += 1
            late += (rec - ts).days >= 1
    dup_extra = sum(n - 1 for n in copies.values())
    # invalid-UTF-8 lines decode with errors: count them among malformed above
    assert events == result.total_events
    assert dup_extra / events == pytest.approx(0.05, abs=0.01)
    assert malformed / events == pytest.approx(0.02, abs=0.006)
    assert late / events == pytest.approx(0.04, abs=0.01)


def test_every_malformed_kind_is_present(sample) -> None:
    root, result = sample
    kinds = Counter()
    for st in result.stats.values():
        kinds.update(st.malformed)
    assert set(kinds) == set(generator.MALFORMED_KINDS)
    raw = [line for _, _, line in _lines(root)]
    assert b"" in raw  # empty lines
    assert any(line.startswith(b"[") for line in raw)  # a JSON array
    bad_utf8 = 0
    for line in raw:
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            bad_utf8 += 1
    assert bad_utf8 == kinds["invalid_utf8"]


def test_events_are_realistic(sample) -> None:
    root, _ = sample
    evs = []
    for source, _, raw in _lines(root):
        try:
            ev = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError):
            continue
        if isinstance(ev, dict) and "messageId" in ev:
            evs.append((source, ev))
    stamps = Counter(ev["timestamp"][11:] for _, ev in evs)
    assert stamps["14:59:59.999Z"] > 0 and stamps["15:00:00.000Z"] > 0  # the KST midnight edge
    ahead = [ev for _, ev in evs if ev["receivedAt"] < ev["timestamp"][:10]]  # received days before its timestamp
    assert ahead  # a device clock ahead
    assert any(not ev.get("anonymousId") and not ev.get("userId") for _, ev in evs)  # neither id
    assert any(ev.get("userId") and not ev.get("anonymousId") for _, ev in evs)  # only a userId
    pages = [ev["properties"]["page"] for s, ev in evs if s == "web" and ev["type"] == "page"]
    assert any(isinstance(p, str) for p in pages) and any(isinstance(p, dict) for p in pages)
    titles = [ev["context"]["page"]["title"] for s, ev in evs if s == "web"]
    assert any(len(t.encode()) > 255 for t in titles)  # over Redshift's default VARCHAR(256)
    assert any(re.search("[가-힣]", t) for t in titles)  # Korean text
    types = Counter((s, ev["type"]) for s, ev in evs)
    assert types[("app", "screen")] and types[("web", "page")] and types[("procedure", "track")]
    assert all("integrations" in ev for s, ev in evs if s == "procedure")
    assert any(isinstance(ev["context"]["page"]["search"], dict) for s, ev in evs if s == "procedure")


def test_manifest_records_what_was_written(sample) -> None:
    root, result = sample
    manifest = json.loads((root / "_manifest.json").read_text())
    assert manifest["seed"] == 11
    total_lines = sum(f["lines"] for f in manifest["folders"])
    assert total_lines == len(_lines(root))
    assert sum(f["files"] for f in manifest["folders"]) == len(list(root.rglob("*.gz")))


def test_generate_refuses_a_folder_it_did_not_write_and_keeps_its_files(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from seglog.cli import app

    theirs = tmp_path / "photos"
    theirs.mkdir()
    (theirs / "holiday.jpg").write_bytes(b"not ours")
    args = ["generate", "--root", str(theirs), "--start", "2023-11-08", "--end", "2023-11-08",
            "--events-per-day", "50", "--files-per-day", "1"]
    refused = CliRunner().invoke(app, args)
    assert refused.exit_code == 2, refused.output
    assert "holds no _manifest.json" in " ".join(refused.output.split()) and "--force" in refused.output
    assert (theirs / "holiday.jpg").read_bytes() == b"not ours"
    with pytest.raises(generator.NotOurFolder):  # the library call refuses too
        generator.generate(theirs, date(2023, 11, 8), date(2023, 11, 8), events_per_day=50, files_per_day=1,
                           source_ids=default_vars()["segment_sources"])
    a_file = tmp_path / "notes.txt"
    a_file.write_text("x")
    assert CliRunner().invoke(app, [*args[:2], str(a_file), *args[3:]]).exit_code == 2
    assert a_file.read_text() == "x"

    # its own output (a manifest) is rewritten without asking, and --force replaces a foreign folder
    assert CliRunner().invoke(app, [*args, "--force"]).exit_code == 0
    assert not (theirs / "holiday.jpg").exists() and (theirs / "_manifest.json").is_file()
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 0, again.output


def test_a_generate_stopped_halfway_leaves_a_folder_the_next_one_may_clear(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The root is marked as the generator's as soon as it is cleared: a run stopped before its
    manifest does not make the next run refuse the folder as someone else's."""
    root = tmp_path / "logs"
    kwargs = dict(events_per_day=50, files_per_day=1, source_ids=default_vars()["segment_sources"])

    def stopped(*_a, **_k):
        (root / "half-written.gz").write_bytes(b"x")
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(generator, "_events", stopped)
        with pytest.raises(KeyboardInterrupt):
            generator.generate(root, date(2023, 11, 8), date(2023, 11, 8), **kwargs)
    assert (root / "half-written.gz").exists() and not (root / "_manifest.json").exists()  # not taken for a sample
    generator.generate(root, date(2023, 11, 8), date(2023, 11, 8), **kwargs)  # not refused
    assert not (root / "half-written.gz").exists()
    assert json.loads((root / "_manifest.json").read_text())["events_per_day"] == 50
    assert not (root / generator.GENERATING).exists()
