"""The parity fixture: raw Segment log files in the layout the pipeline reads, deterministic.

Two parts, written under one root (default ``data/parity/segment-logs``):

1. The project's sample generator at a few hundred events a day over the KST business dates
   2020-12-27 (a Sunday) .. 2021-01-03: ISO week 2020-53, the calendar New Year inside a week,
   Sunday-start weeks, KST-midnight edge events, duplicates, late deliveries, missing ids,
   ``properties.page`` as a plain string. No malformed lines (quarantine is tested elsewhere),
   no device clocks ahead. Then filtered so that every line belongs to the one dbt run the
   harness makes (see ``RUN_DATE``/``LATE_ARRIVAL_DAYS``): lines whose KST date is outside the
   fixture dates (the generator's 23:59:59.999 edge event of the day before the first) and
   lines delivered to a folder after the last date (a late copy the run would not read) are
   left out, and counted in the manifest.
2. Hand-written events (``HANDMADE``) for what differs between Redshift and Spark: the KST
   midnight and New Year, ISO-week edges, Korean strings (raw and \\u-escaped, URL-encoded
   search keywords), NULL vs "" vs a missing key in the JSON objects, duplicate deliveries of
   one messageId that differ (the earliest receivedAt wins), ties in ordering (two events of a
   session at the same instant; two identify calls at the same instant), a session gap of
   exactly 30 minutes, a late login, user-id-only and id-less events, and a date (2021-01-04)
   that holds only hand-written events, so that its medians are over even counts of known
   values (web session durations 0, 60, 181, 3000 s: median 120.5) and its ratios are not
   whole numbers (promotion CTR 1/3, bounce rate 1/4).

The same seed gives byte-identical files; ``Fixture.digest`` (sha256 of every file's path and
bytes) names the fixture, so a Spark warehouse built from it can be recognised
(``seglog parity --reuse-spark``).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

from .. import generator
from ..kst_calendar import KST, date_range, received_day_ms
from ..project import DATA_DIR, default_vars

FIXTURE_ROOT = DATA_DIR / "parity" / "segment-logs"

FIRST_DATE = date(2020, 12, 27)
GENERATED_LAST_DATE = date(2021, 1, 3)
LAST_DATE = date(2021, 1, 4)  # hand-written events only
FIXTURE_DATES = date_range(FIRST_DATE, LAST_DATE)
# The one dbt run: the last date with a window that owns every fixture date (D-L..D) and
# reads every folder of the fixture (D-L-1..D).
RUN_DATE = LAST_DATE
LATE_ARRIVAL_DAYS = (LAST_DATE - FIRST_DATE).days

SEED = 20201227
EVENTS_PER_DAY = 300
FILES_PER_DAY = 4
RATES = generator.FaultRates(duplicate=0.05, malformed=0.0, late=0.03, clock_ahead=0.0, missing_ids=0.03,
                             page_as_string=0.1, long_string=0.02, edge_events_per_day=2)


def source_ids() -> dict[str, str]:
    return dict(default_vars()["segment_sources"])


# --------------------------------------------------------------------------- hand-written events


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _iso(ts: datetime) -> str:
    return generator.iso_ms(ts)


@dataclass(frozen=True)
class Delivery:
    """One delivered line: the event, when Segment received it, which file it went to, and
    whether it is written with every non-ASCII character \\u-escaped."""

    source: str
    event: dict[str, Any]
    received: datetime
    file_tag: str = "a"
    ascii_escaped: bool = False

    def line(self) -> bytes:
        body = dict(self.event, receivedAt=_iso(self.received))
        return json.dumps(body, ensure_ascii=self.ascii_escaped).encode()


def _web(mid: str, ts: str, type_: str, anon: str | None = None, **fields: Any) -> dict[str, Any]:
    ev: dict[str, Any] = {"messageId": mid, "timestamp": ts, "type": type_, "channel": "client", "version": 2,
                          "sentAt": _iso(_ts(ts) + timedelta(milliseconds=120)),
                          "originalTimestamp": _iso(_ts(ts) - timedelta(milliseconds=40))}
    if anon is not None:
        ev["anonymousId"] = anon
    ev.update(fields)
    return ev


def _page(mid: str, ts: str, anon: str | None, path: str, name: str, **fields: Any) -> dict[str, Any]:
    fields.setdefault("context", {"page": {"path": path, "referrer": "", "search": "", "title": name,
                                           "url": "https://www.dentalhub.kr" + path},
                                  "locale": "ko-KR", "userAgent": "Mozilla/5.0 (parity)"})
    fields.setdefault("properties", {"page": {"name": name}, "path": path})
    return _web(mid, ts, "page", anon, name=name, **fields)


def _track(mid: str, ts: str, anon: str | None, event: str, **fields: Any) -> dict[str, Any]:
    return _web(mid, ts, "track", anon, event=event, **fields)


def _screen(mid: str, ts: str, anon: str, name: str, to: str | None) -> dict[str, Any]:
    inner = {"hospitalId": 1001, "name": name, "pageName": "홈" if name == "Home" else name, "path": "/" + name.lower(),
             "routeName": name + "Screen", "to": to, "url": "dentalhub://" + name.lower(),
             "search": {"sort": "popular", "utm_source": "kakao", "utm_medium": "app", "utm_campaign": "신년"}}
    return _web(mid, ts, "screen", anon, name=name,
                context={"locale": "ko-KR", "library": {"name": "analytics-react-native", "version": "2.17.0"}},
                properties={"name": name, "properties": inner})


def _proc(mid: str, ts: str, type_: str, anon: str | None = "a-par-proc", **fields: Any) -> dict[str, Any]:
    ev: dict[str, Any] = {"messageId": mid, "timestamp": ts, "type": type_, "version": 2,
                          "integrations": {"Actions Amplitude": {"session_id": 1609722000000}}}
    if anon is not None:
        ev["anonymousId"] = anon
    ev.update(fields)
    return ev


def _proc_page(mid: str, ts: str, search: Any, **fields: Any) -> dict[str, Any]:
    page: dict[str, Any] = {"path": "/search", "referrer": "", "title": "시술 검색",
                            "url": "https://procedure.dentalhub.kr/search"}
    if search is not _MISSING:
        page["search"] = search
    fields.setdefault("properties", {"url": page["url"], "path": "/search"})
    return _proc(mid, ts, "page", name="Procedure", category="procedure", context={"page": page}, **fields)


def _promo(mid: str, ts: str, event: str, promotion: str) -> dict[str, Any]:
    return _proc(mid, ts, "track", event=event,
                 context={"page": {"path": "/events", "url": "https://procedure.dentalhub.kr/events"}},
                 properties={"promotion_id": promotion, "creative": "banner_parity", "name": "신년 이벤트",
                             "position": "main_top", "url": "https://procedure.dentalhub.kr/events"})


_MISSING = object()
_SOON = timedelta(milliseconds=700)


def _at(event: dict[str, Any], delay: timedelta = _SOON) -> datetime:
    return _ts(event["timestamp"]) + delay


def handmade() -> list[Delivery]:
    """The hand-written deliveries (each a line of one raw file). See the module docstring."""
    d: list[Delivery] = []

    def web(ev: dict[str, Any], **kw: Any) -> None:
        d.append(Delivery("web", ev, kw.pop("received", _at(ev)), **kw))

    # KST midnight on New Year's Eve: 23:59:59.999 is 2020-12-31 (ym 2020-12), 00:00:00.000 is
    # 2021-01-01 (ym 2021-01, though the UTC month is still 2020-12); both in ISO week 2020-53
    # (the week of kst + 1 day) and the week of Sunday 2020-12-27. One millisecond apart: one
    # session of 2020-12-31, not cut at midnight.
    web(_page("p-ny-1", "2020-12-31T14:59:59.999Z", "a-par-newyear", "/home", "Home"))
    web(_page("p-ny-2", "2020-12-31T15:00:00.000Z", "a-par-newyear", "/events", "EventsEvent"))
    # The Sunday-start week turns at Saturday/Sunday midnight KST: 2021-01-02 23:59:59.999 is in
    # week 2020-53 (ywd 2020-12-27), 2021-01-03 00:00 in 2021-01 (ywd 2021-01-03).
    web(_track("p-iw-1", "2021-01-02T14:59:59.999Z", "a-par-isoweek", "Button Clicked",
               properties={"button": {"name": "예약하기", "position": "bottom", "hospital": [1001, "서울미소치과의원"]},
                           "page": {"name": "HospitalsHospital"}, "path": "/hospitals/1001"}))
    web(_page("p-iw-2", "2021-01-02T15:00:00.000Z", "a-par-isoweek", "/hospitals/1001", "HospitalsHospital"))

    # Multi-byte strings: Korean page names and titles (an emoji is 4 UTF-8 bytes), URL-encoded
    # Korean search keywords ('+' as a space; one truncated escape), `properties.page` as a plain
    # Korean string, and an event written with every non-ASCII character \u-escaped.
    search = "?q=%EC%9E%84%ED%94%8C%EB%9E%80%ED%8A%B8"
    web(_page("p-ko-1", "2020-12-29T01:00:00.000Z", "a-par-korean", "/search", "치과찾기",
              context={"page": {"path": "/search", "search": search, "title": "강남 임플란트 잘하는 곳 🦷",
                                "url": "https://www.dentalhub.kr/search" + search,
                                "referrer": "https://search.naver.com/search.naver?query=%EC%B9%98%EA%B3%BC"},
                       "locale": "ko-KR"},
              properties={"page": {"name": "치과찾기"}, "path": "/search", "search": search}))
    web(_page("p-ko-2", "2020-12-29T01:02:00.000Z", "a-par-korean", "/search", "검색결과",
              context={"page": {"path": "/search", "search": "?q=%EC%B9%98%EA%B3%BC+%EA%B5%90%EC%A0%95",
                                "title": "치과 교정", "referrer": ""}, "locale": "ko-KR"},
              properties={"page": "검색결과", "path": "/search"}))
    web(_track("p-ko-3", "2020-12-29T01:03:00.000Z", "a-par-korean", "Button Clicked",
               properties={"button": {"name": "상담신청", "position": "상단", "hospital": [1002, "강남연세치과"]},
                           "page": {"name": "치과찾기"}, "path": "/search"}), ascii_escaped=True)
    web(_page("p-ko-4", "2020-12-29T01:04:00.000Z", "a-par-korean", "/search", "Search",
              context={"page": {"path": "/search", "search": "?q=%EC%9E%84%ED%94%8C%EB%9E%80%ED%8A", "title": "검색"}}))

    # NULL vs "" vs a missing key, in context and properties (and a missing/null object).
    web(_page("p-nul-1", "2020-12-30T02:00:00.000Z", "a-par-nulls", "/nulls", "Nulls",
              context={"page": {"path": "/nulls", "referrer": "", "search": "", "title": ""}, "locale": "",
                       "userAgent": ""},
              properties={"page": {"name": ""}, "path": ""}))
    web(_page("p-nul-2", "2020-12-30T02:01:00.000Z", "a-par-nulls", "/nulls", "Nulls",
              context={"page": {"path": "/nulls", "referrer": None, "search": None}, "locale": None, "ip": None},
              properties={"page": None, "path": None}))
    web(_page("p-nul-3", "2020-12-30T02:02:00.000Z", "a-par-nulls", "/nulls", "Nulls",
              context={"page": {"path": "/nulls"}}, properties={}))
    web(_track("p-nul-4", "2020-12-30T02:03:00.000Z", "a-par-nulls", "Action Performed",
               properties={"page": {}, "action": {"name": "bookmark", "hospital": []}}))  # no context at all
    web(_track("p-nul-5", "2020-12-30T02:04:00.000Z", "a-par-nulls", "Button Clicked", userId=None, context=None,
               properties={"button": {"name": "예약하기", "hospital": [None, "이름없는치과"], "selected_item": None}}))
    web(_page("p-nul-6", "2020-12-30T02:05:00.000Z", "a-par-nulls", "/nulls", "Nulls",
              properties={"page": 5, "path": "/nulls"}))
    # An empty-string userId (some libraries send "" instead of null).
    web(_track("p-nul-7", "2020-12-30T02:06:00.000Z", "a-par-emptyuser", "Button Clicked", userId="",
               properties={"button": {"name": "공유하기", "position": "header"}}))

    # Duplicate deliveries of one messageId whose copies differ: the earliest receivedAt wins
    # (copy B), though copy A comes first in the folder (an earlier file) and C a day later.
    dup = _page("p-dup", "2021-01-01T03:00:00.000Z", "a-par-dup", "/home", "Home")
    web(dict(dup, properties={"page": {"name": "DupSecond"}, "path": "/home"}),
        received=_ts("2021-01-01T03:00:05.000Z"), file_tag="a")
    web(dict(dup, properties={"page": {"name": "DupEarliest"}, "path": "/home"}),
        received=_ts("2021-01-01T03:00:01.000Z"), file_tag="b")
    web(dict(dup, properties={"page": {"name": "DupLate"}, "path": "/home"}), received=_ts("2021-01-02T01:00:00.000Z"))

    # Ties: three events of one session at the same instant. Both sides order a session's events
    # by (timestamp, message_id): landing page = p-tie-a's path, exit page = p-tie-b's.
    web(_page("p-tie-b", "2020-12-29T05:00:00.000Z", "a-par-tie", "/tie-first-in-file", "Home"))
    web(_page("p-tie-a", "2020-12-29T05:00:00.000Z", "a-par-tie", "/tie-second-in-file", "Home"))
    web(_track("p-tie-c", "2020-12-29T05:00:00.000Z", "a-par-tie", "Button Clicked",
               properties={"button": {"name": "예약하기", "position": "bottom"}}))
    # Two identify calls of one anonymous id at the same instant, to different users: the
    # earliest link wins, ties broken by message id (p-idt-a: u-par-1).
    web(_web("p-idt-b", "2020-12-28T03:00:00.000Z", "identify", "a-par-idtie", userId="u-par-2",
             traits={"customerId": "C-PAR-2"}))
    web(_web("p-idt-a", "2020-12-28T03:00:00.000Z", "identify", "a-par-idtie", userId="u-par-1",
             traits={"customerId": "C-PAR-1"}))
    web(_page("p-idt-c", "2020-12-28T03:10:00.000Z", "a-par-idtie", "/home", "Home"))
    # Ties for "the name sent with the day's latest event" (Q08): hospital 2001 named twice by one
    # click (button and action, different names: the button's wins), hospital 2002 by two clicks
    # at one instant (the greatest message id wins: h-tie-b's "나치과").
    web(_track("h-tie-1", "2020-12-30T06:00:00.000Z", "a-par-htie", "Button Clicked",
               properties={"button": {"name": "예약하기", "position": "bottom", "hospital": [2001, "버튼치과"]},
                           "action": {"name": "reserve", "hospital": [2001, "액션치과"]}}))
    web(_track("h-tie-b", "2020-12-30T06:01:00.000Z", "a-par-htie", "Button Clicked",
               properties={"button": {"name": "예약하기", "position": "bottom", "hospital": [2002, "나치과"]}}))
    web(_track("h-tie-a", "2020-12-30T06:01:00.000Z", "a-par-htie", "Button Clicked",
               properties={"button": {"name": "예약하기", "position": "bottom", "hospital": [2002, "가치과"]}}))
    # A late login: anonymous on 12-28, identified on 12-30.
    web(_page("p-lg-1", "2020-12-28T01:00:00.000Z", "a-par-login", "/home", "Home"))
    web(_web("p-lg-2", "2020-12-30T01:00:00.000Z", "identify", "a-par-login", userId="u-par-login",
             traits={"customerId": "C-PAR-LOGIN"}))
    # Session gaps: exactly 30 minutes stays in the session, 30 minutes and 1 ms starts a new one.
    web(_page("p-gap-1", "2020-12-30T00:00:00.000Z", "a-par-gap", "/home", "Home"))
    web(_page("p-gap-2", "2020-12-30T00:30:00.000Z", "a-par-gap", "/search", "Search"))
    web(_page("p-gap-3", "2020-12-30T01:00:00.001Z", "a-par-gap", "/events", "EventsEvent"))
    # Whole seconds as Redshift's datediff('second') counts them, boundaries crossed: 03:00:00.900
    # to 03:00:01.100 is 1 s though 0.2 s passed (Spark's timestampdiff(SECOND, …) says 0).
    web(_page("p-sub-1", "2020-12-30T03:00:00.900Z", "a-par-subsec", "/home", "Home"))
    web(_page("p-sub-2", "2020-12-30T03:00:01.100Z", "a-par-subsec", "/search", "Search"))
    # Only a userId (sessionised by it), and neither id (not sessionised, still in segment_log).
    web(_page("p-uonly-1", "2020-12-30T05:00:00.000Z", None, "/mypage", "MyPage", userId="u-par-only"))
    web(_track("p-uonly-2", "2020-12-30T05:05:00.000Z", None, "Button Clicked", userId="u-par-only",
               properties={"button": {"name": "전화걸기", "position": "bottom"}}))
    web(_page("p-noid", "2020-12-30T06:00:00.000Z", None, "/home", "Home"))

    # 2021-01-04: hand-written only. Web sessions of 0, 60, 181 (11:00:00.000 to 11:03:01.500:
    # whole seconds crossed) and 3000 s: median 120.5, mean 810.25, 7 page views over 4 sessions,
    # one bounce in four.
    web(_page("p-med-1a", "2021-01-04T01:00:00.000Z", "a-par-med-1", "/home", "Home"))
    web(_page("p-med-2a", "2021-01-04T01:00:00.000Z", "a-par-med-2", "/home", "Home"))
    web(_track("p-med-2b", "2021-01-04T01:01:00.000Z", "a-par-med-2", "Button Clicked",
               properties={"button": {"name": "예약하기", "position": "bottom"}}))
    web(_page("p-med-3a", "2021-01-04T02:00:00.000Z", "a-par-med-3", "/community/articles/7", "ArticlesArticle"))
    web(_page("p-med-3b", "2021-01-04T02:03:01.500Z", "a-par-med-3", "/community/articles/8", "ArticlesArticle"))
    web(_page("p-med-4a", "2021-01-04T03:00:00.000Z", "a-par-med-4", "/home", "Home"))
    web(_page("p-med-4b", "2021-01-04T03:25:00.000Z", "a-par-med-4", "/search", "Search"))
    web(_page("p-med-4c", "2021-01-04T03:50:00.000Z", "a-par-med-4", "/events", "EventsEvent"))
    # App sessions of 10 and 15 s (median 12.5); numeric hospitalId, null navigation target.
    for ev in (_screen("p-app-1a", "2021-01-04T01:00:00.000Z", "a-par-app-1", "Home", None),
               _screen("p-app-1b", "2021-01-04T01:00:10.000Z", "a-par-app-1", "HospitalsHospital", "Home"),
               _screen("p-app-2a", "2021-01-04T02:00:00.000Z", "a-par-app-2", "Home", "HospitalsHospital"),
               _web("p-app-2b", "2021-01-04T02:00:15.000Z", "track", "a-par-app-2", event="Button Clicked",
                    properties={"button": {"name": "예약하기", "position": "bottom", "hospital": ["1003", "부산바른이치과"]},
                                "properties": {"hospitalId": "1003", "to": None}})):
        d.append(Delivery("app", ev, _at(ev)))

    # The procedure source: page.search as a JSON object, a %-encoded string, "" and missing;
    # the Amplitude session id set, null and absent; promotions with 3 views and 1 click (CTR 1/3)
    # and a click without views; search board ids as a number and a string; a numeric customerId;
    # a duplicate whose earliest copy differs; the KST New Year.
    def proc(ev: dict[str, Any], **kw: Any) -> None:
        d.append(Delivery("procedure", ev, kw.pop("received", _at(ev)), **kw))

    proc(_proc_page("pr-page-1", "2021-01-04T01:00:00.000Z", {"keyword": "임플란트", "board": "qna"}))
    proc(_proc_page("pr-page-2", "2021-01-04T01:01:00.000Z", "?keyword=%EC%9E%84%ED%94%8C%EB%9E%80%ED%8A%B8",
                    integrations={"Actions Amplitude": {"session_id": None}}))
    proc(_proc_page("pr-page-3", "2021-01-04T01:02:00.000Z", "", integrations={}))
    page4 = _proc_page("pr-page-4", "2021-01-04T01:03:00.000Z", _MISSING)
    page4.pop("integrations")
    proc(page4)
    for i, minute in enumerate((10, 11, 12)):
        proc(_promo(f"pr-view-{i}", f"2021-01-04T01:{minute}:00.000Z", "Promotion Viewed", "promo_parity"))
    proc(_promo("pr-click-0", "2021-01-04T01:13:00.000Z", "Promotion Clicked", "promo_parity"))
    proc(_promo("pr-click-1", "2021-01-04T01:14:00.000Z", "Promotion Clicked", "promo_parity_no_views"))
    search = _proc("pr-search-1", "2021-01-04T01:20:00.000Z", "track", event="Search Performed",
                   properties={"search_keyword": " 임플란트 ", "search_board_id": 3, "search_type": "board"})
    proc(dict(search, properties=dict(search["properties"], search_type="board")),
         received=_ts("2021-01-04T01:20:05.000Z"), file_tag="a")
    proc(dict(search, properties=dict(search["properties"], search_type="hospital")),
         received=_ts("2021-01-04T01:20:02.000Z"), file_tag="b")
    proc(_proc("pr-search-2", "2021-01-04T01:21:00.000Z", "track", event="Search Performed",
               properties={"search_keyword": "치아미백", "search_board_id": "7", "search_type": "hospital"}))
    proc(_proc("pr-identify", "2021-01-04T01:30:00.000Z", "identify", userId="u-par-proc",
               traits={"customerId": 12345}))
    # A tie for the promotion's latest name (Q15): two views at one instant, different names; the
    # greatest message id wins (pr-ptie-b's "나 이벤트").
    for mid, name in (("pr-ptie-b", "나 이벤트"), ("pr-ptie-a", "가 이벤트")):
        promo = _promo(mid, "2020-12-30T02:00:00.000Z", "Promotion Viewed", "promo_tie")
        proc(dict(promo, properties=dict(promo["properties"], name=name)))
    proc(_proc_page("pr-ny-1", "2020-12-31T14:59:59.999Z", "?keyword=%EC%B9%98%EA%B3%BC"))
    proc(_proc_page("pr-ny-2", "2020-12-31T15:00:00.000Z", {"keyword": "교정"}), ascii_escaped=True)
    return d


# --------------------------------------------------------------------------- building the files


@dataclass
class Fixture:
    root: Path
    digest: str
    files: int
    lines: int
    dropped: dict[str, int] = field(default_factory=dict)

    dates: list[date] = field(default_factory=lambda: list(FIXTURE_DATES))

    def dbt_vars(self) -> dict[str, Any]:
        """The vars of the one dbt run that owns every fixture date."""
        return {"date": RUN_DATE.isoformat(), "late_arrival_days": LATE_ARRIVAL_DAYS,
                "segment_root": str(self.root)}


def _kst_date(ts_text: str) -> date:
    return _ts(ts_text).astimezone(KST).date()


def _day_of_folder(folder_ms: str) -> date:
    return datetime.fromtimestamp(int(folder_ms) / 1000, tz=timezone.utc).date()


def _generated_lines(tmp: Path) -> Iterator[tuple[Path, list[bytes]]]:
    for path in sorted(tmp.glob("*/*/*.gz")):
        yield path.relative_to(tmp), gzip.decompress(path.read_bytes()).splitlines()


def _write_gz(path: Path, lines: list[bytes]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        gz.write(b"\n".join(lines) + b"\n")


def digest_of(root: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.gz")):
        h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def build(root: Path = FIXTURE_ROOT) -> Fixture:
    """Write the fixture under ``root`` (replacing what is there) and return its description."""
    root = root.resolve()
    ids = source_ids()
    work = root.parent / (root.name + ".building")
    shutil.rmtree(work, ignore_errors=True)
    generated = work / "generated"
    generator.generate(generated, FIRST_DATE, GENERATED_LAST_DATE, seed=SEED, events_per_day=EVENTS_PER_DAY,
                       files_per_day=FILES_PER_DAY, rates=RATES, source_ids=ids)
    out = work / "out"
    dropped = {"outside_fixture_dates": 0, "folder_after_last_date": 0}
    lines_total = files = 0
    for rel, lines in _generated_lines(generated):
        folder_day = _day_of_folder(rel.parts[1])
        kept = []
        for line in lines:
            ev = json.loads(line)
            if not FIRST_DATE <= _kst_date(ev["timestamp"]) <= LAST_DATE:
                dropped["outside_fixture_dates"] += 1
            elif folder_day > LAST_DATE:
                dropped["folder_after_last_date"] += 1
            else:
                kept.append(line)
        if kept:
            _write_gz(out / rel, kept)
            files += 1
            lines_total += len(kept)
    # Hand-written lines: one file per source, received day and file tag.
    by_file: dict[tuple[str, date, str], list[bytes]] = {}
    for dl in handmade():
        day = dl.received.astimezone(timezone.utc).date()
        assert FIRST_DATE - timedelta(days=1) <= day <= LAST_DATE, dl.event["messageId"]
        by_file.setdefault((dl.source, day, dl.file_tag), []).append(dl.line())
    for (source, day, tag), lines in sorted(by_file.items()):
        day_ms = received_day_ms(day)
        name = f"{day_ms + 86_399_000}.events-archiver-9.parity.handmade-{tag}.gz"
        _write_gz(out / ids[source] / str(day_ms) / name, lines)
        files += 1
        lines_total += len(lines)
    digest = digest_of(out)
    manifest = {"digest": digest, "dates": [d.isoformat() for d in FIXTURE_DATES], "seed": SEED,
                "events_per_day": EVENTS_PER_DAY, "files": files, "lines": lines_total, "dropped": dropped,
                "dbt_vars": {"date": RUN_DATE.isoformat(), "late_arrival_days": LATE_ARRIVAL_DAYS}}
    (out / "_manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    shutil.rmtree(root, ignore_errors=True)
    root.parent.mkdir(parents=True, exist_ok=True)
    out.rename(root)
    shutil.rmtree(work, ignore_errors=True)
    return Fixture(root=root, digest=digest, files=files, lines=lines_total, dropped=dropped)


# --------------------------------------------------------------------------- reading them back


@dataclass(frozen=True)
class RawLine:
    source_key: str  # web, app, procedure
    source_id: str
    file: str  # relative to the fixture root
    event: dict[str, Any]


def read_lines(root: Path) -> Iterator[RawLine]:
    """Every line of the fixture, parsed (every delivery: duplicates included)."""
    keys = {v: k for k, v in source_ids().items()}
    for path in sorted(root.glob("*/*/*.gz")):
        rel = path.relative_to(root)
        for line in gzip.decompress(path.read_bytes()).splitlines():
            if line.strip():
                yield RawLine(keys[rel.parts[0]], rel.parts[0], str(rel), json.loads(line))
