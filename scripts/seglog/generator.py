"""Sample Segment S3-destination logs, deterministic from a seed.

Writes the real layout

    {root}/{source-id}/{received-day-ms}/{received-ms}.events-archiver-{n}.{hash}.{uuid}.gz

for the KST business dates start..end, with the field set of the real sources (web, app and
the "procedure" source with its own schema), Korean strings, many small files a day, and
faults injected at the asked rates (duplicate deliveries, malformed lines, events on the
KST-midnight edge, late deliveries, events stamped days after their receipt, missing ids, ``properties.page`` as a plain string,
strings over 255 bytes).

Nothing here is random without the seed: the same arguments give byte-identical files
(gzip headers carry no mtime), so tests and benchmarks can rely on the data.

A manifest (``_manifest.json`` beside the source folders) records what was written per
source and folder: lines, events, duplicate copies, malformed lines by kind, late events.
"""

from __future__ import annotations

import gzip
import json
import random
import shutil
import uuid
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

from .kst_calendar import date_range, kst_midnight, received_day_ms

DAY_MS = 86_400_000

# Share of a day's events per source; the procedure source is the smallest, as in production.
SOURCE_SHARE = {"web": 0.45, "app": 0.40, "procedure": 0.15}

MALFORMED_KINDS = (
    "truncated_json",
    "garbage",
    "empty_line",
    "invalid_utf8",
    "json_array",
    "missing_message_id",
)

HOSPITALS = [
    ("1001", "서울미소치과의원"),
    ("1002", "강남연세치과"),
    ("1003", "부산바른이치과"),
    ("1004", "대구하얀치과의원"),
    ("1005", "인천튼튼치과"),
    ("1006", "광주밝은미소치과"),
    ("1007", "수원예쁜이치과"),
    ("1008", "분당서울대치과병원"),
]
ARTICLE_TITLES = [
    "임플란트 수술 후 주의사항 총정리",
    "치아 미백, 효과는 얼마나 갈까?",
    "교정 치료 기간과 비용 알아보기",
    "사랑니 발치 후 붓기 빼는 방법",
    "스케일링은 얼마나 자주 받아야 하나요",
    "라미네이트와 올세라믹 차이",
]
SEARCH_WORDS = ["임플란트", "치아미백", "교정", "사랑니", "스케일링", "라미네이트", " Implant ", "잇몸치료"]
PAGE_NAMES = ["Home", "ArticlesArticle", "HospitalsHospital", "EventsEvent", "Search", "MyPage"]
BUTTONS = [("예약하기", "bottom"), ("상담신청", "top"), ("전화걸기", "bottom"), ("공유하기", "header")]
ACTIONS = ["bookmark", "review_write", "reservation_complete", "call"]
PROMOTIONS = [("promo_01", "banner_main_a", "겨울 미백 이벤트"), ("promo_02", "banner_main_b", "임플란트 할인"),
              ("promo_03", "popup_c", "첫 상담 무료")]
REFERRERS = ["", "https://www.google.com/", "https://search.naver.com/search.naver?query=%EC%B9%98%EA%B3%BC",
             "https://m.blog.naver.com/abc/223", "https://www.instagram.com/"]
CAMPAIGNS = [None, None, None, {"source": "naver", "medium": "cpc", "name": "winter_whitening"},
             {"source": "instagram", "medium": "social", "name": "implant_2023"}]
WEB_UAS = [
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 Safari/537.36",
     {"brands": [{"brand": "Chromium", "version": "118"}, {"brand": "Google Chrome", "version": "118"},
                 {"brand": "Not=A?Brand", "version": "99"}], "mobile": False, "platform": "Windows"}),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.0 Mobile/15E148 Safari/604.1", None),
    ("Mozilla/5.0 (Linux; Android 13; SM-S918N) AppleWebKit/537.36 (KHTML, like Gecko) "
     "SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36",
     {"brands": [{"brand": "Not/A)Brand", "version": "99"}, {"brand": "Samsung Internet", "version": "23.0"}],
      "mobile": True, "platform": "Android"}),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.1 Safari/605.1.15", None),
]


@dataclass(frozen=True)
class FaultRates:
    """Share of events (or of lines, for malformed) that carry each fault."""

    duplicate: float = 0.02
    malformed: float = 0.003
    late: float = 0.01
    clock_ahead: float = 0.001  # stamped 2-3 days after receipt (a device clock ahead): kept aside
    missing_ids: float = 0.01
    page_as_string: float = 0.05
    long_string: float = 0.01
    edge_events_per_day: int = 2  # per source and day: one at 14:59:59.999Z, one at 15:00:00.000Z


@dataclass
class FolderStats:
    lines: int = 0
    events: int = 0  # unique well-formed events whose first copy is in this folder
    duplicate_copies: int = 0
    late_events: int = 0
    malformed: Counter = field(default_factory=Counter)
    files: int = 0
    bytes: int = 0


@dataclass
class GenerateResult:
    root: Path
    stats: dict[tuple[str, str], FolderStats]  # (source_key, received_day iso) -> stats
    total_events: int

    def summary_rows(self) -> list[dict[str, Any]]:
        rows = []
        for (source, day), st in sorted(self.stats.items()):
            rows.append({"source": source, "received_day": day, "files": st.files, "lines": st.lines,
                         "events": st.events, "duplicates": st.duplicate_copies, "late": st.late_events,
                         "malformed": sum(st.malformed.values()), "bytes": st.bytes})
        return rows


def iso_ms(ts: datetime) -> str:
    return ts.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


def _uuid4(rng: random.Random) -> str:
    """A version-4 UUID drawn from ``rng`` (so it follows the seed)."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


class _Generator:
    def __init__(self, seed: int, rates: FaultRates, source_ids: dict[str, str]):
        self.rng = random.Random(seed)
        self.rates = rates
        self.source_ids = source_ids
        self.users = [self._new_user(i) for i in range(4000)]

    def _uuid(self) -> str:
        return _uuid4(self.rng)

    def _new_user(self, i: int) -> dict[str, Any]:
        identified = self.rng.random() < 0.4
        return {"anonymous_id": self._uuid(), "user_id": f"u{100000 + i}" if identified else None,
                "customer_id": f"C{500000 + i}" if identified else None}

    # -- one event of each source -------------------------------------------------------
    def _common(self, ts: datetime, user: dict[str, Any]) -> dict[str, Any]:
        ev: dict[str, Any] = {"messageId": "", "timestamp": iso_ms(ts),
                              "originalTimestamp": iso_ms(ts - timedelta(milliseconds=self.rng.randint(0, 900))),
                              "sentAt": iso_ms(ts + timedelta(milliseconds=self.rng.randint(5, 900))),
                              "projectId": "pj_" + "x" * 6, "version": 2, "channel": "client",
                              "_metadata": {"bundled": ["Segment.io"], "unbundled": []}}
        r = self.rng.random()
        if r < self.rates.missing_ids / 2:
            pass  # neither id: not sessionised, counted downstream
        elif r < self.rates.missing_ids:
            ev["userId"] = user["user_id"] or f"u9{self.rng.randint(10000, 99999)}"
        else:
            ev["anonymousId"] = user["anonymous_id"]
            if user["user_id"] and self.rng.random() < 0.6:
                ev["userId"] = user["user_id"]
        return ev

    def _title(self) -> str:
        title = self.rng.choice(ARTICLE_TITLES)
        if self.rng.random() < self.rates.long_string:
            title = (title + " | ") * 12  # ~ 400+ UTF-8 bytes
        return title

    def _web(self, ts: datetime, user: dict[str, Any]) -> dict[str, Any]:
        ev = self._common(ts, user)
        ev["messageId"] = "ajs-next-" + self.rng.getrandbits(128).to_bytes(16, "big").hex()
        ua, uad = self.rng.choice(WEB_UAS)
        page_name = self.rng.choice(PAGE_NAMES)
        article = self.rng.randint(1, 400)
        path = {"ArticlesArticle": f"/community/articles/{article}",
                "HospitalsHospital": f"/hospitals/{self.rng.choice(HOSPITALS)[0]}"}.get(page_name, f"/{page_name.lower()}")
        search = f"?q={self.rng.choice(SEARCH_WORDS)}" if page_name == "Search" else ""
        title = self._title()
        referrer = self.rng.choice(REFERRERS)
        url = "https://www.dentalhub.kr" + path + search
        ctx: dict[str, Any] = {"ip": f"211.234.{self.rng.randint(0, 255)}.{self.rng.randint(1, 254)}",
                               "library": {"name": "analytics.js", "version": "next-1.53.0"},
                               "locale": self.rng.choice(["ko-KR", "ko-KR", "ko-KR", "en-US", "ko"]),
                               "page": {"path": path, "referrer": referrer, "search": search, "title": title,
                                        "url": url},
                               "userAgent": ua}
        if uad:
            ctx["userAgentData"] = uad
        campaign = self.rng.choice(CAMPAIGNS)
        if campaign:
            ctx["campaign"] = dict(campaign, content="img_1", term="치과")
        ev["context"] = ctx
        kind = self.rng.random()
        if kind < 0.6:
            ev["type"] = "page"
            ev["name"] = page_name
            page_prop: Any = page_name if self.rng.random() < self.rates.page_as_string else {"name": page_name}
            ev["properties"] = {"name": page_name, "path": path, "referrer": referrer, "search": search,
                                "title": title, "url": url, "page": page_prop}
        elif kind < 0.9:
            ev["type"] = "track"
            hid, hname = self.rng.choice(HOSPITALS)
            if self.rng.random() < 0.6:
                bname, bpos = self.rng.choice(BUTTONS)
                ev["event"] = "Button Clicked"
                ev["properties"] = {"button": {"name": bname, "position": bpos, "hospital": [int(hid), hname],
                                               "link": f"/hospitals/{hid}", "region": ["서울", "강남구"],
                                               "selected_item": None},
                                    "page": {"name": page_name}, "path": path}
            else:
                ev["event"] = "Action Performed"
                ev["properties"] = {"action": {"name": self.rng.choice(ACTIONS), "hospital": [hid, hname]},
                                    "page": {"name": page_name}, "path": path}
        else:
            self._identify(ev, user)
        return ev

    @staticmethod
    def _identify(ev: dict[str, Any], user: dict[str, Any]) -> None:
        """Make `ev` an identify call: the user's id when known, and the customer id trait."""
        ev["type"] = "identify"
        if user["user_id"]:
            ev["userId"] = user["user_id"]
        ev["traits"] = {"customerId": user["customer_id"]}

    def _app(self, ts: datetime, user: dict[str, Any]) -> dict[str, Any]:
        ev = self._common(ts, user)
        ev["messageId"] = self._uuid()
        page_name = self.rng.choice(PAGE_NAMES)
        hid, hname = self.rng.choice(HOSPITALS)
        ev["context"] = {"ip": f"118.235.{self.rng.randint(0, 255)}.{self.rng.randint(1, 254)}",
                         "library": {"name": "analytics-react-native", "version": "2.17.0"},
                         "locale": self.rng.choice(["ko-KR", "ko-KR", "en-US"])}
        inner = {"hospitalId": hid, "name": page_name, "pageName": page_name, "path": f"/{page_name.lower()}",
                 "routeName": page_name + "Screen", "to": self.rng.choice(["Home", "HospitalsHospital", None]),
                 "url": f"dentalhub://{page_name.lower()}",
                 "search": {"sort": "popular", "utm_source": self.rng.choice([None, "kakao", "push"]),
                            "utm_medium": "app", "utm_campaign": "autumn"}}
        kind = self.rng.random()
        if kind < 0.65:
            ev["type"] = "screen"
            ev["name"] = page_name
            ev["properties"] = {"name": page_name, "properties": inner}
        elif kind < 0.92:
            ev["type"] = "track"
            bname, bpos = self.rng.choice(BUTTONS)
            ev["event"] = "Button Clicked"
            ev["properties"] = {"button": {"name": bname, "position": bpos, "hospital": [hid, hname]},
                                "properties": inner, "title": self._title()}
        else:
            self._identify(ev, user)
        return ev

    def _procedure(self, ts: datetime, user: dict[str, Any]) -> dict[str, Any]:
        ev = self._common(ts, user)
        ev["messageId"] = self._uuid()
        path = self.rng.choice(["/procedures/implant", "/procedures/whitening", "/events", "/search"])
        search: Any = ""
        if path == "/search":
            kw = self.rng.choice(SEARCH_WORDS)
            # The procedure source sometimes sends page.search as an object: keep its text downstream.
            search = {"keyword": kw, "board": "qna"} if self.rng.random() < 0.3 else f"?keyword={kw}"
        ev["context"] = {"ip": "175.223.10.1", "library": {"name": "analytics.js", "version": "next-1.53.0"},
                         "locale": "ko-KR",
                         "page": {"path": path, "referrer": self.rng.choice(REFERRERS), "search": search,
                                  "title": self._title(), "url": "https://procedure.dentalhub.kr" + path}}
        ev["integrations"] = {"Actions Amplitude": {"session_id": int(ts.timestamp() * 1000) // 1_800_000 * 1_800_000}}
        kind = self.rng.random()
        if kind < 0.35:
            ev["type"] = "page"
            ev["name"] = "Procedure"
            ev["category"] = "procedure"
            ev["properties"] = {"url": ev["context"]["page"]["url"], "path": path}
        elif kind < 0.85:
            ev["type"] = "track"
            pid, creative, pname = self.rng.choice(PROMOTIONS)
            ev["event"] = "Promotion Viewed" if self.rng.random() < 0.8 else "Promotion Clicked"
            ev["properties"] = {"promotion_id": pid, "creative": creative, "name": pname,
                                "position": self.rng.choice(["main_top", "main_middle", "popup"]),
                                "url": ev["context"]["page"]["url"]}
        elif kind < 0.95:
            ev["type"] = "track"
            ev["event"] = "Search Performed"
            ev["properties"] = {"search_keyword": self.rng.choice(SEARCH_WORDS), "search_board_id": self.rng.randint(1, 9),
                                "search_type": self.rng.choice(["board", "hospital"]),
                                "url": ev["context"]["page"]["url"]}
        else:
            self._identify(ev, user)
        return ev

    # -- a day --------------------------------------------------------------------------
    def _timestamps(self, day: date, n: int) -> Iterator[datetime]:
        start = kst_midnight(day)
        # Busier in the KST evening: a simple hour weighting.
        weights = [1, 1, 1, 1, 1, 1, 2, 3, 4, 5, 5, 5, 6, 5, 5, 5, 5, 6, 7, 8, 9, 9, 7, 4]
        hours = self.rng.choices(range(24), weights=weights, k=n)
        for h in hours:
            yield start + timedelta(hours=h, milliseconds=self.rng.randrange(3_600_000))
        for _ in range(self.rates.edge_events_per_day):
            # The KST midnight edge: 14:59:59.999Z is still day-1 (KST), 15:00:00Z is the next day.
            yield start - timedelta(milliseconds=1)
            yield start

    def events_for_day(self, source: str, day: date, n: int) -> Iterator[tuple[datetime, dict[str, Any], bool]]:
        make = {"web": self._web, "app": self._app, "procedure": self._procedure}[source]
        for ts in self._timestamps(day, n):
            user = self.rng.choice(self.users)
            ev = make(ts, user)
            draw = self.rng.random()
            late = draw < self.rates.late
            ahead = self.rates.late <= draw < self.rates.late + self.rates.clock_ahead
            delay = timedelta(milliseconds=self.rng.randint(50, 20_000))
            if late:
                delay += timedelta(days=self.rng.randint(1, 3), hours=self.rng.randint(0, 6))
            elif ahead:
                delay = -timedelta(days=self.rng.randint(2, 3), hours=self.rng.randint(0, 6))
            received = ts + delay
            ev["receivedAt"] = iso_ms(received)
            yield received, ev, late


def _malformed_line(rng: random.Random, kind: str, sample: dict[str, Any]) -> bytes:
    text = json.dumps(sample, ensure_ascii=False)
    if kind == "truncated_json":
        return text[: max(5, len(text) // 2)].encode()
    if kind == "garbage":
        return b"<html><body>502 Bad Gateway</body></html>"
    if kind == "empty_line":
        return b""
    if kind == "invalid_utf8":
        # A well-formed JSON line whose bytes are not valid UTF-8 (a Latin-1 byte inside a string).
        return text.replace('"timestamp"', '"timestamp_\xe9"', 1).encode("utf-8").replace(b"\xc3\xa9", b"\xe9")
    if kind == "json_array":
        return ("[" + text + "]").encode()
    if kind == "missing_message_id":
        clone = dict(sample)
        clone.pop("messageId", None)
        return json.dumps(clone, ensure_ascii=False).encode()
    raise ValueError(kind)


Folders = dict[tuple[str, date], list[tuple[datetime, bytes]]]  # (source, received day) -> (received, line)


def _events(gen: "_Generator", start: date, end: date, events_per_day: int, rates: FaultRates,
            folders: Folders, stats: dict[tuple[str, str], FolderStats]) -> int:
    """The lines of the business dates ``start``..``end`` into ``folders``; the number of events."""
    rng = gen.rng
    total = 0
    day = start
    while day <= end:
        for source, share in SOURCE_SHARE.items():
            for received, ev, late in gen.events_for_day(source, day, max(1, int(events_per_day * share))):
                total += 1
                rday = received.date()
                folders[(source, rday)].append((received, json.dumps(ev, ensure_ascii=False).encode()))
                st = stats[(source, rday.isoformat())]
                st.events += 1
                st.late_events += late
                if rng.random() < rates.duplicate:
                    # At-least-once delivery: the same event again, minutes to a day later.
                    again = received + timedelta(seconds=rng.randint(60, 30 * 3600))
                    copy = dict(ev, receivedAt=iso_ms(again))
                    folders[(source, again.date())].append((again, json.dumps(copy, ensure_ascii=False).encode()))
                    stats[(source, again.date().isoformat())].duplicate_copies += 1
                if rng.random() < rates.malformed:
                    kind = rng.choice(MALFORMED_KINDS)
                    folders[(source, rday)].append((received, _malformed_line(rng, kind, ev)))
                    st.malformed[kind] += 1
        day += timedelta(days=1)
    return total


def _events_of_part(seed: int, part: int, rates: FaultRates, source_ids: dict[str, str], start: date, end: date,
                    events_per_day: int) -> tuple[Folders, dict[tuple[str, str], FolderStats], int]:
    """One process's share of generate(workers=N): the same users as the seed gives, then its own
    random stream (seeded by the seed and the part's number), so its events are its own."""
    gen = _Generator(seed, rates, source_ids)
    gen.rng.seed(f"{seed}/part {part}")
    folders: Folders = defaultdict(list)
    stats: dict[tuple[str, str], FolderStats] = defaultdict(FolderStats)
    total = _events(gen, start, end, events_per_day, rates, folders, stats)
    return dict(folders), dict(stats), total


def _write_folder(source_dir: Path, rday: date, lines: list[tuple[datetime, bytes]], files_per_day: int,
                  rng: random.Random) -> tuple[int, int, int]:
    """One received-day folder's .gz files, a file per 1/files_per_day of the day by receipt time,
    named as Segment names them; (files, lines, bytes) written."""
    lines.sort(key=lambda item: item[0])
    folder = source_dir / str(received_day_ms(rday))
    folder.mkdir(parents=True, exist_ok=True)
    span = DAY_MS // files_per_day
    by_file: dict[int, list[bytes]] = defaultdict(list)
    day_ms = received_day_ms(rday)
    for received, line in lines:
        bucket = (int(received.timestamp() * 1000) - day_ms) // span
        by_file[bucket].append(line)
    files = count = size = 0
    for bucket, blines in sorted(by_file.items()):
        written_ms = day_ms + (bucket + 1) * span + rng.randint(0, 59_999)
        name = (f"{written_ms}.events-archiver-{rng.randint(1, 8)}."
                f"{rng.getrandbits(32):08x}.{_uuid4(rng)}.gz")
        payload = b"\n".join(blines) + b"\n"
        with open(folder / name, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
            gz.write(payload)
        files += 1
        count += len(blines)
        size += (folder / name).stat().st_size
    return files, count, size


def _write_folder_seeded(seed: int, source_dir: Path, rday: date, lines: list[tuple[datetime, bytes]],
                         files_per_day: int, source: str) -> tuple[int, int, int]:
    return _write_folder(source_dir, rday, lines, files_per_day, random.Random(f"{seed}/{source}/{rday.isoformat()}"))


GENERATING = "_generating"  # the mark of a root being written (see generate)


class NotOurFolder(ValueError):
    """generate() was pointed at a folder it did not write; the message says how to go on."""


def check_root(root: Path, force: bool = False) -> None:
    """Refuse to clear a root that is a file, or a non-empty folder without our _manifest.json
    (a typo in --root must not delete someone's data), unless ``force``."""
    if root.exists() and not root.is_dir():
        raise NotOurFolder(f"{root} is a file, not a folder")
    if force or not root.exists() or not any(root.iterdir()) \
            or (root / "_manifest.json").is_file() or (root / GENERATING).is_file():
        return
    raise NotOurFolder(f"{root} is not empty and holds no _manifest.json of the generator's: it was not "
                       "written by `seglog generate`, which would delete everything in it. Choose an empty or "
                       "new folder, or pass --force to replace its contents")


def generate(root: Path, start: date, end: date, *, seed: int = 42, events_per_day: int = 20_000,
             files_per_day: int = 48, rates: FaultRates = FaultRates(),
             source_ids: dict[str, str], clean: bool = True, workers: int = 1, force: bool = False) -> GenerateResult:
    """Write the sample logs for the KST business dates ``start``..``end`` under ``root``.

    ``workers`` > 1 (the benchmarks' big days) makes the events of the dates in that many
    processes, one run of consecutive dates each, and writes the files here. The same arguments
    still give byte-identical files, but not the files of ``workers=1``: each process draws its
    own random stream (the user pool is the seed's in all of them)."""
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    if workers < 1:
        raise ValueError(f"workers {workers}: at least 1")
    check_root(root, force)
    if clean and root.exists():
        shutil.rmtree(root)
    # ours from now on: a run stopped halfway leaves this mark (not a manifest: `make sample` and
    # --if-missing take a manifest for a finished sample), and the next run may clear the root
    root.mkdir(parents=True, exist_ok=True)
    (root / GENERATING).touch()
    gen = _Generator(seed, rates, source_ids)
    rng = gen.rng
    folders: Folders = defaultdict(list)
    stats: dict[tuple[str, str], FolderStats] = defaultdict(FolderStats)
    days = date_range(start, end)
    parts = [days[i * len(days) // workers:(i + 1) * len(days) // workers] for i in range(min(workers, len(days)))]
    if len(parts) <= 1:
        total = _events(gen, start, end, events_per_day, rates, folders, stats)
    else:
        from concurrent.futures import ProcessPoolExecutor

        total = 0
        with ProcessPoolExecutor(max_workers=len(parts)) as pool:
            futures = [pool.submit(_events_of_part, seed, i, rates, source_ids, part[0], part[-1], events_per_day)
                       for i, part in enumerate(parts)]
            for future in futures:  # in the parts' order: the merge is the same every time
                got_folders, got_stats, got_total = future.result()
                total += got_total
                for key, lines in got_folders.items():
                    folders[key].extend(lines)
                for key, st in got_stats.items():
                    into = stats[key]
                    into.events += st.events
                    into.late_events += st.late_events
                    into.duplicate_copies += st.duplicate_copies
                    into.malformed.update(st.malformed)

    ordered = sorted(folders.items())
    if len(parts) <= 1:
        written = [_write_folder(root / source_ids[source], rday, lines, files_per_day, rng)
                   for (source, rday), lines in ordered]
    else:
        from concurrent.futures import ProcessPoolExecutor

        # Each folder's file names from its own stream (seed, source, day): the folders are
        # compressed and written side by side, in any order, with the same names every time.
        with ProcessPoolExecutor(max_workers=len(parts)) as pool:
            written = list(pool.map(_write_folder_seeded, [seed] * len(ordered),
                                    [root / source_ids[source] for (source, _), _ in ordered],
                                    [rday for (_, rday), _ in ordered], [lines for _, lines in ordered],
                                    [files_per_day] * len(ordered), [source for (source, _), _ in ordered]))
    for ((source, rday), _), (files, lines_written, size) in zip(ordered, written):
        st = stats[(source, rday.isoformat())]
        st.files += files
        st.lines += lines_written
        st.bytes += size

    result = GenerateResult(root=root, stats=dict(stats), total_events=total)
    manifest = {
        "seed": seed, "start": start.isoformat(), "end": end.isoformat(), "events_per_day": events_per_day,
        "files_per_day": files_per_day, "rates": asdict(rates), "source_ids": source_ids,
        "folders": [dict(row, malformed_by_kind=dict(stats[(row["source"], row["received_day"])].malformed))
                    for row in result.summary_rows()],
    }
    root.mkdir(parents=True, exist_ok=True)
    (root / "_manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    (root / GENERATING).unlink(missing_ok=True)
    return result
