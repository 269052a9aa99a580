"""The EMR job's Python environment as one relocatable archive (seglog-env.tar.gz → ./environment).

EMR Serverless 7.x ships Python 3.9 and the project needs 3.11, so the archive carries its own
interpreter, standard library and libpython beside the job's packages:

    bin/python3.11, bin/python, bin/python3   the interpreter (RUNPATH $ORIGIN/../lib) and two
                                              relative links to it
    lib/libpython3.11.so.1.0                  when the interpreter is built shared
    lib/python3.11/                           the standard library (no tests, tkinter, idle, ensurepip)
    lib/python3.11/site-packages/             dbt-core, dbt-spark, seglog, … (no pyspark: EMR's own)

There is no pyvenv.cfg: Python finds its prefix from where its executable is (the landmark
lib/python3.11/os.py next to bin/), so the archive runs from any folder, EMR's
/home/hadoop/environment included, and never reads anything of the machine that built it.

Why our own code and not venv-pack: venv-pack packs a virtualenv, and a virtualenv links to an
interpreter outside itself (venv-pack's docs: "Python is not packaged"). AWS's custom-Python
recipe copies the standard library into the venv and rewrites its home to
/home/hadoop/environment, which ties the archive to that one folder: it cannot be started
anywhere else, so no test here could run it. A prefix that finds itself runs anywhere, and the
tests start the very archive EMR gets. Nothing on PyPI builds such a prefix from an installed
interpreter without downloading one (python-build-standalone's builds come from GitHub).

Where to build it: the interpreter must suit EMR's platform, Amazon Linux 2023 (glibc 2.34).
One copied from a newer system (this project's Debian 12 machines: glibc 2.36) gives an archive
that is relocatable, and proven so by the tests, but may not start on EMR. The production
archive is built in an amazonlinux:2023 container by .github/workflows/emr-env.yml.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path, PurePosixPath
from typing import Any

from ..project import PROJECT_DIR

# What the job imports (dbt with the Spark adapter's session method, and seglog's own needs);
# the archive holds these with their dependencies at the versions requirements.txt pins.
JOB_NEEDS = ("dbt-core", "dbt-spark[PyHive,session]", "boto3", "pyarrow", "pyyaml", "typer", "rich")
# EMR's own Spark provides pyspark (and py4j): two on one driver would shadow EMR's.
PROVIDED_BY_EMR = ("pyspark", "py4j")
# Parts of the standard library a batch job never imports; `config-3.11-…` holds the 50 MB static
# libpython.a that only C builds against the interpreter use.
STDLIB_LEFT_OUT = ("site-packages", "test", "idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3",
                   "__pycache__", "EXTERNALLY-MANAGED")

FACTS = r"""
import json, os, sys, sysconfig
v = sysconfig.get_config_vars()
# the base interpreter's own paths, also when run from a virtualenv
base = {k: sys.base_prefix for k in ("base", "platbase", "installed_base", "installed_platbase")}
paths = sysconfig.get_paths(scheme="posix_prefix", vars=base)
print(json.dumps({
    "version": f"{sys.version_info[0]}.{sys.version_info[1]}",
    "base_prefix": os.path.realpath(sys.base_prefix),
    "executable": os.path.realpath(getattr(sys, "_base_executable", sys.executable)),
    "stdlib": os.path.realpath(paths["stdlib"]),
    "platstdlib": os.path.realpath(paths["platstdlib"]),
    "shared": bool(v.get("Py_ENABLE_SHARED")),
    "libdir": v.get("LIBDIR") or "",
    "soname": v.get("INSTSONAME") or "",
}))
"""

RELATIVE_SHEBANG = ("#!/bin/sh\n"
                    "'''exec' \"$(dirname -- \"$(readlink -f -- \"$0\")\")/python{version}\" \"$0\" \"$@\"\n"
                    "' '''\n")


class EnvArchiveError(RuntimeError):
    """The archive cannot be built, or one that was built would not start elsewhere."""


def _name(text: str) -> str:
    return text.strip().lower().replace("_", "-").replace(".", "-")


def _needed(roots: tuple[str, ...] = JOB_NEEDS) -> set[str]:
    """The distributions ``roots`` need, read from the installed packages' metadata (the build's
    venv holds every pinned requirement): extras and environment markers evaluated as pip would."""
    from importlib.metadata import PackageNotFoundError, distribution

    from packaging.requirements import Requirement

    seen: set[str] = set()
    todo = [Requirement(r) for r in roots]
    while todo:
        req = todo.pop()
        name = _name(req.name)
        key = name + "[" + ",".join(sorted(req.extras)) + "]"
        if key in seen or name in PROVIDED_BY_EMR:
            continue
        seen.add(key)
        try:
            requires = distribution(name).requires or []
        except PackageNotFoundError:
            raise EnvArchiveError(f"{name} is not installed here: run `make venv` before building the job's env") from None
        for line in requires:
            dep = Requirement(line)
            if dep.marker is None or any(dep.marker.evaluate({"extra": e}) for e in (req.extras or {""})):
                todo.append(dep)
    return {k.split("[")[0] for k in seen}


def job_requirements(requirements: Path = PROJECT_DIR / "requirements.txt") -> list[str]:
    """The pinned lines of requirements.txt that the job needs (JOB_NEEDS and what they need)."""
    needed = _needed()
    pinned = {_name(line.split("==")[0].split("[")[0]): line.strip()
              for line in requirements.read_text().splitlines() if line.strip() and not line.startswith("#")}
    missing = sorted(needed - set(pinned))
    if missing:
        raise EnvArchiveError(f"the job needs {', '.join(missing)}, which requirements.txt does not pin: run `make lock`")
    return [pinned[n] for n in sorted(needed)]


def interpreter_facts(python: str) -> dict[str, Any]:
    out = subprocess.run([python, "-c", FACTS], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def _tool(name: str) -> str:
    """A build tool from the interpreter's own venv (make venv installs them), else from PATH."""
    beside = Path(sys.executable).with_name(name)
    found = str(beside) if beside.exists() else shutil.which(name)
    if not found:
        raise EnvArchiveError(f"{name} is not installed: run `make venv` (or pip install {name})")
    return found


def _copy_stdlib(facts: dict[str, Any], env: Path) -> None:
    ignore = shutil.ignore_patterns(*STDLIB_LEFT_OUT, "config-*", "_tkinter*")
    for key in ("stdlib", "platstdlib"):
        src = Path(facts[key])
        rel = src.relative_to(facts["base_prefix"])  # lib/python3.11 (lib64/… on Fedora-like systems)
        shutil.copytree(src, env / rel, ignore=ignore, symlinks=False, dirs_exist_ok=True)


def _copy_interpreter(facts: dict[str, Any], env: Path) -> Path:
    version = facts["version"]
    (env / "bin").mkdir(parents=True)
    python = env / "bin" / f"python{version}"
    shutil.copy2(facts["executable"], python)
    for alias in ("python", "python3"):
        (env / "bin" / alias).symlink_to(python.name)  # relative: inside the archive
    if facts["shared"]:
        (env / "lib").mkdir(exist_ok=True)
        shutil.copy2(Path(facts["libdir"]) / facts["soname"], env / "lib" / facts["soname"])
        # the copied interpreter looks for libpython next to itself, not in the build's prefix
        subprocess.run([_tool("patchelf"), "--set-rpath", "$ORIGIN/../lib", str(python)], check=True)
    return python


def _relocate_scripts(env: Path, version: str) -> None:
    """Console scripts are written with the build folder's absolute path in their shebang; make
    them start the interpreter beside them, wherever the archive is unpacked."""
    for script in (env / "bin").iterdir():
        if script.is_symlink() or not script.is_file():
            continue
        head = script.read_bytes()[:256]
        if head.startswith(b"#!") and str(env).encode() in head.split(b"\n", 1)[0]:
            body = script.read_bytes().split(b"\n", 1)[1]
            script.write_bytes(RELATIVE_SHEBANG.format(version=version).encode() + body)


def build_env(out: Path, work: Path, python: str = sys.executable) -> Path:
    """Build the job's environment from ``python``'s interpreter into ``work`` and pack it to ``out``."""
    facts = interpreter_facts(python)
    env = work / "environment"
    if env.exists():
        shutil.rmtree(env)
    interpreter = _copy_interpreter(facts, env)
    _copy_stdlib(facts, env)
    reqs = work / "requirements-emr.txt"
    reqs.write_text("\n".join(job_requirements()) + "\n")
    # uv installs into the copied interpreter's own site-packages (it is no venv: --system);
    # pinned, no dependency resolution, as `make venv` does
    uv = [_tool("uv"), "pip", "install", "--quiet", "--system", "--python", str(interpreter), "--no-deps"]
    subprocess.run([*uv, "-r", str(reqs)], check=True, env={**os.environ, "UV_LINK_MODE": "copy"})
    # seglog from a copy of its sources: setuptools leaves a build/ folder wherever it builds
    src = work / "seglog-src"
    if src.exists():
        shutil.rmtree(src)
    shutil.copytree(PROJECT_DIR / "scripts" / "seglog", src / "scripts" / "seglog",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(PROJECT_DIR / "pyproject.toml", src / "pyproject.toml")
    subprocess.run([*uv, str(src)], check=True, env={**os.environ, "UV_LINK_MODE": "copy"})
    _relocate_scripts(env, facts["version"])
    for cache in env.rglob("__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)
    return pack(env, out)


def _outward(member: tarfile.TarInfo) -> str | None:
    """Why a member would reach outside the folder it is unpacked into (None when it stays inside)."""
    name = PurePosixPath(member.name)
    if name.is_absolute() or ".." in name.parts:
        return f"{member.name}: a member path outside the archive's folder"
    if member.issym() or member.islnk():
        target = PurePosixPath(member.linkname)
        if target.is_absolute():
            return f"{member.name} -> {member.linkname}: an absolute link (to the build machine)"
        base = name.parent if member.issym() else PurePosixPath()
        depth = 0
        for part in (base / target).parts:
            depth += -1 if part == ".." else (0 if part == "." else 1)
            if depth < 0:
                return f"{member.name} -> {member.linkname}: a link out of the archive's folder"
    return None


def check_archive(path: Path) -> list[str]:
    """Every member of the archive that would point outside the folder it is unpacked into."""
    with tarfile.open(path, "r:*") as tar:
        return [why for member in tar.getmembers() if (why := _outward(member))]


def _normalised(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""  # same files, same bytes
    return info


def pack(env: Path, out: Path) -> Path:
    """``env``'s contents (at the archive's root, as spark.archives unpacks them) as a .tar.gz,
    in sorted order with no timestamps or owners; refused when a link points outside."""
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    with open(partial, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, compresslevel=6) as gz, \
            tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(env.rglob("*")):
            info = _normalised(tar.gettarinfo(str(path), arcname=path.relative_to(env).as_posix()))
            if (why := _outward(info)):
                raise EnvArchiveError(f"not packed: {why}")
            if info.isfile():
                with open(path, "rb") as fh:
                    tar.addfile(info, fh)
            else:
                tar.addfile(info)
    partial.replace(out)
    return out

