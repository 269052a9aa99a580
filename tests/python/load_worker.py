"""One local load in a process of its own, so that a test can kill it at a chosen point.

    python load_worker.py '<conninfo as JSON>' <rows.parquet> <table>

Loads the Parquet rows into marts.<table>, replacing the partitions (ymd) they hold; prints
the result as JSON, or the loader's error on stderr with exit code 1."""

from __future__ import annotations

import json
import sys

import pyarrow.parquet as pq

from seglog.loader._plan import TableLoad
from seglog.loader._postgres import LoadError, load
from seglog.loader._type_mapping import map_table


def main() -> int:
    conninfo, path, table = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
    data = pq.read_table(path)
    job = TableLoad(table, "marts", table, data, map_table(data, "postgres", key_column="message_id"), "ymd",
                    sorted(set(data.column("ymd").to_pylist())), "string", ["message_id"])
    try:
        result = load(conninfo, job)
    except LoadError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(json.dumps({"rows": result.rows, "reconciled": result.reconciled}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
