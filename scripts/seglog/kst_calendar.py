"""The KST business calendar and Segment's UTC folders, in Python (the SQL side is
macros/calendar/kst_calendar.sql and macros/raw_logs/run_window.sql).

A business date is a day on the KST calendar (UTC+9, no daylight saving). Segment files each
event under the UTC day it was received, in a folder named by the UNIX milliseconds of that
day's 00:00 UTC. KST day D runs from 15:00 UTC of D-1 to 15:00 UTC of D, so the two folders
that hold most of it are the UTC days D-1 and D (late events reach later folders).

Only the standard library: the DAG's rehearsal imports this module from the Airflow venv, and
tests/dags pins the DAG's own pendulum spelling of the same rules to it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

KST = timezone(timedelta(hours=9), "KST")
_EPOCH = date(1970, 1, 1)


def business_date(instant: datetime) -> date:
    """The KST calendar date of an aware instant (a run's logical date, an event's timestamp)."""
    if instant.tzinfo is None:
        raise ValueError(f"{instant!r} has no time zone: a business date needs an instant")
    return instant.astimezone(KST).date()


def kst_midnight(day: date) -> datetime:
    """00:00 KST of a business date, as an aware UTC instant (15:00 UTC the day before)."""
    return datetime(day.year, day.month, day.day, tzinfo=KST).astimezone(timezone.utc)


def received_day_ms(utc_day: date) -> int:
    """The UNIX milliseconds of 00:00 UTC of a received day."""
    return (utc_day - _EPOCH).days * 86_400_000


def folder_name(utc_day: date) -> str:
    """Segment's folder name of a received day: received_day_ms as text."""
    return str(received_day_ms(utc_day))


def utc_days(day: date) -> tuple[date, date]:
    """The two UTC received days that hold business date `day`: D-1 (from 15:00) and D (to 15:00)."""
    return day - timedelta(days=1), day


def utc_folders(day: date) -> tuple[str, str]:
    """The folder names of utc_days(day): what the DAG's sensors wait for and the landed guard checks."""
    before, same = utc_days(day)
    return folder_name(before), folder_name(same)


def read_days(day: date, late_arrival_days: int) -> list[date]:
    """The UTC received days whose folders the run for business date `day` reads: D-L-1..D
    (macro received_days): the window's first date starts in D-L-1's folder."""
    return date_range(day - timedelta(days=late_arrival_days + 1), day)


def date_range(first: date, last: date) -> list[date]:
    """Every date from first to last, both included (empty when last is before first)."""
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]
