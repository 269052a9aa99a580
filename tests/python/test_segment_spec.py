"""Every message Segment documents reaches the tables: the conformance fixture (segment_spec.py,
the Spec's example messages and the drift cases) run through the daily job, `seglog run`, and
`seglog load`, asserting line by line what is staged, what is nulled and counted, and what is
quarantined with which reason.

The expected values come from the fixture (each case's verdict and clashes, worked out from the
Spec's field tables and the rules of docs/reading-raw-logs.md) and from the JSON lines themselves, read here with
Python's json module: an independent path from Spark's reader.

Runs in the shared pytest Spark session on tables of its own (SEGLOG_SCHEMA_PREFIX=spec_, a
fresh set of every model), so its marts have never been written before this run: three of them
get no row from these messages, which is what a first deployment looks like to the loader."""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

import segment_spec
from seglog import generator
from seglog.project import default_vars

pytestmark = pytest.mark.spark

DAY = date(2024, 6, 12)
PREFIX = "spec_"
SOURCE_IDS = default_vars()["segment_sources"]
# Marts these messages give no row (no page named ArticlesArticle, no procedure search keyword;
# checked against the fixture in the test): never written, as on a first deployment.
NEVER_WRITTEN = {"article_views_daily", "search_keywords_daily"}


def _snake(path: str) -> str:
    """The reader's column name of a declared path (macro segment_snake_case)."""
    return re.sub("[^a-z0-9]+", "_", re.sub("([a-z0-9])([A-Z])", r"\1_\2", path).lower()).strip("_")


def _lines() -> dict[str, list[str]]:
    return segment_spec.lines_for(DAY)


def _cases_with_lines() -> list[tuple[segment_spec.SpecCase, str]]:
    by_source = {k: iter(v) for k, v in _lines().items()}
    return [(case, next(by_source[case.source])) for case in segment_spec.CASES]


def _json(line: str) -> dict[str, Any] | None:
    try:
        value = json.loads(line)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def _message_id_text(ev: dict[str, Any]) -> str:
    value = ev["messageId"]
    return value if isinstance(value, str) else json.dumps(value)


@pytest.fixture(scope="module")
def spec_run(tmp_path_factory: pytest.TempPathFactory, spark_dir: Path):
    """The fixture's lines in each source's folder of received day DAY, one plain event per source
    in the folder of DAY-1 (the landing guard wants both folders of every source), then
    `seglog run --date DAY` on fresh tables. Yields the Spark session and the run's dbt manifest."""
    from pyspark.sql import SparkSession
    from typer.testing import CliRunner

    from seglog.cli import app

    root = tmp_path_factory.mktemp("spec") / "segment-logs"
    for key, lines in _lines().items():
        folder = root / SOURCE_IDS[key] / str(generator.received_day_ms(DAY))
        folder.mkdir(parents=True)
        (folder / f"{generator.received_day_ms(DAY) + 3_600_000}.events-archiver-1.spec.tests.gz").write_bytes(
            gzip.compress(("\n".join(lines) + "\n").encode(), mtime=0))
        before = DAY - timedelta(days=1)
        at = datetime(before.year, before.month, before.day, 3, tzinfo=timezone.utc)
        landed = {"messageId": f"spec-landed-{key}", "anonymousId": "spec-landed", "type": "track",
                  "event": "Landed", "timestamp": generator.iso_ms(at), "receivedAt": generator.iso_ms(at)}
        folder = root / SOURCE_IDS[key] / str(generator.received_day_ms(before))
        folder.mkdir(parents=True)
        (folder / f"{generator.received_day_ms(before) + 3_600_000}.events-archiver-1.landed.tests.gz").write_bytes(
            gzip.compress((json.dumps(landed) + "\n").encode(), mtime=0))
    target = tmp_path_factory.mktemp("spec-target")
    env = pytest.MonkeyPatch()
    env.setenv("SEGLOG_SCHEMA_PREFIX", PREFIX)
    env.setenv("DBT_TARGET_PATH", str(target))  # a parse of its own: the schemas differ from the other modules'
    env.setenv("SEGLOG_MANIFEST", str(target / "manifest.json"))
    try:
        out = CliRunner().invoke(app, ["run", "--date", DAY.isoformat(), "--vars", json.dumps({"segment_root": str(root)})])
        assert out.exit_code == 0, out.output
        yield SparkSession.builder.getOrCreate(), target / "manifest.json"
    finally:
        env.undo()


def _rows(spark, sql: str) -> list[dict[str, Any]]:
    return [r.asDict(recursive=True) for r in spark.sql(sql).collect()]


def _staged(spark) -> dict[tuple[str, str], dict[str, Any]]:
    """(source, message id) -> the base line's row (declared columns under the reader's names)."""
    out = {}
    for table in ("base_segment__web_app_lines", "base_segment__procedure_lines"):
        for r in _rows(spark, f"select * from {PREFIX}staging.{table} where reject_reason is null "
                              f"and file_name like '%spec.tests.gz'"):
            out[(r["source_key"], r["message_id"])] = r
    return out


def test_every_documented_message_is_staged_or_set_aside_with_its_reason(spec_run) -> None:
    """Line by line: a staged case is in staging (the stg model of its source, by messageId), a
    quarantined one is in segment_quarantine with the fixture's reason, and nothing else is."""
    spark, _ = spec_run
    staged = {(r["platform"], r["message_id"]) for r in _rows(
        spark, f"select platform, message_id from {PREFIX}staging.stg_segment__events")}
    staged |= {("procedure", r["message_id"]) for r in _rows(
        spark, f"select message_id from {PREFIX}staging.stg_segment__procedure_events")}
    quarantined = Counter((r["source_key"], r["raw_line"], r["reason"]) for r in _rows(
        spark, f"select source_key, raw_line, reason from {PREFIX}audit.segment_quarantine"))
    wrong = []
    for case, line in _cases_with_lines():
        ev = _json(line)
        if case.verdict == "staged":
            if (case.source, _message_id_text(ev)) not in staged:
                reasons = [reason for (src, raw, reason) in quarantined if raw == line]
                wrong.append(f"{case.id}: not staged (quarantined as {reasons})")
        elif not quarantined[(case.source, line, case.verdict)]:
            reasons = [reason for (src, raw, reason) in quarantined if raw == line]
            wrong.append(f"{case.id}: not quarantined as {case.verdict} (got {reasons or 'staged'})")
    assert not wrong, "\n".join(wrong)
    expected = Counter((c.source, line, c.verdict) for c, line in _cases_with_lines() if c.verdict != "staged")
    assert quarantined == expected  # nothing else set aside (the landed events are staged)


def test_a_field_of_another_type_costs_that_field_and_is_counted(spec_run) -> None:
    """Each staged line's clashes are the fixture's; a nulled field's columns (the declared path
    and everything under it) are null, and an id sent as a number keeps its decimal text."""
    spark, _ = spec_run
    rows = _staged(spark)
    wrong = []
    for case, line in _cases_with_lines():
        if case.verdict != "staged":
            continue
        ev = _json(line)
        row = rows[(case.source, _message_id_text(ev))]
        got = {c["field"]: c["outcome"] for c in row["field_clashes"]}
        if got != case.clashes:
            wrong.append(f"{case.id}: clashes {got}, expected {case.clashes}")
            continue
        for path, outcome in case.clashes.items():
            column = _snake(path)
            if outcome == "kept_as_text":
                if row[column] != json.dumps(ev[path]):
                    wrong.append(f"{case.id}: {column} = {row[column]!r}, expected the decimal text of {ev[path]!r}")
            else:
                covered = [c for c in row if c == column or c.startswith(column + "_")]
                if not covered or any(row[c] is not None for c in covered):
                    wrong.append(f"{case.id}: {path} clashed but {covered} are not all null")
    assert not wrong, "\n".join(wrong)


def test_the_clash_table_and_the_run_audit_count_the_clashes(spec_run) -> None:
    spark, _ = spec_run
    expected = Counter()
    for case in segment_spec.CASES:
        if case.verdict == "staged":
            for path, outcome in case.clashes.items():
                expected[(case.source, path, outcome)] += 1
    rows = _rows(spark, f"select * from {PREFIX}audit.segment_field_clashes where run_ymd = '{DAY}'")
    assert {(r["source_key"], r["field"], r["outcome"]): r["lines"] for r in rows} == dict(expected)
    for r in rows:  # the sample is a line that has that clash
        sample = next(c for c in segment_spec.CASES if c.source == r["source_key"] and c.clashes.get(r["field"]) == r["outcome"]
                      and ("spec-" + c.id == r["sample_message_id"] or r["sample_message_id"].isdigit()))
        assert sample is not None
    audit = {r["source_key"]: r["field_clashes"] for r in _rows(
        spark, f"select source_key, field_clashes from {PREFIX}audit.segment_run_audit where run_ymd = '{DAY}'")}
    assert audit == {key: sum(n for (src, _, _), n in expected.items() if src == key) for key in segment_spec.SOURCES}


def test_version_is_kept_as_segment_sends_it(spec_run) -> None:
    """"1.1" (a JSON string on the call pages) and 2 (a number on others) both stay, as text."""
    spark, _ = spec_run
    rows = _staged(spark)
    seen = set()
    for case, line in _cases_with_lines():
        ev = _json(line)
        if case.verdict != "staged" or "version" not in ev:
            continue
        want = ev["version"] if isinstance(ev["version"], str) else json.dumps(ev["version"])
        assert rows[(case.source, _message_id_text(ev))]["version"] == want, case.id
        seen.add(type(ev["version"]))
    assert seen == {str, int}  # the fixture holds both kinds


def test_an_alias_merges_the_previous_id_into_the_user(spec_run) -> None:
    """Q18: the anonymous page view of spec-anon-alias belongs to spec-user-alias once the alias
    call links them; no user is left keyed by the previous id."""
    spark, _ = spec_run
    users = {r["user_key"]: r for r in _rows(spark, f"select * from {PREFIX}marts.dim_users")}
    assert "spec-anon-alias" not in users
    assert "spec-anon-alias" in users["spec-user-alias"]["anonymous_ids"]
    stitched = _rows(spark, f"select user_id from {PREFIX}intermediate.int_identity_stitching "
                            "where anonymous_id = 'spec-anon-alias'")
    assert stitched == [{"user_id": "spec-user-alias"}]


def test_page_and_screen_names_reach_segment_log(spec_run) -> None:
    spark, _ = spec_run
    rows = {r["message_id"]: r for r in _rows(
        spark, f"select message_id, type, call_name, call_category from {PREFIX}marts.segment_log")}
    checked = 0
    for case, line in _cases_with_lines():
        ev = _json(line)
        if case.verdict != "staged" or case.source == "procedure" or ev["type"] not in ("page", "screen"):
            continue
        row = rows[_message_id_text(ev)]
        assert (row["call_name"], row["call_category"]) == (ev.get("name"), ev.get("category")), case.id
        checked += 1
    assert checked >= 4
    assert all(r["call_name"] is None for r in rows.values() if r["type"] not in ("page", "screen"))


def _java_number(value: float) -> str:
    """A JSON decimal as Jackson writes a double: Java's Double.toString (plain between 1e-3 and
    1e7, else d.dddE±n)."""
    if value == 0 or 1e-3 <= abs(value) < 1e7:
        return repr(value)
    mantissa, exponent = f"{value:.17e}".split("e")
    digits = repr(float(f"{float(mantissa):.16g}"))
    return f"{digits}E{int(exponent)}"


def _respelled(value: Any) -> str:
    """The rule of docs/reading-raw-logs.md for the kept JSON text, written independently of Spark: whitespace between
    tokens dropped, key order kept, integers as sent, decimals as Java doubles, strings with their
    characters (escapes decoded, then only what JSON requires escaped)."""
    if isinstance(value, dict):
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + _respelled(v) for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_respelled(v) for v in value) + "]"
    if isinstance(value, float):
        return _java_number(value)
    return json.dumps(value, ensure_ascii=False)


def test_the_kept_json_text_is_the_line_respelled_as_documented(spec_run) -> None:
    spark, _ = spec_run
    rows = _staged(spark)
    decimals = 0
    for case, line in _cases_with_lines():
        ev = _json(line)
        if case.verdict != "staged":
            continue
        row = rows[(case.source, _message_id_text(ev))]
        for root in ("context", "properties", "traits"):
            if isinstance(ev.get(root), dict) and case.clashes.get(root) is None:
                assert row[root] == _respelled(ev[root]), (case.id, root)
                decimals += bool(re.search(r'[0-9]\.[0-9]*0[,}\]]', json.dumps(ev[root])))
    assert decimals >= 1  # the fixture holds a decimal like 25.00 that the writer respells (25.0)


def test_a_mart_never_written_loads_as_no_rows_yet(spec_run, tmp_path_factory) -> None:
    """`seglog load` after the run: the marts without a row are created with their columns, load
    nothing and are named "no rows yet", and the load exits 0. A Spark table without rows whose
    warehouse table holds rows is not a first load: refused, the rows kept."""
    import psycopg
    from typer.testing import CliRunner

    from conftest import scratch_postgres
    from seglog.cli import app

    spark, manifest = spec_run
    assert not any("ArticlesArticle" in c.line for c in segment_spec.CASES)
    assert not any("search_keyword" in c.line for c in segment_spec.CASES if c.source == "procedure")
    root = tmp_path_factory.mktemp("spec-pg")
    results = root / "load.json"
    env = pytest.MonkeyPatch()
    env.setenv("SEGLOG_SCHEMA_PREFIX", PREFIX)
    env.setenv("SEGLOG_MANIFEST", str(manifest))
    try:
        with scratch_postgres(root) as info:
            out = CliRunner().invoke(app, ["load", "--date", DAY.isoformat(), "--results", str(results)])
            assert out.exit_code == 0, out.output
            report = json.loads(results.read_text())
            assert NEVER_WRITTEN <= set(report["no_rows_yet"]), report["no_rows_yet"]
            never = set(report["no_rows_yet"])
            for name in never:  # the Spark table really has no row, and the warehouse got its columns
                assert spark.sql(f"select count(*) from {PREFIX}marts.{name}").first()[0] == 0
            assert "no rows yet" in out.output and "article_views_daily" in out.output
            with psycopg.connect(**info) as conn:
                for name in never:
                    spark_columns = [f.name for f in spark.table(f"{PREFIX}marts.{name}").schema]
                    pg_columns = [r[0] for r in conn.execute(
                        "select column_name from information_schema.columns where table_schema = 'marts' "
                        "and table_name = %s order by ordinal_position", (name,)).fetchall()]
                    assert sorted(pg_columns) == sorted(spark_columns), name
                    assert conn.execute(f"select count(*) from marts.{name}").fetchone()[0] == 0
                loaded = conn.execute("select count(*) from marts.segment_log").fetchone()[0]
                assert loaded == spark.sql(f"select count(*) from {PREFIX}marts.segment_log").first()[0]
                # the warehouse holds a row the Spark table never had: a load must not take it away
                conn.execute("insert into marts.article_views_daily (ymd) values ('2024-01-01')")
            again = CliRunner().invoke(app, ["load", "--date", DAY.isoformat(), "--models", "article_views_daily",
                                             "--results", str(results)])
            assert again.exit_code == 1
            assert "not a mart never written" in again.output and "rows are intact" in again.output
            with psycopg.connect(**info) as conn:
                assert conn.execute("select count(*) from marts.article_views_daily").fetchone()[0] == 1
    finally:
        env.undo()

