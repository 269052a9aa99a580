"""The scheduler's reconciliation: count the warehouse's rows per model and partition afresh and
compare them with the counts Spark SQL wrote at the end of the job (``row_counts.json``, see
seglog.emr.job). Independent of the load: it reads neither the loader's results nor the Parquet
the loader read, so a load that went wrong in a way the loader could not see still shows here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ._ddl import quote
from ._load_checksums import partition_text
from ._source import Model, SourceError

WHOLE = "*"  # the partition label of a model counted whole (no partition column)


@dataclass
class Count:
    model: str
    partition: str
    spark: int
    warehouse: int
    no_rows_yet: bool = False  # Spark's table has never had a row (the job's row_counts.json says so): a warning
    absent: bool = False  # the warehouse has no such table (never loaded): counted as 0 rows

    @property
    def ok(self) -> bool:
        return self.spark == self.warehouse


def read_expected(location: str) -> dict[str, Any]:
    """row_counts.json from a local path or s3://bucket/key."""
    if location.startswith("s3://"):
        import boto3

        bucket, _, key = location[len("s3://"):].partition("/")
        try:
            body = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
        except Exception as exc:  # noqa: BLE001 - botocore's errors, reported with what to do
            raise SourceError(f"cannot read Spark's counts at {location} ({exc.__class__.__name__}: {exc}): did "
                              "the job for that date finish?") from None
        return json.loads(body)
    path = Path(location)
    if not path.is_file():
        raise SourceError(f"no Spark counts at {location}: did the job for that date finish?")
    return json.loads(path.read_text())


def count_sql(model: Model, values: list[str], placeholder: Callable[[int], str]) -> str:
    target = f"{quote(model.schema)}.{quote(model.table)}"
    if model.partition is None:
        return f"select '{WHOLE}', count(*) from {target}"
    part = quote(model.partition)
    text = partition_text(part, model.partition_type)
    cast = "cast({} as date)" if model.partition_type == "date" else "{}"
    in_list = ", ".join(cast.format(placeholder(i)) for i in range(len(values)))
    return f"select {text}, count(*) from {target} where {part} in ({in_list}) group by 1"


def count_postgres(conninfo: dict[str, Any], model: Model, values: list[str]) -> dict[str, int] | None:
    """Rows per partition in PostgreSQL; None when the table does not exist."""
    import psycopg

    with psycopg.connect(**conninfo) as conn:
        if not conn.execute("select to_regclass(%s)", (f"{quote(model.schema)}.{quote(model.table)}",)).fetchone()[0]:
            return None
        rows = conn.execute(count_sql(model, values, lambda i: "%s"), values if model.partition else ()).fetchall()
    return {str(v): int(n) for v, n in rows}


def count_redshift(api: Any, model: Model, values: list[str]) -> dict[str, int] | None:
    """Rows per partition in Redshift; None when the table does not exist (asked of the catalog first:
    a count of a missing table is an error, not a zero)."""
    exists = api.execute("select count(*) from svv_columns where table_schema = :schema and table_name = :table",
                         {"schema": model.schema, "table": model.table})
    if not exists or not int(exists[0][0]):
        return None
    params = {f"p{i}": v for i, v in enumerate(values)} if model.partition else None
    rows = api.execute(count_sql(model, values, lambda i: f":p{i}"), params)
    return {str(v): int(n) for v, n in rows}


def compare(expected: dict[str, Any], models: dict[str, Model],
            count: Callable[[Model, list[str]], dict[str, int] | None]) -> list[Count]:
    """Spark's counts against the warehouse's, per model and partition (a missing partition counts
    0 rows; a missing table too, marked ``absent``)."""
    out: list[Count] = []
    for name, partitions in sorted(expected["models"].items()):
        if name not in models:
            raise SourceError(f"Spark counted {name}, which the manifest does not list as loadable: "
                              f"is the manifest from the same run?")
        model = models[name]
        values = [] if model.partition is None else sorted(partitions)
        found = count(model, values)
        empty = name in expected.get("no_rows_yet", [])
        out += [Count(name, part, int(n), (found or {}).get(part, 0), empty, found is None)
                for part, n in sorted(partitions.items())]
    return out


@dataclass
class Recount:
    """A recount's outcome: its counts, a one-line summary for the scheduler and its JSON file."""

    run_date: str
    target: str
    counts: list[Count]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.counts)

    def summary(self) -> str:
        counts = self.counts
        bad = [c for c in counts if not c.ok]
        empty = sorted({c.model for c in counts if c.no_rows_yet})
        missing = sorted({c.model for c in counts if c.absent})
        text = (f"{len({c.model for c in counts})} model(s), {len(counts)} partition(s), "
                f"{sum(c.spark for c in counts):,} rows: ")
        text += "Spark and the warehouse agree" if not bad else f"{len(bad)} partition(s) differ: " + ", ".join(
            f"{c.model} {c.partition} (Spark {c.spark:,}, warehouse {c.warehouse:,})" for c in bad[:5])
        if empty:
            text += f"; warning: no rows yet in {', '.join(empty)}"
        if missing:
            text += (f"; not in the warehouse at all (never loaded: run `seglog load` for the date): "
                     f"{', '.join(missing)}")
        return text

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"ok": self.ok, "summary": self.summary(), "run_date": self.run_date,
                                    "target": self.target, "counts": [c.__dict__ for c in self.counts]}, indent=2))
