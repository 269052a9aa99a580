"""The EMR job's Python env archive (`make emr-env`, scripts/seglog/emr/job_env.py) starts on its
own: unpacked into a fresh folder and run with a clean environment, its interpreter imports the
job and dbt's Spark adapter without anything of the machine that built it. Where the kernel lets
an unprivileged process have its own mount namespace (`unshare`), the build interpreter's prefix
and the project's venv are also hidden behind empty folders while it runs."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from seglog.emr.job_env import EnvArchiveError, check_archive, pack
from seglog.project import PROJECT_DIR

ARCHIVE = PROJECT_DIR / "target" / "emr" / "seglog-env.tar.gz"

PROBE = r"""
import json, os, sys
from dbt.cli.main import dbtRunner
import dbt.adapters.spark
import seglog.emr.job
mapped = sorted({line.split()[-1] for line in open("/proc/self/maps") if line.split()[-1].startswith("/")})
files = sorted({m.__file__ for m in list(sys.modules.values()) if getattr(m, "__file__", None)})
print(json.dumps({"prefix": sys.prefix, "base_prefix": sys.base_prefix, "executable": sys.executable,
                  "path": sys.path, "mapped": mapped, "modules": files, "version": list(sys.version_info[:2])}))
"""


@pytest.fixture(scope="module")
def unpacked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    assert ARCHIVE.is_file(), f"{ARCHIVE} is missing: `make emr-env` builds it (make test and make pytest do)"
    folder = tmp_path_factory.mktemp("emr-job") / "environment"
    with tarfile.open(ARCHIVE) as tar:
        tar.extractall(folder, filter="data")  # the stdlib's own check: no absolute or outward links
    return folder


def _hidden(paths: list[Path]) -> list[str]:
    """A command prefix that runs the probe with ``paths`` hidden by empty tmpfs mounts, or [] when
    this kernel refuses an unprivileged mount namespace."""
    if not shutil.which("unshare"):
        return []
    mounts = " && ".join(f"mount -t tmpfs none '{p}'" for p in paths)
    trial = subprocess.run(["unshare", "-rm", "sh", "-c", f"{mounts} && true"], capture_output=True)
    return ["unshare", "-rm", "sh", "-c", f'{mounts} && exec "$@"', "hide"] if trial.returncode == 0 else []


def test_the_archive_runs_the_job_from_a_fresh_folder_with_nothing_of_the_build_machine(unpacked: Path) -> None:
    build_prefix = Path(os.path.realpath(sys.base_prefix))
    project_venv = PROJECT_DIR / ".venv"
    hide = _hidden([build_prefix, project_venv])
    clean_env = {"PATH": "/usr/bin:/bin", "HOME": str(unpacked.parent), "LANG": "C.UTF-8"}
    proc = subprocess.run([*hide, str(unpacked / "bin" / "python"), "-c", PROBE], cwd=unpacked.parent,
                          env=clean_env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    root = str(unpacked)
    assert seen["version"] == [3, 11]
    assert seen["prefix"] == seen["base_prefix"] == root, "the interpreter took a prefix outside its folder"
    assert all(p.startswith(root) for p in seen["path"] if p), seen["path"]
    assert all(m.startswith(root) for m in seen["modules"]), [m for m in seen["modules"] if not m.startswith(root)]
    foreign = [m for m in seen["mapped"] if m.startswith((str(build_prefix), str(PROJECT_DIR)))]
    assert foreign == [], f"loaded from the build machine: {foreign}"
    assert f"{root}/lib/libpython3.11.so.1.0" in seen["mapped"] or not any("libpython" in m for m in seen["mapped"])


def test_the_archive_holds_no_link_out_of_its_folder() -> None:
    assert ARCHIVE.is_file(), "`make emr-env` builds it"
    assert check_archive(ARCHIVE) == []
    with tarfile.open(ARCHIVE) as tar:
        names = set(tar.getnames())
        python = tar.getmember("bin/python3.11")
    assert python.isfile() and python.size > 0  # the interpreter itself, not a link to one
    assert {"bin/python", "lib/python3.11/site-packages/seglog/emr/job.py"} <= names
    assert names & {"lib/python3.11/os.py", "lib64/python3.11/os.py"}  # lib64 where the build's Python uses it
    assert not any(n.startswith("lib/python3.11/site-packages/pyspark/") for n in names)  # EMR's own
    assert "pyvenv.cfg" not in names  # a venv would point at an interpreter elsewhere


def _tar(members: list[tuple[str, str | None]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, link in members:
            info = tarfile.TarInfo(name)
            if link is None:
                tar.addfile(info, io.BytesIO(b""))
            else:
                info.type, info.linkname = tarfile.SYMTYPE, link
                tar.addfile(info)
    return buf.getvalue()


def test_the_check_refuses_absolute_and_outward_links(tmp_path: Path) -> None:
    # what venv-pack without --python-prefix gives: bin/python3.11 links to the build machine
    archive = tmp_path / "venv-pack-like.tar.gz"
    archive.write_bytes(_tar([("bin/python3.11", "/root/.pyenv/versions/3.11.7/bin/python3.11"),
                              ("bin/python", "python3.11"), ("lib/up", "../../etc/passwd"),
                              ("lib/python3.11/site", "../../lib/python3.11"), ("../escape", None)]))
    problems = check_archive(archive)
    assert any(p.startswith("bin/python3.11 -> /root/") and "absolute" in p for p in problems)
    assert any(p.startswith("lib/up -> ../../etc/passwd") for p in problems)
    assert any("../escape" in p for p in problems)
    assert not any(p.startswith(("bin/python ->", "lib/python3.11/site ->")) for p in problems)  # inside
    env = tmp_path / "env"
    (env / "bin").mkdir(parents=True)
    (env / "bin" / "python3.11").symlink_to("/usr/bin/python3")
    with pytest.raises(EnvArchiveError, match="absolute link"):
        pack(env, tmp_path / "out.tar.gz")
