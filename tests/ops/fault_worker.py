"""A Celery app for tests/ops/test_faults.py only: the project's app with report builds
paused at their first progress step, so a test can kill the worker mid-report.

Start it as `celery -A tests.ops.fault_worker worker`; the pause (seconds) comes from
FAULT_REPORT_PAUSE_SECONDS. Nothing in the project imports this module, so no
deployment can reach the pause.
"""

import os
import time

import django

from config.celery import app

django.setup()

from reports import services  # noqa: E402  (needs the apps loaded

PAUSE = float(os.environ.get("FAULT_REPORT_PAUSE_SECONDS", "0"))
_set_progress = services._set_progress


def _set_progress_then_pause(snapshot_id: int, percent: int, message: str) -> None:
    _set_progress(snapshot_id, percent, message)
    if percent == 10:  # "Counting visits": the build has claimed its snapshot
        time.sleep(PAUSE)


# Patched before the pool forks, so every child process builds reports this way.
services._set_progress = _set_progress_then_pause

__all__ = ["app"]
