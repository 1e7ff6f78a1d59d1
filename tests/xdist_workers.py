"""Each pytest-xdist worker gets a Redis database of its own.

Loaded with `-p tests.xdist_workers` (pyproject addopts) so it runs before pytest-django
imports the settings, which read REDIS_URL once. Without it two workers would share the
Celery queue: one test's worker would run, or purge, another test's jobs. PostgreSQL needs
nothing: pytest-django already gives each worker its own test database (`test_ssp_gw0`).
"""

import os
from urllib.parse import urlparse, urlunparse

# Redis has 16 databases; workers take them from 9 on (the demo and CI use 0, the
# benchmarks 13-15). SSP_TEST_FIRST_REDIS_DB moves them, for a second run of the suite
# beside the first on the same Redis.
FIRST_WORKER_DB = int(os.environ.get("SSP_TEST_FIRST_REDIS_DB", "9"))


def _worker_url(url: str, worker: str) -> str:
    parts = urlparse(url)
    db = (FIRST_WORKER_DB + int(worker.removeprefix("gw"))) % 16
    return urlunparse(parts._replace(path=f"/{db}"))


_worker = os.environ.get("PYTEST_XDIST_WORKER")
if _worker:
    os.environ["REDIS_URL"] = _worker_url(
        os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"), _worker
    )
