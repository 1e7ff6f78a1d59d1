"""Faults with real services: PostgreSQL restarted, Redis stopped, a worker killed.

These stop and start the machine's own PostgreSQL and Redis, so they run only
where that is allowed: under CI, or with SSP_FAULT_TESTS=1 on a laptop.
"""

import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.db import connections

from .conftest import IN_CI, require_service

ALLOWED = IN_CI or os.environ.get("SSP_FAULT_TESTS") == "1"
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not ALLOWED, reason="stops real services: CI or SSP_FAULT_TESTS=1 only"),
]


def _cluster() -> str:
    versions = sorted(os.listdir("/etc/postgresql")) if Path("/etc/postgresql").exists() else []
    require_service("a local PostgreSQL cluster to restart", bool(versions))
    return versions[-1]


def _pg(action: str) -> None:
    args = ["pg_ctlcluster", "--skip-systemctl-redirect", _cluster(), "main", action]
    if action == "stop":
        args += ["-m", "fast"]
    subprocess.run(args, check=True, capture_output=True)


def _wait_for(predicate, seconds=30.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.3)
    return False


def _get(url: str, token: str | None = None, timeout: float = 10) -> tuple[int, dict]:
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Token {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def test_postgres_restart_gives_clean_503s_then_service_resumes(
    live_server, front_desk_ana, site_a
):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=front_desk_ana).key
    api = f"{live_server.url}/api/v1/sites/"
    assert _get(api, token)[0] == 200

    _pg("stop")
    try:
        status, body = _get(api, token)
        assert (status, body["code"]) == (503, "service_unavailable")
        assert _get(f"{live_server.url}/healthz")[0] == 503
    finally:
        _pg("start")

    # No restart of the app: the next requests reconnect by themselves.
    assert _wait_for(lambda: _get(api, token, timeout=5)[0] == 200)
    assert _get(f"{live_server.url}/healthz")[0] == 200
    for conn in connections.all():
        conn.close()  # the test thread's own connection died with the server
