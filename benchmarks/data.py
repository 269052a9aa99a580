"""The benchmarks' input: Segment logs made by the project's own generator at a stated scale,
deterministic from the seed, under data/bench/ (kept between bench runs: a dataset is written
once and reused while its parameters are unchanged)."""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path

from seglog import generator, kst_calendar
from seglog.project import PROJECT_DIR, default_vars

BENCH_DIR = PROJECT_DIR / "data" / "bench"
SEED = 42
# ~1,000 small gz files per received day, as in production: 333 per source and day.
FILES_PER_SOURCE_DAY = 333
# From this many events in all, a dataset's events are made by 2 processes (Dataset.workers).
BIG_DATASET_EVENTS = 1_000_000


@dataclass(frozen=True)
class Dataset:
    name: str  # e.g. "1M": the folder under data/bench
    events_per_day: int
    start: date  # first KST business date generated
    end: date  # last; the benchmarked date
    files_per_day: int = FILES_PER_SOURCE_DAY

    @property
    def workers(self) -> int:
        """Processes that make the events (generator.generate(workers=…)): 2 from 1M events in all,
        else 1. Fixed by the dataset, not by the machine, so a scale gives the same files everywhere."""
        return 2 if self.events_per_day * ((self.end - self.start).days + 1) >= BIG_DATASET_EVENTS else 1

    @property
    def root(self) -> Path:
        return BENCH_DIR / self.name / "segment-logs"

    @property
    def stamp(self) -> Path:
        return BENCH_DIR / self.name / "params.json"

    def params(self) -> dict[str, object]:
        # the generator's own source is part of the key: a changed generator writes new data
        code = hashlib.sha256(Path(generator.__file__).read_bytes()).hexdigest()[:16]
        return {**{k: str(v) for k, v in asdict(self).items()}, "seed": SEED, "generator": code, "workers": self.workers}

    def ready(self) -> bool:
        return self.stamp.exists() and json.loads(self.stamp.read_text()) == self.params()

    def ensure(self) -> Path:
        """Generate the logs unless the same parameters were generated before; return the root."""
        if self.ready():
            return self.root
        if self.root.exists():
            shutil.rmtree(self.root)
        self.stamp.unlink(missing_ok=True)
        generator.generate(self.root, self.start, self.end, seed=SEED, events_per_day=self.events_per_day,
                           files_per_day=self.files_per_day, rates=generator.FaultRates(),
                           source_ids=default_vars()["segment_sources"], workers=self.workers)
        self.stamp.write_text(json.dumps(self.params()))
        return self.root

    def files_and_bytes(self, days: list[date]) -> tuple[int, int]:
        """Number and compressed size of the .gz files in the received-day folders of ``days``."""
        folders = {kst_calendar.folder_name(d) for d in days}
        files = [p for p in self.root.glob("*/*/*.gz") if p.parent.name in folders]
        return len(files), sum(p.stat().st_size for p in files)


def ensure_all(datasets: list[Dataset]) -> None:
    """Generate the missing datasets so that both cores work: each big one here by its own
    processes (Dataset.workers) while the small ones are made one after another in a second
    process (2026-12-04: the 1M dataset alone took 254 s in one process); without a big one, the
    small ones two at a time."""
    from concurrent.futures import ProcessPoolExecutor

    missing = [ds for ds in datasets if not ds.ready()]
    small = [ds for ds in missing if ds.workers == 1]
    big = [ds for ds in missing if ds.workers > 1]
    if len(small) <= 1 and not big or not small:
        for ds in missing:
            ds.ensure()
        return
    with ProcessPoolExecutor(max_workers=1 if big else 2) as pool:
        pending = [pool.submit(_ensure_each, small)] if big else [pool.submit(_ensure_each, [ds]) for ds in small]
        for ds in big:
            ds.ensure()
        for future in pending:
            future.result()


def _ensure_each(datasets: list[Dataset]) -> None:
    for ds in datasets:
        ds.ensure()


BENCH_DATE = date(2023, 11, 8)


def scaled(name: str, events_per_day: int, history_days: int = 1) -> Dataset:
    """Business dates BENCH_DATE-history_days..BENCH_DATE: the run for BENCH_DATE owns D-1..D
    (late_arrival_days 1), so with history_days=1 both its partitions are full days."""
    return Dataset(name, events_per_day, BENCH_DATE - timedelta(days=history_days), BENCH_DATE)


def parse_scale(text: str) -> int:
    """'100k' -> 100000, '1M' -> 1000000, '20000' -> 20000."""
    t = text.strip().lower().replace("_", "").replace(",", "")
    mult = {"k": 1_000, "m": 1_000_000}.get(t[-1:], 1)
    number = t[:-1] if t[-1:] in ("k", "m") else t
    try:
        value = int(float(number) * mult)
    except ValueError:
        raise ValueError(f"scale {text!r}: give events per day as a number, e.g. 100k, 1M or 250000") from None
    if value < 1_000:
        raise ValueError(f"scale {text!r}: at least 1k events a day")
    return value
