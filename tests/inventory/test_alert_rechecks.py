"""Alert re-checks are coalesced: a write marks its (location, item) pairs due a
re-check and queues a job only for the pairs it marked newly; the check removes the
marks before it reads the stock, and the hourly scan removes them all."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from inventory import tasks
from inventory.models import AlertRecheck
from inventory.services import DispenseLine, alert_rechecks_claim, stock_dispense_in_transaction
from outbox.models import OutboxJob
from outbox.services import publish_countdown

from ..support.alerts import below_reorder, dispense, receive, stock_dropping_below_reorder_point

pytestmark = pytest.mark.django_db

CHECK = "inventory.tasks.alerts_check"


def checks_queued():
    return list(OutboxJob.objects.filter(task_name=CHECK).values_list("kwargs", flat=True))


def test_writes_while_a_check_is_queued_queue_no_other(downtown, syringe, fund, manager_sam):
    receive(downtown, syringe, 100, by=manager_sam, fund=fund)
    dispense(downtown, syringe, 1, by=manager_sam)
    dispense(downtown, syringe, 2, by=manager_sam)
    assert checks_queued() == [{"pairs": [[downtown.pk, syringe.pk]]}]
    assert AlertRecheck.objects.filter(location=downtown, item=syringe).count() == 1


def test_a_write_after_the_check_started_queues_the_next(downtown, syringe, fund, manager_sam):
    receive(downtown, syringe, 100, by=manager_sam, fund=fund)
    assert alert_rechecks_claim(pairs=[(downtown.pk, syringe.pk)]) == 1  # the check began
    dispense(downtown, syringe, 1, by=manager_sam)
    assert len(checks_queued()) == 2
    assert AlertRecheck.objects.filter(location=downtown, item=syringe).exists()


def test_only_the_newly_marked_pairs_are_queued(
    downtown, syringe, naloxone, fund, manager_sam, django_capture_on_commit_callbacks
):
    receive(downtown, syringe, 100, by=manager_sam, fund=fund)
    receive(downtown, naloxone, 10, by=manager_sam, fund=fund, **lot_of(naloxone))
    alert_rechecks_claim(pairs=[(downtown.pk, naloxone.pk)])
    OutboxJob.objects.all().delete()
    with transaction.atomic():
        stock_dispense_in_transaction(
            location=downtown,
            lines=[DispenseLine(item=syringe, quantity=1), DispenseLine(item=naloxone, quantity=1)],
            by=manager_sam,
            reference="event:both",
        )
    assert checks_queued() == [{"pairs": [[downtown.pk, naloxone.pk]]}]


def lot_of(item):
    if not item.is_lot_tracked:
        return {}
    return {"lot_number": "N1", "expires_on": timezone.localdate() + timedelta(days=300)}


def test_the_check_task_clears_the_marks_and_checks(downtown, syringe, fund, manager_sam):
    quantity = stock_dropping_below_reorder_point(downtown, syringe, by=manager_sam, fund=fund)
    dispense(downtown, syringe, quantity, by=manager_sam)
    job = checks_queued()[-1]  # the dispense's (the history's own are older)
    result = tasks.alerts_check.apply(kwargs=job).get()
    assert result["raised"] == 1
    assert below_reorder(downtown, syringe).count() == 1
    assert not AlertRecheck.objects.exists()
    # A second delivery finds no mark and checks again, which changes nothing.
    assert tasks.alerts_check.apply(kwargs=job).get()["raised"] == 0


def test_the_scan_clears_every_mark(downtown, syringe, fund, manager_sam):
    receive(downtown, syringe, 100, by=manager_sam, fund=fund)
    assert AlertRecheck.objects.exists()
    tasks.alerts_scan.apply(kwargs={"digest": False}).get()
    assert not AlertRecheck.objects.exists()


def test_the_check_runs_a_moment_after_the_write(settings):
    assert publish_countdown(tasks.alerts_check) == settings.SSP_ALERT_RECHECK_DELAY_SECONDS
    # Read when a job is published, not when the task module was imported.
    settings.SSP_ALERT_RECHECK_DELAY_SECONDS = 7
    assert publish_countdown(tasks.alerts_check) == 7


def _a_session_waits_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_check_waits_for_a_write_that_found_the_mark_and_then_sees_it(
    downtown, syringe, fund, manager_sam
):
    """The race: a write finds the pair marked (so queues nothing) while the check is
    removing the mark. The removal waits for that write to commit, and the check that
    follows it reads the write's stock."""
    receive(downtown, syringe, 100, by=manager_sam, fund=fund)  # its check ran in-process
    # A check is queued and has not started: the pair is marked.
    AlertRecheck.objects.create(location=downtown, item=syringe, marked_at=timezone.now())
    jobs = len(checks_queued())
    wrote = threading.Event()
    finish = threading.Event()

    def write():
        try:
            with transaction.atomic():
                stock_dispense_in_transaction(
                    location=downtown,
                    lines=[DispenseLine(item=syringe, quantity=1)],
                    by=manager_sam,
                    reference="event:race",
                )
                wrote.set()
                finish.wait(10)
        finally:
            connection.close()

    writer = threading.Thread(target=write)
    writer.start()
    assert wrote.wait(10)
    claimed = []
    claimer = threading.Thread(
        target=lambda: (claimed.append(alert_rechecks_claim()), connection.close())
    )
    claimer.start()
    # Until PostgreSQL shows a session of this test database waiting on a lock (the
    # claimer's, on the write's lock of the mark), rather than a fixed half second.
    deadline = time.monotonic() + 10
    while not _a_session_waits_on_a_lock() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _a_session_waits_on_a_lock()
    assert not claimed  # blocked on the write's lock of the mark
    finish.set()
    writer.join(10)
    claimer.join(10)
    assert claimed == [1]
    assert len(checks_queued()) == jobs  # the write queued nothing: the check covers it
