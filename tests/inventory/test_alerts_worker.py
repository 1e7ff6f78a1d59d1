"""Stock alerts end to end with a real Celery worker consuming from Redis.

Stock services queue the per-pair check through the outbox after commit; the worker
(a thread of this process, with its own database connection) runs it, the scan and
the digest. Nothing here calls alerts.py directly.
"""

import time
from datetime import timedelta

import pytest

from inventory import tasks
from inventory.models import AlertCondition, StockAlert
from outbox.models import OutboxJob

from ..support.alerts import (
    below_reorder,
    dispense,
    open_alerts,
    receive,
    stock_dropping_below_reorder_point,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.celery_worker]

WAIT = 30  # seconds; the worker usually answers in well under one


def eventually(predicate, what: str):
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    pytest.fail(f"the worker did not get there in {WAIT}s: {what}")


def checks_done():
    """Every check the stock services queued has been sent to the broker."""
    return not OutboxJob.objects.filter(dispatched_at__isnull=True).exists()


def test_worker_raises_one_alert_keeps_it_single_and_resolves_it(
    celery_worker, downtown, syringe, fund, manager_sam
):
    quantity = stock_dropping_below_reorder_point(downtown, syringe, by=manager_sam, fund=fund)
    eventually(checks_done, "checks of the set-up movements queued")

    dispense(downtown, syringe, quantity, by=manager_sam)
    eventually(lambda: below_reorder(downtown, syringe).exists(), "below-reorder alert raised")
    assert below_reorder(downtown, syringe).count() == 1

    for _ in range(3):
        result = tasks.alerts_scan.delay(digest=False).get(timeout=WAIT)
        assert result["raised"] == 0
    assert below_reorder(downtown, syringe).count() == 1
    assert StockAlert.objects.count() == 1

    receive(downtown, syringe, 100, by=manager_sam, fund=fund)
    eventually(lambda: not open_alerts().exists(), "alert resolved by the receipt")
    assert StockAlert.objects.get().resolved_at is not None


def test_worker_raises_expiry_and_expired_lot_alerts(
    celery_worker, downtown, naloxone, fund, manager_sam, today
):
    receive(
        downtown,
        naloxone,
        24,
        by=manager_sam,
        fund=fund,
        lot_number="NX-SOON",
        expires_on=today + timedelta(days=30),
    )
    eventually(
        lambda: open_alerts(condition=AlertCondition.EXPIRING).exists(), "expiring lot alert"
    )
    receive(
        downtown,
        naloxone,
        12,
        by=manager_sam,
        fund=fund,
        days_ago=60,
        lot_number="NX-OLD",
        expires_on=today - timedelta(days=2),
    )
    eventually(lambda: open_alerts(condition=AlertCondition.EXPIRED).exists(), "expired lot alert")

    expiring = open_alerts(condition=AlertCondition.EXPIRING).get()
    expired = open_alerts(condition=AlertCondition.EXPIRED).get()
    assert (expiring.lot.lot_number, expiring.severity) == ("NX-SOON", "expiry")
    assert (expired.lot.lot_number, expired.facts["on_hand"]) == ("NX-OLD", 12)


def test_worker_digest_lists_new_alerts_once(
    celery_worker, mailoutbox, downtown, syringe, naloxone, fund, manager_sam, today
):
    manager_sam.email = "sam@program.example"
    manager_sam.save()
    quantity = stock_dropping_below_reorder_point(downtown, syringe, by=manager_sam, fund=fund)
    dispense(downtown, syringe, quantity, by=manager_sam)
    receive(
        downtown,
        naloxone,
        10,
        by=manager_sam,
        fund=fund,
        lot_number="NX-9",
        expires_on=today + timedelta(days=10),
    )
    eventually(lambda: open_alerts().count() == 2, "two alerts raised")

    # The hourly job: scan, then the digest it queues.
    tasks.alerts_scan.delay().get(timeout=WAIT)
    eventually(lambda: len(mailoutbox) == 1, "digest email sent")
    (email,) = mailoutbox
    assert email.to == ["sam@program.example"]
    assert email.subject == "Stock alerts: 2 new"
    assert "1 mL 28G syringe" in email.body and "Lot NX-9" in email.body

    assert tasks.alerts_digest.delay().get(timeout=WAIT) == {"alerts": 0, "emails": 0}
    tasks.alerts_scan.delay(digest=False).get(timeout=WAIT)
    assert tasks.alerts_digest.delay().get(timeout=WAIT) == {"alerts": 0, "emails": 0}
    assert len(mailoutbox) == 1
