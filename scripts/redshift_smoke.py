"""Smoke-test the loader against a REAL Redshift workgroup or cluster, and print what it saw.

Never run in CI (it needs AWS): run it once per new workgroup, and after a change to the loader's
Redshift path, with the same settings as `seglog load --target redshift`:

    REDSHIFT_WORKGROUP=… REDSHIFT_SECRET_ARN=… SEGLOG_REDSHIFT_STAGING=s3://… REDSHIFT_COPY_ROLE_ARN=… \\
        .venv/bin/python scripts/redshift_smoke.py --bi-user bi_looker

It works in a scratch schema (``seglog_smoke`` by default; refused if it exists) that it drops at
the end (``--keep`` keeps it), and checks, each step printed with what Redshift answered:
1. a first load creates the table as the loader's user, with its keys and encodings, and the BI
   user may read it (the default privileges of docs/security.md);
2. a longer value in a plain column widens it with ALTER COLUMN TYPE;
3. a longer value in the distribution-key column rebuilds the table (Redshift refuses the ALTER),
   keeping rows, keys, grants and comments;
4. a two-chunk backfill where the first chunk's reconciliation fails (a row deleted between its
   commit and its count) loads no row twice;
5. svv_columns / svv_redshift_columns: the types, encodings and keys it ended with.
tests/python/test_redshift_smoke.py runs it against the Redshift stand-in, so it is known to work
as code; what a real workgroup answers is what it is for. Exit 1 on a failed check.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, Callable

import pyarrow as pa

from seglog.loader._data_api import DataApi
from seglog.loader._plan import TableLoad
from seglog.loader._redshift import RedshiftLoader, Staging, new_load_id
from seglog.loader._type_mapping import map_table

DIST = {"diststyle": "key", "distkey": "message_id", "sortkey": ["ymd"]}


class Smoke:
    def __init__(self, loader_for: Callable[[], RedshiftLoader], schema: str, bi_user: str | None,
                 out: Callable[[str], None] = print):
        self.loader_for = loader_for
        self.api: DataApi = loader_for().api
        self.schema = schema
        self.bi_user = bi_user
        self.out = out
        self.failed: list[str] = []
        self.created = False  # only a schema this run created is dropped

    def job(self, ymd: str, ids: list[str], title: str = "title") -> TableLoad:
        data = pa.table({"message_id": ids, "title": [title] * len(ids), "ymd": [ymd] * len(ids)})
        return TableLoad("smoke", self.schema, "events", data, map_table(data, "redshift", key_column="message_id"),
                         "ymd", [ymd], "string", ["message_id"])

    def sql(self, text: str, **params: str) -> list[list[Any]]:
        return self.api.execute(text, params or None)

    def check(self, what: str, ok: bool, seen: Any) -> None:
        self.out(f"[{'ok' if ok else 'FAILED'}] {what}: {seen}")
        if not ok:
            self.failed.append(what)

    def columns(self) -> list[list[Any]]:
        return self.sql("select column_name, data_type, encoding, distkey, sortkey from svv_redshift_columns "
                        "where schema_name = :schema and table_name = 'events' order by ordinal_position",
                        schema=self.schema)

    def run(self) -> int:
        exists = self.sql("select count(*) from svv_redshift_schemas where schema_name = :schema", schema=self.schema)
        if exists and int(exists[0][0]):
            self.out(f"schema {self.schema} exists: give --schema a name that does not (it is dropped at the end)")
            return 2
        self.created = True
        self.out(f"1. first load into {self.schema}.events")
        first = self.loader_for().load(self.job("2023-11-07", ["id-1", "id-2"]), DIST)
        self.check("reconciled", first.reconciled, [(c.partition, c.rows, c.warehouse_rows) for c in first.checks])
        who = self.sql("select current_user")[0][0]
        owner = self.sql("select tableowner from pg_tables where schemaname = :schema and tablename = 'events'",
                         schema=self.schema)
        self.check("owned by the loader's user", bool(owner) and owner[0][0] == who, f"owner {owner}, loader {who}")
        if self.bi_user:
            can = self.sql(f"select has_table_privilege('{self.bi_user}', '{self.schema}.events', 'select')")
            self.check(f"{self.bi_user} may select", bool(can) and can[0][0] in (True, "true"), can)
        self.out(f"   columns: {self.columns()}")

        self.out("2. a longer title: ALTER COLUMN TYPE")
        self.loader_for().load(self.job("2023-11-07", ["id-1", "id-2"], title="t" * 300), DIST)
        title = [c for c in self.columns() if c[0] == "title"]
        self.check("title widened", bool(title) and "384" in str(title[0][1]), title)

        self.out("3. a longer message_id (the distribution key): rebuild")
        self.sql(f"comment on table {self.schema}.events is 'seglog smoke test'")
        long_id = "k" * 300
        rebuilt = self.loader_for().load(self.job("2023-11-08", [long_id]), DIST)
        key = [c for c in self.columns() if c[0] == "message_id"]
        self.check("reconciled after the rebuild", rebuilt.reconciled, rebuilt.checks)
        self.check("message_id widened, still the distribution key", bool(key) and "384" in str(key[0][1])
                   and key[0][3] in (True, "true"), key)
        rows = self.sql(f"select ymd, count(*) from {self.schema}.events group by 1 order by 1")
        self.check("rows kept", [[str(r[0]), int(r[1])] for r in rows] == [["2023-11-07", 2], ["2023-11-08", 1]], rows)
        comment = self.sql("select remarks from svv_redshift_tables where schema_name = :schema and "
                           "table_name = 'events'", schema=self.schema)
        self.check("table comment kept", comment == [["seglog smoke test"]], comment)

        self.out("4. a two-chunk backfill whose first chunk fails its reconciliation")
        loader = self.loader_for()  # one load id for both chunks, as `seglog load` chunks a backfill

        def lose_a_row(step: str) -> None:  # between the chunk's commit and its count
            if step == "reconciling":
                self.sql(f"delete from {self.schema}.events where message_id = 'lost-1'")

        first_chunk = loader.load(self.job("2023-11-09", ["lost-1", "b-1"]), DIST, lose_a_row)
        self.check("the first chunk is NOT reconciled", not first_chunk.reconciled,
                   [(c.partition, c.rows, c.warehouse_rows) for c in first_chunk.checks])
        second = loader.load(self.job("2023-11-10", ["c-1"]), DIST)
        self.check("the second chunk is reconciled", second.reconciled, second.checks)
        rows = self.sql(f"select message_id, count(*) from {self.schema}.events where ymd in ('2023-11-09', "
                        "'2023-11-10') group by 1 order by 1")
        self.check("no row loaded twice", [[r[0], int(r[1])] for r in rows] == [["b-1", 1], ["c-1", 1]], rows)

        self.out("5. the table as Redshift describes it")
        for row in self.sql("select column_name, data_type, character_maximum_length from svv_columns where "
                            "table_schema = :schema and table_name = 'events' order by ordinal_position",
                            schema=self.schema):
            self.out(f"   svv_columns: {row}")
        for row in self.columns():
            self.out(f"   svv_redshift_columns: {row}")
        self.out("FAILED: " + ", ".join(self.failed) if self.failed else "all checks passed")
        return 1 if self.failed else 0

    def drop(self) -> None:
        if self.created:
            self.sql(f"drop schema if exists {self.schema} cascade")


def main(argv: list[str] | None = None, out: Callable[[str], None] = print) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--schema", default="seglog_smoke", help="a scratch schema that does not exist yet")
    parser.add_argument("--bi-user", help="a BI database user whose SELECT access to a new table to check")
    parser.add_argument("--keep", action="store_true", help="keep the scratch schema for a look afterwards")
    args = parser.parse_args(argv)
    staging = Staging.from_env()
    api = DataApi.from_env()
    import boto3

    s3 = boto3.client("s3", region_name=api.connection.region)
    smoke = Smoke(lambda: RedshiftLoader(api, s3, staging, new_load_id()), args.schema, args.bi_user, out)
    try:
        code = smoke.run()
    finally:
        if not args.keep:
            smoke.drop()
    return code


if __name__ == "__main__":
    sys.exit(main())
