"""The EMR job, rehearsed: moto's EMR Serverless accepts the start_job_run (so its arguments are
recorded where the tests can read them back) and reports SUCCESS at once; the job itself then
runs here with the same entry point and arguments, on local Spark (dbt target ``local``).
A job that fails here fails the task exactly as a FAILED job run fails the real operator."""

from __future__ import annotations

import os
import subprocess
from typing import Any

from airflow.providers.amazon.aws.operators.emr import EmrServerlessStartJobOperator


class LocalEmrServerlessJob(EmrServerlessStartJobOperator):
    def execute(self, context: Any, event: dict[str, Any] | None = None) -> str | None:
        job_id = super().execute(context, event)  # moto: the request is recorded, the run "succeeds"
        args = list(self.job_driver["sparkSubmit"]["entryPointArguments"])
        cmd = [os.environ["SEGMENT_DAILY_LOCAL_JOB_PYTHON"], "-m", "seglog.emr.job", *args, "--target", "local"]
        self.log.info("running the job locally: %s", " ".join(cmd))
        proc = subprocess.run(cmd, capture_output=True, text=True)
        self.log.info("job output:\n%s", (proc.stdout + proc.stderr)[-20000:])
        if proc.returncode != 0:
            last = [line for line in proc.stderr.splitlines() if "ERROR" in line][-2:]
            raise RuntimeError(f"EMR Serverless job {job_id} failed (rehearsed locally, exit {proc.returncode}): "
                               + (" ".join(last) or proc.stderr.strip()[-300:]))
        return job_id
