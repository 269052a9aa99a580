"""legacy/shim/redshift_shim.sql gives Redshift's documented results, through the search path the
parity harness uses (redshift_shim, pg_catalog, public), on a scratch PostgreSQL (conftest `pg`)."""

from __future__ import annotations

import urllib.parse
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Iterator

import psycopg
import pytest

from seglog.parity.legacy_db import SEARCH_PATH, SHIM


@pytest.fixture(scope="module")
def shim(pg: dict[str, Any]) -> Iterator[psycopg.Connection]:
    with psycopg.connect(**{**pg, "dbname": "postgres"}, autocommit=True) as admin:
        admin.execute("drop database if exists shim_test")
        admin.execute("create database shim_test template template0 encoding 'UTF8' "
                      "lc_collate 'C.UTF-8' lc_ctype 'C.UTF-8'")
    with psycopg.connect(**{**pg, "dbname": "shim_test"}, autocommit=True) as conn:
        conn.execute(SHIM.read_text())
        conn.execute(SHIM.read_text())  # rerunnable
        conn.execute(f"set search_path = {SEARCH_PATH}")
        yield conn


def one(conn: psycopg.Connection, query: str) -> Any:
    return conn.execute(query).fetchone()[0]


@pytest.mark.parametrize("query, expected", [
    # CONVERT_TIMEZONE: wall clock in the source zone -> wall clock in the target zone
    ("convert_timezone('UTC', 'Asia/Seoul', '2020-12-31 15:00:00'::timestamp)", datetime(2021, 1, 1, 0, 0)),
    ("convert_timezone('UTC', 'Asia/Seoul', '2020-12-31 14:59:59.999'::timestamp)",
     datetime(2020, 12, 31, 23, 59, 59, 999000)),
    ("convert_timezone('Asia/Seoul', '2020-12-31 15:00:00'::timestamp)", datetime(2021, 1, 1, 0, 0)),
    ("convert_timezone('Asia/Seoul', 'UTC', '2021-01-01 00:00:00'::timestamp)", datetime(2020, 12, 31, 15, 0)),
    # DATEADD: month ends clamp (Redshift's example: 2008-01-31 + 1 month = 2008-02-29); spellings
    ("dateadd('month', 1, '2008-01-31'::timestamp)", datetime(2008, 2, 29)),
    ("dateadd('day', 1, '2020-12-31 23:00'::timestamp)", datetime(2021, 1, 1, 23, 0)),
    ("dateadd('d', -1, '2021-01-01'::date)", datetime(2020, 12, 31)),
    ("dateadd('qtr', 1, '2020-11-30'::timestamp)", datetime(2021, 2, 28)),
    ("dateadd('minute', 30, '2020-12-30 00:00:00'::timestamp)", datetime(2020, 12, 30, 0, 30)),
    ("dateadd('ms', 1, '2020-12-31 14:59:59.999'::timestamp)", datetime(2020, 12, 31, 15, 0)),
    # DATEDIFF counts boundaries crossed (Redshift's example: 52 weeks in 2009)
    ("datediff('week', '2009-01-01', '2009-12-31')", 52),
    ("datediff('day', '2020-01-01 23:59'::timestamp, '2020-01-02 00:01'::timestamp)", 1),
    ("datediff('second', '2020-01-01 00:00:00.900'::timestamp, '2020-01-01 00:00:01.100'::timestamp)", 1),
    ("datediff('second', '2021-01-04 11:00:00'::timestamp, '2021-01-04 11:03:01.5'::timestamp)", 181),
    ("datediff('hour', '2020-01-01 10:59'::timestamp, '2020-01-01 11:00'::timestamp)", 1),
    ("datediff('month', '2020-01-31', '2020-02-01')", 1),
    ("datediff('qtr', '1998-07-01', '2002-10-01')", 17),
    ("datediff('year', '2020-12-31 23:59', '2021-01-01 00:00')", 1),
    # TRUNC(timestamp) is a date; trunc(number) is still PostgreSQL's
    ("trunc('2021-01-03 12:34'::timestamp)", date(2021, 1, 3)),
    ("trunc(2.7)", Decimal(2)),
    # JSON_EXTRACT_PATH_TEXT (Redshift's examples), missing key and JSON null -> NULL
    ("""json_extract_path_text('{"f2":{"f3":1},"f4":{"f5":99,"f6":"star"}}', 'f4', 'f6')""", "star"),
    ("""json_extract_path_text('{"farm": {"barn": {"color": "red", "feed stocked": true}}}', 'farm', 'barn', 'color')""",
     "red"),
    ("""json_extract_path_text('{"f2":{"f3":1},"f4":{"f5":99,"f6":"star"}', 'f4', 'f6', true)""", None),
    ("""json_extract_path_text('{"a":1}', 'b')""", None),
    ("""json_extract_path_text('{"a":null}', 'a')""", None),
    ("""json_extract_path_text('{"a":""}', 'a')""", ""),
    ("""json_extract_path_text('{"a":"x"}', 'a', 'b')""", None),
    ("""json_extract_path_text('{"a":[1,2]}', 'a', '0')""", None),
    ("""json_extract_path_text('{"a":{"b" : [1, 2]}}', 'a')""", '{"b" : [1, 2]}'),  # an object's text as stored
    ("""json_extract_path_text('{"n":3,"t":true}', 'n') || json_extract_path_text('{"n":3,"t":true}', 't')""",
     "3true"),
    ("""json_extract_path_text('{"k":"\\uce58\\uacfc 치과"}', 'k')""", "치과 치과"),
    ("json_extract_path_text(null, 'a')", None),
    ("""json_extract_path_text('{"a":{"b":{"c":{"d":{"e":"deep"}}}}}', 'a', 'b', 'c', 'd', 'e', false)""", "deep"),
    # JSON_EXTRACT_ARRAY_ELEMENT_TEXT (Redshift's example: position 2 of [111,112,113] is 113)
    ("json_extract_array_element_text('[111,112,113]', 2)", "113"),
    ("json_extract_array_element_text('[111,112,113]', -1)", None),  # not counted from the end
    ("json_extract_array_element_text('[111,112,113]', 3)", None),
    ("""json_extract_array_element_text('["a",null]', 1)""", None),
    ("""json_extract_array_element_text('{"a":1}', 0)""", None),
    ("""json_extract_array_element_text('[1,"x"', 1, true)""", None),
    ("""json_array_length('[11,12,13,{"f1":21,"f2":[25,26]},14]')""", 5),
    # NVL / NVL2
    ("nvl(null::text, 'x')", "x"),
    ("nvl(null, null, 3)", 3),
    ("nvl2(null::int, 'a', 'b')", "b"),
    ("nvl2(1, 'a', 'b')", "a"),
    # MEDIAN: the average of the two middle values on an even count; DECIMAL for integers
    ("(select median(x) from (values (1), (2), (3), (10)) v(x))", Decimal("2.5")),
    ("(select median(x) from (values (0), (60), (181), (3000)) v(x))", Decimal("120.5")),
    ("(select median(x) from (values (3), (1), (2)) v(x))", Decimal(2)),
    ("(select median(x) from (values (1), (null), (4)) v(x))", Decimal("2.5")),
    ("(select median(x) from (values (1.0::float8), (2.0), (4.0), (8.0)) v(x))", 3.0),
    ("(select median(x) from (values (null::int)) v(x))", None),
    # AVG of integers is a BIGINT in Redshift (the fraction dropped); of decimals it is not
    ("(select avg(x) from (values (1), (2)) v(x))", 1),
    ("(select avg(x) from (values (0), (60), (181), (3000)) v(x))", 810),
    ("(select avg(x::float) from (values (1), (2)) v(x))", 1.5),
    ("(select avg(x) from (values (1.5), (2.0)) v(x))", Decimal("1.75")),
    ("(select avg(x) from (values (null::int)) v(x))", None),
    # integer division is integer division in Redshift and PostgreSQL (not in Spark)
    ("1 / 4", 0),
    ("(select listagg(x, ',') from (values ('a')) v(x))", "a"),
    # F_URL_DECODE (the team's Python UDF on Redshift): '+' is a space, %XX a byte (either case), bytes as
    # UTF-8; a bad escape is kept; an ill-formed sequence is one U+FFFD (the fixture's truncated keyword)
    ("f_url_decode('%EC%9E%84%ED%94%8C%EB%9E%80%ED%8A%B8')", "임플란트"),
    ("f_url_decode('%EC%B9%98%EA%B3%BC+%EA%B5%90%EC%A0%95')", "치과 교정"),
    ("f_url_decode('%EC%9E%84%ED%94%8C%EB%9E%80%ED%8A')", "임플란\ufffd"),
    ("f_url_decode('100%25+sure%2b')", "100% sure+"),
    ("f_url_decode('50% off %zz%4')", "50% off %zz%4"),
    ("f_url_decode('교정 Implant')", "교정 Implant"),
    ("f_url_decode('%F0%9F%A6%B7')", "\U0001F9B7"),
    ("f_url_decode('%C0%AF%80')", "\ufffd\ufffd\ufffd"),  # an overlong form, a lone continuation byte
    ("f_url_decode('')", ""),
    ("f_url_decode(null)", None),
    # the calendar keys of docs/queries.md, as the legacy queries write them
    ("to_char(dateadd('day', 1, '2021-01-02 23:59:59.999'::timestamp), 'IYYY-IW')", "2020-53"),
    ("to_char(dateadd('day', 1, '2021-01-03 00:00:00'::timestamp), 'IYYY-IW')", "2021-01"),
    ("trunc(dateadd('day', -1, date_trunc('week', dateadd('day', 1, '2021-01-02 23:59'::timestamp))))",
     date(2020, 12, 27)),
    ("trunc(dateadd('day', -1, date_trunc('week', dateadd('day', 1, '2021-01-03 00:00'::timestamp))))",
     date(2021, 1, 3)),
])
def test_redshift_results(shim: psycopg.Connection, query: str, expected: Any) -> None:
    assert one(shim, f"select {query}") == expected


def test_url_decode_is_pythons_unquote_plus(shim: psycopg.Connection) -> None:
    # the UDF's body on Redshift is urllib's unquote_plus and a UTF-8 decode with 'replace'
    samples = ["?q=%EC%B9%98%EA%B3%BC", "a+b%zz", "%c3%a9%E0%80%AF", "%ED%A0%80", "%F4%90%80%80", "x%E2%82y",
               "%F0%9F%A6", "%F5%80+", "%%41", "%4", "+%2B+"]
    for text in samples:
        assert one(shim, f"select f_url_decode('{text}')") == urllib.parse.unquote_plus(text, errors="replace"), text


def test_types_are_redshifts(shim: psycopg.Connection) -> None:
    assert one(shim, "select pg_typeof(avg(x))::text from (values (1), (2)) v(x)") == "bigint"
    assert one(shim, "select pg_typeof(median(x))::text from (values (1), (2)) v(x)") == "numeric"
    assert one(shim, "select pg_typeof(median(x))::text from (values (1.0::float8)) v(x)") == "double precision"
    assert one(shim, "select pg_typeof(dateadd('day', 1, '2021-01-01'::date))::text") == "timestamp without time zone"
    assert one(shim, "select pg_typeof(getdate())::text") == "timestamp without time zone"
    assert one(shim, "select getdate() = date_trunc('second', getdate())")


def test_median_as_a_window_function(shim: psycopg.Connection) -> None:
    rows = shim.execute("select g, x, median(x) over (partition by g) from (values (3, 10), (3, 15), (3, 20), "
                        "(3, 30), (5, 7)) v(g, x) order by g, x").fetchall()
    assert [r[2] for r in rows] == [Decimal("17.5")] * 4 + [Decimal(7)]


def test_invalid_json_is_an_error_without_null_if_invalid(shim: psycopg.Connection) -> None:
    with pytest.raises(psycopg.errors.InvalidTextRepresentation):
        one(shim, """select json_extract_path_text('{"f4":{"f6":"star"}', 'f4', 'f6')""")
    with pytest.raises(psycopg.errors.InvalidTextRepresentation):
        one(shim, """select json_extract_array_element_text('[1,', 0)""")


def test_unknown_date_part_is_refused(shim: psycopg.Connection) -> None:
    with pytest.raises(psycopg.errors.RaiseException, match="date part 'fortnight'"):
        one(shim, "select dateadd('fortnight', 1, '2021-01-01'::timestamp)")


def test_builtins_still_win_where_their_types_match(shim: psycopg.Connection) -> None:
    # a json argument: PostgreSQL's own json_extract_path_text (same answer here)
    assert one(shim, """select json_extract_path_text('{"a":{"b":1}}'::json, 'a', 'b')""") == "1"
    # a literal without a type: the shim's text version (strings are preferred)
    assert one(shim, """select json_extract_path_text('{"a":{"b" :1}}', 'a')""") == '{"b" :1}'
    assert one(shim, "select date_trunc('week', '2021-01-03 10:00'::timestamp)") == datetime(2020, 12, 28)
