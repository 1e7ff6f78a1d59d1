"""Fixtures every app's tests share: personas by role, two sites, the stock the intake,
report and cross-cutting tests stand on, services, and a real browser.

Personas (healthchecks' alice/bob habit): front_desk_ana works at site A,
front_desk_ben at site B, outreach_olu works the Northside van and the street-outreach
team (the demo's outreach account), manager_sam manages site A, coordinator_cleo and
admin_ada are program-wide. Each app's own fixtures live in tests/<app>/conftest.py.
"""

import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest
from django.core.cache import cache
from django.db import connection
from django.utils import timezone, translation

from config.celery import app as celery_app
from inventory.models import Category
from inventory.services import alert_rechecks_claim
from org import roles
from org.models import ServiceModel

from .factories import (
    PASSWORD,
    FundingSourceFactory,
    ItemFactory,
    KitFactory,
    LocationFactory,
    SiteFactory,
    make_staff,
)
from .support import flush
from .support.intake import receive
from .support.services import require_service
from .support.walk import SCREENSHOTS

# Playwright's sync API runs an event loop in the test thread; Django's ORM calls
# from that thread are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
MD5_HASHER = "django.contrib.auth.hashers.MD5PasswordHasher"


def pytest_configure(config):
    from django.conf import settings

    # Tests run without collectstatic: serve from the app folders, unhashed.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # Production's PBKDF2 costs half a second a password, and nearly every test makes
    # staff. Tests hash with MD5 (still verifying PBKDF2); a test whose users log in to a
    # server in another process uses `production_password_hashing`.
    settings.PASSWORD_HASHERS = [MD5_HASHER, *settings.PASSWORD_HASHERS]
    # Each test starts with an empty cache (_fresh_cache): a process's own memory, never
    # the shared Redis that is also the broker (clearing it would drop queued jobs of a
    # parallel test run). tests/ssp/test_lookup_rate_shared.py tests the shared caches.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # A transactional test ends with DELETEs of the rows it wrote, not a TRUNCATE of every
    # table (a second a test on PostgreSQL): the same empty tables (tests/support/flush.py).
    flush.install()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test database; on PostgreSQL its commits do not wait for the disk.

    `synchronous_commit = off` for the test database (every session: the tests', the live
    server's, and those of the gunicorn, Celery and `manage.py` subprocesses some tests
    start): a commit returns before its WAL reaches the disk. Nothing a test sees changes
    (visibility, locks and constraints are the same); only a crash of the server could
    lose the last commits, and the tests that stop a PostgreSQL server stop a private one.
    A transactional test commits often (and the seeds inside them, thousands of times)."""
    if connection.vendor == "postgresql":
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            name = connection.ops.quote_name(connection.settings_dict["NAME"])
            cursor.execute(f"ALTER DATABASE {name} SET synchronous_commit = off")
        connection.close()  # the next session reads the database's setting
    yield


@pytest.fixture
def production_password_hashing(settings):
    """Hash passwords as the app's own processes do, for users a subprocess logs in."""
    settings.PASSWORD_HASHERS = [h for h in settings.PASSWORD_HASHERS if h != MD5_HASHER]


@pytest.fixture(autouse=True)
def _services_for_markers(request):
    if request.node.get_closest_marker("postgres"):
        require_service("PostgreSQL", connection.vendor == "postgresql")
    if request.node.get_closest_marker("browser"):
        require_service("Debian chromium", Path(CHROMIUM).exists())


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counts (SSP_LOOKUP_RATE) live in the cache; each test starts at zero."""
    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _default_language():
    """Django keeps a thread's last language after a request (LocaleMiddleware activates,
    nothing resets): each test starts in the default one, so a Spanish page in one test
    does not translate the messages a later test reads from a service."""
    translation.deactivate()  # gettext falls back to settings.LANGUAGE_CODE
    yield
    translation.deactivate()


@pytest.fixture(autouse=True, scope="session")
def _jobs_run_in_process():
    """Jobs run in-process unless a test asks for the real worker (celery_worker marker)."""
    celery_app.conf.task_always_eager = True
    yield


@pytest.fixture
def memory_tmp_path(tmp_path):
    """A fresh folder in memory (tmpfs, /dev/shm) when the machine has one, else tmp_path.

    For a SQLite file that a subprocess writes thousands of commits to (a one-year seed,
    the figure tests' migrations): on disk each commit waits for an fsync, seconds in all
    when other tests write too; in memory the same SQL runs without the wait. The data,
    and what the test checks of it, are the same."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path
        return
    folder = Path(tempfile.mkdtemp(prefix="ssp-test-", dir=shm))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def today():
    """The program's date, read when the test runs (never at import: a run may cross midnight)."""
    return timezone.localdate()


@pytest.fixture
def site_a(db):
    return SiteFactory(name="Downtown drop-in", code="DTWN")


@pytest.fixture
def site_b(db):
    return SiteFactory(name="Eastside clinic", code="EAST")


@pytest.fixture
def front_desk_ana(site_a):
    return make_staff("ana", roles.FRONT_DESK, [site_a])


@pytest.fixture
def front_desk_ben(site_b):
    return make_staff("ben", roles.FRONT_DESK, [site_b])


@pytest.fixture
def outreach_olu(db):
    van = SiteFactory(name="Northside van", code="VAN1", service_model=ServiceModel.MOBILE)
    street = SiteFactory(
        name="Street outreach team", code="OUTR", service_model=ServiceModel.OUTREACH
    )
    return make_staff("olu", roles.FRONT_DESK, [van, street])


@pytest.fixture
def manager_sam(site_a):
    return make_staff("sam", roles.MANAGER, [site_a])


@pytest.fixture
def coordinator_cleo(db):
    return make_staff("cleo", roles.COORDINATOR)


@pytest.fixture
def admin_ada(db):
    user = make_staff("ada", roles.ADMIN)
    user.is_staff = user.is_superuser = True
    user.save()
    return user


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def api_as(api_client):
    """api_as(user) -> an APIClient logged in as that user."""

    def login(user):
        api_client.force_authenticate(user)
        return api_client

    return login


# --- Stock ------------------------------------------------------------------------


@pytest.fixture
def storeroom(site_a):
    return LocationFactory(name="Downtown storeroom", kind="site", site=site_a)


@pytest.fixture
def eastside_storeroom(site_b):
    return LocationFactory(name="Eastside storeroom", kind="site", site=site_b)


@pytest.fixture
def supplies(db):
    """The items of a standard injection kit, plus naloxone."""
    return {
        "syringe": ItemFactory(name="Syringe 1 mL 28G ½in", code="syr-1ml-28g", category="syringe"),
        "pad": ItemFactory(name="Alcohol pad", code="alcohol-pad"),
        "cooker": ItemFactory(name="Cooker", code="cooker"),
        "water": ItemFactory(name="Sterile water 10 mL", code="water"),
        "naloxone": ItemFactory(
            name="Naloxone nasal 4 mg",
            code="nalox-nasal",
            category="naloxone",
            naloxone_formulation="nasal_4mg",
            naloxone_doses_per_unit=2,
        ),
    }


@pytest.fixture
def injection_kit(supplies):
    return KitFactory(
        name="Standard injection kit",
        code="std-kit",
        components=[(supplies["syringe"], 10), (supplies["pad"], 10), (supplies["cooker"], 2)],
    )


@pytest.fixture
def stocked(storeroom, supplies, injection_kit, manager_sam):
    """Site A's storeroom with 1,000 of each untracked item (naloxone is not received)."""
    receive(
        storeroom,
        {item: 1000 for key, item in supplies.items() if key != "naloxone"},
        manager_sam,
    )
    # Stock received earlier: its alert re-checks have run (a test that does not run its
    # on-commit jobs would otherwise leave the pairs marked, and its writes queue none).
    alert_rechecks_claim()
    return storeroom


# The stock-alert, inventory and fault tests' storeroom, fund and item. `downtown` is
# the same location as `storeroom`; `syringe` carries a pack size for the receipt tests.


@pytest.fixture
def downtown(site_a):
    return LocationFactory(name="Downtown storeroom", site=site_a)


@pytest.fixture
def fund(db):
    return FundingSourceFactory(name="State harm reduction grant", code="state")


@pytest.fixture
def syringe(db):
    item = ItemFactory(name="1 mL 28G syringe", code="s28", category=Category.SYRINGE)
    item.pack_sizes.create(name="box of 100", units=100)
    return item


# --- Browser ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium():
    if not Path(CHROMIUM).exists():
        require_service("Debian chromium", False)
    from playwright.sync_api import sync_playwright

    # Lets a test route (and so cut off) a service worker's own requests: set_offline
    # alone does not reach them (microsoft/playwright#2311). Read when the driver starts.
    os.environ.setdefault("PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS", "1")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, request, live_server):
    """A fresh browser page; a screenshot of its last state is saved per test."""
    context = chromium.new_context(
        viewport={"width": 1024, "height": 768}, base_url=live_server.url
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    SCREENSHOTS.mkdir(exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid.split("::")[-1])
    try:
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    finally:
        context.close()


@pytest.fixture
def browser_login():
    """browser_login(page, user): log in through the real login form."""

    def login(page, user, password=PASSWORD):
        page.goto("/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", password)
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/login/" not in url)
        return page

    return login


# --- Celery ----------------------------------------------------------------------


def _redis_answers() -> bool:
    import redis
    from django.conf import settings

    try:
        return bool(redis.Redis.from_url(settings.REDIS_URL, socket_timeout=0.5).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def celery_worker(transactional_db):
    """A real Celery worker (celery's test worker, in a thread) consuming from Redis.

    Tasks sent during the test go through the broker and run in the worker, with
    their own database connection, so they only see committed data.
    """
    require_service("Redis", _redis_answers())
    from celery.contrib.testing.worker import start_worker

    celery_app.conf.task_always_eager = False
    celery_app.control.purge()
    try:
        with start_worker(
            celery_app, pool="threads", concurrency=2, perform_ping_check=False, shutdown_timeout=20
        ) as worker:
            yield worker
    finally:
        celery_app.conf.task_always_eager = True
