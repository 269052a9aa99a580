"""Build what the EMR Serverless job runs, and upload it under ``{root}/code/``:

    entrypoint.py        sets SEGLOG_HOME to the unpacked project, then seglog.emr.job.main()
    project.tar.gz       the dbt project: dbt_project.yml, profiles.yml, models, macros, seeds,
                         snapshots, the dbt tests, conf (unpacked as ./project by spark.archives)
    seglog-env.tar.gz    Python 3.11 itself (interpreter, standard library, libpython) with
                         dbt-core, dbt-spark and seglog, relocatable (unpacked as ./environment):
                         built by job_env.py, which says why and where to build it.
"""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path
from typing import Any

from ..project import PROJECT_DIR

PROJECT_PARTS = ("dbt_project.yml", "models", "macros", "seeds", "snapshots", "analyses", "conf", "tests")
NOT_DBT = ("tests/python", "tests/dags")  # pytest suites, not dbt tests

ENTRYPOINT = '''"""EMR Serverless entry point of the segment-spark dbt job (built by `seglog emr bundle`).
The job's working folder holds ./environment (the Python env archive, whose interpreter runs
this file) and ./project (the dbt project), both unpacked from spark.archives."""
import os
import sys

here = os.getcwd()
os.environ.setdefault("SEGLOG_HOME", os.path.join(here, "project"))
os.environ.setdefault("DBT_TARGET", "emr")
# dbt's target/ and logs/ beside the unpacked archive, never inside it; the job uploads them
os.environ.setdefault("DBT_TARGET_PATH", os.path.join(here, "dbt", "target"))
os.environ.setdefault("DBT_LOG_PATH", os.path.join(here, "dbt", "logs"))
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
from seglog.emr.job import main  # noqa: E402

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
