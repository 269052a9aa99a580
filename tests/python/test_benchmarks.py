"""The benchmark harness's own logic (benchmarks/): the time split of a dbt build, the ratios,
the targets, the scales. The benchmarks themselves run with `make bench`, not here."""

from __future__ import annotations

import sys
import time

import pytest

from benchmarks.__main__ import DAILY_COLD, DAILY_STEADY, OPTIMISING_JIT, _env, split, targets
from benchmarks.data import parse_scale
from benchmarks.harness import BenchFailed, Result, Run, finish, markdown, run_command


def node(uid: str, start: float, end: float) -> dict:
    iso = lambda s: time.strftime("%Y-%m-%dT%H:%M:", time.gmtime(0)) + f"{s:09.6f}Z"
    return {"unique_id": uid, "timing": [{"name": "compile", "started_at": iso(start), "completed_at": iso(start)},
                                         {"name": "execute", "started_at": iso(start), "completed_at": iso(end)}]}


def test_split_parts_add_up_to_the_wall_time_and_never_count_an_overlap_twice():
    # seconds after 00:00: raw read 1-5 and 3-6 (two threads), a model 5-8, tests 7-9 and 8.5-10
    results = [node("model.p.base_segment__web_app_lines", 1, 5), node("model.p.base_segment__procedure_lines", 3, 6),
               node("model.p.stg_segment__events", 5, 8), node("test.p.not_null_x.abc", 7, 9),
               node("test.p.unique_y.def", 8.5, 10)]
    got = split({"results": results}, wall_s=12.0)
    assert got["raw_read_s"] == pytest.approx(5.0)  # 1..6
    assert got["models_s"] == pytest.approx(2.0)  # 6..8 (5..6 is raw read time)
    assert got["tests_s"] == pytest.approx(2.0)  # 8..10
    assert got["outside_nodes_s"] == pytest.approx(3.0)  # 12 - 9 busy
    assert sum(v for k, v in got.items() if k.endswith("_s")) == pytest.approx(12.0)


def test_ratio_is_speed_against_the_baseline_and_rates_when_amounts_differ():
    base = Result("inferred", "1M", [Run(10.0), Run(12.0), Run(14.0)], rows=100)
    fast = Result("typed", "1M", [Run(3.0), Run(4.0), Run(9.0)], rows=100, baseline="inferred")
    naive = Result("naive", "1M", [Run(2.0)], rows=1_000)  # 500 rows/s
    copy = Result("copy", "1M", [Run(4.0)], rows=100_000, baseline="naive")  # 25,000 rows/s
    other_scale = Result("typed", "100k", [Run(1.0)], rows=10, baseline="inferred")  # no baseline at 100k
    finish([base, fast, naive, copy, other_scale])
    assert fast.ratio == 3.0  # median 12 / median 4
    assert copy.ratio == 50.0  # 25,000 / 500 rows/s, not 2 s / 4 s
    assert other_scale.ratio is None
    assert fast.median == 4.0 and min(fast.seconds) == 3.0 and fast.rows_per_s == 25.0
    assert "| typed | 1M | 3 | 4.00 | 3.00 | 9.00 | 25 |" in markdown([fast])


def test_targets_report_met_and_missed_from_the_figures():
    results = [Result("read: typed (staging)", "1M", [Run(2.0)], ratio=3.5),
               Result("read: decompress floor", "1M", [Run(0.4)]),  # typed takes 5× the floor
               Result("read: typed (staging)", "100k", [Run(1.0)], ratio=1.2),  # the read goals are the 1M day's
               Result(DAILY_COLD, "1M", [Run(290.0, peak_rss=5 * 2**30)]),
               Result(DAILY_STEADY, "1M", [Run(200.0, peak_rss=7 * 2**30)], ratio=1.45),
               Result(DAILY_STEADY, "100k", [Run(50.0)]),
               Result("history: 30 day(s) before", "20k", [Run(1)], ratio=0.9),  # 1.11× the cost
               Result("loader: load (COPY)", "1M", [Run(10.0)], rows=1_000_000, ratio=25.0)]
    got = {name: (value, status) for name, value, status in targets(results)}
    assert got == {
        "typed read of the 1M day ≥ 3× faster than schema inference": ("3.50", "met"),
        "typed read of the 1M day ≤ 4× the decompress floor: typed / floor": ("5.00", "missed"),
        "daily build of a 1M-event day, steady state: ≤ 180 s": ("200.0", "missed"),
        "daily build of a 1M-event day, cold: ≤ 300 s": ("290.0", "met"),
        "daily build of a 100k-event day, steady state: ≤ 60 s": ("50.0", "met"),
        "history 30 days / 1 day ≤ 1.15 (20k)": ("1.11", "met"),
        "peak RSS of the 1M build ≤ 6 GiB (GiB)": ("7.00", "missed"),  # the larger of the two 1M builds
        "loader ≥ 20× naive executemany (1M)": ("25.0", "met"),
        "loader ≥ 50,000 rows/s segment_log (1M)": ("100,000", "met"),
    }


@pytest.mark.parametrize("text, events", [("100k", 100_000), ("1M", 1_000_000), ("2.5m", 2_500_000), ("20000", 20_000)])
def test_scales(text, events):
    assert parse_scale(text) == events


@pytest.mark.parametrize("text, says", [("lots", "e.g. 100k, 1M"), ("1x", "e.g. 100k, 1M"), ("10", "at least 1k")])
def test_bad_scales_are_refused_with_the_form(text, says):
    with pytest.raises(ValueError, match=says):
        parse_scale(text)


def test_the_long_spark_cases_run_on_the_optimising_jit_the_others_on_the_profile_default(tmp_path, monkeypatch):
    monkeypatch.delenv("SEGLOG_DRIVER_JAVA_OPTS", raising=False)
    assert _env(tmp_path, optimising_jit=True)["SEGLOG_DRIVER_JAVA_OPTS"] == OPTIMISING_JIT
    assert "TieredStopAtLevel" not in OPTIMISING_JIT  # the quick tier's cap is what it removes
    small = _env(tmp_path)
    assert "SEGLOG_DRIVER_JAVA_OPTS" not in small  # profiles.yml's default (the quick tier) applies
    assert small["SEGLOG_SPARK_DIR"] == str(tmp_path / "spark")
    # what the caller set for make bench is the lever being compared: never overridden
    monkeypatch.setenv("SEGLOG_DRIVER_JAVA_OPTS", "-XX:TieredStopAtLevel=1")
    assert "SEGLOG_DRIVER_JAVA_OPTS" not in _env(tmp_path, optimising_jit=True)


def test_run_command_samples_the_peak_rss_of_the_whole_process_tree(tmp_path):
    # the child starts a grandchild holding ~200 MB: the tree's peak must include it
    code = ("import subprocess, sys; subprocess.run([sys.executable, '-c', "
            "'import time; b = bytearray(200 * 2**20); b[::4096] = b\"x\" * len(b[::4096]); time.sleep(1.0)'], check=True)")
    run = run_command([sys.executable, "-c", code], log=tmp_path / "log")
    assert run.peak_rss is not None and run.peak_rss > 200 * 2**20
    assert run.seconds >= 1.0


def test_a_failed_command_raises_with_its_output(tmp_path):
    with pytest.raises(BenchFailed, match="exited 3(.|\n)*boom"):
        run_command([sys.executable, "-c", "import sys; print('boom'); sys.exit(3)"], log=tmp_path / "log")
