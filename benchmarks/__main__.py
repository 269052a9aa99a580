"""`make bench`: every benchmark case, each against a baseline measured in the same run, printed
as one table and written as JSON + Markdown to benchmarks/results/.

    .venv/bin/python -m benchmarks [--cases read,daily,history,loader] [--scales 100k,1M] [--reps 3]

Cases (benchmarks/README.md says what each measures and the targets):
  jvm      the local Spark session's start on its own (part of every local run)
  read     typed read vs schema inference vs the decompress floor, one business day per scale
  daily    `dbt build` for one date (models, snapshot, data tests), per scale, cold (an empty
           warehouse) and in steady state (after the run for D-1), with its time split
  history  the same date's run with 1 day and with 30 days of history in the warehouse
  loader   segment_log of the largest scale's day into the local PostgreSQL vs executemany
  ladder   (not in the default set) one daily run per --ladder scale, to find the largest day
           that runs in the local default settings

Data comes from the project's generator (benchmarks/data.py), deterministic from the seed and
kept under data/bench/ between runs. The machine should be otherwise idle.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import typer

from benchmarks import data, loader_case
from benchmarks.harness import (BenchFailed, Result, Run, console, finish, machine, markdown, run_command, table,
                                write_json)
from seglog.project import PROJECT_DIR
from seglog import audit

PY = sys.executable
DBT = str(Path(sys.executable).with_name("dbt"))
RESULTS = PROJECT_DIR / "benchmarks" / "results"
ALL_CASES = ("jvm", "read", "daily", "history", "loader")
LARGE = 500_000  # events a day from which a case runs --large-reps times
HISTORY_SCALE = "5k"  # the history case's scale: 31 days of it are generated and built; a build here is mostly fixed cost, so 5k measures what history adds without 10 min of set-up


# The JVM options of the long-running Spark cases: the optimising JIT tier. The local profile's
# default (-XX:TieredStopAtLevel=1, the quick tier only) suits the thousands of short queries of
# a small day's build (the daily build at 100k: 160 s on it, 234 s on the optimising tier, 2026-12-04); JSON
# parsing is a few long hot loops, which the quick tier's code runs at half speed (the 1M read
# case: typed 173 s -> 84 s, inference 141 s -> 65 s; the 1M daily build 878 s -> 520 s). So the
# read case (one process, three long scans, at every scale) and the daily build from LARGE events
# a day get it; EMR's JVM runs with the optimising tier anyway. profiles.example.yml says the same
# for long local runs. A SEGLOG_DRIVER_JAVA_OPTS set by the caller wins (and is recorded in the
# JSON's machine block).
OPTIMISING_JIT = "-XX:ReservedCodeCacheSize=512m"


def _jit(optimising: bool) -> dict[str, str]:
    if optimising and "SEGLOG_DRIVER_JAVA_OPTS" not in os.environ:
        return {"SEGLOG_DRIVER_JAVA_OPTS": OPTIMISING_JIT}
    return {}


def _jit_note(optimising: bool) -> str:
    return "; optimising JIT" if _jit(optimising) else ""


def _env(work: Path, optimising_jit: bool = False) -> dict[str, str]:
    """A run's own Spark warehouse + metastore and dbt target/log folders, under ``work``, and
    the JIT tier (see OPTIMISING_JIT)."""
    return {"SEGLOG_HOME": str(PROJECT_DIR), "SEGLOG_SPARK_DIR": str(work / "spark"),
            "DBT_TARGET_PATH": str(work / "target"), "DBT_LOG_PATH": str(work / "logs"), **_jit(optimising_jit)}


def _module(name: str, *args: str, env: dict[str, str], log: Path) -> tuple[Run, dict[str, Any]]:
    """Run ``python -m benchmarks.<name> … OUT`` in its own process; its JSON result."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as fh:
        out = Path(fh.name)
    try:
        run = run_command([PY, "-m", f"benchmarks.{name}", *args, str(out)], env=env, log=log, cwd=PROJECT_DIR)
        return run, json.loads(out.read_text())
    finally:
        out.unlink(missing_ok=True)


# ---------------------------------------------------------------- jvm


def case_jvm(reps: int) -> list[Result]:
    work = data.BENCH_DIR / "work" / "jvm"
    runs = []
    for _ in range(reps):
        _, got = _module("jvm_start", env=_env(work), log=work.with_suffix(".log"))
        runs.append(Run(got["seconds"]))
    return [Result("spark session start", "-", runs, note="SparkSession.builder…getOrCreate() + select 1, profile settings")]


# ---------------------------------------------------------------- read


def case_read(ds: data.Dataset, reps: int) -> list[Result]:
    root = ds.ensure()
    work = data.BENCH_DIR / "work" / f"read-{ds.name}"
    _, got = _module("read_case", str(root), ds.end.isoformat(), str(reps), env=_env(work, optimising_jit=True),
                     log=work.with_suffix(".log"))
    files, size = ds.files_and_bytes([ds.end - timedelta(days=1), ds.end])
    note = f"{files:,} gz files, {size / 1e6:.1f} MB" + _jit_note(True)
    out = []
    for name, label, baseline in (("floor", "read: decompress floor", None),
                                  ("inferred", "read: schema inference", None),
                                  ("typed", "read: typed (staging)", "read: schema inference")):
        runs = [Run(r["seconds"], r["peak_rss"]) for r in got["runs"][name]]
        out.append(Result(label, ds.name, runs, rows=got["lines"], bytes=size, baseline=baseline, note=note))
    return out


# ---------------------------------------------------------------- daily


def _busy_s(results: list[dict[str, Any]], keep: Any) -> float:
    """Wall seconds during which at least one node for which ``keep(node)`` holds was executing
    (dbt runs 4 threads: summing node times would count overlaps several times)."""
    spans = []
    for r in results:
        if not keep(r):
            continue
        ex = next((t for t in r.get("timing", []) if t["name"] == "execute"), None)
        if ex and ex.get("started_at") and ex.get("completed_at"):
            spans.append((datetime.fromisoformat(ex["started_at"].rstrip("Z")).timestamp(),
                          datetime.fromisoformat(ex["completed_at"].rstrip("Z")).timestamp()))
    total, end = 0.0, float("-inf")
    for s, e in sorted(spans):
        if e > end:
            total += e - max(s, end)
            end = e
    return total


def _is_raw_read(r: dict[str, Any]) -> bool:
    return r["unique_id"].split(".")[-1] in ("base_segment__web_app_lines", "base_segment__procedure_lines")


def _is_model(r: dict[str, Any]) -> bool:
    return r["unique_id"].startswith(("model.", "snapshot."))


def split(run_results: dict[str, Any], wall_s: float) -> dict[str, float]:
    """The wall time of one dbt build split into parts that add up to it. At each moment the
    part is: raw read while a base lines model (the models that parse the raw logs) runs; else
    models while another model or the snapshot runs; else tests while a data test runs; else
    outside nodes (dbt's start and parse, the Spark session's start: see the jvm case)."""
    res = run_results["results"]
    raw = _busy_s(res, _is_raw_read)
    raw_models = _busy_s(res, _is_model)  # the raw read models are models too
    everything = _busy_s(res, lambda r: True)
    return {"raw_read_s": round(raw, 2), "models_s": round(raw_models - raw, 2),
            "tests_s": round(everything - raw_models, 2), "outside_nodes_s": round(wall_s - everything, 2),
            "nodes": len(res)}


def dbt_build(work: Path, vars_: dict[str, Any], log_name: str, tests: bool = True, optimising_jit: bool = False) -> Run:
    """One `dbt build` for a date in its own process (own JVM), as the daily job runs it
    (``tests=False``: models and snapshot only, to set up a state quickly; see OPTIMISING_JIT)."""
    args = [DBT, "build", "--vars", json.dumps(vars_), "--exclude-resource-type", "unit_test",
            *([] if tests else ["test"])]
    run = run_command(args, env=_env(work, optimising_jit), log=work / f"{log_name}.log", cwd=PROJECT_DIR)
    results = json.loads((work / "target" / "run_results.json").read_text())
    failed = [r["unique_id"] for r in results["results"] if r["status"] in ("error", "fail", "skipped")]
    if failed:
        raise BenchFailed(f"dbt build {vars_['date']} in {work}: {', '.join(failed[:5])} did not pass")
    run.detail = split(results, run.seconds)
    return run


def lines_read(work: Path, day: date) -> int:
    return sum(r["lines_read"] for r in audit.read_run(day.isoformat(), work / "spark"))


DAILY_COLD = "daily: cold, no parsed layer (models+tests)"
DAILY_STEADY = "daily: steady state, D-1's layer (models+tests)"


def case_daily(ds: data.Dataset, reps: int, states: tuple[str, ...] = ("cold", "steady")) -> tuple[list[Result], Path]:
    """The run for the dataset's last date D, as the daily job runs it, in two states, each run
    in a warehouse that starts empty:

    - cold: nothing built yet, so the run parses its three folders D-2..D (a first run, or the
      first after the parsed layer was dropped);
    - steady state: the run for D-1 came first (set up without tests, not counted), so the
      parsed layer holds the folders D-3..D-1 and the run for D parses only its newest folder:
      what every day after the first costs.

    Both read and build the same rows. ``states`` chooses; the loader case loads the last
    warehouse built (the steady state's)."""
    root = ds.ensure()
    jit = ds.events_per_day >= LARGE
    files, size = ds.files_and_bytes([ds.end - timedelta(days=d) for d in (2, 1, 0)])
    new_files, new_size = ds.files_and_bytes([ds.end])
    vars_ = {"date": ds.end.isoformat(), "segment_root": str(root)}
    prior = {**vars_, "date": (ds.end - timedelta(days=1)).isoformat()}
    cold_work = data.BENCH_DIR / "work" / f"daily-cold-{ds.name}"
    work = data.BENCH_DIR / "work" / f"daily-{ds.name}"
    cold, steady = [], []
    for i in range(reps if "cold" in states else 0):
        console.print(f"  daily {ds.name}: cold run {i + 1}/{reps} (an empty warehouse)")
        _clean(cold_work)
        cold.append(dbt_build(cold_work, vars_, f"cold{i + 1}", optimising_jit=jit))
    for i in range(reps if "steady" in states else 0):
        console.print(f"  daily {ds.name}: steady state {i + 1}/{reps}: the run for {prior['date']} first "
                      "(no tests, not counted)")
        _clean(work)
        dbt_build(work, prior, f"prior{i + 1}", tests=False, optimising_jit=jit)
        console.print(f"  daily {ds.name}: steady state {i + 1}/{reps}: the run for {vars_['date']}")
        steady.append(dbt_build(work, vars_, f"steady{i + 1}", optimising_jit=jit))
    counts = {lines_read(w, ds.end) for w, runs in ((cold_work, cold), (work, steady)) if runs}
    if len(counts) != 1:
        raise BenchFailed(f"daily {ds.name}: the cold and the steady-state runs read different line counts {counts}")
    rows = counts.pop()
    out = []
    if cold:
        out.append(Result(DAILY_COLD, ds.name, cold, rows=rows, bytes=size,
                          note=f"parses {files:,} gz files, {size / 1e6:.1f} MB (folders D-2..D)" + _jit_note(jit)))
    if steady:
        out.append(Result(DAILY_STEADY, ds.name, steady, rows=rows, bytes=size, baseline=DAILY_COLD if cold else None,
                          note=f"parses folder D: {new_files:,} gz files, {new_size / 1e6:.1f} MB" + _jit_note(jit)))
    return out, (work if steady else cold_work)


def _clean(work: Path) -> None:
    """An empty warehouse, metastore and dbt target for a case (its logs are kept, appended)."""
    for sub in ("spark", "target"):
        shutil.rmtree(work / sub, ignore_errors=True)


def split_table(results: list[Result]) -> str:
    """The daily runs' median time split, as Markdown."""
    lines = ["| run | scale | wall s | raw read s | models s | tests s | outside nodes s |", "|---|---|--:|--:|--:|--:|--:|"]

    for r in results:
        details = [run.detail for run in r.runs if run.detail]
        if not details:
            continue
        med = {k: statistics.median(d[k] for d in details) for k in ("raw_read_s", "models_s", "tests_s", "outside_nodes_s")}
        lines.append(f"| {r.case} | {r.scale} | {r.median:.1f} | {med['raw_read_s']:.1f} | {med['models_s']:.1f} | "
                     f"{med['tests_s']:.1f} | {med['outside_nodes_s']:.1f} |")
    return "\n".join(lines)


# ---------------------------------------------------------------- history


# Files per source and received day of the history case's data. At 5k events a day, 333 files
# (the read case's production-like count) would hold ~5 lines each: the 30-day set-up build would
# open 31,000 files (187 s against 149 s with 48, 2026-12-04). Both measured runs read the same
# three folders either way, so the count does not touch what the case measures (what the history
# in the warehouse adds); the read case measures what many small files cost.
HISTORY_FILES_PER_DAY = 48


def history_dataset(scale: str) -> data.Dataset:
    return data.Dataset(f"history-{scale}", data.parse_scale(scale), data.BENCH_DATE - timedelta(days=30), data.BENCH_DATE,
                        files_per_day=HISTORY_FILES_PER_DAY)


def case_history(reps: int, scale: str = HISTORY_SCALE) -> list[Result]:
    """The run for D with 1 day of history (the run for D-1 with late_arrival_days 0 came
    first) and with 30 days (the run for D-1 with late_arrival_days 29 owns D-30..D-1)."""
    ds = history_dataset(scale)
    root = ds.ensure()
    out = []
    for days in (1, 30):
        work = data.BENCH_DIR / "work" / f"history-{scale}-{days}d"
        prior = {"date": (ds.end - timedelta(days=1)).isoformat(), "late_arrival_days": days - 1,
                 "segment_root": str(root)}
        _clean(work)  # the state must be exactly `days` partitions
        console.print(f"  history {days}d: the run for {prior['date']} owning {days} partition(s) (no tests, not counted)")
        dbt_build(work, prior, "history", tests=False)
        vars_ = {"date": ds.end.isoformat(), "segment_root": str(root)}
        runs = []
        for i in range(reps):
            console.print(f"  history {days}d: run {i + 1}/{reps}")
            runs.append(dbt_build(work, vars_, f"run{i + 1}"))
        out.append(Result(f"history: {days} day(s) before", scale, runs, rows=lines_read(work, ds.end),
                          baseline="history: 1 day(s) before" if days == 30 else None,
                          note="the run for D after the history was built"))
    return out


# ---------------------------------------------------------------- loader


# ---------------------------------------------------------------- targets


def targets(results: list[Result]) -> list[tuple[str, str, str]]:
    """The targets (issue "Parse every raw line once" for the read and the daily build; the
    loader's from the first benchmark issue) against this run's figures: (target, measured,
    met / missed). The read and the daily build's goals are set for the 1M day, the steady
    state's also at 100k."""
    by = {(r.case, r.scale): r for r in results}
    out = []

    def add(name: str, value: float | None, ok: bool, fmt: str) -> None:
        if value is not None:
            out.append((name, format(value, fmt), "met" if ok else "missed"))

    typed, floor = by.get(("read: typed (staging)", "1M")), by.get(("read: decompress floor", "1M"))
    if typed is not None and typed.ratio is not None:
        add("typed read of the 1M day ≥ 3× faster than schema inference", typed.ratio, typed.ratio >= 3, ".2f")
    if typed is not None and floor is not None:
        slower = typed.median / floor.median
        add("typed read of the 1M day ≤ 4× the decompress floor: typed / floor", slower, slower <= 4, ".2f")
    for case, scale, goal in ((DAILY_STEADY, "1M", 180), (DAILY_COLD, "1M", 300), (DAILY_STEADY, "100k", 60)):
        r = by.get((case, scale))
        if r is not None:
            add(f"daily build of a {scale}-event day, {'steady state' if case == DAILY_STEADY else 'cold'}: "
                f"≤ {goal} s", r.median, r.median <= goal, ".1f")
    for (case, scale), r in by.items():
        if case == "history: 30 day(s) before" and r.ratio:
            add(f"history 30 days / 1 day ≤ 1.15 ({scale})", 1 / r.ratio, 1 / r.ratio <= 1.15, ".2f")
    peaks = [r.peak_rss for r in (by.get((DAILY_COLD, "1M")), by.get((DAILY_STEADY, "1M"))) if r and r.peak_rss]
    if peaks:
        add("peak RSS of the 1M build ≤ 6 GiB (GiB)", max(peaks) / 2**30, max(peaks) <= 6 * 2**30, ".2f")
    for (case, scale), r in by.items():
        if case == "loader: load (COPY)":
            if r.ratio is not None:
                add(f"loader ≥ 20× naive executemany ({scale})", r.ratio, r.ratio >= 20, ".1f")
            add(f"loader ≥ 50,000 rows/s segment_log ({scale})", r.rows_per_s, (r.rows_per_s or 0) >= 50_000, ",.0f")
    return out


def targets_markdown(rows: list[tuple[str, str, str]]) -> str:
    return "\n".join(["| target | measured | |", "|---|--:|---|", *(f"| {a} | {b} | {c} |" for a, b, c in rows)])


# ---------------------------------------------------------------- main


def main(
    cases: str = typer.Option(",".join(ALL_CASES), help=f"Comma-separated, from {', '.join(ALL_CASES)}, ladder."),
    scales: str = typer.Option("100k,1M", help="Events per business day for read and daily (the last one feeds the loader)."),
    reps: int = typer.Option(2, min=1, help="Measured runs of the short cases: jvm, loader, read below 500k events a day."),
    large_reps: int = typer.Option(1, min=1, help="Runs of the read and daily cases from 500k events a day (minutes each: "
                                   "1 keeps make bench near 30 minutes on 2 cores)."),
    daily_reps: int = typer.Option(1, min=1, help="dbt builds per daily case below 500k events a day."),
    history_reps: int = typer.Option(1, min=1, help="Measured dbt builds per history state (1 and 30 days)."),
    naive_rows: int = typer.Option(20_000, min=100, help="Rows the naive executemany baseline inserts (its rows/s is compared)."),
    history_scale: str = typer.Option(HISTORY_SCALE, help="Events per day of the history case's 31 days."),
    ladder: str = typer.Option("2M,4M", help="The ladder case's scales, tried in order until one fails."),
    out: Path = typer.Option(RESULTS / "latest.json", help="JSON results (a .md twin is written beside it)."),
) -> None:
    chosen = [c.strip() for c in cases.split(",") if c.strip()]
    unknown = sorted(set(chosen) - set(ALL_CASES) - {"ladder"})
    if unknown:
        raise typer.BadParameter(f"unknown case(s) {', '.join(unknown)}; choose from {', '.join(ALL_CASES)}, ladder")
    try:
        sizes = [(s.strip(), data.parse_scale(s)) for s in scales.split(",") if s.strip()]
        data.parse_scale(history_scale)
        ladder_sizes = [(s.strip(), data.parse_scale(s)) for s in ladder.split(",") if s.strip()]
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    datasets = [data.scaled(name, n) for name, n in sizes]
    t0 = time.perf_counter()
    results: list[Result] = []

    def checkpoint() -> None:
        """The results so far, so that a failure or Ctrl-C late in a long run keeps them."""
        finish(results)
        write_json(out, results, {"took_s": round(time.perf_counter() - t0, 1), "cases": chosen,
                                  "scales": scales, "partial": True})

    daily: list[Result] = []
    last_daily: Path | None = None
    try:
        needed = list(datasets) if {"read", "daily", "loader"} & set(chosen) else []
        if "history" in chosen:
            needed.append(history_dataset(history_scale))
        for ds in needed:
            console.print(f"[bold]data[/] {ds.name}: {ds.events_per_day:,} events a day, {ds.start}..{ds.end}")
        data.ensure_all(needed)
        if "jvm" in chosen:
            console.print("[bold]jvm[/]: the Spark session's start")
            results += case_jvm(reps)
            checkpoint()
        if "read" in chosen:
            for ds in datasets:
                console.print(f"[bold]read[/] {ds.name}")
                results += case_read(ds, reps if ds.events_per_day < LARGE else large_reps)
                checkpoint()
        if "daily" in chosen or "loader" in chosen:
            for ds in datasets if "daily" in chosen else datasets[-1:]:
                console.print(f"[bold]daily[/] {ds.name}")
                got, last_daily = case_daily(ds, daily_reps if ds.events_per_day < LARGE else large_reps,
                                             ("cold", "steady") if "daily" in chosen else ("steady",))
                daily += got
                results += got
                checkpoint()
        if "loader" in chosen and last_daily is not None:
            console.print(f"[bold]loader[/] {datasets[-1].name}")
            results += loader_case.run(last_daily, datasets[-1].name, datasets[-1].end, reps, naive_rows)
            checkpoint()
        if "history" in chosen:
            console.print(f"[bold]history[/] {history_scale}")
            results += case_history(history_reps, history_scale)
            checkpoint()
        if "ladder" in chosen:
            for name, n in ladder_sizes:
                console.print(f"[bold]ladder[/] {name}")
                try:
                    got, _ = case_daily(data.scaled(name, n), 1, ("cold",))
                except BenchFailed as exc:
                    console.print(f"[red]ladder {name} failed[/]: {exc}")
                    break
                results += [Result("ladder: " + r.case, r.scale, r.runs, r.rows, r.bytes, note=r.note) for r in got]
                daily += results[-1:]
                checkpoint()
    except BenchFailed as exc:
        console.print(f"[red]benchmark failed:[/] {exc}")
        raise typer.Exit(1) from None
    finish(results)
    took = time.perf_counter() - t0
    console.print(table(results, f"benchmarks ({took / 60:.1f} min)"))
    goals = targets(results)
    m = machine()
    md = (f"{time.strftime('%Y-%m-%d')}, {m['cpus']} cores, {m['memory_gib']} GiB, Python {m['python']}; "
          f"`make bench` took {took / 60:.1f} min.\n\n") + markdown(results) + ("\n\nTime split of the daily runs (medians):\n\n" + split_table(daily) if daily else "")
    if goals:
        md += "\n\nTargets:\n\n" + targets_markdown(goals)
    write_json(out, results, {"took_s": round(took, 1), "cases": chosen, "scales": scales,
                              "targets": [dict(zip(("target", "measured", "status"), g)) for g in goals]})
    out.with_suffix(".md").write_text(md + "\n")
    print(md)
    console.print(f"results: {out} and {out.with_suffix('.md')}")


if __name__ == "__main__":
    typer.run(main)
