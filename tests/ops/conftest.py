"""Fixtures of the cross-cutting proofs: the two-site world of the access matrix and
the audit coverage, and the world the browser walks (accessibility, Spanish) go through."""

import fcntl
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.test import override_settings

from org.models import ServiceModel
from referrals.defaults import default_types_ensure
from referrals.models import ReferralType

from ..factories import ParticipantFactory, VisitFactory
from ..support.module_data import module_transaction
from ..support.services import require_service
from ..support.world import two_sites

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def one_production_server_at_a_time(tmp_path_factory):
    """Tests that start the app as production runs it (gunicorn or honcho, DEBUG off;
    the fault tests with their private Redis, PostgreSQL and Celery, and their timed
    waits) take turns across the xdist workers: under `--dist worksteal` an xdist_group
    mark does not keep them apart, and two at once on two cores starve each other's
    waits. The lock file is in the run's shared temporary folder.

    The first to get the lock collects the static files: with DEBUG off a page needs
    collectstatic's manifest, which a fresh clone does not have yet (test_run's own
    collectstatic, as `make run` does it, runs inside its turn too, so no server of
    another test reads the manifest while it is rewritten)."""
    shared = tmp_path_factory.getbasetemp().parent
    with (shared / "production-servers.lock").open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        collected = shared / "static-collected"
        if not collected.exists():
            subprocess.run(
                [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
                cwd=ROOT,
                env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"},
                check=True,
            )
            collected.touch()
        yield


@pytest.fixture(scope="module")
def module_world(request, django_db_setup, django_db_blocker, tmp_path_factory):
    """`two_sites()` once per module, rolled back when the module is done.

    Each test's own transaction (pytest-django's `db`) nests inside this one as a
    savepoint, as Django's TestCase.setUpTestData does.
    """
    # Built before any test's own fixtures, so a PostgreSQL-only module is skipped here
    # (failed under CI) rather than erroring on SQLite's in-memory database.
    if request.node.get_closest_marker("postgres"):
        require_service("PostgreSQL", connection.vendor == "postgresql")
    media_root = tmp_path_factory.mktemp("reports")
    with module_transaction(django_db_blocker):
        world = two_sites(media_root)
        with override_settings(MEDIA_ROOT=media_root):
            yield world


@pytest.fixture
def walk_world(settings, tmp_path, outreach_olu):
    """Two sites' records (a visit, a referral, an alert, a count, built reports) and the
    demo's outreach account, with a visit on a street shift."""
    settings.MEDIA_ROOT = tmp_path
    # An earlier transactional test may have flushed the referral types migrate seeds.
    default_types_ensure(ReferralType)
    world = two_sites(tmp_path)
    world.people.outreach = outreach_olu
    VisitFactory(
        site=outreach_olu.sites.get(code="OUTR"),
        recorded_by=outreach_olu,
        participant=ParticipantFactory(code="JUPE1969M"),
        service_model=ServiceModel.OUTREACH,
    )
    return world
