"""A small fake of the Redshift Data API: a local HTTP server speaking its JSON 1.1 protocol,
which records every call it is sent, so tests can assert the exact statements and their order.

Why a fake of our own: real Redshift cannot run here, and moto's redshift-data keeps every
statement STARTED forever and has no BatchExecuteStatement. This fake:
- answers ExecuteStatement, BatchExecuteStatement, DescribeStatement, GetStatementResult and
  CancelStatement; a statement is FINISHED after ``polls_to_finish`` DescribeStatement calls
  (never, with ``never_finish``);
- returns rows for statements matching a pattern (``answer``), fails statements matching a
  pattern (``fail``: in a batch, the failing sub-statement is FAILED, the later ones ABORTED);
- when a batch holds a COPY … FROM 's3://…', reads the objects under that prefix from S3 at that
  moment, as Redshift would, and keeps them (``copied``), so tests see what COPY would load.
With a ``warehouse`` (fakes.redshift_semantics.RedshiftOnPostgres) it also executes them: a
statement in autocommit, a batch as one transaction, on a database of the local PostgreSQL that
behaves as Redshift does (and refuses what Redshift refuses), as the database user the request's
SecretArn / DbUser / IAM identity maps to. Without one it executes nothing and answers what the
test set up.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PARAM = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
LITERAL = re.compile(r"'(?:[^']|'')*'")
MANIFEST = re.compile(r"\smanifest\s*;?\s*$", re.I)
COPY_FROM = re.compile(r"^\s*copy\s.*?\sfrom\s+'s3://([^/']+)/([^']*)'", re.I | re.S)


@dataclass
class Statement:
    id: str
    sqls: list[str]
    batch: bool
    polls_left: int
    parameters: dict[str, str]
    failed_at: int | None = None  # index of the failing SQL
    error: str = ""
    rows: list[list[Any]] = field(default_factory=list)
    query_ids: list[int] = field(default_factory=list)
    cancelled: str = ""  # how a CancelStatement ended it: "abort" or "too_late"
    has_result_set: bool | None = None  # known when the statement was executed


class FakeRedshiftDataApi:
    def __init__(self, s3: Any = None, polls_to_finish: int = 1, warehouse: Any = None):
        self.s3 = s3
        self.warehouse = warehouse  # RedshiftOnPostgres: execute the statements there
        self.polls_to_finish = polls_to_finish
        self.never_finish = False
        self.on_cancel = "abort"  # "abort" (ABORTED), "too_late" (it had FINISHED: cancel refused), "ignore" (stays STARTED)
        self.reject: dict[str, str] = {}  # op -> error message: that request is refused with a ValidationException
        self.calls: list[dict[str, Any]] = []  # every request: {"op": …, "body": …}
        self.copied: list[dict[str, Any]] = []  # {"uri": …, "objects": {key: bytes}} seen at COPY time
        self._answers: list[tuple[re.Pattern[str], list[list[Any]]]] = []
        self._failures: list[tuple[re.Pattern[str], str]] = []
        self._statements: dict[str, Statement] = {}
        self._next_query_id = 1000
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # -- what the test sets up -------------------------------------------------------------
    def answer(self, pattern: str, rows: list[list[Any]]) -> None:
        """Statements matching ``pattern`` (a regex, searched) return ``rows``; later rules win."""
        self._answers.insert(0, (re.compile(pattern, re.I | re.S), rows))

    def fail(self, pattern: str, error: str) -> None:
        self._failures.insert(0, (re.compile(pattern, re.I | re.S), error))

    # -- what the test reads -----------------------------------------------------------------
    def statements(self) -> list[tuple[str, Any]]:
        """(op, sql or list of sqls) of every statement submitted, in order."""
        out: list[tuple[str, Any]] = []
        for call in self.calls:
            if call["op"] == "ExecuteStatement":
                out.append(("execute", call["body"]["Sql"]))
            elif call["op"] == "BatchExecuteStatement":
                out.append(("batch", list(call["body"]["Sqls"])))
        return out

    def ops(self, name: str) -> list[dict[str, Any]]:
        return [c["body"] for c in self.calls if c["op"] == name]

    # -- the server ------------------------------------------------------------------------
    def start(self) -> str:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                op = self.headers.get("X-Amz-Target", "").split(".")[-1]
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                status, payload = fake._handle(op, body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    def _handle(self, op: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.calls.append({"op": op, "body": body})
            handler = {"ExecuteStatement": self._execute, "BatchExecuteStatement": self._batch,
                       "DescribeStatement": self._describe, "GetStatementResult": self._result,
                       "CancelStatement": self._cancel}.get(op)
            if handler is None:
                return 400, {"__type": "ValidationException", "message": f"the fake does not know {op}"}
            if op in self.reject:
                return 400, {"__type": "ValidationException", "message": self.reject[op]}
            return handler(body)

    def _submit(self, sqls: list[str], batch: bool, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        params = {p["name"]: p["value"] for p in body.get("Parameters") or []}
        # the Data API's rules: every :name bound, every parameter used, no empty value
        used = {n for sql in sqls for n in PARAM.findall(LITERAL.sub("''", sql))}
        problem = (f"parameters {sorted(used - set(params))} are not bound" if used - set(params) else
                   f"parameters {sorted(set(params) - used)} are not used" if set(params) - used else
                   "a parameter value is empty" if any(v == "" for v in params.values()) else None)
        if batch and not 1 <= len(sqls) <= 40:  # the Data API's SqlList: 1 to 40 statements (its API model)
            problem = f"a batch holds 1 to 40 statements, not {len(sqls)}"
        if problem:
            return 400, {"__type": "ValidationException", "message": problem}
        stmt = Statement(str(uuid.uuid4()), sqls, batch, self.polls_to_finish, params)
        if self.warehouse is not None and not self.never_finish:
            return self._run(stmt, body)
        for i, sql in enumerate(sqls):
            stmt.query_ids.append(self._next_query_id)
            self._next_query_id += 1
            error = next((e for p, e in self._failures if p.search(sql)), None)
            if error is not None:
                stmt.failed_at, stmt.error = i, error
                break
            if self.s3 is not None and (m := COPY_FROM.match(sql)):
                self._read_copy_source(m.group(1), m.group(2), MANIFEST.search(sql) is not None)
        if stmt.failed_at is None and not batch:
            stmt.rows = next((rows for p, rows in self._answers if p.search(sqls[0])), [])
        self._statements[stmt.id] = stmt
        return 200, {"Id": stmt.id, "CreatedAt": time.time(), "Database": body.get("Database", "")}

    def _run(self, stmt: Statement, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Execute on the warehouse stand-in; ``fail`` rules still force a statement's failure there."""
        from fakes.redshift_semantics import RedshiftError

        for sql in stmt.sqls:
            stmt.query_ids.append(self._next_query_id)
            self._next_query_id += 1
        try:
            user = self.warehouse.user_for(body)
        except RedshiftError as exc:
            return 400, {"__type": "ValidationException", "message": str(exc)}
        for sql in stmt.sqls:
            if self.s3 is not None and (m := COPY_FROM.match(sql)):
                self._read_copy_source(m.group(1), m.group(2), MANIFEST.search(sql) is not None)
        outcome = self.warehouse.run(stmt.sqls, stmt.parameters or None, stmt.batch, user, stmt.query_ids,
                                     lambda sql: next((e for p, e in self._failures if p.search(sql)), None))
        stmt.failed_at, stmt.error = outcome.failed_at, outcome.error
        answer = next((rows for p, rows in self._answers if p.search(stmt.sqls[0])), None)
        stmt.rows = answer if answer is not None and not stmt.batch else outcome.rows
        stmt.has_result_set = outcome.has_result_set or bool(stmt.rows)
        self._statements[stmt.id] = stmt
        return 200, {"Id": stmt.id, "CreatedAt": time.time(), "Database": body.get("Database", "")}

    def _read_copy_source(self, bucket: str, prefix: str, manifest: bool) -> None:
        """What COPY would read: the files a manifest lists, or every object under the prefix."""
        if manifest:
            listed = json.loads(self.s3.get_object(Bucket=bucket, Key=prefix)["Body"].read())["entries"]
            keys = [(e["url"].split("/", 3)[2], e["url"].split("/", 3)[3]) for e in listed]
        else:
            keys = [(bucket, o["Key"]) for o in self.s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])]
        objects = {k: self.s3.get_object(Bucket=b, Key=k)["Body"].read() for b, k in keys}
        self.copied.append({"uri": f"s3://{bucket}/{prefix}", "objects": objects})

    def _execute(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return self._submit([body["Sql"]], False, body)

    def _batch(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return self._submit(list(body["Sqls"]), True, body)

    def _status(self, stmt: Statement) -> str:
        if stmt.cancelled == "abort":
            return "ABORTED"
        if stmt.cancelled == "too_late":
            return "FAILED" if stmt.failed_at is not None else "FINISHED"
        if self.never_finish or stmt.polls_left > 0:
            return "STARTED"
        return "FAILED" if stmt.failed_at is not None else "FINISHED"

    def _describe(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        stmt = self._statements.get(body["Id"])
        if stmt is None:
            return 400, {"__type": "ResourceNotFoundException", "message": f"no statement {body['Id']}"}
        stmt.polls_left -= 1
        status = self._status(stmt)
        has = stmt.has_result_set if stmt.has_result_set is not None else bool(stmt.rows) or (
            not stmt.batch and stmt.sqls[0].lstrip().lower().startswith("select"))
        out: dict[str, Any] = {"Id": stmt.id, "Status": status, "HasResultSet": has}
        if status == "FAILED":
            out["Error"] = stmt.error
        if stmt.batch:
            subs = []
            for i, sql in enumerate(stmt.sqls):
                sub_status = status
                if status == "FAILED":
                    sub_status = "FINISHED" if i < (stmt.failed_at or 0) else "FAILED" if i == stmt.failed_at else "ABORTED"
                sub = {"Id": f"{stmt.id}:{i + 1}", "Status": sub_status, "QueryString": sql}
                if i < len(stmt.query_ids):
                    sub["RedshiftQueryId"] = stmt.query_ids[i]
                if sub_status == "FAILED":
                    sub["Error"] = stmt.error
                subs.append(sub)
            out["SubStatements"] = subs
        else:
            out["QueryString"] = stmt.sqls[0]
            out["RedshiftQueryId"] = stmt.query_ids[0]
        return 200, out

    def _result(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        stmt = self._statements[body["Id"]]

        def field_of(v: Any) -> dict[str, Any]:
            if v is None:
                return {"isNull": True}
            if isinstance(v, bool):
                return {"booleanValue": v}
            if isinstance(v, int):
                return {"longValue": v}
            if isinstance(v, float):
                return {"doubleValue": v}
            return {"stringValue": str(v)}

        return 200, {"Records": [[field_of(v) for v in row] for row in stmt.rows], "TotalNumRows": len(stmt.rows)}

    def _cancel(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        stmt = self._statements[body["Id"]]
        if self.on_cancel == "too_late":
            stmt.cancelled = "too_late"
            return 400, {"__type": "ValidationException",
                         "message": "Could not cancel a query that is already in FINISHED state"}
        if self.on_cancel == "abort":
            stmt.cancelled = "abort"
        return 200, {"Status": True}
