"""`--wait`: follow live statuses until each app reaches its target, fails, or time runs out."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Any

from app.commands import documents
from app.commands.api_client import ApiClient
from app.commands.exit_codes import ExitCode

POLL_SECONDS = 1.0
# A status that will not turn into the target by itself: waiting longer cannot help.
_FAILED = {"DEGRADED", "MISSING", "NOT_DEPLOYED"}


@dataclass
class Waited:
    app: str
    status: str
    reason: str
    code: ExitCode

    def as_json(self) -> dict[str, Any]:
        return {"app": self.app, "status": self.status, "reason": self.reason, "exitCode": int(self.code)}


def wait_for(client: ApiClient, environment: str, apps: list[str], target: str, timeout: float) -> list[Waited]:
    """Polls the live status of `apps` (one request for the group) every second; a progress line on
    stderr whenever an app's status or readiness changes."""
    started = time.monotonic()
    pending = list(apps)
    last: dict[str, tuple[str, str]] = {}
    done: dict[str, Waited] = {}
    while True:
        statuses = client.execute(documents.LIVE_STATUSES, {"environment": environment, "apps": pending})
        elapsed = time.monotonic() - started
        for live in statuses["appStatuses"]:
            app = live["appEnvironment"]["app"]["name"]
            status, reason = live["status"], live["reason"]
            if last.get(app) != (status, _readiness(live)):
                last[app] = (status, _readiness(live))
                print(f"{app} on {environment}: {status} {_readiness(live)}({elapsed:.0f}s) {reason}", file=sys.stderr)
            if status == target:
                done[app] = Waited(app, status, reason, ExitCode.DONE)
            elif status in _FAILED:
                done[app] = Waited(app, status, reason, ExitCode.FAILED)
        pending = [app for app in pending if app not in done]
        if not pending:
            break
        if elapsed + POLL_SECONDS > timeout:
            for app in pending:
                status = last.get(app, ("UNKNOWN", ""))[0]
                done[app] = Waited(app, status, f"still {status} after {timeout:g}s", ExitCode.TIMED_OUT)
            break
        time.sleep(POLL_SECONDS)
    return [done[app] for app in apps]


def _readiness(live: dict[str, Any]) -> str:
    workloads = [w for w in live.get("workloads") or [] if w["kind"] != "CRON_JOB"]
    if not workloads:
        return ""
    ready = sum(w["readyReplicas"] for w in workloads)
    desired = sum(w["desiredReplicas"] for w in workloads)
    return f"[{ready}/{desired} ready] "
