"""Faults with real services: PostgreSQL restarted, Redis stopped, a worker killed.

Every service a test breaks is its own: a private `redis-server` and a private
PostgreSQL cluster (initdb + pg_ctl) on free loopback ports, and gunicorn and Celery
workers started as subprocesses. Nothing shared is stopped, so these run everywhere,
CI included, next to other tests. They take a lock (`one_production_server_at_a_time`,
in conftest.py) so two never run at once on the xdist workers.
"""

import contextlib
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import date, timedelta
from http.cookiejar import CookieJar
from pathlib import Path

import pytest
from django.db import connection

from bench.common import free_port, gunicorn_server
from inventory.models import StockMovement
from outbox.models import OutboxJob
from reports.models import ReportSnapshot, ReportStatus
from ssp.models import Visit

from ..factories import PASSWORD
from ..support.alerts import below_reorder, stock_dropping_below_reorder_point
from ..support.intake import on_hand
from ..support.services import require_service

pytestmark = [pytest.mark.usefixtures("one_production_server_at_a_time")]

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
CELERY = str(Path(sys.executable).parent / "celery")


def eventually(predicate, what: str, seconds: float = 30.0, every: float = 0.2):
    """Poll until predicate() is true; fail after `seconds`. Returns the elapsed time."""
    began = time.monotonic()
    while time.monotonic() - began < seconds:
        if predicate():
            return time.monotonic() - began
        time.sleep(every)
    pytest.fail(f"not within {seconds:.0f}s: {what}")


def timings(test: str, *, began: float, **seconds: float) -> None:
    """Print how long the phases of a fault test took (shown with `pytest -s`)."""
    parts = [f"{name.replace('_', ' ')} {value:.1f}s" for name, value in seconds.items()]
    parts.append(f"total {time.monotonic() - began:.1f}s")
    print(f"\n[faults] {test}: " + ", ".join(parts))


def _stop_group(process: subprocess.Popen, sig=signal.SIGTERM, wait: float = 15) -> None:
    """Stop a subprocess started in its own session, children included."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=wait)
    # Children of a killed leader may linger a moment; make sure none survive the test.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


# --- HTTP ------------------------------------------------------------------------


def call(url: str, *, token=None, body=None, opener=None, timeout: float = 15):
    """One request to the app under test: (status, headers, parsed JSON or text)."""
    assert urllib.parse.urlsplit(url).hostname == "127.0.0.1"
    request = urllib.request.Request(url, method="POST" if body is not None else "GET")
    request.add_header("Accept", "application/json")
    if token:
        request.add_header("Authorization", f"Token {token}")
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        request.add_header("Content-Type", "application/json")
    try:
        response = (opener or urllib.request.build_opener()).open(request, data, timeout=timeout)
    except urllib.error.HTTPError as error:
        response = error
    with response:
        raw = response.read()
        kind = response.headers.get("Content-Type", "")
        payload = json.loads(raw or b"{}") if "json" in kind else raw.decode(errors="replace")
        return response.status, response.headers, payload


def status_of(url: str, **kwargs) -> int | None:
    try:
        return call(url, timeout=5, **kwargs)[0]
    except OSError:
        return None


def browser_session(base_url: str, username: str):
    """A cookie-keeping opener logged in through the real login form."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    form = opener.open(f"{base_url}/login/", timeout=15).read().decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    fields = {"csrfmiddlewaretoken": csrf, "username": username, "password": PASSWORD}
    request = urllib.request.Request(
        f"{base_url}/login/",
        data=urllib.parse.urlencode(fields).encode(),
        headers={"Referer": f"{base_url}/login/"},
    )
    with opener.open(request, timeout=15) as response:
        assert "/login/" not in response.url, "login failed"
    return opener


# --- Private Redis -------------------------------------------------------------


class PrivateRedis:
    """A redis-server of this test alone, without persistence, that can be stopped and
    started again on the same port."""

    def __init__(self, workdir: Path):
        require_service("redis-server", shutil.which("redis-server") is not None)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.workdir = workdir
        self.process: subprocess.Popen | None = None

    def client(self):
        import redis

        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=2)

    def answers(self) -> bool:
        import redis

        try:
            return bool(self.client().ping())
        except redis.RedisError:
            return False

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--daemonize", "no"),
                *("--dir", str(self.workdir)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        eventually(self.answers, f"private redis on port {self.port} answers", seconds=15)

    def stop(self, sig=signal.SIGTERM) -> None:
        if self.process is not None:
            _stop_group(self.process, sig)
            self.process = None
        assert not self.answers()


@pytest.fixture
def private_redis(tmp_path):
    server = PrivateRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop(signal.SIGKILL)


# --- Private PostgreSQL --------------------------------------------------------


def _pg_bin(name: str) -> str:
    found = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda path: int(Path(path).parts[4]) if Path(path).parts[4].isdigit() else 0,
    )
    require_service(f"PostgreSQL server binaries ({name})", bool(found))
    return found[-1]


class PrivateCluster:
    """A throw-away PostgreSQL cluster (trust auth, loopback, a free port) that a test
    may stop and start. initdb refuses root, so the binaries run as `postgres` then."""

    def __init__(self):
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="ssp-faults-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "server.log"
        if os.geteuid() == 0:
            import pwd

            owner = pwd.getpwnam("postgres")
            os.chown(self.dir, owner.pw_uid, owner.pw_gid)

    def _run(self, *args: str, timeout: float = 60) -> None:
        command = list(args)
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            log = self.log.read_text()[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{' '.join(args)} failed:\n{done.stdout}{done.stderr}\n{log}")

    def init(self) -> None:
        self._run(
            _pg_bin("initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
            "-E", "UTF8", "--no-sync", "--no-instructions",
        )  # fmt: skip

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            _pg_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options,
            "-w", "-t", "60", "start",
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')

    def destroy(self) -> None:
        with contextlib.suppress(Exception):
            self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def private_postgres():
    cluster = PrivateCluster()
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()


# --- The app as subprocesses ------------------------------------------------------


def pytest_database_url() -> str:
    """The pytest-django test database, for subprocesses (web, worker) to share."""
    s = connection.settings_dict
    password = f":{urllib.parse.quote(s['PASSWORD'])}" if s.get("PASSWORD") else ""
    host = s.get("HOST") or "127.0.0.1"
    return f"postgres://{s['USER']}{password}@{host}:{s.get('PORT') or 5432}/{s['NAME']}"


def app_env(*, database_url: str, redis_url: str, media: Path, **extra: str) -> dict:
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "USE_CELERY_WORKER": "true",
        "MEDIA_ROOT": str(media),
        "DEBUG": "false",
        **extra,
    }


def manage(*args: str, env: dict, timeout: float = 300) -> str:
    done = subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, f"manage.py {args[0]} failed:\n{done.stdout}{done.stderr}"
    return done.stdout


@contextlib.contextmanager
def celery_worker_process(*, app: str, env: dict, log: Path):
    """`celery -A <app> worker`, one prefork child, in its own process group."""
    with log.open("ab") as out:
        process = subprocess.Popen(
            [
                *(CELERY, "-A", app, "worker", "--pool", "prefork", "--concurrency", "1"),
                *("--loglevel", "INFO", "--without-gossip", "--without-mingle"),
                *("--without-heartbeat", "--hostname", f"fault-{uuid.uuid4().hex[:8]}@%h"),
            ],
            cwd=ROOT,
            env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        eventually(
            lambda: process.poll() is not None or " ready." in log.read_text(),
            f"celery worker ready ({log})",
            seconds=60,
        )
        assert process.poll() is None, f"worker exited:\n{log.read_text()[-3000:]}"
        yield process
    finally:
        _stop_group(process)


# --- PostgreSQL restarted ----------------------------------------------------------

SET_UP_STAFF = """
from rest_framework.authtoken.models import Token
from org import roles
from org.models import Site
from org.services import staff_create
site = Site.objects.create(name="Downtown drop-in", code="DTWN", service_model="fixed")
ana = staff_create(username="ana", password="{password}", role=roles.FRONT_DESK, sites=[site])
print(Token.objects.create(user=ana).key)
"""


@pytest.mark.postgres
def test_postgres_restart_gives_clean_503s_then_service_resumes(private_postgres, tmp_path):
    began = time.monotonic()
    private_postgres.create_database("ssp_faults")
    env = {
        "DATABASE_URL": private_postgres.url("ssp_faults"),
        "USE_CELERY_WORKER": "false",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "DEBUG": "false",
    }
    manage("migrate", "--noinput", env=env)
    token = manage("shell", "-c", SET_UP_STAFF.format(password=PASSWORD), env=env).split()[-1]
    set_up = time.monotonic() - began

    # Persistent connections (compose's DB_CONN_MAX_AGE=60) are the harder case: each
    # gunicorn thread holds one that the restart kills.
    with gunicorn_server(workers=1, threads=2, env={**env, "DB_CONN_MAX_AGE": "60"}) as base:
        api = f"{base}/api/v1/sites/"
        assert call(api, token=token)[0] == 200
        staff = browser_session(base, "ana")
        assert call(f"{base}/", opener=staff)[0] == 200

        private_postgres.stop("fast")
        outage_began = time.monotonic()
        try:
            status, headers, body = call(api, token=token)
            assert (status, body["code"]) == (503, "service_unavailable"), body
            assert body["detail"].startswith("The database is unavailable")
            assert body["errors"] == {} and headers["Retry-After"] == "5"

            status, headers, page = call(f"{base}/", opener=staff)
            assert status == 503 and headers["Content-Type"].startswith("text/html")
            assert "The database is unavailable for a moment" in page
            assert "Traceback" not in page

            status, _, health = call(f"{base}/healthz")
            assert (status, health["database"]) == (503, "down")
        finally:
            private_postgres.start()
        outage = time.monotonic() - outage_began

        # No restart of gunicorn: the next requests reconnect by themselves.
        recovered = eventually(lambda: status_of(api, token=token) == 200, "API answers again")
        assert call(f"{base}/", opener=staff)[0] == 200  # the session survived the restart
        assert call(f"{base}/healthz")[0] == 200
    timings("postgres", set_up=set_up, outage=outage, recovered=recovered, began=began)


# --- Redis stopped while visits are logged ---------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_visits_logged_while_redis_is_down_are_saved_and_their_jobs_run_when_it_returns(
    private_redis, tmp_path, front_desk_ana, manager_sam, site_a, downtown, syringe, fund
):
    from rest_framework.authtoken.models import Token

    began = time.monotonic()
    # 15 on hand after the three visits against a reorder point of 43: one alert due.
    quantity = stock_dropping_below_reorder_point(downtown, syringe, by=manager_sam, fund=fund)
    assert OutboxJob.objects.filter(dispatched_at__isnull=True).count() == 0
    jobs_before = OutboxJob.objects.count()  # the set-up's own checks, already run
    token = Token.objects.create(user=front_desk_ana).key
    env = app_env(
        database_url=pytest_database_url(), redis_url=private_redis.url, media=tmp_path / "media"
    )

    def log_visit(units: int):
        body = {
            "client_uuid": str(uuid.uuid4()),
            "site": site_a.pk,
            "code": "MAKO1993F",
            "supplies": [{"item": syringe.code, "quantity": units}],
        }
        return call(f"{base}/api/v1/visits/", token=token, body=body)

    with gunicorn_server(workers=1, threads=2, env=env) as base:
        private_redis.stop()
        outage_began = time.monotonic()
        responses = [log_visit(quantity // 3) for _ in range(3)]
        visits_during_outage = time.monotonic() - outage_began

        assert [status for status, _, _ in responses] == [201, 201, 201], responses
        uuids = {body["uuid"] for _, _, body in responses}
        assert set(Visit.objects.values_list("uuid", flat=True).distinct()) == {
            uuid.UUID(u) for u in uuids
        }
        assert (
            StockMovement.objects.filter(reference__in=[f"visit:{u}" for u in uuids]).count() == 3
        )
        assert on_hand(downtown, syringe) == 100 - 40 - quantity
        pending = OutboxJob.objects.filter(dispatched_at__isnull=True).all  # a fresh query
        # One check for the three: the first visit marked the item due a re-check and
        # queued it; the next two found the mark and queued none. A visit is answered
        # before its job is published (after the response): wait until the publish has
        # given up on the missing broker.
        eventually(
            lambda: pending().exclude(last_error="").count() == 1,
            "the web process gave up publishing the visits' job",
            seconds=90,
        )
        assert pending().count() == 1
        assert {job.task_name for job in pending()} == {"inventory.tasks.alerts_check"}
        assert all(job.attempts == 1 and job.last_error for job in pending())
        assert not below_reorder(downtown, syringe).exists()  # nothing has run yet

        private_redis.start()
        with celery_worker_process(app="config", env=env, log=tmp_path / "worker.log"):
            relay_began = time.monotonic()
            assert "Sent 1 pending job(s)." in manage("relay_outbox", env=env)
            eventually(
                lambda: below_reorder(downtown, syringe).exists(),
                "alert raised by the relayed jobs",
            )
            caught_up = time.monotonic() - relay_began
            assert not pending().exists()
            assert below_reorder(downtown, syringe).count() == 1

            # Redis is back for the web process too: a new visit's job goes straight out.
            status, _, body = log_visit(1)
            assert status == 201, body
            eventually(lambda: not pending().exists(), "new visit's job sent without the relay")
        # The outage's check and the new visit's (the check had run: its mark was gone).
        assert OutboxJob.objects.count() == jobs_before + 2
    timings("redis", visits_during_outage=visits_during_outage, caught_up=caught_up, began=began)


# --- A worker killed in the middle of a report ------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_worker_killed_mid_report_then_restarted_builds_it_exactly_once(
    private_redis, tmp_path, coordinator_cleo, site_a
):
    from rest_framework.authtoken.models import Token

    began = time.monotonic()
    token = Token.objects.create(user=coordinator_cleo).key
    media = tmp_path / "media"
    # Short limits so the test waits seconds, not hours: a job not acknowledged goes
    # back to the queue after 12 s, and a report "running" for 10 s is stale.
    env = app_env(
        database_url=pytest_database_url(),
        redis_url=private_redis.url,
        media=media,
        CELERY_TASK_TIME_LIMIT="10",
        CELERY_VISIBILITY_TIMEOUT="12",
        FAULT_REPORT_PAUSE_SECONDS="6",
    )
    last_month = (date.today().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    broker = private_redis.client()

    with gunicorn_server(workers=1, threads=2, env=env) as base:
        with celery_worker_process(
            app="tests.ops.fault_worker", env=env, log=tmp_path / "killed-worker.log"
        ) as doomed:
            status, _, body = call(
                f"{base}/api/v1/reports/",
                token=token,
                body={"template": "program_monthly", "period": last_month},
            )
            assert status == 202, body
            snapshot = ReportSnapshot.objects.get(pk=body["id"])
            eventually(
                lambda: ReportSnapshot.objects.filter(
                    pk=snapshot.pk, status=ReportStatus.RUNNING, progress=10
                ).exists(),
                "the first worker started the build",
            )
            os.killpg(doomed.pid, signal.SIGKILL)
            doomed.wait(timeout=10)
        killed_at = time.monotonic()

        snapshot.refresh_from_db()
        assert (snapshot.status, snapshot.progress, snapshot.csv_file.name) == ("running", 10, "")
        assert broker.hlen("unacked") == 1  # the job was taken and never acknowledged
        assert not media.exists() or not any(media.rglob("*.*"))

        log = tmp_path / "worker.log"
        with celery_worker_process(app="config", env=env, log=log):
            eventually(
                lambda: ReportSnapshot.objects.filter(
                    pk=snapshot.pk, status=ReportStatus.READY
                ).exists(),
                "the restarted worker built the report",
                seconds=60,
            )
            rebuilt = time.monotonic() - killed_at
            # Acknowledged: nothing is left in Redis that could deliver it again.
            eventually(
                lambda: broker.hlen("unacked") == 0 and broker.llen("celery") == 0,
                "the job acknowledged",
            )

    snapshot.refresh_from_db()
    assert ReportSnapshot.objects.filter(template="program_monthly").count() == 1
    assert (snapshot.status, snapshot.progress, snapshot.version) == ("ready", 100, 1)
    assert snapshot.content_hash and snapshot.figures
    files = sorted(path.name for path in media.rglob("*.*"))
    assert files == sorted(
        [Path(snapshot.csv_file.name).name, Path(snapshot.xlsx_file.name).name]
    ), files
    assert (media / snapshot.csv_file.name).read_text().strip()
    built = re.findall(r"build_report\[[^\]]+\] succeeded in [^:]+: '(\w+)'", log.read_text())
    assert built == ["ready"], log.read_text()[-3000:]
    assert "succeeded" not in (tmp_path / "killed-worker.log").read_text()
    timings("worker kill", ready_after_kill=rebuilt, began=began)
