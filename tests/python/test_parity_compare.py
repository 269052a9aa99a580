"""The parity harness's comparison rules (scripts/seglog/parity/compare.py), without Spark or
PostgreSQL: key matching, tolerances, NULL vs '', missing rows on either side, readable diffs;
plus the legacy query's placeholder and header checks and the week partitions."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from seglog.parity import compare as cmp
from seglog.parity.catalogue import BY_MODEL, select
from seglog.parity.harness import check_header
from seglog.parity.legacy_db import LegacyError, render

KEY = ("message_id",)
COLS = ["message_id", "page_name", "views"]


def rows(*values: tuple) -> list[dict]:
    return [dict(zip(COLS, v)) for v in values]


def run(legacy: list[dict], dbt: list[dict], **kw) -> cmp.Comparison:
    return cmp.compare(COLS, legacy, COLS, dbt, KEY, **kw)


# ------------------------------------------------------------------ values


@pytest.mark.parametrize("a, b, equal", [
    (None, None, True),
    (None, "", False),            # NULL is not the empty string
    ("", None, False),
    (None, "null", False),
    (None, 0, False),
    ("", "", True),
    ("치과", "치과", True),
    ("치과", "치과 ", False),       # strings exactly: a trailing space differs
    ("Home", "home", False),
    (2, 2.0, True),               # numbers as numbers
    (2, Decimal("2.00"), True),
    (Decimal("120.5"), 120.5, True),
    (1.0, 1.0 + 1e-10, True),     # within rel 1e-9
    (1.0, 1.0 + 1e-8, False),     # outside it
    (1e12, 1e12 + 500, True),     # relative: 5e-10 of 1e12
    (1e12, 1e12 + 5000, False),
    (0.0, 1e-10, True),           # absolute 1e-9 near zero
    (0.0, 1e-8, False),
    (1, 2, False),
    (Decimal("0.333333333333"), 1 / 3, True),
    (0, 1 / 3, False),            # Redshift's integer division (0) vs Spark's double
    (float("nan"), float("nan"), True),
    (True, True, True),
    (True, 1, False),             # a boolean equals only a boolean
    (False, 0, False),
    (date(2020, 12, 27), date(2020, 12, 27), True),
    (date(2020, 12, 27), datetime(2020, 12, 27), False),  # DATE vs TIMESTAMP: a type difference
    (date(2020, 12, 27), "2020-12-27", False),
    (datetime(2020, 12, 31, 23, 59, 59, 999000),
     datetime(2020, 12, 31, 23, 59, 59, 999000, tzinfo=timezone.utc), True),  # Parquet reads back as UTC
    (datetime(2020, 12, 31, 23, 59, 59, 999000), datetime(2021, 1, 1, 0, 0), False),
    (["1001", "치과"], ["1001", "치과"], True),
    (["1001"], ["1001", None], False),
    ('["1001","치과"]', ["1001", "치과"], True),   # JSON text of an array vs an array
    ({"a": 1}, {"a": 1.0}, True),
])
def test_values_equal(a, b, equal):
    assert cmp.values_equal(a, b) is equal
    assert cmp.values_equal(b, a) is equal


def test_json_columns_compare_as_json_values():
    assert cmp.values_equal('{"a": 1, "b": "치과"}', '{"b":"치과","a":1}', as_json=True)
    assert cmp.values_equal('{"a":"\\uce58\\uacfc"}', '{"a":"치과"}', as_json=True)
    assert not cmp.values_equal('{"a":null}', '{}', as_json=True)       # null value vs missing key
    assert not cmp.values_equal('{"a":""}', '{"a":null}', as_json=True)
    assert not cmp.values_equal('{"a": 1}', '{"b":"치과","a":1}')         # without as_json: text
    assert cmp.values_equal("not json", "not json", as_json=True)      # unparseable: as strings
    assert not cmp.values_equal('{"a":1}', None, as_json=True)


def test_render_makes_null_empty_and_types_visible():
    assert cmp.render(None) == "NULL"
    assert cmp.render("") == '""'
    assert cmp.render(" 치과") == '" 치과"'
    assert cmp.render(date(2020, 12, 27)) == "date 2020-12-27"
    assert cmp.render(datetime(2021, 1, 1, 0, 0, tzinfo=timezone.utc)) == "timestamp 2021-01-01 00:00:00"
    assert cmp.render(Decimal("120.5")) == "120.5 (decimal)"
    assert cmp.render(0.25) == "0.25 (float)"
    assert cmp.render(True) == "true"


# ------------------------------------------------------------------ rows


def test_identical_partitions_match_whatever_the_row_order():
    legacy = rows(("m1", "Home", 3), ("m2", None, 0), ("m3", "", 1))
    dbt = rows(("m3", "", 1), ("m1", "Home", 3.0), ("m2", None, 0))
    c = run(legacy, dbt)
    assert (c.legacy_rows, c.dbt_rows, c.matching, c.differing) == (3, 3, 3, 0)
    assert c.ok and c.diffs == []


def test_null_vs_empty_string_is_a_readable_difference():
    c = run(rows(("m1", "", 3)), rows(("m1", None, 3)))
    assert not c.ok
    assert (c.matching, c.value_diff_rows, c.differing) == (0, 1, 1)
    assert [d.__dict__ for d in c.diffs] == [
        {"key": 'message_id="m1"', "column": "page_name", "legacy": '""', "dbt": "NULL"}]


def test_a_changed_value_fails_and_names_key_column_and_both_values():
    legacy = rows(("m1", "Home", 3), ("m2", "치과찾기", 2))
    dbt = rows(("m1", "Home", 3), ("m2", "치과찾기", 4))
    c = run(legacy, dbt)
    assert not c.ok
    assert (c.matching, c.differing) == (1, 1)
    assert [d.__dict__ for d in c.diffs] == [{"key": 'message_id="m2"', "column": "views", "legacy": "2", "dbt": "4"}]


def test_float_tolerance_edges_in_rows():
    legacy = [{"k": "a", "v": Decimal("0.25")}, {"k": "b", "v": 1.0}, {"k": "c", "v": 0}]
    dbt = [{"k": "a", "v": 0.25}, {"k": "b", "v": 1.0 + 2e-9}, {"k": "c", "v": 0.25}]
    c = cmp.compare(["k", "v"], legacy, ["k", "v"], dbt, ("k",))
    assert (c.matching, c.differing) == (1, 2)
    assert [(d.key, d.legacy, d.dbt) for d in c.diffs] == [
        ('k="b"', "1.0 (float)", "1.000000002 (float)"), ('k="c"', "0", "0.25 (float)")]


def test_a_row_missing_on_either_side():
    legacy = rows(("m1", "Home", 3), ("m2", "Search", 1))
    dbt = rows(("m1", "Home", 3), ("m3", "MyPage", 5))
    c = run(legacy, dbt)
    assert (c.matching, c.only_legacy, c.only_dbt, c.differing) == (1, 1, 1, 2)
    assert [(d.key, d.column, d.legacy, d.dbt) for d in c.diffs] == [
        ('message_id="m2"', "(row)", 'row present: page_name="Search", views=1 …', "(no row)"),
        ('message_id="m3"', "(row)", "(no row)", 'row present: page_name="MyPage", views=5 …')]


def test_empty_sides():
    assert run([], []).ok
    c = run([], rows(("m1", "Home", 3)))
    assert (c.only_dbt, c.differing, c.ok) == (1, 1, False)


def test_composite_keys_with_null_and_boolean_parts():
    cols = ["ymd", "platform", "is_identified", "users"]
    legacy = [dict(zip(cols, v)) for v in [("2021-01-04", "web", True, 3), ("2021-01-04", "web", False, 5),
                                           ("2021-01-04", None, False, 1)]]
    dbt = [dict(zip(cols, v)) for v in [("2021-01-04", None, False, 1), ("2021-01-04", "web", False, 5),
                                        ("2021-01-04", "web", True, 4)]]
    c = cmp.compare(cols, legacy, cols, dbt, ("ymd", "platform", "is_identified"))
    assert (c.matching, c.differing) == (2, 1)
    assert [(d.key, d.column, d.legacy, d.dbt) for d in c.diffs] == [
        ('ymd="2021-01-04", platform="web", is_identified=true', "users", "3", "4")]


def test_a_boolean_key_does_not_match_an_integer_key():
    c = cmp.compare(["k", "v"], [{"k": True, "v": 1}], ["k", "v"], [{"k": 1, "v": 1}], ("k",))
    assert (c.only_legacy, c.only_dbt) == (1, 1)


def test_a_duplicated_key_breaks_the_grain():
    legacy = rows(("m1", "Home", 3), ("m1", "Home", 3))
    c = run(legacy, rows(("m1", "Home", 3)))
    assert (c.duplicate_keys, c.differing, c.ok) == (1, 1, False)
    assert c.diffs[0].column == "(key)" and c.diffs[0].legacy == "duplicated" and c.diffs[0].dbt == "unique"


def test_missing_and_extra_columns_fail_but_the_rest_is_compared():
    legacy = [{"message_id": "m1", "page_name": "Home"}]
    dbt = [{"message_id": "m1", "page_name": "Home", "views": 3}]
    c = cmp.compare(["message_id", "page_name"], legacy, COLS, dbt, KEY)
    assert c.missing_columns == {"legacy": ["views"]}
    assert (c.matching, c.differing, c.ok) == (1, 0, False)
    c = cmp.compare(COLS + ["extra"], [dict(dbt[0], extra=1)], COLS, dbt, KEY)
    assert c.missing_columns == {"dbt": ["extra"]} and not c.ok


def test_json_columns_of_a_query():
    cols = ["message_id", "properties"]
    legacy = [{"message_id": "m1", "properties": '{"page":{"name":"치과"},"path":"/a"}'}]
    dbt = [{"message_id": "m1", "properties": '{"path": "/a", "page": {"name": "치과"}}'}]
    assert cmp.compare(cols, legacy, cols, dbt, KEY, frozenset({"properties"})).ok
    assert not cmp.compare(cols, legacy, cols, dbt, KEY).ok


def test_as_dict_keeps_counts_and_caps_the_listed_diffs():
    legacy = [{"k": str(i), "v": i} for i in range(60)]
    dbt = [{"k": str(i), "v": i + 1} for i in range(60)]
    d = cmp.compare(["k", "v"], legacy, ["k", "v"], dbt, ("k",)).as_dict(max_diffs=5)
    assert (d["differing"], d["diffs_total"], len(d["diffs"])) == (60, 60, 5)


# ------------------------------------------------------------------ queries and files


def test_placeholder_is_replaced_and_others_refused():
    assert render("select 1 where ymd = :'ymd' and x::date = :'ymd'", date(2021, 1, 4)) == \
        "select 1 where ymd = '2021-01-04' and x::date = '2021-01-04'"
    with pytest.raises(LegacyError, match="unknown placeholder"):
        render("select :'ymd', :'date'", date(2021, 1, 4))
    with pytest.raises(LegacyError, match="no :'ymd'"):
        render("select 1", date(2021, 1, 4))


def test_header_must_name_the_query():
    q = BY_MODEL["segment_log"]
    assert check_header("-- Q01 segment_log: …\nselect 1", q) is None
    assert "Q01" in check_header("-- segment_log\nselect 1 -- Q01 too late", q)


def test_week_partitions_run_the_last_date_of_each_week():
    q = BY_MODEL["retention_weekly_cohorts"]
    dates = [date(2020, 12, 27), date(2021, 1, 2), date(2021, 1, 3), date(2021, 1, 4)]
    assert q.partitions(dates) == [("2020-12-27", date(2021, 1, 2)), ("2021-01-03", date(2021, 1, 4))]
    assert BY_MODEL["segment_log"].partitions(dates[:1]) == [("2020-12-27", date(2020, 12, 27))]


def test_select_by_model_or_id():
    assert [q.id for q in select(["procedure_log", "q01", "Q01"])] == ["Q01", "Q03"]
    assert len(select(None)) == 17
    with pytest.raises(KeyError, match="unknown query nope"):
        select(["nope"])
