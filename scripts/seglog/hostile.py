"""A hostile day: every kind of bad input the raw-log reader must survive, each with the reason
it must give.

``write_hostile_day`` adds to a generated day (``generator.generate``) the files below, in the
web source's folder of received day D, and empties the app source's folder of D-2 (read by
the run, allowed to be empty: the start of history):

- ``…hostile-lines…gz``: one line of each bad kind (``HOSTILE_LINES``: truncated JSON, binary,
  invalid UTF-8, a 5 MB line, 1,000-deep nesting, ids and a timestamp that cannot be used, a
  missing messageId / type, a timestamp in the future and in 1970, an unknown type), the
  events whose only fault is a field of another type (staged with that field nulled), and one
  good event, which must be staged;
- ``…empty…gz``: 0 bytes: holds no line, and Spark's listing skips it (in no count);
- ``…not-gzip…gz``: plain text named .gz (``unreadable_file``);
- ``…cut-short…gz``: a gzip file cut in the middle: the lines before the cut are read, the rest
  is lost with the file's end; the file is ``truncated``;
- ``…bad-crc…gz``: a whole gzip file whose CRC-32 does not match: the decompressor fails at the
  end and the lines of its last buffer are lost; the file is ``corrupt``;
- ``…events.json``, ``…events.GZ`` (``not_gz``), ``more/…gz`` (``nested``): not read, listed;
- ``_…gz``, ``.…gz``: hidden, never listed by Spark; counted by ``seglog run``'s own listing.

Deterministic (no randomness): the same day gives the same bytes.
"""

from __future__ import annotations

import gzip
import json
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

from . import generator
from .kst_calendar import received_day_ms

FIVE_MB = 5 * 1024 * 1024
DEPTH = 1000


@dataclass
class HostileDay:
    root: Path
    day: date
    lines: list[tuple[bytes, str, str | None]]  # (line, what it is, the reason it must get; None = staged)
    lines_file: Path
    empty_file: Path
    not_gzip_file: Path
    cut_file: Path
    cut_complete_lines: int  # whole lines before the cut: at most this many are read from it
    crc_file: Path
    crc_lines: int  # the lines the file holds (all but its last buffer's are read)
    hidden_files: list[Path]
    empty_folder: Path
    files: dict[str, str] = field(default_factory=dict)  # file name -> the file reason it must get


def _event(message_id: str, ts: datetime, **fields) -> dict:
    return {"messageId": message_id, "anonymousId": f"a-{message_id}", "type": "track", "event": "Hostile Test",
            "timestamp": generator.iso_ms(ts), "receivedAt": generator.iso_ms(ts + timedelta(seconds=1)),
            "properties": {"button": {"name": "hostile"}}, **fields}


def _dump(ev: dict) -> bytes:
    return json.dumps(ev, ensure_ascii=False, separators=(",", ":")).encode()


def hostile_lines(day: date) -> list[tuple[bytes, str, str | None]]:
    """The bad lines of received day ``day`` (UTC folder), each with the reason it must get."""
    at = datetime.combine(day, time(3, 0), tzinfo=timezone.utc)  # 12:00 KST of ``day``: owned by the run for it
    # Written as text: Python's json module stops at its recursion limit (about 1,000 levels).
    deep = b'{"d":' * (DEPTH - 1) + b'{"leaf":1}' + b"}" * (DEPTH - 1)
    good = _dump(_event("hostile-good", at))
    binary = bytes(b for b in range(256) if b not in (0x0A, 0x0D)) * 4  # no line ends (\n, \r)
    return [
        (good[: len(good) // 2], "truncated JSON", "malformed_json"),
        (binary, "binary bytes", "invalid_utf8"),
        (b"\x00\x01\x02\x03 binary but valid UTF-8", "control bytes", "not_json"),
        (_dump(_event("hostile-latin1", at)).replace(b"hostile", b"hostil\xe9"), "Latin-1 byte (invalid UTF-8)",
         "invalid_utf8"),
        (_dump(_event("hostile-5mb", at, properties={"blob": "x" * FIVE_MB})), "a 5 MB line", "line_too_long"),
        (_dump(_event("hostile-deep", at, properties={"deep": None})).replace(b'"deep":null', b'"deep":' + deep),
         f"{DEPTH:,}-deep nesting (beyond the JSON parser's limit of 1,000 levels)", "malformed_json"),
        # A field of another type costs that field, not the event (docs/reading-raw-logs.md "What quarantines a line"):
        (_dump(_event(12345, at)), "messageId a number (kept as its text, 12345)", None),
        (_dump(_event("hostile-type-array", at, type=["track"])), "type an array", "unknown_type"),
        (_dump(_event("hostile-user-bool", at, userId=True)), "userId a boolean (nulled)", None),
        (_dump(_event("hostile-anon-object", at, anonymousId={"id": 1})), "anonymousId an object", "invalid_id"),
        (_dump(_event("hostile-version-text", at, version="two")), "version a word (kept as sent)", None),
        (_dump(_event("hostile-ts-text", at, timestamp="yesterday")), "timestamp not a time", "invalid_timestamp"),
        (_dump(_event("hostile-mobile-text", at, context={"userAgentData": {"mobile": "yes"}})),
         "context.userAgentData.mobile (boolean) a string (nulled)", None),
        (_dump({k: v for k, v in _event("-", at).items() if k != "messageId"}), "no messageId", "missing_message_id"),
        (_dump({k: v for k, v in _event("hostile-no-type", at).items() if k != "type"}), "no type", "missing_type"),
        (_dump(_event("hostile-unknown-type", at, type="frobnicate")), "unknown type", "unknown_type"),
        (_dump(_event("hostile-future", at, timestamp="2099-01-01T00:00:00.000Z")), "timestamp in 2099",
         "ahead_of_receipt"),
        (_dump(_event("hostile-1970", at, timestamp="1970-01-01T00:00:00.000Z")), "timestamp in 1970",
         "beyond_window"),
        (_dump(_event("hostile-string-id", at, userId="12345")), "userId a numeric string (a string: fine)", None),
        (good, "a good event", None),
    ]


def write_hostile_day(root: Path, day: date, source_ids: dict[str, str]) -> HostileDay:
    """Add the hostile files to received day ``day`` of the generated logs under ``root``."""
    folder = root / source_ids["web"] / str(received_day_ms(day))
    folder.mkdir(parents=True, exist_ok=True)
    base = received_day_ms(day) + 3_600_000
    lines = hostile_lines(day)
    lines_file = folder / f"{base}.events-archiver-1.hostile-lines.tests.gz"
    lines_file.write_bytes(gzip.compress(b"\n".join(line for line, _, _ in lines) + b"\n", mtime=0))
    empty = folder / f"{base + 1}.events-archiver-1.empty.tests.gz"
    empty.write_bytes(b"")
    not_gzip = folder / f"{base + 2}.events-archiver-1.not-gzip.tests.gz"
    not_gzip.write_bytes(_dump(_event("hostile-in-plain-text", datetime.combine(day, time(3), timezone.utc))) + b"\n")
    at = datetime.combine(day, time(4, 0), tzinfo=timezone.utc)
    cut_lines = [_dump(_event(f"hostile-cut-{i:04d}", at + timedelta(seconds=i))) for i in range(2000)]
    whole = gzip.compress(b"\n".join(cut_lines) + b"\n", mtime=0)
    cut = folder / f"{base + 3}.events-archiver-1.cut-short.tests.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    # Whole lines in the bytes before the cut: all a decompressor can give (zlib, fed every byte).
    got = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(whole[: len(whole) // 2])
    crc_lines = [_dump(_event(f"hostile-crc-{i:04d}", at + timedelta(seconds=i))) for i in range(2000)]
    damaged = bytearray(gzip.compress(b"\n".join(crc_lines) + b"\n", mtime=0))
    damaged[-8] ^= 0xFF  # the first byte of the CRC-32 (RFC 1952 2.3.1: CRC32, then ISIZE, at the end)
    crc = folder / f"{base + 4}.events-archiver-1.bad-crc.tests.gz"
    crc.write_bytes(bytes(damaged))
    one = gzip.compress(_dump(_event("hostile-skipped", at)) + b"\n", mtime=0)
    skipped = {folder / f"{base + 5}.events-archiver-1.events.json": "not_gz",
               folder / f"{base + 6}.events-archiver-1.events.GZ": "not_gz",
               folder / "more" / f"{base + 7}.events-archiver-1.nested.gz": "nested"}
    hidden = [folder / f"_{base + 8}.events-archiver-1.hidden.gz", folder / f".{base + 9}.events-archiver-1.hidden.gz"]
    for path in [*skipped, *hidden]:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(one)
    empty_folder = root / source_ids["app"] / str(received_day_ms(day - timedelta(days=2)))
    if empty_folder.exists():
        for f in empty_folder.iterdir():
            f.unlink()
    empty_folder.mkdir(parents=True, exist_ok=True)
    return HostileDay(root=root, day=day, lines=lines, lines_file=lines_file, empty_file=empty, not_gzip_file=not_gzip,
                      cut_file=cut, cut_complete_lines=got.count(b"\n"), crc_file=crc, crc_lines=len(crc_lines),
                      hidden_files=hidden, empty_folder=empty_folder,
                      files={not_gzip.name: "unreadable_file", cut.name: "truncated", crc.name: "corrupt",
                             **{path.name: reason for path, reason in skipped.items()}})

