"""The alert scan's SQL path (PostgreSQL: findings and reconciliation in one statement)
finds exactly the conditions, with the same facts, leaves exactly the alerts and reports
exactly the counts of the ORM path (every database, the reference): each step of a
scenario is run both ways from the same state, the ORM's undone by a savepoint."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from inventory.alerts import alerts_findings, alerts_scan, scan
from inventory.alerts.sql import alerts_findings_sql
from inventory.models import AlertCondition, Item, Location, Lot, StockAlert
from inventory.services import (
    CountLine,
    DispenseLine,
    stock_count,
    stock_dispense_in_transaction,
    stock_reverse,
)

from ..factories import ItemFactory, LocationFactory
from ..support.alerts import dispense, receive

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def _state():
    return sorted(
        (a.condition, a.location_id, a.item_id, a.lot_id, a.resolved_at is not None, a.facts)
        for a in StockAlert.objects.all()
    )


def _both_ways(pairs=None):
    """Find and reconcile what holds now by the ORM, note the result, undo it; then by SQL."""
    now = timezone.now()
    if pairs is None:
        findings = alerts_findings()
    else:
        findings = alerts_findings(
            location_ids={location_id for location_id, _ in pairs},
            item_ids={item_id for _, item_id in pairs},
        )
    with transaction.atomic():
        undo = transaction.savepoint()
        by_orm = scan._reconcile_orm(
            findings=findings,
            open_alerts=StockAlert.objects.filter(resolved_at__isnull=True),
            keep=lambda *pair: pairs is None or pair in pairs,
            now=now,
        )
        orm_state = _state()
        transaction.savepoint_rollback(undo)
        by_sql = scan._reconcile_sql(pairs=pairs, now=now)
    assert by_sql == by_orm
    assert _state() == orm_state
    return by_sql


def _found(findings, pairs=None):
    return sorted(
        (f.key, f.facts) for f in findings if pairs is None or (f.location_id, f.item_id) in pairs
    )


def _same_findings(pairs=None):
    """Every condition the SQL query finds, with its facts, is the ORM's, and no other."""
    if pairs is None:
        by_orm = _found(alerts_findings())
    else:
        location_ids = {location_id for location_id, _ in pairs}
        item_ids = {item_id for _, item_id in pairs}
        by_orm = _found(alerts_findings(location_ids=location_ids, item_ids=item_ids), pairs)
    by_sql = _found(alerts_findings_sql(pairs=pairs))
    assert by_sql == by_orm
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


def _varied_stock(by, fund, today):
    """Every kind of condition, and the edges of each: lots on both sides of the expiry
    horizon and of today, consumption inside and outside the 90 days, reversed
    dispenses (one reversed inside the window though dispensed before it), units found
    at dispense with and without a later count, counts on both sides of the threshold
    and of the lookback, an inactive item and an inactive location."""
    locations = [LocationFactory(name=f"varied van {n}", kind="van", site=None) for n in range(3)]
    tracked = [
        ItemFactory(name=f"varied strip {m}", code=f"varied-{m}", is_lot_tracked=True)
        for m in range(3)
    ]
    loose = ItemFactory(name="varied gauze", code="varied-gauze")
    expiries = (-5, -1, 0, 1, 20, 59, 60, 61, 400)
    for n, location in enumerate(locations):
        for m, item in enumerate(tracked):
            for k, days in enumerate(expiries[(n + m) % 3 :: 2]):
                receive(
                    location,
                    item,
                    17 + 13 * k + 7 * n + 3 * m,
                    by=by,
                    fund=fund,
                    days_ago=120,
                    lot_number=f"V{n}{m}{k}",
                    expires_on=today + timedelta(days=days),
                )
            for days_ago, units in ((100, 9), (60, 11 + n), (20, 5 + m), (2, 3 * n + m)):
                if units:
                    dispense(
                        location,
                        item,
                        units,
                        by=by,
                        days_ago=days_ago,
                        reference=f"event:v{n}i{m}d{days_ago}",
                    )
        receive(location, loose, 40 + 25 * n, by=by, fund=fund, days_ago=120)
        dispense(location, loose, 30 + n, by=by, days_ago=45, reference=f"event:loose-{n}")
        dispense(location, loose, 10, by=by, days_ago=100, reference=f"event:old-loose-{n}")

    # Reversals: one inside the window, one of a dispense from before it.
    stock_reverse(reference="event:v0i0d60", by=by)
    stock_reverse(reference="event:v1i1d100", by=by)
    stock_reverse(reference="event:v2i2d20", by=by)
    stock_reverse(reference="event:loose-0", by=by)
    stock_reverse(reference="event:old-loose-2", by=by)

    # More handed out than the books hold: units found at dispense.
    for n, (location, item, units) in enumerate(
        ((locations[0], loose, 100), (locations[1], tracked[0], 250), (locations[2], loose, 95))
    ):
        with transaction.atomic():
            stock_dispense_in_transaction(
                location=location,
                lines=[DispenseLine(item=item, quantity=units)],
                by=by,
                reference=f"visit:short-{n}",
                occurred_at=timezone.now() - timedelta(days=3 - n),
                record_shortfall=True,
            )

    # Counts: off by more than the threshold, by less, outside the lookback, and one of
    # a pair with units found at dispense before it (which clears those).
    stock_count(
        location=locations[0],
        counts=[CountLine(item=loose, counted=7, reason="correction")],
        by=by,
        occurred_at=timezone.now() - timedelta(days=1),
    )
    for location, days_ago, off in ((locations[1], 5, 15), (locations[2], 40, 30)):
        for lot in Lot.objects.filter(item=tracked[2], balances__location=location)[:2]:
            booked = lot.balances.get(location=location).quantity
            stock_count(
                location=location,
                counts=[CountLine(lot=lot, counted=booked + off, reason="found")],
                by=by,
                occurred_at=timezone.now() - timedelta(days=days_ago),
            )
            off = -4
    return locations, tracked, loose


def test_sql_findings_and_alerts_equal_the_orm_paths_over_varied_stock(fund, admin_ada, today):
    locations, tracked, loose = _varied_stock(admin_ada, fund, today)
    found = _same_findings()
    # The scenario exercises every condition, so the comparison covers each query part.
    assert {key[0] for key, _ in found} == set(AlertCondition.values)
    first = _both_ways()
    assert first.raised == len(found)

    pairs = {(locations[0].pk, loose.pk), (locations[1].pk, tracked[0].pk)}
    _same_findings(pairs)
    assert _both_ways(pairs).raised == 0

    # Retire an item and a location, move the clock of expiries: alerts resolve and
    # refresh the same way.
    Item.objects.filter(pk=tracked[1].pk).update(is_active=False)
    Location.objects.filter(pk=locations[2].pk).update(is_active=False)
    Lot.objects.filter(lot_number__endswith="0").update(expires_on=today + timedelta(days=30))
    _same_findings()
    _same_findings(pairs)
    step = _both_ways()
    assert step.resolved and step.refreshed
    again = _both_ways(pairs)
    assert again.raised == again.resolved == again.refreshed == 0
