"""Case 4: the loader, `segment_log` of one day into the local PostgreSQL, in this process.

  loader: read + types     the Parquet rows of the partition read with pyarrow, then the
                           Redshift/PostgreSQL types derived from them (map_table)
  loader: type derivation  map_table on its own, over the rows already read
  loader: load (COPY)      seglog's load: create/evolve, COPY into a stage + delete + insert in
                           one transaction, reconcile (rows and a key checksum per partition)
  loader: naive executemany  the baseline: psycopg executemany of one INSERT per row into a
                           table with the same columns, in one transaction, over the first
                           --naive-rows rows (it is compared by rows/s, not by total time)
"""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

from benchmarks.harness import Result, Run, run_callable
from seglog import pg_local
from seglog.loader._ddl import create_table, quote
from seglog.loader._plan import plan
from seglog.loader._postgres import _as_loadable, load
from seglog.loader._type_mapping import map_table
from seglog.loader._source import Warehouse, loadable_models

MODEL = "segment_log"


def run(work: Path, scale: str, day: date, reps: int, naive_rows: int) -> list[Result]:
    import psycopg

    conninfo = pg_local.ensure_running()
    models = loadable_models(work / "target" / "manifest.json")
    model = models[MODEL]
    warehouse = Warehouse.at(str(work / "spark" / "warehouse"))

    planned = [run_callable(lambda: {"rows": plan(model, warehouse, [day], "postgres").data.num_rows})
               for _ in range(reps)]
    job = plan(model, warehouse, [day], "postgres")
    rows = job.data.num_rows
    key = model.key_columns[0] if model.key_columns else None

    def derive() -> dict[str, int]:
        map_table(job.data, "postgres", model.column_meta, key)
        return {}

    derived = [run_callable(derive) for _ in range(reps)]

    loads, sent = [], 0
    for _ in range(reps):
        got: dict[str, object] = {}

        def one() -> dict[str, object]:
            result = load(conninfo, job)
            if not result.reconciled:
                raise RuntimeError(f"{MODEL}: the load did not reconcile: {result.as_json()}")
            got["bytes"] = result.bytes
            return {}

        loads.append(run_callable(one))
        sent = int(got["bytes"])

    sample = job.data.slice(0, min(naive_rows, rows))
    loadable = _as_loadable(sample, job.columns)  # the same values as COPY sends (nested as JSON text)
    values = [tuple(r.values()) for r in loadable.to_pylist()]
    naive_table = f"{quote('bench')}.{quote('naive_' + MODEL)}"
    insert = f"insert into {naive_table} ({job.names}) values ({', '.join(['%s'] * len(job.columns))})"
    naive = []
    for _ in range(reps):
        with psycopg.connect(**conninfo) as conn:
            conn.execute(f"create schema if not exists {quote('bench')}")
            conn.execute(f"drop table if exists {naive_table}")
            conn.execute(create_table("bench", "naive_" + MODEL, job.columns, "postgres"))
            conn.commit()
            t0 = time.perf_counter()
            with conn.cursor() as cur:
                cur.executemany(insert, values)
            conn.commit()
            naive.append(Run(time.perf_counter() - t0))
            conn.execute(f"drop table {naive_table}")
            conn.commit()

    note = f"{MODEL} {day}: {rows:,} rows"
    return [
        Result("loader: read + types", scale, planned, rows=rows, note=note),
        Result("loader: type derivation", scale, derived, rows=rows, note="map_table only"),
        Result("loader: load (COPY)", scale, loads, rows=rows, bytes=sent, baseline="loader: naive executemany",
               note=note + ", CSV bytes as MB"),
        Result("loader: naive executemany", scale, naive, rows=len(values),
               note=f"first {len(values):,} rows, one INSERT each"),
    ]
