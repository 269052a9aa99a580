"""What every benchmark case shares: timing several runs, sampling the peak RSS of a process tree,
the results table (rich) and its JSON twin.

A measured run is a command (a subprocess: its own Python, its own JVM) or a Python callable.
While it runs, a thread samples the resident memory of the whole process tree with psutil every
0.1 s: for a Spark run that is the Python driver plus the JVM it started (the JVM is where the
memory goes). Peak RSS is the largest sum seen.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import psutil
from rich.console import Console
from rich.table import Table

# wide enough for the results table when the output is not a terminal (make, CI logs)
console = Console(stderr=True, width=None if sys.stderr.isatty() else 160)


class BenchFailed(RuntimeError):
    """A measured run that did not succeed; its output tail says why."""


class PeakRss:
    """Samples the RSS of ``pid`` and all its descendants until stopped; ``peak`` in bytes."""

    def __init__(self, pid: int, interval_s: float = 0.1):
        self.pid, self.interval_s, self.peak = pid, interval_s, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _tree_rss(self) -> int:
        try:
            root = psutil.Process(self.pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return 0
        total = 0
        for proc in procs:
            try:
                total += proc.memory_info().rss
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                pass
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._tree_rss())
            self._stop.wait(self.interval_s)

    def __enter__(self) -> "PeakRss":
        self._thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class Run:
    seconds: float
    peak_rss: int | None = None  # bytes, of the process tree
    detail: dict[str, Any] = field(default_factory=dict)  # case-specific (e.g. the time split)


def run_command(args: Sequence[str], env: dict[str, str] | None = None, log: Path | None = None,
                cwd: Path | None = None) -> Run:
    """Run ``args`` as a subprocess, timing it and sampling its tree's peak RSS; its output goes to
    ``log``. A non-zero exit raises BenchFailed with the log's tail."""
    if log:
        log.parent.mkdir(parents=True, exist_ok=True)
    out = open(log, "ab") if log else subprocess.DEVNULL
    t0 = time.perf_counter()
    try:
        proc = subprocess.Popen(list(args), env={**os.environ, **(env or {})}, stdout=out,
                                stderr=subprocess.STDOUT, cwd=cwd)
        with PeakRss(proc.pid) as rss:
            code = proc.wait()
    finally:
        if log:
            out.close()
    seconds = time.perf_counter() - t0
    if code != 0:
        tail = log.read_text(errors="replace").splitlines()[-25:] if log else []
        raise BenchFailed(f"{' '.join(args[:4])} … exited {code}" + (f"; the end of {log}:\n" + "\n".join(tail) if log else ""))
    return Run(seconds, rss.peak)


def run_callable(fn: Callable[[], Any]) -> Run:
    """Time ``fn()`` in this process (peak RSS of this process's tree while it runs)."""
    t0 = time.perf_counter()
    with PeakRss(os.getpid()) as rss:
        result = fn()
    return Run(time.perf_counter() - t0, rss.peak, result if isinstance(result, dict) else {})


@dataclass
class Result:
    """One case at one scale, over its runs."""

    case: str
    scale: str
    runs: list[Run]
    rows: int | None = None  # processed per run (lines read, rows loaded): rows/s = rows / median
    bytes: int | None = None  # processed per run: MB/s = bytes / median
    baseline: str | None = None  # the case (same scale) this one is compared with
    note: str = ""
    ratio: float | None = None  # speed against the baseline (>1: this is faster); filled by finish()

    @property
    def seconds(self) -> list[float]:
        return [r.seconds for r in self.runs]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def peak_rss(self) -> int | None:
        peaks = [r.peak_rss for r in self.runs if r.peak_rss]
        return max(peaks) if peaks else None

    def as_json(self) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if k != "runs"}
        out.update(median_s=round(self.median, 3), min_s=round(min(self.seconds), 3),
                   max_s=round(max(self.seconds), 3), runs_s=[round(s, 3) for s in self.seconds],
                   rows_per_s=self.rows_per_s, mb_per_s=self.mb_per_s, peak_rss_bytes=self.peak_rss,
                   details=[r.detail for r in self.runs if r.detail])
        return out

    @property
    def rows_per_s(self) -> float | None:
        return round(self.rows / self.median, 1) if self.rows is not None and self.median > 0 else None

    @property
    def mb_per_s(self) -> float | None:
        return round(self.bytes / 1e6 / self.median, 2) if self.bytes is not None and self.median > 0 else None


def finish(results: list[Result]) -> None:
    """Fill each result's speed ratio to its baseline (same scale), measured in the same bench run:
    the baseline's median over this one's, or the rows/s ratio when they processed different
    amounts (the naive loader inserts a sample)."""
    by_key = {(r.case, r.scale): r for r in results}
    for r in results:
        base = by_key.get((r.baseline, r.scale)) if r.baseline else None
        if base is None:
            continue
        if r.rows_per_s and base.rows_per_s and r.rows != base.rows:  # different amounts: compare rates
            r.ratio = round(r.rows_per_s / base.rows_per_s, 2)
        else:
            r.ratio = round(base.median / r.median, 2)


def _num(v: float | None, fmt: str) -> str:
    return "" if v is None else format(v, fmt)


def table(results: list[Result], title: str) -> Table:
    t = Table(title=title)
    for col in ("case", "scale", "runs", "median s", "min", "max", "rows/s", "MB/s", "peak RSS", "vs baseline"):
        t.add_column(col, justify="left" if col in ("case", "scale", "vs baseline") else "right")
    for r in results:
        vs = f"{r.ratio:.2f}× {r.baseline}" if r.ratio is not None else ""
        rss = f"{r.peak_rss / 2**30:.2f} GiB" if r.peak_rss else ""
        t.add_row(r.case, r.scale, str(len(r.runs)), f"{r.median:.2f}", f"{min(r.seconds):.2f}",
                  f"{max(r.seconds):.2f}", _num(r.rows_per_s, ",.0f"), _num(r.mb_per_s, ".2f"), rss, vs)
    return t


def markdown(results: list[Result]) -> str:
    """The same table in Markdown, for the README."""
    lines = ["| case | scale | runs | median s | min | max | rows/s | MB/s | peak RSS | vs baseline |",
             "|---|---|--:|--:|--:|--:|--:|--:|--:|---|"]
    for r in results:
        vs = f"{r.ratio:.2f}× {r.baseline}" if r.ratio is not None else ""
        rss = f"{r.peak_rss / 2**30:.2f} GiB" if r.peak_rss else ""
        lines.append(f"| {r.case} | {r.scale} | {len(r.runs)} | {r.median:.2f} | {min(r.seconds):.2f} | "
                     f"{max(r.seconds):.2f} | {_num(r.rows_per_s, ',.0f')} | {_num(r.mb_per_s, '.2f')} | {rss} | {vs} |")
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
            "python": platform.python_version(), "platform": platform.platform(),
            "java_opts": os.environ.get("SEGLOG_DRIVER_JAVA_OPTS"),
            "driver_memory": os.environ.get("SEGLOG_DRIVER_MEMORY", "4g")}


def write_json(path: Path, results: list[Result], extra: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"machine": machine(), **extra, "results": [r.as_json() for r in results]}
    path.write_text(json.dumps(doc, indent=2, default=str) + "\n")
