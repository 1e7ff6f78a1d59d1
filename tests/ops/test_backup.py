"""Backups a small program can trust (issue 15, item 9): the nightly job's dump restores
into a fresh database, as docs/operations.md says, with the ledger reconciled and a
month's funder figures unchanged."""

import contextlib
import os
import subprocess
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from inventory.models import StockMovement
from inventory.selectors import balance_drift
from org.backups import backup_create, backups_prune
from org.tasks import backup_database
from reports.metrics import compute_figures
from reports.periods import Period
from ssp.services import visit_record, visit_void

from ..support.intake import item_line, kit_line, new_uuid


@contextlib.contextmanager
def connected_to(database: str):
    """The app's own connection, pointed at another database until the block ends."""
    original = connection.settings_dict["NAME"]
    connection.close()
    connection.settings_dict["NAME"] = database
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["NAME"] = original


def pg(*command: str) -> None:
    db = connection.settings_dict
    args = [f"--host={db['HOST']}", f"--port={db['PORT']}", f"--username={db['USER']}"]
    env = {**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""}
    subprocess.run([command[0], *args, *command[1:]], check=True, env=env, capture_output=True)


@pytest.fixture
def restore_target(transactional_db):
    name = f"{connection.settings_dict['NAME']}_restored"[:63]
    pg("dropdb", "--if-exists", name)
    pg("createdb", name)
    yield name
    pg("dropdb", "--if-exists", name)


@pytest.fixture
def a_month_of_visits(front_desk_ana, manager_sam, site_a, stocked, supplies):
    syringe = supplies["syringe"]
    for code in ("MAKO1993F", "JOSA1988M", "MAKO1993F"):
        visit_record(
            site=site_a,
            by=front_desk_ana,
            client_uuid=new_uuid(),
            code=code,
            lines=[item_line(syringe, 20)],
            syringes_collected=15,
        )
    voided, _ = visit_record(
        site=site_a, by=front_desk_ana, client_uuid=new_uuid(), lines=[item_line(syringe, 7)]
    )
    visit_void(visit=voided, by=manager_sam, reason="Entered twice")


@pytest.mark.postgres
def test_a_backup_restores_into_a_fresh_database_reconciled_with_the_same_figures(
    a_month_of_visits, restore_target, tmp_path, today, injection_kit, front_desk_ana, site_a
):
    visit_record(
        site=site_a, by=front_desk_ana, client_uuid=new_uuid(), lines=[kit_line(injection_kit)]
    )
    month = Period.month(today.year, today.month)
    before = compute_figures(period=month)
    movements = StockMovement.objects.count()
    assert balance_drift() == []

    dump = backup_create(directory=tmp_path)
    assert dump.suffix == ".dump" and dump.stat().st_size > 0
    assert not list(tmp_path.glob("*.partial"))

    # The restore of docs/operations.md, step by step.
    pg(
        "pg_restore",
        "--no-owner",
        "--no-privileges",
        "--exit-on-error",
        f"--dbname={restore_target}",
        str(dump),
    )

    with connected_to(restore_target):
        assert StockMovement.objects.count() == movements
        assert balance_drift() == []
        assert compute_figures(period=month) == before
        # The restored ledger keeps its append-only trigger.
        with pytest.raises(IntegrityError), transaction.atomic():
            StockMovement.objects.update(quantity=1)
    # Four live visits (the voided one left out), two unique participants: real figures.
    assert before["values"]["TOTAL"]["visits"] == 4
    assert before["values"]["TOTAL"]["unique_participants"] == 2


def test_backups_older_than_the_retention_go_and_the_newest_always_stays(tmp_path, settings):
    settings.SSP_BACKUP_KEEP_DAYS = 14
    now = timezone.now().timestamp()
    ages = {"ssp-old.dump": 20, "ssp-recent.dump": 3, "ssp-older.dump": 30}
    for name, days in ages.items():
        path = tmp_path / name
        path.write_bytes(b"x")
        os.utime(path, (now - days * 86400, now - days * 86400))
    (tmp_path / "notes.txt").write_text("not a backup")

    removed = backups_prune(directory=tmp_path)

    assert sorted(p.name for p in removed) == ["ssp-old.dump", "ssp-older.dump"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "ssp-recent.dump"]

    for path in tmp_path.glob("ssp-*"):
        old = now - timedelta(days=90).total_seconds()
        os.utime(path, (old, old))
    assert backups_prune(directory=tmp_path) == []  # the only backup left stays


@pytest.mark.django_db(transaction=True)
def test_the_nightly_job_writes_a_backup_into_the_backup_folder(tmp_path, settings, site_a):
    settings.SSP_BACKUP_DIR = tmp_path
    # Run as the worker runs it (a plain call: no broker in the test run).
    result = backup_database.apply().result
    assert (tmp_path / result["backup"]).stat().st_size == result["bytes"] > 0
