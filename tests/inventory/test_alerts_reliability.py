"""Stock-alert jobs are safe to retry and to run side by side."""

import threading
import time

import pytest
from django.core import mail
from django.db import OperationalError, connection, transaction
from django.utils import timezone

from inventory import alerts, tasks
from inventory.alerts import ScanResult, alerts_scan, alerts_send_digest
from inventory.models import StockAlert

from ..support.alerts import dispense, open_alerts, stock_dropping_below_reorder_point

OK = ScanResult(holding=0, raised=0, resolved=0, refreshed=0)


@pytest.fixture(autouse=True)
def _eager_failures_are_returned():
    """Eager retries re-apply the task; let them return failures instead of raising."""
    conf = tasks.alerts_check.app.conf
    before = conf.task_eager_propagates
    conf.task_eager_propagates = False
    yield
    conf.task_eager_propagates = before


def _flaky(monkeypatch, failures: int):
    calls = []

    def check(*, pairs):
        calls.append(pairs)
        if len(calls) <= failures:
            raise OperationalError("server closed the connection unexpectedly")
        return OK

    monkeypatch.setattr(alerts, "alerts_check", check)
    return calls


@pytest.mark.django_db
def test_check_task_retries_a_lost_database_connection_then_succeeds(monkeypatch):
    calls = _flaky(monkeypatch, failures=2)
    result = tasks.alerts_check.apply(kwargs={"pairs": [[1, 2]]})
    assert result.successful()
    assert result.get() == {"holding": 0, "raised": 0, "resolved": 0, "refreshed": 0}
    assert calls == [[(1, 2)]] * 3


@pytest.mark.django_db
def test_check_task_gives_up_after_a_bounded_number_of_retries(monkeypatch):
    calls = _flaky(monkeypatch, failures=100)
    result = tasks.alerts_check.apply(kwargs={"pairs": [[1, 2]]})
    assert result.failed()
    assert isinstance(result.result, OperationalError)
    assert len(calls) == tasks.RETRY["max_retries"] + 1


def test_every_alert_task_retries_transient_database_errors_with_backoff():
    for task in (tasks.alerts_check, tasks.alerts_scan, tasks.alerts_digest):
        assert set(tasks.TRANSIENT_DB_ERRORS) <= set(task.autoretry_for)
        assert task.retry_backoff and task.max_retries == 5


@pytest.mark.django_db
def test_a_bug_is_not_retried(monkeypatch):
    calls = []

    def broken(*, pairs):
        calls.append(pairs)
        raise ValueError("a plain bug")

    monkeypatch.setattr(alerts, "alerts_check", broken)
    result = tasks.alerts_check.apply(kwargs={"pairs": [[1, 2]]})
    assert result.failed() and len(calls) == 1


# --- Overlapping copies (PostgreSQL, real transactions) ------------------------------


def _side_by_side(count: int, work):
    barrier = threading.Barrier(count)
    errors = []

    def run():
        try:
            barrier.wait()
            work()
        except Exception as exc:  # collected and asserted on below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return errors


@pytest.fixture
def shortage(downtown, syringe, fund, manager_sam):
    quantity = stock_dropping_below_reorder_point(downtown, syringe, by=manager_sam, fund=fund)
    dispense(downtown, syringe, quantity, by=manager_sam)
    return downtown, syringe


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_overlapping_scans_and_checks_raise_each_alert_once(shortage):
    location, item = shortage

    def scan_and_check():
        alerts_scan()
        alerts.alerts_check(pairs=[(location.pk, item.pk)])

    for _ in range(3):
        assert _side_by_side(6, scan_and_check) == []
    assert StockAlert.objects.count() == 1
    assert open_alerts().count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_without_the_scan_lock_the_one_open_alert_index_still_prevents_duplicates(
    shortage, monkeypatch
):
    # Even if the lock were bypassed, ON CONFLICT DO NOTHING on the partial unique
    # index makes racing inserts of the same alert a no-op instead of a duplicate.
    monkeypatch.setattr(alerts.scan, "_lock", lambda *, pairs: None)
    assert _side_by_side(8, alerts_scan) == []
    assert StockAlert.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_scan_meeting_an_alert_raised_meanwhile_succeeds_and_raises_it_once(
    shortage, monkeypatch
):
    # The scan inserts without ON CONFLICT (its lock keeps other writers out). With the
    # lock bypassed, another writer raises the same alert and commits while the scan's
    # insert waits on it: the index refuses the scan's row, and the scan runs again,
    # turning it away, instead of failing.
    monkeypatch.setattr(alerts.scan, "_lock", lambda *, pairs: None)
    StockAlert.objects.all().delete()  # the check after the fixture's dispense raised it
    (finding,) = alerts.alerts_findings()
    raised, release = threading.Event(), threading.Event()

    def other_writer():
        try:
            with transaction.atomic():
                StockAlert.objects.create(
                    condition=finding.condition,
                    severity=finding.severity,
                    location_id=finding.location_id,
                    item_id=finding.item_id,
                    lot_id=finding.lot_id,
                    facts=finding.facts,
                    raised_at=timezone.now(),
                )
                raised.set()
                release.wait(30)
        finally:
            connection.close()

    writer = threading.Thread(target=other_writer)
    writer.start()
    assert raised.wait(30)
    scan_errors = []
    scanner = threading.Thread(target=lambda: scan_errors.extend(_side_by_side(1, alerts_scan)))
    scanner.start()
    try:
        assert _waiting_on_a_lock(), "the scan never waited on the other writer's row"
    finally:
        release.set()
        writer.join(30)
        scanner.join(60)
    assert scan_errors == []
    assert StockAlert.objects.count() == 1


def _waiting_on_a_lock(seconds: float = 20) -> bool:
    """True once another backend of this database waits on a lock (the scan's insert)."""
    deadline = time.monotonic() + seconds
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return True
            time.sleep(0.05)
    return False


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_digests_at_once_send_each_alert_once(shortage, manager_sam):
    manager_sam.email = "sam@program.example"
    manager_sam.save()
    alerts_scan()
    assert _side_by_side(4, alerts_send_digest) == []
    assert len(mail.outbox) == 1
    assert StockAlert.objects.get().digest is not None


def test_beat_runs_the_scan_hourly_by_default(settings):
    from config.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["stock-alerts-scan"]
    assert entry["task"] in app.tasks  # the name beat sends is a registered task
    assert entry["task"] == tasks.alerts_scan.name
    assert entry["schedule"] == 60 * 60  # SSP_ALERT_SCAN_MINUTES unset in the tests
