"""scripts/redshift_smoke.py is for a real workgroup; run here against the Redshift stand-in so that
it is known to work as code (every check it prints passes on a warehouse that behaves as Redshift)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import boto3

from fakes.redshift_data_api import FakeRedshiftDataApi

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "redshift_smoke.py"


def test_the_smoke_script_passes_on_a_warehouse_that_behaves_as_redshift(redshift: Any, aws_env: str,
                                                                         monkeypatch) -> None:
    s3 = boto3.client("s3", region_name="ap-northeast-2")
    if "seglog-smoke" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket="seglog-smoke", CreateBucketConfiguration={"LocationConstraint": "ap-northeast-2"})
    fake = FakeRedshiftDataApi(s3=s3, warehouse=redshift)
    for name, value in {"AWS_ENDPOINT_URL_REDSHIFT_DATA": fake.start(), "REDSHIFT_WORKGROUP": "seglog-wg",
                        "REDSHIFT_SECRET_ARN": redshift.secret_arn, "SEGLOG_REDSHIFT_STAGING": "s3://seglog-smoke/loads",
                        "REDSHIFT_COPY_ROLE_ARN": "arn:aws:iam::123456789012:role/redshift-copy"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("REDSHIFT_CLUSTER_ID", raising=False)
    with redshift.connect() as conn:
        conn.execute("do $$ begin if not exists (select from pg_roles where rolname = 'bi_smoke') then "
                     "create role bi_smoke; end if; end $$")
        conn.execute("alter default privileges for user dbt_loader grant select on tables to bi_smoke")
    spec = importlib.util.spec_from_file_location("redshift_smoke", SCRIPT)
    smoke = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(smoke)  # type: ignore[union-attr]
    printed: list[str] = []
    try:
        code = smoke.main(["--bi-user", "bi_smoke"], out=printed.append)
        again = smoke.main(["--bi-user", "bi_smoke"], out=printed.append)  # the scratch schema was dropped
    finally:
        fake.stop()
    text = "\n".join(printed)
    assert code == 0 and again == 0, text
    assert "[FAILED]" not in text and text.count("all checks passed") == 2
    for line in ("[ok] owned by the loader's user", "[ok] bi_smoke may select", "[ok] message_id widened",
                 "[ok] the first chunk is NOT reconciled", "[ok] no row loaded twice"):
        assert line in text, text
    with redshift.connect() as conn:
        assert not conn.execute("select 1 from pg_namespace where nspname = 'seglog_smoke'").fetchone()
