"""docker-compose.yml, the Dockerfile and the Procfile describe one deployment.

No container engine is needed: the files are read and checked against each other, and
the image's build-time step (collectstatic with no database or Redis) is run for real.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from honcho.environ import parse_procfile

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = {"web": "web", "worker": "worker", "beat": "beat"}


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def procfile():
    return parse_procfile((ROOT / "Procfile").read_text()).processes


def _settings_variables() -> set[str]:
    names = set()
    for path in (ROOT / "config").glob("settings*.py"):
        names |= set(re.findall(r"\benv(?:\.\w+)?\(\s*\"([A-Z0-9_]+)\"", path.read_text()))
    return names


def test_compose_has_database_redis_migrate_and_the_three_processes(compose):
    assert set(compose["services"]) == {"db", "redis", "migrate", "web", "worker", "beat"}
    assert compose["services"]["db"]["image"].split(":")[1].startswith("15")
    assert compose["services"]["redis"]["image"].split(":")[1].startswith("7")


def test_each_app_service_runs_its_procfile_process_through_honcho(compose, procfile):
    for service, process in APP_SERVICES.items():
        assert compose["services"][service]["command"] == ["honcho", "start", process]
        assert process in procfile, f"{process} is not in the Procfile"


def test_make_run_starts_the_same_procfile_processes(procfile):
    makefile = (ROOT / "Makefile").read_text()
    assert "honcho start $(PROCESSES)" in makefile
    processes = re.search(r"^PROCESSES := .*,(.*),web\)$", makefile, re.M).group(1).split()
    assert set(processes) == set(APP_SERVICES.values())
    assert set(processes) <= set(procfile)


def test_services_have_health_checks(compose):
    services = compose["services"]
    assert "pg_isready" in " ".join(services["db"]["healthcheck"]["test"])
    assert services["redis"]["healthcheck"]["test"][-2:] == ["redis-cli", "ping"]
    assert "/healthz" in " ".join(services["web"]["healthcheck"]["test"])
    assert "inspect ping" in " ".join(services["worker"]["healthcheck"]["test"])


def test_app_services_wait_for_healthy_services_and_a_finished_migration(compose):
    for service in APP_SERVICES:
        depends = compose["services"][service]["depends_on"]
        assert depends["db"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"
        assert depends["migrate"]["condition"] == "service_completed_successfully"
    migrate = compose["services"]["migrate"]
    assert "manage.py migrate --noinput" in " ".join(migrate["command"])
    assert migrate["restart"] == "no"
    assert "migrate" not in migrate["depends_on"]


def test_demo_accounts_are_only_created_when_asked_for(compose):
    # Demo users share a published password: never by default in a deployment.
    assert compose["services"]["migrate"]["environment"]["SEED_DEMO"] == "${SEED_DEMO:-false}"


def test_compose_environment_names_only_settings_the_app_reads(compose):
    read = _settings_variables()
    # Read by the Procfile, Django/Celery themselves, or the migrate step instead.
    outside_settings = {
        "DJANGO_SETTINGS_MODULE",
        "BIND",
        "WEB_CONCURRENCY",
        "WORKER_CONCURRENCY",
        "SEED_DEMO",
    }
    for service in (*APP_SERVICES, "migrate"):
        environment = compose["services"][service]["environment"]
        unknown = set(environment) - read - outside_settings
        assert not unknown, f"{service} sets variables no setting reads: {unknown}"
        for required in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "ALLOWED_HOSTS"):
            assert required in environment
        assert environment["SECRET_KEY"].startswith("${SECRET_KEY:?"), "no default secret"
        assert environment["DATABASE_URL"].startswith("postgres://")
        assert environment["REDIS_URL"].startswith("redis://redis:6379/")


def test_data_and_media_live_on_volumes(compose):
    assert "pgdata:/var/lib/postgresql/data" in compose["services"]["db"]["volumes"]
    for service in APP_SERVICES:
        assert "media:/app/var/media" in compose["services"][service]["volumes"]
    assert {"pgdata", "media"} <= set(compose["volumes"])


def test_the_web_process_binds_where_the_port_is_published(compose, procfile):
    web = compose["services"]["web"]
    assert web["environment"]["BIND"] == "0.0.0.0:8000"
    assert web["ports"][0].endswith(":8000")
    assert "${BIND:-127.0.0.1:8000}" in procfile["web"]


def test_dockerfile_is_slim_non_root_and_collects_static_at_build():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim$", dockerfile, re.M)
    assert "pip install --require-hashes -r requirements.lock" in dockerfile
    assert "manage.py collectstatic --noinput" in dockerfile
    users = re.findall(r"^USER (\S+)$", dockerfile, re.M)
    assert users and users[-1] not in ("root", "0")
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", ".env", "var"} <= set(ignored)


def test_static_files_collect_without_database_or_redis(tmp_path):
    """The image's build step, for real: every vendored asset survives hashing."""
    env = {
        **os.environ,
        "SECRET_KEY": "collectstatic-only",
        "USE_CELERY_WORKER": "false",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'none.sqlite3'}",
        "REDIS_URL": "redis://127.0.0.1:1/0",
    }
    script = (
        "import django, sys; from django.conf import settings; django.setup();"
        f"settings.STATIC_ROOT = {str(tmp_path / 'static')!r};"
        "from django.core.management import call_command;"
        "call_command('collectstatic', interactive=False, verbosity=0)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "static" / "staticfiles.json").exists()
