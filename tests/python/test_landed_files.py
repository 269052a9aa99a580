"""Our own listing of a run's folders (seglog.landed_files): every file counted by what the reader
does with it, the hidden ones Spark never lists included, on local disk and on S3 (moto) alike.
The kinds are worked out here by hand from the names, per Hadoop's rule that a name starting
with `.`, or with `_` and holding no `=`, or ending in `._COPYING_`, is hidden (Spark's
InMemoryFileIndex.shouldFilterOutPathName) at any level of the path."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from seglog import landed_files
from seglog.kst_calendar import folder_name, read_days

DAY = date(2023, 11, 8)
# path below the received-day folder -> (size, kind)
FILES = {
    "1699401600000.a.gz": (10, "gz"),
    "1699401600001.b.json": (10, "not_gz"),
    "1699401600002.c.GZ": (10, "not_gz"),
    "more/1699401600003.d.gz": (10, "nested"),
    "_1699401600004.e.gz": (10, "hidden"),
    ".1699401600005.f.gz": (10, "hidden"),
    "_tmp/1699401600006.g.gz": (10, "hidden"),
    "1699401600007.h.gz": (0, "empty"),
    "1699401600008.i.gz._COPYING_": (10, "hidden"),  # a copy under way (hadoop fs -put)
    "_part=1/1699401600009.j.gz": (10, "nested"),  # `_` with `=`: a partition folder, listed
}


def test_each_name_gets_the_kind_the_reader_gives_it() -> None:
    assert {name: landed_files.file_kind(name, size) for name, (size, _) in FILES.items()} == {
        name: kind for name, (_, kind) in FILES.items()}


def _write(root: Path, source_id: str) -> None:
    for name, (size, _) in FILES.items():
        path = root / source_id / folder_name(DAY) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * size)


def _expected() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {kind: [] for kind in landed_files.KINDS}
    for name, (_, kind) in sorted(FILES.items()):
        out[kind].append(f"{folder_name(DAY)}/{name}")
    return out


def test_a_local_folder_is_tallied_by_kind_and_other_days_are_not_read(tmp_path: Path) -> None:
    _write(tmp_path, "src1")
    (tmp_path / "src1" / folder_name(date(2023, 11, 1))).mkdir()  # outside the window: never listed
    (tmp_path / "src1" / folder_name(date(2023, 11, 1)) / "x.gz").write_bytes(b"x")
    got = landed_files.tally(str(tmp_path), {"web": "src1", "app": "src2"}, read_days(DAY, 1))
    assert {kind: sorted(names) for kind, names in got["web"].items()} == _expected()
    assert landed_files.counts(got)["app"] == {kind: 0 for kind in landed_files.KINDS}  # no folder at all


def test_an_s3_root_is_tallied_as_the_same_files_on_disk(aws_env: str, tmp_path: Path) -> None:
    import boto3

    _write(tmp_path, "src1")
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="landed-files", CreateBucketConfiguration={"LocationConstraint": "ap-northeast-2"})
    for path in tmp_path.rglob("*"):
        if path.is_file():
            s3.upload_file(str(path), "landed-files", f"raw/{path.relative_to(tmp_path).as_posix()}")
    on_s3 = landed_files.tally("s3://landed-files/raw", {"web": "src1"}, read_days(DAY, 1))
    on_disk = landed_files.tally(str(tmp_path), {"web": "src1"}, read_days(DAY, 1))
    assert {k: sorted(v) for k, v in on_s3["web"].items()} == {k: sorted(v) for k, v in on_disk["web"].items()} == _expected()


@pytest.mark.parametrize("late", [0, 1, 3])
def test_the_folders_tallied_are_the_runs_window(late: int) -> None:
    """D-L-1..D, as macro received_days: worked out by hand for 2023-11-08."""
    days = read_days(DAY, late)
    assert days[0] == date(2023, 11, 8 - late - 1) and days[-1] == DAY and len(days) == late + 2
