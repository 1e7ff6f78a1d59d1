"""The alert scan's SQL reconciliation (PostgreSQL) leaves exactly the alerts, and
reports exactly the counts, of the ORM reconciliation (every database): each step of a
scenario is run both ways from the same state, the ORM's undone by a savepoint."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from inventory.alerts import alerts_findings, alerts_scan, scan
from inventory.models import Lot, StockAlert

from ..factories import ItemFactory, LocationFactory
from ..support.alerts import dispense, receive

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def _state():
    return sorted(
        (a.condition, a.location_id, a.item_id, a.lot_id, a.resolved_at is not None, a.facts)
        for a in StockAlert.objects.all()
    )


def _both_ways(pairs=None):
    """Reconcile the findings of now by the ORM, note the result, undo it; then by SQL."""
    now = timezone.now()
    findings = alerts_findings()
    open_alerts = StockAlert.objects.filter(resolved_at__isnull=True)
    with transaction.atomic():
        undo = transaction.savepoint()
        by_orm = scan._reconcile_orm(
            findings=findings,
            open_alerts=open_alerts,
            keep=lambda *pair: pairs is None or pair in pairs,
            now=now,
        )
        orm_state = _state()
        transaction.savepoint_rollback(undo)
        by_sql = scan._reconcile_sql(findings=findings, pairs=pairs, now=now)
    assert by_sql == by_orm
    assert _state() == orm_state
    return by_sql


def _lots_and_shortages(by, fund, prefix):
    for n in range(2):
        location = LocationFactory(name=f"{prefix} van {n}", kind="van", site=None)
        for m in range(3):
            item = ItemFactory(name=f"{prefix} strip {n}-{m}", is_lot_tracked=True)
            for lot, quantity, expires_in in (("E", 100, -1), ("S", 40, 20)):
                receive(
                    location,
                    item,
                    quantity,
                    by=by,
                    fund=fund,
                    days_ago=60,
                    lot_number=f"{lot}{n}-{m}",
                    expires_on=timezone.localdate() + timedelta(days=expires_in),
                )
            dispense(location, item, 90, by=by, days_ago=30)


def test_sql_and_orm_reconciliation_agree_at_every_step(fund, admin_ada, today):
    _lots_and_shortages(admin_ada, fund, "first")
    first = _both_ways()
    assert first.raised == 18 and first.resolved == first.refreshed == 0

    # Nothing changed: nothing raised, resolved or refreshed.
    again = _both_ways()
    assert again.raised == again.resolved == again.refreshed == 0

    # Expired lots now far from expiry: the expired and below-reorder alerts clear, the
    # expiring ones keep their subject with new facts.
    StockAlert.objects.update(facts={})
    Lot.objects.filter(lot_number__startswith="E").update(expires_on=today + timedelta(days=900))
    settled = _both_ways()
    assert settled.resolved == 12 and settled.refreshed == 6

    # A check of one pair touches only that pair; new shortages elsewhere wait.
    _lots_and_shortages(admin_ada, fund, "more")
    location_id, item_id = StockAlert.objects.order_by("pk").values_list("location_id", "item_id")[
        0
    ]
    checked = _both_ways(pairs={(location_id, item_id)})
    assert checked.raised == 0
    assert alerts_scan().raised == 18
