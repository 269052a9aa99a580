"""The loader's type mapping and DDL, from Arrow data built here (no Spark, no database).
Expected types come from the mapping rules of the loader's documented rules (docs/redshift.md), worked out by hand."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pyarrow as pa
import pytest

from seglog.loader._ddl import DdlError, create_table, evolve, normalize_type, quote
from seglog.loader._type_mapping import TypeMappingError, map_table, varchar_length

KOREAN_100 = "임플란트" * 25  # 100 characters, 300 UTF-8 bytes


def _table() -> pa.Table:
    return pa.table({
        "b": pa.array([1], pa.int8()),
        "s": pa.array([1], pa.int16()),
        "i": pa.array([1], pa.int32()),
        "l": pa.array([1], pa.int64()),
        "d": pa.array([Decimal("12.345")], pa.decimal128(12, 3)),
        "f8": pa.array([1.5], pa.float64()),
        "f4": pa.array([1.5], pa.float32()),
        "ok": pa.array([True], pa.bool_()),
        "ts": pa.array([datetime(2023, 11, 8, 1, 2, 3)], pa.timestamp("us")),
        "day": pa.array([date(2023, 11, 8)], pa.date32()),
        "title": pa.array([KOREAN_100], pa.string()),
        "tags": pa.array([["a", "b"]], pa.list_(pa.string())),
        "obj": pa.array([{"brand": "x", "version": "1"}], pa.struct([("brand", pa.string()), ("version", pa.string())])),
        "kv": pa.array([[("k", "v")]], pa.map_(pa.string(), pa.string())),
    })


EXPECTED = {"b": "SMALLINT", "s": "SMALLINT", "i": "INTEGER", "l": "BIGINT", "d": "DECIMAL(12,3)",
            "f8": "DOUBLE PRECISION", "f4": "REAL", "ok": "BOOLEAN", "ts": "TIMESTAMP", "day": "DATE",
            "title": "VARCHAR(384)"}  # 300 bytes x 1.25 = 375, rounded up to a multiple of 64


@pytest.mark.parametrize("dialect,nested", [("redshift", "SUPER"), ("postgres", "JSONB")])
def test_every_spark_type_maps(dialect: str, nested: str) -> None:
    got = {c.name: c.sql_type for c in map_table(_table(), dialect)}
    assert got == {**EXPECTED, "tags": nested, "obj": nested, "kv": nested}


def test_a_100_character_korean_string_needs_varchar_of_at_least_300_bytes() -> None:
    title = {c.name: c for c in map_table(_table())}["title"]
    assert title.max_bytes == 300 and title.varchar_length >= 300


def test_varchar_sizes_have_headroom_are_rounded_and_capped() -> None:
    assert varchar_length(0) == 64 and varchar_length(51) == 64 and varchar_length(52) == 128
    assert varchar_length(60_000) == 65535


def test_meta_overrides_the_type() -> None:
    cols = map_table(_table(), column_meta={"title": {"redshift_type": "varchar(1000)"}, "i": {"redshift_type": "bigint"}})
    got = {c.name: c.sql_type for c in cols}
    assert got["title"] == "VARCHAR(1000)" and got["i"] == "BIGINT"


def test_meta_type_spellings_are_stored_canonically_so_the_next_load_finds_them_equal() -> None:
    data = pa.table({"i": pa.array([1], pa.int32()), "n": [Decimal("1.50")], "t": ["x"], "j": [["a"]]})
    meta = {"i": {"redshift_type": "int8"}, "n": {"redshift_type": "numeric( 18 , 2 )"},
            "t": {"redshift_type": "character varying(max)"}, "j": {"redshift_type": "super"}}
    got = {c.name: c.sql_type for c in map_table(data, "redshift", meta)}
    assert got == {"i": "BIGINT", "n": "DECIMAL(18,2)", "t": "VARCHAR(65535)", "j": "SUPER"}
    assert {c.name: c.sql_type for c in map_table(data, "postgres", meta)}["j"] == "JSONB"
    # what information_schema then reports for those columns, normalized: nothing to change
    existing = {"i": normalize_type("bigint"), "n": normalize_type("numeric", precision=18, scale=2),
                "t": normalize_type("character varying", 65535), "j": normalize_type("super")}
    assert evolve("marts", "t", existing, map_table(data, "redshift", meta)).statements == []


def test_a_meta_type_the_loader_does_not_know_or_cannot_hold_the_data_is_refused() -> None:
    with pytest.raises(TypeMappingError, match="'t'.*'blob' is not a type the loader knows"):
        map_table(pa.table({"t": ["x"]}), column_meta={"t": {"redshift_type": "blob"}})
    with pytest.raises(TypeMappingError, match="'j' is nested.*cannot hold it"):
        map_table(pa.table({"j": [["a"]]}), column_meta={"j": {"redshift_type": "varchar(100)"}})
    with pytest.raises(TypeMappingError, match=r"'t' has a value of 6 UTF-8 bytes.*over its declared VARCHAR\(4\)"):
        map_table(pa.table({"t": ["가나"]}), column_meta={"t": {"redshift_type": "varchar(4)"}})


def test_truncation_cuts_only_the_values_over_the_limit_at_a_character_boundary() -> None:
    from seglog.loader._type_mapping import truncated

    long_korean = "가" * 30_000  # 90,000 bytes
    fits = "x" * 20_000  # fits VARCHAR(65535): untouched
    data = pa.table({"body": [fits, long_korean, None]})
    (col,) = map_table(data, column_meta={"body": {"truncate": True}})
    cut = truncated(data.column("body"), col).to_pylist()
    assert cut[0] == fits and cut[2] is None
    assert cut[1] == "가" * 21_845 and len(cut[1].encode()) == 65_535  # 21,845 whole characters of 3 bytes
    (short,) = map_table(pa.table({"t": ["가나다"]}), column_meta={"t": {"redshift_type": "varchar(4)", "truncate": True}})
    assert truncated(pa.chunked_array([["가나다", "ab"]]), short).to_pylist() == ["가", "ab"]


def test_a_value_over_65535_bytes_fails_naming_column_and_row_or_is_cut_when_meta_allows() -> None:
    data = pa.table({"message_id": ["m1", "m2"], "body": ["short", "가" * 30_000]})  # 90,000 bytes
    with pytest.raises(TypeMappingError, match=r"'body'.*90,000 UTF-8 bytes.*row key 'm2'"):
        map_table(data, key_column="message_id")
    cut = {c.name: c for c in map_table(data, column_meta={"body": {"truncate": True}})}["body"]
    assert cut.sql_type == "VARCHAR(65535)" and cut.truncate


def test_create_table_carries_the_model_meta_distribution_in_redshift_only() -> None:
    cols = map_table(pa.table({"user_key": ["u"], "ymd": ["2023-11-08"]}))
    meta = {"diststyle": "key", "distkey": "user_key", "sortkey": ["ymd"]}
    sql = create_table("marts", "t", cols, "redshift", meta)
    assert sql.endswith('diststyle key\ndistkey ("user_key")\ncompound sortkey ("ymd")')
    assert "distkey" not in create_table("marts", "t", cols, "postgres", meta)
    with pytest.raises(DdlError, match="distkey 'nope'"):
        create_table("marts", "t", cols, "redshift", {"distkey": "nope"})


def test_evolve_adds_widens_keeps_and_refuses() -> None:
    cols = map_table(pa.table({"a": ["x" * 300], "n": pa.array([1], pa.int32()), "new": pa.array([1.0])}))
    ev = evolve("marts", "t", {"a": "VARCHAR(64)", "n": "BIGINT"}, cols)
    assert ev.widen == ['alter table "marts"."t" alter column "a" type VARCHAR(384)']
    assert ev.add == ['alter table "marts"."t" add column "new" DOUBLE PRECISION']
    assert evolve("marts", "t", {"a": "VARCHAR(1000)", "n": "INTEGER", "new": "DOUBLE PRECISION"}, cols).statements == []
    with pytest.raises(DdlError, match="n: the warehouse has SMALLINT, the data needs INTEGER"):
        evolve("marts", "t", {"a": "VARCHAR(1000)", "n": "SMALLINT"}, cols)
    with pytest.raises(DdlError, match="the warehouse has DATE, the data needs VARCHAR"):
        evolve("marts", "t", {"a": "DATE"}, cols)


def test_information_schema_types_are_normalized() -> None:
    assert normalize_type("character varying", 384) == "VARCHAR(384)"
    assert normalize_type("timestamp without time zone") == "TIMESTAMP"
    assert normalize_type("numeric", precision=12, scale=3) == "DECIMAL(12,3)"
    assert normalize_type("jsonb") == "JSONB" and normalize_type("double precision") == "DOUBLE PRECISION"


@pytest.mark.parametrize("name", ['x"; drop table y; --', "Upper", "a b", "", "1abc"])
def test_identifiers_never_reach_sql_unquoted(name: str) -> None:
    with pytest.raises(DdlError):
        quote(name)
