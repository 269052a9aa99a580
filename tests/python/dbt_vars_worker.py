"""Run the `dbt` command line once per case, each in a process of its own, paying for dbt's
import only once: dbt (and dbt-spark) are imported here, then every case is a fork of this
process that runs dbt's real entry point (`dbt.cli.main:cli`, what the `dbt` executable calls)
with its own environment and its output sent to a file, and exits with dbt's exit code.

    python dbt_vars_worker.py <cases.json> <results.json>

cases.json: a list of {"args": [...], "env": {...}, "cwd": dir, "output": path, "marker": path}. Two cases run
at a time. results.json: per case, in order, {"returncode", "output", "jvm_started", "timed_out"}:
jvm_started is whether the case's process launched Spark's JVM (a Py4J gateway); a case still
running after TIMEOUT_S is killed and reported timed out."""

from __future__ import annotations

import json
import os
import signal
import sys
import time

TIMEOUT_S = 180  # per case, as for a `dbt` subprocess
PARALLEL = 2


def _child(case: dict) -> None:
    """In the forked process: dbt's command line with the case's env, output to the case's file."""
    code = 70
    try:
        os.environ.update(case["env"])
        os.chdir(case["cwd"])
        fd = os.open(case["output"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
        sys.stdout = os.fdopen(1, "w", buffering=1, closefd=False)
        sys.stderr = os.fdopen(2, "w", buffering=1, closefd=False)
        sys.argv = ["dbt", *case["args"]]
        from dbt.cli.main import cli

        try:
            code = cli()
        except SystemExit as exc:  # click's standalone mode ends with sys.exit(code)
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        else:
            code = code if isinstance(code, int) else 0
    except BaseException as exc:  # noqa: BLE001 - reported as the case's output
        print(f"dbt_vars_worker: {type(exc).__name__}: {exc}", file=sys.stderr)
        code = 70
    finally:
        try:
            from pyspark import SparkContext

            started = SparkContext._gateway is not None or SparkContext._active_spark_context is not None
        except ImportError:
            started = False
        with open(case["marker"], "w") as f:
            f.write("1" if started else "0")
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def main() -> int:
    cases = json.loads(open(sys.argv[1]).read())
    import dbt.adapters.spark  # noqa: F401 - imported once, before the forks
    import dbt.adapters.spark.impl  # noqa: F401
    import dbt.cli.main  # noqa: F401

    results: list[dict | None] = [None] * len(cases)
    running: dict[int, tuple[int, float]] = {}  # pid -> (case index, start)
    pending = list(range(len(cases)))
    while pending or running:
        while pending and len(running) < PARALLEL:
            i = pending.pop(0)
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                _child(cases[i])
            running[pid] = (i, time.monotonic())
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid == 0:
            for pid_, (i, start) in list(running.items()):
                if time.monotonic() - start > TIMEOUT_S:
                    os.kill(pid_, signal.SIGKILL)
            time.sleep(0.05)
            continue
        i, start = running.pop(pid)
        case = cases[i]
        output = open(case["output"], errors="replace").read() if os.path.exists(case["output"]) else ""
        timed_out = time.monotonic() - start > TIMEOUT_S
        marker = open(case["marker"]).read() if os.path.exists(case["marker"]) else "?"
        results[i] = {"returncode": os.waitstatus_to_exitcode(status), "output": output,
                      "jvm_started": marker != "0", "timed_out": timed_out}
    with open(sys.argv[2], "w") as f:
        json.dump(results, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
