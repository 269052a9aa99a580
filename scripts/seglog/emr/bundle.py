"""Build what the EMR Serverless job runs, and upload it under ``{root}/code/``:

    entrypoint.py        sets SEGLOG_HOME to the unpacked project, then seglog.emr.job.main()
    project.tar.gz       the dbt project: dbt_project.yml, profiles.yml, models, macros, seeds,
                         snapshots, the dbt tests, conf (unpacked as ./project by spark.archives)
    seglog-env.tar.gz    a Python 3.11 virtualenv with dbt-core, dbt-spark and seglog, packed by
                         venv-pack (unpacked as ./environment). Built from requirements.txt
                         without pyspark, which EMR's own Spark provides (two pysparks on one
                         driver would shadow EMR's), and without the test/lint tools.
"""

from __future__ import annotations

import gzip
import io
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

from ..project import PROJECT_DIR

PROJECT_PARTS = ("dbt_project.yml", "models", "macros", "seeds", "snapshots", "analyses", "conf", "tests")
NOT_DBT = ("tests/python", "tests/dags")  # pytest suites, not dbt tests
# Not needed inside the job (or provided by EMR: pyspark)
LEFT_OUT = ("pyspark", "sqlfluff", "sqlfluff-templater-dbt", "pytest", "hypothesis", "pre-commit", "moto",
            "venv-pack")

ENTRYPOINT = '''"""EMR Serverless entry point of the segment-spark dbt job (built by `seglog emr bundle`)."""
import os
import sys

os.environ.setdefault("SEGLOG_HOME", os.path.abspath("project"))  # spark.archives unpacks it here
os.environ.setdefault("DBT_TARGET", "emr")
from seglog.emr.job import main  # noqa: E402  (the venv-pack archive is ./environment)

sys.exit(main())
'''


def _dbt_files(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
    if "__pycache__" in info.name or info.name.startswith(NOT_DBT):
        return None
    info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""  # same files, same archive
    return info


def project_archive(project_dir: Path = PROJECT_DIR) -> bytes:
    """The dbt project as a .tar.gz, with profiles.example.yml as its profiles.yml (only env_var()s)."""
    buf = io.BytesIO()
    # gzip's header carries a timestamp: 0, so the same files give the same bytes at any time
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz, tarfile.open(fileobj=gz, mode="w") as tar:
        for part in PROJECT_PARTS:
            path = project_dir / part
            if path.exists():
                tar.add(path, arcname=part, filter=_dbt_files)
        tar.add(project_dir / "profiles.example.yml", arcname="profiles.yml", filter=_dbt_files)
    return buf.getvalue()


def job_requirements(requirements: Path = PROJECT_DIR / "requirements.txt") -> list[str]:
    """The pinned requirements minus what the job must not or need not carry."""
    keep = []
    for line in requirements.read_text().splitlines():
        name = line.split("==")[0].split("[")[0].strip().lower()
        if line.strip() and not line.startswith("#") and name not in LEFT_OUT:
            keep.append(line.strip())
    return keep


def build_env(out: Path, work: Path, python: str = sys.executable) -> Path:
    """A fresh venv with the job's requirements and seglog, packed by venv-pack into ``out``."""
    env = work / "venv-emr"
    subprocess.run([python, "-m", "venv", "--clear", str(env)], check=True)
    reqs = work / "requirements-emr.txt"
    reqs.write_text("\n".join(job_requirements()) + "\n")
    pip = [str(env / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "--no-deps", "-r", str(reqs)], check=True)
    # seglog from a copy of its sources: setuptools leaves a build/ folder wherever it builds
    src = work / "seglog-src"
    shutil.copytree(PROJECT_DIR / "scripts" / "seglog", src / "scripts" / "seglog",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(PROJECT_DIR / "pyproject.toml", src / "pyproject.toml")
    subprocess.run([*pip, "--no-deps", str(src)], check=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    venv_pack = str(Path(sys.executable).with_name("venv-pack"))
    subprocess.run([venv_pack, "-p", str(env), "-o", str(out), "--force", "--quiet"], check=True)
    return out


def upload(s3: Any, root: str, env_archive: Path) -> dict[str, str]:
    """Upload the entry point, the project and the env archive; returns what went where."""
    bucket, _, prefix = root[len("s3://"):].rstrip("/").partition("/")
    base = f"{prefix}/code" if prefix else "code"
    parts = {"entrypoint.py": ENTRYPOINT.encode(), "project.tar.gz": project_archive()}
    written = {}
    for name, body in parts.items():
        s3.put_object(Bucket=bucket, Key=f"{base}/{name}", Body=body)
        written[name] = f"s3://{bucket}/{base}/{name}"
    s3.upload_file(str(env_archive), bucket, f"{base}/seglog-env.tar.gz")
    written["seglog-env.tar.gz"] = f"s3://{bucket}/{base}/seglog-env.tar.gz"
    return written
