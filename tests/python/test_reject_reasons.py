"""No reject reason can change silently: the reasons the raw-log reader can write are exactly the
documented ones, and each has at least one hand-written line, with that reason as its expected
verdict, in a fixture that a Spark test runs through the real reader and checks line by line.

So a reader change that accepts a line today's reader rejects (or the reverse) fails one of
those Spark tests, and a reason added to or dropped from the reader fails here first. No Spark:
this reads the reader's SQL (macros/raw_logs/segment_base_lines.sql) and the fixtures.

The fixtures and the tests that check them:
  - segment_spec.CASES: test_segment_spec.py, test_every_documented_message_is_staged_or_set_aside_with_its_reason
  - conftest.HANDMADE: test_pipeline.py (every hand-written line quarantined with its reason)
  - seglog.hostile (the hostile day): test_reliability.py, test_every_hostile_line_is_set_aside_with_its_reason
"""

from __future__ import annotations

import re
from datetime import date

import segment_spec
from conftest import HANDMADE
from seglog import hostile
from seglog.project import PROJECT_DIR

READER = PROJECT_DIR / "macros" / "raw_logs" / "segment_base_lines.sql"


def _reader_reasons() -> set[str]:
    """Every string literal the reader's two CASE expressions can yield as a reason: the
    line's (`line_reason`) and the typed values' (`reject_reason` in `final`)."""
    sql = READER.read_text()
    start = sql.index("{%- set line_reason -%}")
    line_reason = sql[start:sql.index("{%- endset -%}", start)]
    final = sql[sql.index("final as ("):]
    final = final[final.index("case"):final.index("end as reject_reason")]
    return set(re.findall(r"(?:then|else)\s+'([a-z0-9_]+)'", line_reason + final))


def _fixture_reasons() -> dict[str, set[str]]:
    return {
        "segment_spec.CASES": {c.verdict for c in segment_spec.CASES if c.verdict != "staged"},
        "conftest.HANDMADE": {reason for _, reason in HANDMADE if reason},
        "seglog.hostile": {reason for _, _, reason in hostile.hostile_lines(date(2023, 11, 8)) if reason},
    }


def test_the_reader_writes_exactly_the_documented_reasons() -> None:
    assert _reader_reasons() == set(segment_spec.QUARANTINE_REASONS)
    readme = (PROJECT_DIR / "docs" / "reading-raw-logs.md").read_text()
    table = readme[readme.index("## What quarantines a line"):readme.index("**Any other declared field")]
    assert {r for r in segment_spec.QUARANTINE_REASONS if f"`{r}`" not in table} == set()


def test_every_reason_has_a_line_a_spark_test_checks() -> None:
    fixtures = _fixture_reasons()
    assert set(segment_spec.QUARANTINE_REASONS) - set().union(*fixtures.values()) == set()
    # and no line fixture expects a reason the reader cannot write (the hostile day's lines also
    # expect the dedup window's verdicts, ahead_of_receipt and beyond_window, checked there)
    assert fixtures["segment_spec.CASES"] - set(segment_spec.QUARANTINE_REASONS) == set()
    assert fixtures["conftest.HANDMADE"] - set(segment_spec.QUARANTINE_REASONS) == set()
