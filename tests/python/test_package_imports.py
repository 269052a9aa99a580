"""The `seglog` package's modules import one another in one direction: no import circle (a module
that needs another's private helpers gets a shared module instead), counting the imports inside
functions too. And every command takes its dates and vars through RunRequest. No Spark."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[2] / "scripts" / "seglog"


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE_DIR.rglob("*.py"):
        parts = ["seglog", *path.relative_to(PACKAGE_DIR).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The package's modules that ``name`` imports, at the top or inside a function."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(max(node.level - 1, 0)):
                base = base.rpartition(".")[0]
            target = f"{base}.{node.module}" if node.level and node.module else (base if node.level else node.module)
            for alias in node.names:
                found.add(f"{target}.{alias.name}" if f"{target}.{alias.name}" in modules else target)
    return {m for m in found if m in modules and m != name}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    cycles, state = [], {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycles.append(trail[trail.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return cycles


def test_the_cycle_finder_finds_a_circle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_circle_in_the_package() -> None:
    modules = _modules()
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    assert "seglog.run_request" in graph["seglog.cli"] and "seglog.run_request" in graph["seglog.emr.cli"]
    # a package imports its modules (loader's public face), and a module may import a sibling
    # package's face; neither may lead back to itself
    assert _cycles(graph) == []


def test_every_command_takes_its_dates_through_run_request() -> None:
    """No command parses --date/--to/--vars itself: the range checks and the rule for a date inside
    --vars live in RunRequest only."""
    for module in ("cli.py", "emr/cli.py", "emr/job.py"):
        text = (PACKAGE_DIR / module).read_text()
        assert "RunRequest.parse(" in text, module
        assert "more than a year" not in text and "yaml.safe_load" not in text, module


def test_the_emr_jobs_imports_need_nothing_its_archive_leaves_out() -> None:
    """The EMR job's archive holds seglog.emr.job_env.JOB_NEEDS, not psycopg: the modules the job
    imports (the loader's face for loadable_models, the audit reader, the run request) must load
    without it. Run in a fresh interpreter where importing psycopg fails, as on EMR."""
    import subprocess
    import sys

    code = ("import sys; sys.modules['psycopg'] = None\n"
            "import seglog.emr.job, seglog.audit, seglog.run_request\n"
            "from seglog.loader import Warehouse, loadable_models\n"
            "from seglog.emr.job_env import JOB_NEEDS\n"
            "assert not any(n.startswith('psycopg') for n in JOB_NEEDS)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
