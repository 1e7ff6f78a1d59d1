"""The look-up rate limit holds across processes: every gunicorn worker counts in one
shared cache (Redis when it is in use, else files under var/cache), so two workers
do not grant twice SSP_LOOKUP_RATE. Each process here is a fresh Django, as a worker is."""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import redis
from django.conf import settings

from ..support.services import require_service

ROOT = Path(__file__).resolve().parents[2]

# One "worker": `count` look-ups by the same person; prints which were allowed.
WORKER = """
import json, sys, types
import django
django.setup()
from django.conf import settings
from ssp.throttles import LookupThrottle
person, count = int(sys.argv[1]), int(sys.argv[2])
request = types.SimpleNamespace(
    user=types.SimpleNamespace(is_authenticated=True, pk=person), META={}
)
allowed = [LookupThrottle().allow_request(request, None) for _ in range(count)]
print(json.dumps({"backend": settings.CACHES["default"]["BACKEND"], "allowed": allowed}))
"""


def _worker(env: dict, person: int, count: int) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", WORKER, str(person), str(count)],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _redis_answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


CASES = {
    "redis": ({"USE_CELERY_WORKER": "true"}, "django.core.cache.backends.redis.RedisCache"),
    "files": (
        {"USE_CELERY_WORKER": "false"},
        "django.core.cache.backends.filebased.FileBasedCache",
    ),
}


@pytest.mark.parametrize("backend", CASES)
def test_two_worker_processes_share_one_lookup_budget(backend):
    env, expected_backend = CASES[backend]
    if backend == "redis":
        require_service("Redis", _redis_answers(settings.REDIS_URL))
    env = {**env, "SSP_LOOKUP_RATE": "5/min", "REDIS_URL": settings.REDIS_URL}
    # A person no other run counts for, so nothing needs clearing.
    person = uuid.uuid4().int % 10**12
    first = _worker(env, person, 3)
    second = _worker(env, person, 3)
    assert first["backend"] == second["backend"] == expected_backend
    assert first["allowed"] == [True, True, True]
    # Per process the second would be allowed 3 more; shared, only the budget's rest.
    assert second["allowed"] == [True, True, False]
    # Another person has a budget of their own.
    assert _worker(env, person + 1, 1)["allowed"] == [True]
