"""Run the daily dbt build in-process (dbt-spark session method) and report the run's audit.

dbt is invoked through dbtRunner in this Python process, so the Spark session it creates is
the only one (the Derby metastore allows one process at a time) and stays up for several
invocations in a row (tests reuse it).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence


from .project import PROJECT_DIR, schema_folder, spark_dir



class DbtFailed(RuntimeError):
    """dbt returned an error or a failing node."""


@dataclass
class BuildResult:
    success: bool
    nodes: list[dict[str, Any]]  # name, resource_type, status, relation


def ensure_profile() -> Path:
    """./profiles.yml from profiles.example.yml when missing (dbt finds it in the project root)."""
    target = PROJECT_DIR / "profiles.yml"
    if not target.exists():
        target.write_text((PROJECT_DIR / "profiles.example.yml").read_text())
    return target


def dbt(args: Sequence[str], callbacks: Sequence[Callable[[Any], None]] = ()) -> BuildResult:
    """Invoke dbt with ``args`` in the project directory; raise DbtFailed on failure.
    ``callbacks`` receive every dbt event (e.g. to collect warnings)."""
    from dbt.cli.main import dbtRunner  # imported late: dbt's import is slow

    ensure_profile()
    os.environ.setdefault("SEGLOG_HOME", str(PROJECT_DIR))
    cwd = os.getcwd()
    os.chdir(PROJECT_DIR)
    try:
        res = dbtRunner(callbacks=list(callbacks)).invoke(list(args))
    finally:
        os.chdir(cwd)
    nodes = []
    results = getattr(res.result, "results", None) or []
    for r in results:
        node = r.node
        nodes.append({"name": node.name, "resource_type": str(node.resource_type), "status": str(r.status),
                      "relation": getattr(node, "relation_name", None)})
    if not res.success:
        failed = [n for n in nodes if n["status"] in ("error", "fail")]
        detail = ", ".join(f"{n['name']} ({n['status']})" for n in failed) or str(res.exception or "see dbt's log above")
        raise DbtFailed(f"dbt {' '.join(args[:1])} failed: {detail}")
    return BuildResult(success=True, nodes=nodes)


def dbt_build(vars_: dict[str, Any], extra: Sequence[str] = (), unit_tests: bool = False) -> BuildResult:
    """dbt build for one date: models, snapshot and data tests; unit tests only when asked.

    Unit tests check model logic on their own fixed inputs, never the date's data, so the
    daily job (local or on EMR) skips them, as dbt advises for production; `make test` runs
    them once (the first build of `make dbt-test`)."""
    skip = [] if unit_tests else ["--exclude-resource-type", "unit_test"]
    return dbt(["build", "--vars", json.dumps(vars_), *skip, *extra])


def schema_dir(schema: str) -> Path:
    return spark_dir() / "warehouse" / schema_folder(schema)


def table_dir(schema: str, table: str) -> Path:
    return schema_dir(schema) / table
