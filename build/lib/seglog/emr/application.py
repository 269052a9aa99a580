"""Create or update the EMR Serverless application from spec.application_config (as code:
rerunning is a no-op when nothing changed, and a change is applied, never a second app).

AWS only updates a CREATED or STOPPED application, so a running one with different settings is
stopped first (its pre-initialised workers are released), updated, and started again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from .spec import APPLICATION_NAME, RELEASE, application_config

LIVE = ("CREATING", "CREATED", "STARTING", "STARTED", "STOPPING", "STOPPED")
COMPARED = ("releaseLabel", "initialCapacity", "maximumCapacity", "autoStartConfiguration", "autoStopConfiguration")


@dataclass
class Applied:
    application_id: str
    action: str  # created | updated | unchanged
    changed: list[str] = field(default_factory=list)  # which settings differed


def _find(client: Any, name: str) -> dict[str, Any] | None:
    found = []
    for page in client.get_paginator("list_applications").paginate(states=list(LIVE)):
        found += [a for a in page["applications"] if a["name"] == name]
    if len(found) > 1:
        ids = ", ".join(a["id"] for a in found)
        raise RuntimeError(f"{len(found)} EMR Serverless applications are named {name!r} ({ids}): delete the "
                           "extra ones or pass --name; nothing was changed")
    return client.get_application(applicationId=found[0]["id"])["application"] if found else None


def _normalise(value: Any) -> Any:
    """AWS echoes sizes as it likes ("16 GB" for "16GB"): compare without spaces and case."""
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items()}
    if isinstance(value, str):
        return value.replace(" ", "").upper()
    return value


def _wait_for(client: Any, app_id: str, states: tuple[str, ...], timeout_s: float = 600) -> None:
    deadline = time.monotonic() + timeout_s
    while (state := client.get_application(applicationId=app_id)["application"]["state"]) not in states:
        if time.monotonic() > deadline:
            raise TimeoutError(f"application {app_id} still {state} after {timeout_s:.0f} s")
        time.sleep(5)


def ensure(client: Any, name: str = APPLICATION_NAME, release: str = RELEASE, tags: dict[str, str] | None = None,
           dry_run: bool = False) -> Applied:
    desired = application_config(release)
    current = _find(client, name)
    if current is None:
        if dry_run:
            return Applied("(new)", "created", list(COMPARED))
        created = client.create_application(name=name, type="SPARK", tags=tags or {"project": "segment-spark"},
                                            **desired)
        return Applied(created["applicationId"], "created", list(COMPARED))
    changed = [k for k in COMPARED if _normalise(current.get(k)) != _normalise(desired[k])]
    if not changed or dry_run:
        return Applied(current["applicationId"], "updated" if changed else "unchanged", changed)
    app_id = current["applicationId"]
    was_running = current["state"] in ("STARTING", "STARTED")
    if current["state"] not in ("CREATED", "STOPPED"):
        client.stop_application(applicationId=app_id)
        _wait_for(client, app_id, ("STOPPED",))
    client.update_application(applicationId=app_id, **{k: desired[k] for k in changed})
    if was_running:
        client.start_application(applicationId=app_id)
    return Applied(app_id, "updated", changed)
