"""What the loader loads: the dbt models (from target/manifest.json) and their rows, read with
pyarrow from the Parquet files of the Spark tables (no Spark session needed).

The warehouse is the folder Spark writes its tables to (``spark.sql.warehouse.dir``): locally
``$SEGLOG_SPARK_DIR/warehouse``; anywhere else ``SEGLOG_WAREHOUSE`` (a local path or an
``s3://bucket/prefix``, e.g. the EMR job's warehouse). Tables live at ``{schema}.db/{table}``,
partitioned Hive-style (``ymd=2023-11-08``).

Which partitions a load replaces comes from the run, not from the caller: the audit row of the
run for date D records the partitions it rewrote (``owned_from_ymd``..``owned_to_ymd``, i.e.
D-L..D), and the loader replaces exactly those. A partition of those dates that Spark has no
folder for holds no rows (the run found none), so the warehouse's rows of that date are replaced
by none. A date whose run is not in the warehouse is refused: nothing is deleted on a guess.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from .. import audit
from ..project import PROJECT_DIR, schema_folder, spark_dir
from .errors import SourceError

SELECTOR = re.compile(r"(tag:)?[a-z_][a-z0-9_]*")


@dataclass(frozen=True)
class Warehouse:
    """Where the Spark tables' Parquet files are: a pyarrow filesystem and the root path in it."""

    fs: pafs.FileSystem
    root: str
    uri: str  # for messages

    @classmethod
    def from_env(cls) -> "Warehouse":
        location = os.environ.get("SEGLOG_WAREHOUSE") or str(spark_dir() / "warehouse")
        return cls.at(location)

    @classmethod
    def at(cls, location: str) -> "Warehouse":
        if location.startswith("s3://"):
            parsed = urlparse(location)
            if not parsed.netloc:
                raise SourceError(f"SEGLOG_WAREHOUSE={location!r}: give it as s3://bucket/prefix")
            # AWS_ENDPOINT_URL_S3 (boto3's own setting) points pyarrow at the same endpoint, e.g. moto
            endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
            kwargs: dict[str, Any] = {"region": os.environ.get("AWS_REGION", "ap-northeast-2")}
            if endpoint:
                url = urlparse(endpoint)
                kwargs.update(endpoint_override=url.netloc, scheme=url.scheme or "https")
            return cls(pafs.S3FileSystem(**kwargs), f"{parsed.netloc}{parsed.path}".rstrip("/"), location)
        path = Path(location).resolve()
        return cls(pafs.LocalFileSystem(), str(path), str(path))

    def table(self, schema: str, table: str) -> str:
        return f"{self.root}/{schema_folder(schema)}/{table}"

    def exists(self, path: str) -> bool:
        try:
            return self.fs.get_file_info(path).type != pafs.FileType.NotFound
        except OSError as exc:
            if "ACCESS_DENIED" not in str(exc) and "403" not in str(exc):
                raise
        # S3 answers a HEAD of a missing key with 403, not 404, to a caller that may list the bucket
        # only under a prefix (the worker's role): a 403 is no answer, so list under the path
        return bool(self.fs.get_file_info(pafs.FileSelector(path, allow_not_found=True)))

    def read(self, path: str) -> pa.Table:
        return pq.read_table(path, filesystem=self.fs)

    def schema(self, path: str) -> pa.Schema | None:
        """The schema of any data file under ``path`` (for a load with no rows), the empty file of
        ``_seglog_schema/`` included (macro keep_empty_table_columns writes it for a partitioned
        table with no row yet); None when there is none."""
        for info in self.fs.get_file_info(pafs.FileSelector(path, recursive=True)):
            name = info.base_name
            if info.type == pafs.FileType.File and not name.startswith(("_", ".")) and name.endswith(".parquet"):
                return pq.read_schema(info.path, filesystem=self.fs)
        return None

    def owned_dates(self, run_day: date) -> list[date]:
        """The dates the run for ``run_day`` rewrote (D-L..D), from its audit row; SourceError when
        the run is not in the warehouse or did not finish (audit.unfinished)."""
        part = f"{self.table('audit', 'segment_run_audit')}/run_ymd={run_day.isoformat()}"
        if not self.exists(part):
            raise SourceError(f"the run for {run_day} is not in the warehouse {self.uri} (no audit row): run "
                              f"`seglog run --date {run_day}` first; nothing was loaded")
        why = audit.unfinished(run_day, self._run_rows("segment_run_started", run_day),
                               self._run_rows("segment_run_completed", run_day))
        if why:
            raise SourceError(f"{why}; nothing was loaded")
        return audit.owned_dates(self.read(part).to_pylist())

    def _run_rows(self, table: str, run_day: date) -> list[dict[str, Any]]:
        """The rows of an audit table's partition run_ymd=``run_day`` ([] when it has none)."""
        part = f"{self.table('audit', table)}/run_ymd={run_day.isoformat()}"
        return self.read(part).to_pylist() if self.exists(part) else []


def typed_partition_value(value: str, partition_type: str) -> Any:
    """A partition value (as in folder names) as the warehouse column holds it: a date for a DATE column."""
    return date.fromisoformat(value) if partition_type == "date" else value


@dataclass
class Model:
    name: str
    schema: str
    table: str
    partition: str | None  # the date partition column (ymd, activity_ywd) or None for a whole-table load
    meta: dict[str, Any] = field(default_factory=dict)
    column_meta: dict[str, dict[str, Any]] = field(default_factory=dict)
    key_columns: list[str] = field(default_factory=list)  # columns with a `unique` test: name a row in errors
    grain: list[str] = field(default_factory=list)  # the unique key (one column or several): reconciled
    partition_type: str = "string"  # the partition column's YAML data_type (its values live in folder names)
    tags: list[str] = field(default_factory=list)

    @property
    def redshift(self) -> dict[str, Any]:
        return self.meta.get("redshift", {})


    def partition_value(self, day: date) -> str | None:
        """The partition that holds ``day``: the date itself, or the Sunday starting its week."""
        if self.partition is None:
            return None
        if self.partition.endswith("ywd"):
            return (day - timedelta(days=day.isoweekday() % 7)).isoformat()
        return day.isoformat()

    def partition_values(self, days: list[date]) -> list[str]:
        """The partitions holding ``days``, each once, in order ([] for a whole-table load)."""
        return sorted({v for v in (self.partition_value(d) for d in days) if v is not None})

    def typed(self, value: str) -> Any:
        return typed_partition_value(value, self.partition_type)

    def holds_no_rows(self, warehouse: Warehouse, data: pa.Table) -> bool:
        """True when the Spark table has no row at all, in any partition (``data``: the rows just read):
        a mart never written yet (a first deployment, or an event not sent yet), not one that shrank.
        Spark writes a partition's folder only for rows, so a partitioned table without one has none."""
        if data.num_rows:
            return False
        if self.partition is None:
            return True
        root = warehouse.table(self.schema, self.table)
        return not any(info.type == pafs.FileType.Directory and info.base_name.startswith(f"{self.partition}=")
                       for info in warehouse.fs.get_file_info(pafs.FileSelector(root, allow_not_found=True)))

    def read(self, warehouse: Warehouse, values: list[str]) -> pa.Table:
        """The model's rows of the partitions ``values`` with the partition column (the whole table
        when it has no partition). A partition without a folder contributes no rows."""
        root = warehouse.table(self.schema, self.table)
        if not warehouse.exists(root):
            raise SourceError(f"{self.schema}.{self.table} has no data at {root}: run `seglog run` for the date first")
        if self.partition is None:
            return warehouse.read(root)
        part_type = pa.date32() if self.partition_type == "date" else pa.string()
        pieces = []
        for value in values:
            path = f"{root}/{self.partition}={value}"
            if warehouse.exists(path):
                data = warehouse.read(path)
                pieces.append(data.append_column(self.partition, pa.array([self.typed(value)] * data.num_rows, part_type)))
        if not pieces:
            schema = warehouse.schema(root)
            if schema is None:  # a table built before runs recorded an empty table's columns (_seglog_schema)
                raise SourceError(f"{self.schema}.{self.table} has no rows at all yet and no record of its columns "
                                  f"({root}): run `seglog run` for the date again (it records them); nothing was loaded")
            schema = pa.schema([f for f in schema if f.name != self.partition]).append(pa.field(self.partition, part_type))
            return schema.empty_table()
        # an older partition may lack a column added later (on_schema_change: append_new_columns): nulls
        return pa.concat_tables(pieces, promote_options="default")


def _manifest_text(location: str) -> str:
    if location.startswith("s3://"):
        import boto3

        bucket, _, key = location[len("s3://"):].partition("/")
        try:
            return boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read().decode()
        except Exception as exc:  # noqa: BLE001 - botocore's errors, reported with what to do
            raise SourceError(f"cannot read the dbt manifest at {location} ({exc.__class__.__name__}): the EMR job "
                              "writes it to runs/ymd=<date>/manifest.json when it runs") from None
    path = Path(location)
    if not path.exists():
        raise SourceError(f"no dbt manifest at {path}: run `seglog run` (or `dbt parse`) first")
    return path.read_text()


def loadable_models(manifest_path: Path | None = None) -> dict[str, Model]:
    """The marts and snapshots of the dbt project, by name, from dbt's manifest: ``manifest_path``,
    else ``SEGLOG_MANIFEST`` (a path or s3://…, e.g. the manifest the EMR job wrote), else
    target/manifest.json."""
    location = str(manifest_path or os.environ.get("SEGLOG_MANIFEST") or PROJECT_DIR / "target" / "manifest.json")
    manifest = json.loads(_manifest_text(location))
    unique_columns, combinations = _unique_keys(manifest)
    out: dict[str, Model] = {}
    for node in manifest["nodes"].values():
        is_mart = node["resource_type"] == "model" and node["original_file_path"].startswith("models/marts/")
        if not (is_mart or node["resource_type"] == "snapshot"):
            continue
        partition_by = node["config"].get("partition_by")
        if isinstance(partition_by, list):
            partition_by = partition_by[0] if partition_by else None
        meta = node.get("meta") or node["config"].get("meta") or {}
        columns = node.get("columns", {})
        keys = [c for c in columns if (node["unique_id"], c) in unique_columns]
        out[node["name"]] = Model(
            name=node["name"], schema=_layer(node["schema"]), table=node["alias"],
            partition=None if meta.get("load") == "full" else partition_by,
            meta=meta, column_meta={c: col.get("meta") or {} for c, col in columns.items()}, key_columns=keys,
            grain=keys[:1] or combinations.get(node["unique_id"], []),
            partition_type=str((columns.get(partition_by or "") or {}).get("data_type") or "string").lower(),
            tags=list(node.get("tags") or []))
    return out


def _layer(schema: str) -> str:
    """The layer's name (marts) of a schema built with SEGLOG_SCHEMA_PREFIX (segment_marts): what the
    warehouse's schema is called, and what ``schema_folder`` prefixes again to find the files."""
    prefix = os.environ.get("SEGLOG_SCHEMA_PREFIX", "")
    return schema[len(prefix):] if prefix and schema.startswith(prefix) else schema


def _unique_keys(manifest: dict[str, Any]) -> tuple[set[tuple[str, str]], dict[str, list[str]]]:
    """(model id, column) of every column with a `unique` test, and the columns of each model's
    `unique_combination_of_columns` test: the keys that name a row."""
    singles: set[tuple[str, str]] = set()
    combinations: dict[str, list[str]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "test":
            continue
        meta = node.get("test_metadata") or {}
        for parent in node.get("depends_on", {}).get("nodes", []):
            if meta.get("name") == "unique" and node.get("column_name"):
                singles.add((parent, node["column_name"]))
            elif meta.get("name") == "unique_combination_of_columns":
                columns = (meta.get("kwargs") or {}).get("combination_of_columns") or []
                combinations.setdefault(parent, [str(c) for c in columns])
    return singles, combinations


def select_models(models: dict[str, Model], names: list[str] | None = None,
                  selectors: list[str] | None = None) -> list[Model]:
    """The models named in ``names`` plus those matched by ``selectors`` (a model name or
    ``tag:<tag>``, as in dbt's --select); every loadable model when both are empty."""
    terms = [*(names or []), *(selectors or [])]
    if not terms:
        return [models[n] for n in sorted(models)]
    chosen: dict[str, Model] = {}
    unknown = []
    for term in terms:
        if not SELECTOR.fullmatch(term):
            raise SourceError(f"cannot select {term!r}: give a model name or tag:<tag>; loadable: "
                              f"{', '.join(sorted(models))}")
        if term.startswith("tag:"):
            matched = [m for m in models.values() if term[4:] in m.tags]
            if not matched:
                tags = sorted({t for m in models.values() for t in m.tags})
                raise SourceError(f"no loadable model has the tag {term[4:]!r}; tags: {', '.join(tags) or '(none)'}")
            chosen.update((m.name, m) for m in matched)
        elif term in models:
            chosen[term] = models[term]
        else:
            unknown.append(term)
    if unknown:
        raise SourceError(f"unknown model(s) {', '.join(unknown)}; loadable: {', '.join(sorted(models))}")
    return [chosen[n] for n in sorted(chosen)]
