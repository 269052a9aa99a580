"""Submit the daily job to EMR Serverless from a laptop: one date, or a backfill of a range
(one job run per date, oldest first, each waited for: first-seen users and retention assume
dates are built in order). The request is spec.job_run_request, the one the DAG sends.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from typing import Any, Callable

from .spec import JobSettings, job_run_request

DONE = {"SUCCESS", "FAILED", "CANCELLED"}


@dataclass
class Submitted:
    day: date
    job_run_id: str
    state: str
    details: str = ""


def wait(client: Any, app_id: str, job_run_id: str, poll_s: float = 30, timeout_s: float = 3 * 3600,
         on_state: Callable[[str], None] = lambda s: None) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        run = client.get_job_run(applicationId=app_id, jobRunId=job_run_id)["jobRun"]
        on_state(run["state"])
        if run["state"] in DONE:
            return run
        if time.monotonic() > deadline:
            client.cancel_job_run(applicationId=app_id, jobRunId=job_run_id)
            raise TimeoutError(f"job run {job_run_id} still {run['state']} after {timeout_s:.0f} s: cancelled")
        time.sleep(poll_s)


def submit_dates(client: Any, settings: JobSettings, days: list[date], vars_: dict[str, Any],
                 poll_s: float = 30, on_state: Callable[[date, str], None] = lambda d, s: None) -> list[Submitted]:
    """Start one job run per date and wait for it; stop at the first that does not succeed."""
    out: list[Submitted] = []
    for day in days:
        request = job_run_request(settings, day, None, vars_)
        job_run_id = client.start_job_run(**request)["jobRunId"]
        run = wait(client, settings.application_id, job_run_id, poll_s, on_state=lambda s, d=day: on_state(d, s))
        out.append(Submitted(day, job_run_id, run["state"], run.get("stateDetails", "")))
        if run["state"] != "SUCCESS":
            break
    return out
