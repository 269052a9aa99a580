"""The Redshift Data API, synchronously: run a statement or a batch (one transaction), wait for
it, read its result.

The Data API is asynchronous: ExecuteStatement / BatchExecuteStatement return an id, and
DescribeStatement says when it is done. We poll with a growing interval up to a deadline; on
the deadline the statement is cancelled (a cancelled batch rolls back) and the error says so.
boto3 finds the endpoint and credentials the usual way (``AWS_ENDPOINT_URL_REDSHIFT_DATA`` points
it at a local fake in the tests; IAM role credentials in production). Connection: a Redshift
Serverless workgroup (``REDSHIFT_WORKGROUP``) with the Secrets Manager secret of the loader's
database user ``dbt_loader`` (``REDSHIFT_SECRET_ARN``, required: the tables must belong to
dbt_loader, whose default privileges let BI read them), or a provisioned cluster
(``REDSHIFT_CLUSTER_ID``) with that secret or temporary credentials for ``REDSHIFT_USER``.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any, Callable
from .errors import StatementFailed, ConfigError

DONE = {"FINISHED", "FAILED", "ABORTED"}


@dataclass(frozen=True)
class Connection:
    database: str
    workgroup: str | None = None
    cluster_id: str | None = None
    secret_arn: str | None = None
    db_user: str | None = None
    region: str = "ap-northeast-2"

    @classmethod
    def from_env(cls) -> "Connection":
        env = os.environ.get
        conn = cls(database=env("REDSHIFT_DATABASE", "analytics"), workgroup=env("REDSHIFT_WORKGROUP") or None,
                   cluster_id=env("REDSHIFT_CLUSTER_ID") or None, secret_arn=env("REDSHIFT_SECRET_ARN") or None,
                   db_user=env("REDSHIFT_USER") or None, region=env("AWS_REGION") or env("AWS_DEFAULT_REGION")
                   or "ap-northeast-2")
        conn.check()
        return conn

    def check(self) -> None:
        if bool(self.workgroup) == bool(self.cluster_id):
            raise ConfigError("set exactly one of REDSHIFT_WORKGROUP (Redshift Serverless) or REDSHIFT_CLUSTER_ID "
                              "(a provisioned cluster) for the Redshift Data API")
        if self.workgroup and not self.secret_arn:
            raise ConfigError("Redshift Serverless needs REDSHIFT_SECRET_ARN, the Secrets Manager secret of the loader's "
                              "database user (dbt_loader): without it the Data API runs as the IAM identity's own "
                              "user (IAMR:<role>), whose tables miss dbt_loader's default privileges, so BI could not "
                              "read them (docs/security.md)")
        if self.cluster_id and not (self.secret_arn or self.db_user):
            raise ConfigError("a provisioned cluster needs REDSHIFT_SECRET_ARN (a Secrets Manager secret) or "
                              "REDSHIFT_USER (temporary credentials for that database user)")

    def args(self) -> dict[str, str]:
        """The connection arguments of ExecuteStatement / BatchExecuteStatement."""
        out = {"Database": self.database}
        if self.workgroup:
            out["WorkgroupName"] = self.workgroup
        else:
            out["ClusterIdentifier"] = self.cluster_id or ""
            out.update({"SecretArn": self.secret_arn} if self.secret_arn else {"DbUser": self.db_user or ""})
        if self.workgroup and self.secret_arn:
            out["SecretArn"] = self.secret_arn
        return out


@dataclass(frozen=True)
class Polling:
    first: float = 0.25  # seconds before the first DescribeStatement
    factor: float = 1.6
    longest: float = 5.0
    timeout: float = 1800.0  # then cancel: a stuck statement must not hang the daily run
    settle_polls: int = 12  # after a cancel, polls (``longest`` apart) for the statement's final state


def _value(field: dict[str, Any]) -> Any:
    if field.get("isNull"):
        return None
    for kind in ("stringValue", "longValue", "doubleValue", "booleanValue", "blobValue"):
        if kind in field:
            return field[kind]
    return None


class DataApi:
    def __init__(self, client: Any, connection: Connection, polling: Polling = Polling(),
                 sleep: Callable[[float], None] = time.sleep):
        self.client = client
        self.connection = connection
        self.polling = polling
        self.sleep = sleep

    @classmethod
    def from_env(cls, polling: Polling = Polling()) -> "DataApi":
        import boto3

        connection = Connection.from_env()
        return cls(boto3.client("redshift-data", region_name=connection.region), connection, polling)

    def execute(self, sql: str, parameters: dict[str, str] | None = None) -> list[list[Any]]:
        """Run one statement (autocommit) and return its rows ([] when it returns none)."""
        extra = {"Parameters": [{"name": k, "value": v} for k, v in parameters.items()]} if parameters else {}
        started = self.client.execute_statement(Sql=sql, **self.connection.args(), **extra)
        desc = self._wait(started["Id"], [sql])
        if not desc.get("HasResultSet"):
            return []
        return self._rows(started["Id"])

    def batch(self, sqls: list[str], parameters: dict[str, str] | None = None) -> None:
        """Run the statements in order as ONE transaction: all commit, or none."""
        extra = {"Parameters": [{"name": k, "value": v} for k, v in parameters.items()]} if parameters else {}
        started = self.client.batch_execute_statement(Sqls=sqls, ExecutionMode="TRANSACTION",
                                                      **self.connection.args(), **extra)
        self._wait(started["Id"], sqls)

    def _wait(self, statement_id: str, sqls: list[str]) -> dict[str, Any]:
        waited, interval = 0.0, self.polling.first
        while True:
            self.sleep(interval)
            waited += interval
            desc = self.client.describe_statement(Id=statement_id)
            status = desc["Status"]
            if status == "FINISHED":
                return desc
            if status in DONE:
                raise self._failure(desc, sqls)
            if waited >= self.polling.timeout:
                return self._cancel(statement_id, status, waited, sqls)
            interval = min(self.polling.longest, interval * self.polling.factor)

    def _cancel(self, statement_id: str, status: str, waited: float, sqls: list[str]) -> dict[str, Any]:
        """Cancel at the deadline, then wait for the statement's final state: it may have finished
        meanwhile (then it counts as done) or still be queued (then nobody knows yet)."""
        from botocore.exceptions import ClientError

        try:
            self.client.cancel_statement(Id=statement_id)
        except ClientError:  # it is no longer running (finished, failed, or not started yet)
            pass
        for _ in range(self.polling.settle_polls):
            desc = self.client.describe_statement(Id=statement_id)
            if desc["Status"] == "FINISHED":
                return desc
            if desc["Status"] in DONE:
                raise StatementFailed(
                    f"statement {statement_id} was still {status} after {waited:.0f} s and was cancelled; it ended "
                    f"{desc['Status']} (a batch rolls back as a whole); run the load again", "TIMEOUT",
                    sqls[0] if len(sqls) == 1 else None)
            self.sleep(self.polling.longest)
        raise StatementFailed(
            f"statement {statement_id} was still {status} after {waited:.0f} s; it was cancelled but has not ended "
            "yet, so whether its transaction commits is unknown: look it up in sys_query_history, or simply load "
            "again (a load replaces the same partitions, so it is safe to repeat)", "UNKNOWN",
            sqls[0] if len(sqls) == 1 else None)

    @staticmethod
    def _failure(desc: dict[str, Any], sqls: list[str]) -> StatementFailed:
        subs = desc.get("SubStatements") or []
        failed = next((s for s in subs if s.get("Status") == "FAILED"), None) or next(
            (s for s in subs if s.get("Status") == "ABORTED"), None)
        source = failed or desc
        sql = source.get("QueryString") or (sqls[0] if len(sqls) == 1 else None)
        return StatementFailed(source.get("Error") or desc.get("Error") or desc["Status"], desc["Status"], sql,
                               source.get("RedshiftQueryId"))

    def _rows(self, statement_id: str) -> list[list[Any]]:
        rows: list[list[Any]] = []
        token = None
        while True:
            page = self.client.get_statement_result(Id=statement_id, **({"NextToken": token} if token else {}))
            rows.extend([_value(f) for f in record] for record in page["Records"])
            token = page.get("NextToken")
            if not token:
                return rows
