"""The Redshift stand-in refuses what Redshift refuses: one test per rule of
fakes/redshift_semantics.py, each through the Data API fake as the loader calls it. The expected
behaviour of each is Redshift's documented one (the page named in the rule's docstring)."""

from __future__ import annotations

import io
import json
from typing import Any, Iterator

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fakes.redshift_data_api import FakeRedshiftDataApi
from seglog.loader._data_api import Connection, DataApi, Polling, StatementFailed

FAST = Polling(first=0.001, factor=1.5, longest=0.005, timeout=5)
ROLE = "arn:aws:iam::123456789012:role/redshift-copy"
BUCKET = "seglog-standin"


@pytest.fixture
def s3(aws_env: str) -> Any:
    client = boto3.client("s3", region_name="ap-northeast-2")
    if BUCKET not in [b["Name"] for b in client.list_buckets()["Buckets"]]:
        client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "ap-northeast-2"})
    for obj in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=obj["Key"])
    return client


@pytest.fixture
def api(redshift: Any, s3: Any) -> Iterator[DataApi]:
    server = FakeRedshiftDataApi(s3=s3, warehouse=redshift)
    url = server.start()
    client = boto3.client("redshift-data", region_name="ap-northeast-2", endpoint_url=url)
    yield DataApi(client, Connection(database="analytics", workgroup="seglog-wg", secret_arn=redshift.secret_arn),
                  FAST)
    server.stop()


def _fails(api: DataApi, sqls: list[str] | str, match: str) -> None:
    with pytest.raises(StatementFailed, match=match):
        api.batch(sqls) if isinstance(sqls, list) else api.execute(sqls)


def test_varchar_counts_bytes_and_md5_hashes_utf8_bytes(api: DataApi) -> None:
    """r_Character_types.html: a VARCHAR(12) holds 4 three-byte characters."""
    api.execute("create table t_bytes (s varchar(12))")
    api.execute("insert into t_bytes values ('임플란트')")  # 4 characters, 12 bytes
    _fails(api, "insert into t_bytes values ('임플란트a')", "value too long")
    import hashlib
    assert api.execute("select md5(s) from t_bytes") == [[hashlib.md5("임플란트".encode()).hexdigest()]]


def test_alter_column_type_is_refused_inside_a_transaction_block(api: DataApi) -> None:
    """r_ALTER_TABLE.html: "You can't alter columns within a transaction block"."""
    api.execute("create table t_tx (s varchar(8) encode zstd)")
    _fails(api, ["alter table t_tx alter column s type varchar(16)"], "cannot run inside a transaction block")
    api.execute("alter table t_tx alter column s type varchar(16)")  # on its own it runs
    assert api.execute("select character_maximum_length from svv_columns where table_name = 't_tx'") == [[16]]


@pytest.mark.parametrize("encoding", ["bytedict", "runlength", "text255", "text32k"])
def test_alter_column_type_is_refused_on_the_encodings_redshift_names(api: DataApi, encoding: str) -> None:
    """r_ALTER_TABLE.html: "You can't alter a column with compression encodings BYTEDICT, RUNLENGTH,
    TEXT255, or TEXT32K"."""
    api.execute(f"create table t_enc (s varchar(8) encode {encoding}, z varchar(8) encode zstd)")
    _fails(api, "alter table t_enc alter column s type varchar(16)", f"encoding {encoding.upper()}")
    api.execute("alter table t_enc alter column z type varchar(16)")


def test_alter_column_type_is_refused_on_key_columns_and_for_anything_but_a_larger_varchar(api: DataApi) -> None:
    """Dist/sort-key columns: Redshift answers "found unexpected dependency for column" (reported by
    loaders, e.g. estuary/connectors#4893; the docs are silent). r_ALTER_TABLE.html: only a VARCHAR's
    size, and never below the data."""
    api.execute('create table t_keys (d varchar(8), s varchar(8), n int, v varchar(8) encode zstd) '
                'diststyle key distkey (d) compound sortkey (s)')
    _fails(api, "alter table t_keys alter column d type varchar(16)", "DISTKEY column")
    _fails(api, "alter table t_keys alter column s type varchar(16)", "SORTKEY column")
    _fails(api, "alter table t_keys alter column n type bigint", "only increases the size of a VARCHAR")
    _fails(api, "alter table t_keys alter column v type varchar(4)", "cannot decrease")
    assert api.execute("select column_name, encoding, distkey, sortkey from svv_redshift_columns where table_name = "
                       "'t_keys' order by ordinal_position") == [
        ["d", "lzo", True, 0], ["s", "raw", False, 1], ["n", "az64", False, 0], ["v", "zstd", False, 0]]


def test_truncate_commits_the_transaction_it_runs_in(api: DataApi) -> None:
    """r_TRUNCATE.html: "a TRUNCATE command may commit other operations when it commits itself"."""
    api.execute("create table t_trunc (n int)")
    api.execute("insert into t_trunc values (1)")
    _fails(api, ["insert into t_log_missing values (1)"], "does not exist")  # a plain batch rolls back whole
    api.execute("create table t_other (n int)")
    _fails(api, ["insert into t_other values (7)", "truncate t_trunc", "insert into t_nowhere values (1)"],
           "does not exist")
    assert api.execute("select count(*) from t_trunc") == [[0]]  # the TRUNCATE stayed
    assert api.execute("select n from t_other") == [[7]]  # and so did what ran before it


def _put_parquet(s3: Any, key: str, table: pa.Table) -> int:
    buf = io.BytesIO()
    pq.write_table(table, buf)
    s3.put_object(Bucket=BUCKET, Key=key, Body=buf.getvalue())
    return len(buf.getvalue())


def test_copy_from_a_prefix_reads_every_key_that_starts_with_it(api: DataApi, s3: Any) -> None:
    """copy-parameters-data-source-s3.html: a key prefix "refers to a number of physical files";
    copy-usage_notes-copy-from-columnar.html: columns by position, counts equal."""
    api.execute("create table t_copy (a varchar(8), b int)")
    _put_parquet(s3, "p/run/part-0.parquet", pa.table({"x": ["r1"], "y": [1]}))
    _put_parquet(s3, "p/run-old/part-0.parquet", pa.table({"x": ["old"], "y": [2]}))  # matches the prefix too
    api.batch([f"copy t_copy (a, b) from 's3://{BUCKET}/p/run' iam_role '{ROLE}' format as parquet"])
    assert sorted(api.execute("select a, b from t_copy")) == [["old", 2], ["r1", 1]]
    _put_parquet(s3, "q/part-0.parquet", pa.table({"x": ["r"], "y": [1], "z": [0]}))
    _fails(api, [f"copy t_copy (a, b) from 's3://{BUCKET}/q/' iam_role '{ROLE}' format as parquet"],
           "sys_load_error_detail")
    assert api.execute("select error_code from sys_load_error_detail") == [[1202]]
    _fails(api, [f"copy t_copy (a, b) from 's3://{BUCKET}/nothing/' iam_role '{ROLE}' format as parquet"],
           "prefix 'nothing/' does not exist")


def test_copy_by_manifest_reads_only_the_listed_files_and_needs_their_length(api: DataApi, s3: Any) -> None:
    """loading-data-files-using-manifest.html and copy-parameters-data-source-s3.html: for Parquet the
    "meta" field with "content_length", the file's actual size, is required."""
    api.execute("create table t_man (a varchar(8), b int)")
    size = _put_parquet(s3, "m/part-0.parquet", pa.table({"x": ["listed"], "y": [1]}))
    _put_parquet(s3, "m/part-1.parquet", pa.table({"x": ["stray"], "y": [2]}))
    entry = {"url": f"s3://{BUCKET}/m/part-0.parquet", "mandatory": True}
    for meta, error in ((None, "no meta.content_length"), ({"content_length": size + 1}, "not the object's size")):
        manifest = {"entries": [dict(entry, **({"meta": meta} if meta else {}))]}
        s3.put_object(Bucket=BUCKET, Key="m/manifest", Body=json.dumps(manifest).encode())
        _fails(api, [f"copy t_man from 's3://{BUCKET}/m/manifest' iam_role '{ROLE}' format as parquet manifest"],
               error)
    s3.put_object(Bucket=BUCKET, Key="m/manifest",
                  Body=json.dumps({"entries": [dict(entry, meta={"content_length": size})]}).encode())
    api.batch([f"copy t_man from 's3://{BUCKET}/m/manifest' iam_role '{ROLE}' format as parquet manifest"])
    assert api.execute("select a, b from t_man") == [["listed", 1]]


def test_a_copied_string_over_its_varchar_in_bytes_fails_with_error_1204(api: DataApi, s3: Any) -> None:
    api.execute("create table t_long (a varchar(6))")
    _put_parquet(s3, "l/part-0.parquet", pa.table({"a": ["임플", "임플란"]}))  # 6 bytes, then 9
    _fails(api, [f"copy t_long from 's3://{BUCKET}/l/' iam_role '{ROLE}' format as parquet"], "sys_load_error_detail")
    assert api.execute("select column_name, error_code, error_message, line_number from sys_load_error_detail") == [
        ["a", 1204, "String length exceeds DDL length", 2]]
    assert api.execute("select count(*) from t_long") == [[0]]


def test_identifiers_over_127_bytes_are_refused(api: DataApi) -> None:
    """r_names.html: names are "between 1 and 127 bytes in length"."""
    _fails(api, f'create table "{"t" * 128}" (n int)', "at most 127 bytes")


def test_statements_run_as_the_user_the_request_maps_to(api: DataApi, redshift: Any) -> None:
    """data-api-access.html: a secret's username; on Serverless without one, IAMR:<role>."""
    assert api.execute("select current_user") == [["dbt_loader"]]
    client = api.client
    iam = DataApi(client, Connection(database="analytics", workgroup="seglog-wg"), FAST)
    assert iam.execute("select current_user") == [[redshift.iam_user]]
