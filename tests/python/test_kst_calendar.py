"""seglog.kst_calendar: the business date of an instant and the UTC folders of a business date,
against values worked out by hand (KST is UTC+9; a folder is named by its day's 00:00 UTC in
UNIX milliseconds: 2023-11-07 is 19,668 days after 1970-01-01, so 1,699,315,200,000)."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from seglog import kst_calendar


def test_a_kst_day_begins_at_15_00_utc_the_day_before() -> None:
    assert kst_calendar.business_date(datetime(2023, 11, 7, 14, 59, 59, 999000, tzinfo=timezone.utc)) == date(2023, 11, 7)
    assert kst_calendar.business_date(datetime(2023, 11, 7, 15, 0, tzinfo=timezone.utc)) == date(2023, 11, 8)
    assert kst_calendar.kst_midnight(date(2023, 11, 8)) == datetime(2023, 11, 7, 15, 0, tzinfo=timezone.utc)


def test_an_instant_without_a_time_zone_has_no_business_date() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        kst_calendar.business_date(datetime(2023, 11, 8, 12, 0))


def test_the_two_utc_folders_of_a_day_are_the_day_before_and_the_day() -> None:
    assert kst_calendar.utc_days(date(2023, 11, 8)) == (date(2023, 11, 7), date(2023, 11, 8))
    assert kst_calendar.utc_folders(date(2023, 11, 8)) == ("1699315200000", "1699401600000")
    # across a year's end and a leap day
    assert kst_calendar.utc_days(date(2024, 1, 1)) == (date(2023, 12, 31), date(2024, 1, 1))
    assert kst_calendar.utc_days(date(2024, 3, 1)) == (date(2024, 2, 29), date(2024, 3, 1))
    assert kst_calendar.folder_name(date(1970, 1, 2)) == "86400000"


def test_a_date_range_holds_both_ends_and_nothing_when_reversed() -> None:
    assert kst_calendar.date_range(date(2024, 2, 28), date(2024, 3, 1)) == [
        date(2024, 2, 28), date(2024, 2, 29), date(2024, 3, 1)]
    assert kst_calendar.date_range(date(2024, 3, 1), date(2024, 3, 1)) == [date(2024, 3, 1)]
    assert kst_calendar.date_range(date(2024, 3, 2), date(2024, 3, 1)) == []
