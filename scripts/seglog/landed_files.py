"""Every file of a run's folders, counted by what the raw-log reader does with it, from a listing
of our own (local disk or S3).

The run lists its folders through Spark (base_segment__files), and Spark's file listing never
returns a hidden name (InMemoryFileIndex.shouldFilterOutPathName: a name starting with `.`, or
with `_` and holding no `=`, or ending in `._COPYING_`, at any level of the path): such a file
is in no table. This listing sees every file, so `seglog run` can say how many the run could
not see. (The DAG does the same from its own S3 listing: Airflow's venv has no seglog.)
The kinds are those of base_segment__files.file_status for the files Spark lists:
    gz       a .gz file directly in the received-day folder: read
    not_gz   a name not ending in .gz (`.json`, `.GZ`): not read, listed by the run
    nested   in a folder below the received-day folder: not read, listed by the run
    hidden   a name (or a folder on its path) starting with `_` or `.`: never listed by Spark
    empty    0 bytes: Spark's scans skip it, and it holds no line to lose
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Iterable, Iterator

from .kst_calendar import folder_name
from .project import PROJECT_DIR

KINDS = ("gz", "not_gz", "nested", "hidden", "empty")


def is_hidden(name: str) -> bool:
    """Spark's rule for a file or folder name its listing skips (see the module's docstring)."""
    return name.startswith(".") or (name.startswith("_") and "=" not in name) or name.endswith("._COPYING_")


def file_kind(name_in_folder: str, size: int) -> str:
    """What the reader does with a file, from its path below the received-day folder and its size."""
    parts = name_in_folder.split("/")
    if any(is_hidden(part) for part in parts):
        return "hidden"
    if size == 0:
        return "empty"
    if len(parts) > 1:
        return "nested"
    return "gz" if parts[0].endswith(".gz") else "not_gz"


def _listing(root: str, folder: str) -> Iterator[tuple[str, int]]:
    """(path below `folder`, size) of every file under {root}/{folder}."""
    if root.startswith(("s3://", "s3a://")):
        import boto3  # the client honours AWS_ENDPOINT_URL (moto in the tests)

        bucket, _, prefix = root.split("://", 1)[1].rstrip("/").partition("/")
        key_prefix = f"{prefix}/{folder}/" if prefix else f"{folder}/"
        for page in boto3.client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key_prefix):
            for obj in page.get("Contents", []):
                yield obj["Key"][len(key_prefix):], obj["Size"]
        return
    base = Path(root.removeprefix("file://").removeprefix("file:"))
    base = (base if base.is_absolute() else PROJECT_DIR / base) / folder  # as dbt reads it: from the project
    if base.is_dir():
        for path in sorted(base.rglob("*")):
            if path.is_file():
                yield path.relative_to(base).as_posix(), path.stat().st_size


def tally(root: str, source_ids: dict[str, str], days: Iterable[date]) -> dict[str, dict[str, list[str]]]:
    """Per source key, per kind: the files of the received-day folders of `days` (paths below the folder)."""
    out: dict[str, dict[str, list[str]]] = {}
    days = list(days)
    for key, source_id in source_ids.items():
        kinds: dict[str, list[str]] = {kind: [] for kind in KINDS}
        for day in days:
            folder = f"{source_id}/{folder_name(day)}"
            for name, size in _listing(root, folder):
                kinds[file_kind(name, size)].append(f"{folder_name(day)}/{name}")
        out[key] = kinds
    return out


def counts(tallied: dict[str, dict[str, list[str]]]) -> dict[str, dict[str, int]]:
    """The number of files of each kind per source."""
    return {key: {kind: len(names) for kind, names in kinds.items()} for key, kinds in tallied.items()}
