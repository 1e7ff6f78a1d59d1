"""What `make run` promises: the demo accounts log in and each sees its own menu,
served by the Procfile's web process (gunicorn) as `make run` starts it."""

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import RequestFactory

from bench.common import free_port
from org import demo
from org.context_processors import navigation
from org.models import User
from referrals.defaults import default_types_ensure
from referrals.models import ReferralType

from ..support.walk import log_out

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def migrated_data():
    """The rows data migrations seed (referral types), as `migrate` leaves a new database:
    a transactional test's flush removes them, and the demo data needs them."""
    default_types_ensure(ReferralType)


def expected_menu(username: str) -> list[str]:
    """The labels the navigation grants this account (each app's navigation.py)."""
    request = RequestFactory().get("/")
    request.user = User.objects.get(username=username)
    return [entry.label for entry in navigation(request)["nav_items"]]


def log_in_and_read_menu(page, base_url: str, username: str) -> tuple[list[str], str]:
    # One phone handed from person to person: each logs out from the menu. (Clearing the
    # cookies instead would race the page's background requests, whose answers set the
    # previous person's session cookie again.)
    if page.locator("form.logout-form").count():
        log_out(page)
    page.goto(f"{base_url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", demo.DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)
    menu = page.locator("nav[aria-label=Main] a").all_inner_texts()
    return [label.split("\n")[0].strip() for label in menu], page.locator(".who").inner_text()


def check_every_demo_account(page, base_url: str) -> None:
    menus = {}
    for username, role, _sites in demo.DEMO_STAFF:
        menu, who = log_in_and_read_menu(page, base_url, username)
        assert username in who and role in who
        # Labels without their badge counts (overdue referrals differ by who asks).
        labels = [label.rstrip("0123456789 ") for label in menu]
        assert labels == expected_menu(username)
        assert "Home" in labels
        menus[username] = labels
    # Roles differ: only the admin browses the audit trail; front desk sees the least.
    assert [u for u, menu in menus.items() if "Audit trail" in menu] == ["admin"]
    assert set(menus["frontdesk"]) < set(menus["admin"])
    assert set(menus["frontdesk"]) <= set(menus["manager"])


def test_every_demo_account_logs_in_and_sees_its_roles_menu(page, live_server, migrated_data):
    # A month of visits: the menus are the same as after a year, in a fraction of the time.
    call_command("seed_demo", "--if-empty", "--days", "30", stdout=open(os.devnull, "w"))  # noqa: SIM115
    check_every_demo_account(page, live_server.url)


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.mark.postgres
@pytest.mark.usefixtures("one_production_server_at_a_time")
def test_the_procfile_web_process_serves_the_demo_accounts(
    page, migrated_data, production_password_hashing
):
    # A month of visits: the menus are the same as after a year, in a fraction of the time.
    call_command("seed_demo", "--if-empty", "--days", "30", stdout=open(os.devnull, "w"))  # noqa: SIM115
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),  # the test database, committed data only
        "BIND": f"127.0.0.1:{port}",
        "DEBUG": "false",
        "USE_CELERY_WORKER": "false",  # as `make run` without Redis: web only
        "PATH": f"{VENV_BIN}:{os.environ['PATH']}",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    # `make run` collects static files before starting honcho; so does this test.
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    server = subprocess.Popen(
        [str(VENV_BIN / "honcho"), "start", "web"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{base_url}/login/", timeout=2) as response:
                    assert response.status == 200
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    output = server.stdout.read().decode(errors="replace") if server.stdout else ""
                    pytest.fail(f"honcho start web did not serve /login/:\n{output[-3000:]}")
                time.sleep(0.3)
        check_every_demo_account(page, base_url)
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=20)
