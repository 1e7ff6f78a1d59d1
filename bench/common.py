"""Shared pieces of the benchmarks: a real gunicorn, a bounded load client, tokens, timers.

`bench/run.py` sets Django up against a freshly migrated PostgreSQL database before any
`bench_*.py` module runs, so the helpers here may use the ORM. Load only ever goes to
127.0.0.1.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import math
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent

# Figures recorded so far in this run (bench/run.py fills it), so a later benchmark can
# read a reference measured earlier: `figure("baseline: ...")`.
RESULTS: dict[str, dict] = {}


def figure(name: str) -> float | None:
    """Value of a figure already measured in this run, or None."""
    row = RESULTS.get(name)
    return row["value"] if row else None


def result(figure: str, value: float, unit: str, reference: str | None = None, ratio=None) -> dict:
    """One row of a benchmark's `run()` output.

    `reference` names another figure of the same run; when `ratio` is left None,
    bench/run.py computes value / reference value.
    """
    return {
        "figure": figure,
        "value": float(value),
        "unit": unit,
        "reference": reference,
        "ratio": None if ratio is None else float(ratio),
    }


# --- A real server -------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_health(base_url: str, process: subprocess.Popen, log_path: Path, timeout: float):
    deadline = time.monotonic() + timeout
    parts = urllib.parse.urlsplit(base_url)
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"gunicorn exited with {process.returncode}:\n{log_path.read_text()[-3000:]}"
            )
        try:
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=2)
            conn.request("GET", "/healthz")
            status = conn.getresponse().status
            conn.close()
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not become healthy:\n{log_path.read_text()[-3000:]}")


def bench_env(extra: dict | None = None) -> dict:
    """The environment a benchmark's subprocesses get: this run's database and Redis.

    Production code path (config.settings, DEBUG off). Persistent database connections
    as docker-compose.yml configures them; the TLS redirect of settings_production is
    left out because the load is plain HTTP on loopback.
    """
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    env["DEBUG"] = "false"
    env.setdefault("DB_CONN_MAX_AGE", "60")
    env.setdefault("LOG_LEVEL", "WARNING")
    env.update(extra or {})
    return env


@contextlib.contextmanager
def gunicorn_server(
    *,
    workers: int = 2,
    threads: int = 1,
    env: dict | None = None,
    timeout: float = 30,
    app: str = "config.wsgi",
) -> Iterator[str]:
    """Start `gunicorn config.wsgi` (or `app`, e.g. bench.reference_wsgi) on a free
    loopback port; yield its base URL.

    The server uses the same database as the benchmark process (DATABASE_URL set by
    bench/run.py). It is stopped (SIGTERM, then SIGKILL) when the block ends.
    """
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with tempfile.NamedTemporaryFile("w+", prefix="bench-gunicorn-", suffix=".log") as log:
        log_path = Path(log.name)
        process = subprocess.Popen(
            [
                str(VENV_BIN / "gunicorn"),
                app,
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "--threads",
                str(threads),
                "--timeout",
                "60",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=bench_env(env),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            _wait_for_health(base_url, process, log_path, timeout)
            yield base_url
        except BaseException:
            # What the server said (a 500's traceback) goes with the failure's report.
            sys.stderr.write(f"--- gunicorn's log, its end ---\n{log_path.read_text()[-6000:]}\n")
            raise
        finally:
            _stop(process)


@contextlib.contextmanager
def celery_worker(*, concurrency: int = 2, env: dict | None = None) -> Iterator[None]:
    """A real Celery worker on this run's Redis, for benchmarks that time jobs."""
    with tempfile.NamedTemporaryFile("w+", prefix="bench-worker-", suffix=".log") as log:
        process = subprocess.Popen(
            [
                str(VENV_BIN / "celery"),
                "-A",
                "config",
                "worker",
                "--loglevel",
                "WARNING",
                "--concurrency",
                str(concurrency),
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            env=bench_env({"USE_CELERY_WORKER": "true", **(env or {})}),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            time.sleep(2)  # connects to the broker; tasks sent meanwhile wait in Redis
            if process.poll() is not None:
                raise RuntimeError(f"celery worker exited:\n{Path(log.name).read_text()[-3000:]}")
            yield
        finally:
            _stop(process)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# --- Load --------------------------------------------------------------------------


@dataclass
class LoadResult:
    clients: int
    requests: int
    errors: int
    seconds: float
    latencies: list[float] = field(repr=False)
    statuses: Counter = field(default_factory=Counter)
    error_samples: list[str] = field(default_factory=list, repr=False)

    @property
    def throughput(self) -> float:
        """Completed requests per second (errors included: they used the server too)."""
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        """Latency in milliseconds at percentile p (0-100), nearest rank."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        rank = max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))
        return ordered[rank] * 1000

    @property
    def p50(self) -> float:
        return self.percentile(50)

    @property
    def p95(self) -> float:
        return self.percentile(95)

    @property
    def p99(self) -> float:
        return self.percentile(99)

    @property
    def mean_ms(self) -> float:
        return statistics.fmean(self.latencies) * 1000 if self.latencies else float("nan")


def http_load(
    *,
    url: str,
    clients: int,
    requests_per_client: int | None = None,
    duration: float | None = None,
    method: str = "GET",
    body_factory: Callable[[int, int], bytes | str | dict | list] | None = None,
    headers: dict | None = None,
    ok_status: Callable[[int], bool] = lambda status: 200 <= status < 400,
    warmup: int = 0,
    timeout: float = 30,
) -> LoadResult:
    """Hit `url` from `clients` threads, each with its own keep-alive connection.

    Bounded: each client sends `requests_per_client` requests, or keeps going until
    `duration` seconds have passed (at least one of the two). `body_factory(client,
    n)` returns the body of request n of a client (a dict/list is sent as JSON).
    `warmup` requests per client are sent first and not counted.
    """
    if requests_per_client is None and duration is None:
        raise ValueError("give requests_per_client or duration, so the load is bounded")
    if clients < 1:
        raise ValueError("clients must be at least 1")
    parts = urllib.parse.urlsplit(url)
    if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError("benchmark load only goes to loopback")
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    base_headers = {"Accept": "application/json", **(headers or {})}

    lock = threading.Lock()
    latencies: list[float] = []
    statuses: Counter = Counter()
    errors = 0
    samples: list[str] = []
    start_gate = threading.Barrier(clients + 1)

    def one(conn: http.client.HTTPConnection, client: int, n: int) -> tuple[int | None, str]:
        body = body_factory(client, n) if body_factory else None
        send_headers = dict(base_headers)
        if isinstance(body, dict | list):
            body = json.dumps(body)
            send_headers.setdefault("Content-Type", "application/json")
        if isinstance(body, str):
            body = body.encode()
        try:
            conn.request(method, target, body=body, headers=send_headers)
            response = conn.getresponse()
            payload = response.read()
            return response.status, payload[:200].decode(errors="replace")
        except (OSError, http.client.HTTPException) as exc:
            conn.close()  # reconnects on the next request
            return None, repr(exc)

    def worker(client: int):
        nonlocal errors
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
        for n in range(warmup):
            one(conn, client, -1 - n)
        mine: list[float] = []
        my_statuses: Counter = Counter()
        my_errors = 0
        my_samples: list[str] = []
        start_gate.wait()
        deadline = time.perf_counter() + duration if duration is not None else None
        n = 0
        while True:
            if requests_per_client is not None and n >= requests_per_client:
                break
            if deadline is not None and time.perf_counter() >= deadline:
                break
            began = time.perf_counter()
            status, text = one(conn, client, n)
            mine.append(time.perf_counter() - began)
            my_statuses[status if status is not None else "exception"] += 1
            if status is None or not ok_status(status):
                my_errors += 1
                if len(my_samples) < 3:
                    my_samples.append(f"{status}: {text}")
            n += 1
        conn.close()
        with lock:
            latencies.extend(mine)
            statuses.update(my_statuses)
            errors += my_errors
            samples.extend(my_samples)

    threads = [threading.Thread(target=worker, args=(c,), daemon=True) for c in range(clients)]
    for thread in threads:
        thread.start()
    start_gate.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    return LoadResult(
        clients=clients,
        requests=len(latencies),
        errors=errors,
        seconds=seconds,
        latencies=latencies,
        statuses=statuses,
        error_samples=samples[:5],
    )


# --- Data helpers --------------------------------------------------------------------


def bench_staff(*, username: str, role: str, sites=()):
    """A staff account for load (created once per run through the real service)."""
    from org.models import User
    from org.services import staff_create

    user = User.objects.filter(username=username).first()
    if user is None:
        user = staff_create(
            username=username,
            password="bench-password-not-secret",
            role=role,
            sites=sites,
            is_superuser=False,
        )
    return user


def api_token_for(username: str) -> str:
    """A DRF token for an existing staff account: send it as `Authorization: Token <key>`."""
    from rest_framework.authtoken.models import Token

    from org.models import User

    token, _ = Token.objects.get_or_create(user=User.objects.get(username=username))
    return token.key


def token_headers(username: str) -> dict:
    return {"Authorization": f"Token {api_token_for(username)}"}


def timed(fn: Callable, *args, repeat: int = 1, **kwargs) -> tuple[object, float]:
    """Run fn(*args, **kwargs) `repeat` times; return (last result, median seconds)."""
    durations = []
    value = None
    for _ in range(max(1, repeat)):
        began = time.perf_counter()
        value = fn(*args, **kwargs)
        durations.append(time.perf_counter() - began)
    return value, statistics.median(durations)
