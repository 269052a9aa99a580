"""What the loader loads: the dbt models (from target/manifest.json) and the rows of a date
(from the Parquet files of the Spark table, read with pyarrow; no Spark session needed)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ..project import PROJECT_DIR
from ..runner import table_dir

LOADED_FOLDERS = ("marts/",)  # models under models/marts are what BI reads in Redshift


class SourceError(LookupError):
    """A model or date the loader cannot find; the message lists what exists."""


@dataclass
class Model:
    name: str
    schema: str
    table: str
    partition: str | None  # the date partition column (ymd, activity_ywd) or None for a whole-table load
    meta: dict[str, Any] = field(default_factory=dict)
    column_meta: dict[str, dict[str, Any]] = field(default_factory=dict)
    key_columns: list[str] = field(default_factory=list)  # names a row in errors and reconciliation
    partition_type: str = "string"  # the partition column's YAML data_type (its values live in folder names)

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

    def read(self, day: date) -> pa.Table:
        """The model's rows of ``day`` (the whole table for a full load), with the partition column."""
        root = table_dir(self.schema, self.table)
        if not root.exists():
            raise SourceError(f"{self.schema}.{self.table} has no data at {root}: run `seglog run --date {day}` first")
        value = self.partition_value(day)
        if value is None:
            return pq.read_table(root)
        part = root / f"{self.partition}={value}"
        if not part.exists():
            raise SourceError(f"{self.schema}.{self.table} has no partition {self.partition}={value}: "
                              f"run `seglog run --date {day}` first")
        data = pq.read_table(part)
        if self.partition_type == "date":
            column = pa.array([date.fromisoformat(value)] * data.num_rows, pa.date32())
        else:
            column = pa.array([value] * data.num_rows, pa.string())
        return data.append_column(self.partition, column)


def loadable_models(manifest_path: Path | None = None) -> dict[str, Model]:
    """The marts and snapshots of the dbt project, by name, from dbt's manifest."""
    path = manifest_path or PROJECT_DIR / "target" / "manifest.json"
    if not path.exists():
        raise SourceError(f"no dbt manifest at {path}: run `seglog run` (or `dbt parse`) first")
    manifest = json.loads(path.read_text())
    unique_columns = _unique_columns(manifest)
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
            name=node["name"], schema=node["schema"], table=node["alias"],
            partition=None if meta.get("load") == "full" else partition_by,
            meta=meta, column_meta={c: col.get("meta") or {} for c, col in columns.items()}, key_columns=keys,
            partition_type=str((columns.get(partition_by or "") or {}).get("data_type") or "string").lower())
    return out


def _unique_columns(manifest: dict[str, Any]) -> set[tuple[str, str]]:
    """(model id, column) of every column with a `unique` test: the keys that name a row."""
    return {(parent, node["column_name"]) for node in manifest["nodes"].values()
            if node["resource_type"] == "test" and node.get("column_name")
            and node.get("test_metadata", {}).get("name") == "unique"
            for parent in node.get("depends_on", {}).get("nodes", [])}


def select_models(models: dict[str, Model], names: list[str] | None) -> list[Model]:
    if not names:
        return [models[n] for n in sorted(models)]
    unknown = [n for n in names if n not in models]
    if unknown:
        raise SourceError(f"unknown model(s) {', '.join(unknown)}; loadable: {', '.join(sorted(models))}")
    return [models[n] for n in names]
