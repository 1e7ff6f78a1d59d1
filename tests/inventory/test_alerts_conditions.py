"""Stock alerts: each condition raises one open alert, a rescan never duplicates it,
it resolves itself when the condition clears and comes back as a new alert."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inventory.alerts import alerts_check, alerts_findings, alerts_scan
from inventory.models import (
    AdjustmentReason,
    AlertCondition,
    AlertSeverity,
    Lot,
    StockAlert,
)
from inventory.services import CountLine, stock_adjust, stock_count
from outbox.models import OutboxJob

from ..factories import ItemFactory, LocationFactory
from ..support.alerts import (
    below_reorder,
    dispense,
    open_alerts,
    receive,
    stock_dropping_below_reorder_point,
)

pytestmark = pytest.mark.django_db


# --- Below reorder point -------------------------------------------------------------


def test_dispense_below_reorder_point_raises_one_open_alert(
    downtown, syringe, fund, manager_sam, django_capture_on_commit_callbacks
):
    quantity = stock_dropping_below_reorder_point(downtown, syringe, by=manager_sam, fund=fund)
    assert not StockAlert.objects.exists()

    # The dispense's own after-commit check raises the alert.
    with django_capture_on_commit_callbacks(execute=True):
        dispense(downtown, syringe, quantity, by=manager_sam)

    (alert,) = StockAlert.objects.all()
    assert alert.condition == AlertCondition.BELOW_REORDER_POINT
    assert alert.severity == AlertSeverity.UNDERSTOCK
    assert alert.is_open and alert.lot is None
    assert alert.facts["on_hand"] == 15
    assert alert.facts["reorder_point"] == 43
    assert alert.summary == "15 usable on hand; reorder point 43."


def test_the_check_is_queued_through_the_outbox_only_after_commit(
    downtown, syringe, fund, manager_sam, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        receive(downtown, syringe, 10, by=manager_sam, fund=fund)
    job = OutboxJob.objects.get()
    assert job.task_name == "inventory.tasks.alerts_check"
    assert job.kwargs == {"pairs": [[downtown.pk, syringe.pk]]}
    assert job.dispatched_at is None  # nothing was sent while the transaction was open
    assert len(callbacks) == 1


def test_rescans_never_duplicate_an_open_alert(downtown, syringe, fund, manager_sam):
    quantity = stock_dropping_below_reorder_point(downtown, syringe, by=manager_sam, fund=fund)
    dispense(downtown, syringe, quantity, by=manager_sam)
    first = alerts_scan()
    assert first.raised == 1
    for _ in range(3):
        again = alerts_scan()
        assert again.raised == 0 and again.resolved == 0
        alerts_check(pairs=[(downtown.pk, syringe.pk)])
    assert below_reorder(downtown, syringe).count() == 1
    assert StockAlert.objects.count() == 1


def test_receiving_stock_resolves_the_alert_and_a_new_shortage_raises_a_new_one(
    downtown, syringe, fund, manager_sam
):
    quantity = stock_dropping_below_reorder_point(downtown, syringe, by=manager_sam, fund=fund)
    dispense(downtown, syringe, quantity, by=manager_sam)
    alerts_scan()
    first = below_reorder(downtown, syringe).get()

    receive(downtown, syringe, 100, by=manager_sam, fund=fund)
    result = alerts_check(pairs=[(downtown.pk, syringe.pk)])
    assert result.resolved == 1
    first.refresh_from_db()
    assert first.resolved_at is not None
    assert not open_alerts().exists()

    dispense(downtown, syringe, 90, by=manager_sam)  # 25 left, reorder point now ~88
    alerts_scan()
    second = below_reorder(downtown, syringe).get()
    assert second.pk != first.pk
    assert StockAlert.objects.filter(condition=AlertCondition.BELOW_REORDER_POINT).count() == 2


def test_rescan_refreshes_the_figures_of_an_open_alert(downtown, syringe, fund, manager_sam):
    quantity = stock_dropping_below_reorder_point(downtown, syringe, by=manager_sam, fund=fund)
    dispense(downtown, syringe, quantity, by=manager_sam)
    alerts_scan()
    dispense(downtown, syringe, 1, by=manager_sam)
    result = alerts_scan()
    assert result.raised == 0 and result.refreshed == 1
    assert below_reorder(downtown, syringe).get().facts["on_hand"] == 14


def test_no_alert_for_an_item_nobody_uses(downtown, syringe, fund, manager_sam):
    receive(downtown, syringe, 3, by=manager_sam, fund=fund)
    assert alerts_findings() == []


def test_a_retired_item_warns_of_no_shortage(downtown, syringe, fund, manager_sam):
    quantity = stock_dropping_below_reorder_point(downtown, syringe, by=manager_sam, fund=fund)
    dispense(downtown, syringe, quantity, by=manager_sam)
    syringe.is_active = False
    syringe.save()
    assert alerts_scan().raised == 0


# --- Projected stock-out ---------------------------------------------------------------


def test_projected_stockout_within_the_window_is_an_emergency(
    downtown, syringe, fund, manager_sam, settings
):
    settings.SSP_ALERT_STOCKOUT_DAYS = 14
    receive(downtown, syringe, 200, by=manager_sam, fund=fund, days_ago=80)
    dispense(downtown, syringe, 180, by=manager_sam, days_ago=10)  # 2 a day over 90 days
    alerts_scan()
    alert = open_alerts(condition=AlertCondition.STOCKOUT_SOON).get()
    assert alert.severity == AlertSeverity.EMERGENCY
    assert alert.facts["days_left"] == 10.0  # 20 on hand at 2 a day
    assert "lasts about 10 days at 2 a day" in alert.summary

    settings.SSP_ALERT_STOCKOUT_DAYS = 7
    alerts_scan()
    assert not open_alerts(condition=AlertCondition.STOCKOUT_SOON).exists()


def test_nothing_left_of_an_item_in_use_is_an_emergency(downtown, syringe, fund, manager_sam):
    receive(downtown, syringe, 30, by=manager_sam, fund=fund, days_ago=20)
    dispense(downtown, syringe, 30, by=manager_sam)
    alerts_scan()
    assert open_alerts(condition=AlertCondition.STOCKOUT_SOON, severity="emergency").count() == 1
    assert below_reorder(downtown, syringe).count() == 1


# --- Expiry ------------------------------------------------------------------------


def test_lot_inside_the_expiry_window_raises_an_expiry_alert(
    downtown, naloxone, fund, manager_sam, settings, today
):
    settings.SSP_ALERT_EXPIRY_DAYS = 60
    receive(
        downtown,
        naloxone,
        24,
        by=manager_sam,
        fund=fund,
        lot_number="NX-SOON",
        expires_on=today + timedelta(days=45),
    )
    receive(
        downtown,
        naloxone,
        24,
        by=manager_sam,
        fund=fund,
        lot_number="NX-LATER",
        expires_on=today + timedelta(days=200),
    )
    alerts_scan()
    alert = open_alerts(condition=AlertCondition.EXPIRING).get()
    assert alert.severity == AlertSeverity.EXPIRY
    assert alert.lot.lot_number == "NX-SOON"
    assert alert.facts["days_to_expiry"] == 45
    assert "Lot NX-SOON: 24 expire on" in alert.summary


def test_expired_lot_with_stock_raises_the_expired_alert_until_written_off(
    downtown, naloxone, fund, manager_sam, today
):
    receive(
        downtown,
        naloxone,
        12,
        by=manager_sam,
        fund=fund,
        days_ago=40,
        lot_number="NX-OLD",
        expires_on=today - timedelta(days=3),
    )
    alerts_scan()
    alert = open_alerts(condition=AlertCondition.EXPIRED).get()
    assert alert.lot.lot_number == "NX-OLD"
    assert alert.facts["on_hand"] == 12
    assert not open_alerts(condition=AlertCondition.EXPIRING).exists()

    stock_adjust(
        location=downtown,
        lot=alert.lot,
        quantity=-12,
        reason=AdjustmentReason.EXPIRED,
        by=manager_sam,
    )
    alerts_scan()
    alert.refresh_from_db()
    assert alert.resolved_at is not None


def test_expired_stock_does_not_count_towards_the_reorder_point(
    downtown, naloxone, fund, manager_sam, today
):
    receive(
        downtown,
        naloxone,
        100,
        by=manager_sam,
        fund=fund,
        days_ago=80,
        lot_number="A",
        expires_on=today - timedelta(days=1),
    )
    receive(
        downtown,
        naloxone,
        30,
        by=manager_sam,
        fund=fund,
        days_ago=80,
        lot_number="B",
        expires_on=today + timedelta(days=400),
    )
    dispense(downtown, naloxone, 66, by=manager_sam, days_ago=10)  # from lot A (earlier)
    alerts_scan()
    # 34 of lot A are still on the shelf but expired; only lot B's 30 can be handed out,
    # below the reorder point of 33 (66 used in 90 days = 22 a month × 1.5).
    alert = below_reorder(downtown, naloxone).get()
    assert alert.facts["on_hand"] == 30


# --- Physical count ----------------------------------------------------------------


def test_count_discrepancy_above_threshold_raises_an_alert_and_a_clean_recount_clears_it(
    downtown, syringe, fund, manager_sam, settings
):
    settings.SSP_ALERT_COUNT_DISCREPANCY = 10
    receive(downtown, syringe, 500, by=manager_sam, fund=fund)
    stock_count(
        location=downtown,
        counts=[CountLine(item=syringe, counted=492, reason="correction")],
        by=manager_sam,
    )
    alerts_scan()
    assert not open_alerts(condition=AlertCondition.COUNT_DISCREPANCY).exists()  # 8 ≤ 10

    stock_count(
        location=downtown,
        counts=[CountLine(item=syringe, counted=470, reason="correction")],
        by=manager_sam,
    )
    alerts_scan()
    alert = open_alerts(condition=AlertCondition.COUNT_DISCREPANCY).get()
    assert alert.severity == AlertSeverity.DISCREPANCY
    assert alert.facts["difference"] == -22
    assert "where the books said 492 (-22; threshold 10)" in alert.summary

    stock_count(
        location=downtown,
        counts=[CountLine(item=syringe, counted=470, reason="correction")],
        by=manager_sam,
    )
    alerts_scan()
    alert.refresh_from_db()
    assert alert.resolved_at is not None


# --- Records and scope ---------------------------------------------------------------


def test_the_database_refuses_a_second_open_alert_for_the_same_subject(
    downtown, syringe, naloxone, fund, manager_sam
):
    now = timezone.now()
    fields = {"condition": "below_reorder", "severity": "understock", "raised_at": now}
    StockAlert.objects.create(location=downtown, item=syringe, **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        StockAlert.objects.create(location=downtown, item=syringe, **fields)  # lot is NULL
    StockAlert.objects.filter(item=syringe).update(resolved_at=now)
    StockAlert.objects.create(location=downtown, item=syringe, **fields)  # re-raised: fine

    lot = Lot.objects.create(item=naloxone, lot_number="L1", funding_source=fund)
    expiring = {"condition": "expiring", "severity": "expiry", "raised_at": now, "lot": lot}
    StockAlert.objects.create(location=downtown, item=naloxone, **expiring)
    with pytest.raises(IntegrityError), transaction.atomic():
        StockAlert.objects.create(location=downtown, item=naloxone, **expiring)


@pytest.mark.postgres
def test_the_database_refuses_an_alert_referring_to_what_is_not_there(
    downtown, syringe, naloxone, fund, manager_sam
):
    """No foreign-key constraints on the alert table: its triggers check instead."""
    now = timezone.now()
    fields = {"condition": "below_reorder", "severity": "understock", "raised_at": now}
    other_lot = Lot.objects.create(item=naloxone, lot_number="L1", funding_source=fund)
    for subject in (
        {"location_id": 999_999, "item": syringe},
        {"location": downtown, "item_id": 999_999},
        {"location": downtown, "item": syringe, "lot_id": 999_999},
        {"location": downtown, "item": syringe, "lot": other_lot},  # the lot of another item
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            StockAlert.objects.create(**fields, **subject)
    alert = StockAlert.objects.create(location=downtown, item=syringe, **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        StockAlert.objects.filter(pk=alert.pk).update(item=naloxone)
    for unknown in ({"acknowledged_by_id": 999_999}, {"digest_id": 999_999}):
        with pytest.raises(IntegrityError), transaction.atomic():
            StockAlert.objects.filter(pk=alert.pk).update(acknowledged_at=now, **unknown)
    StockAlert.objects.filter(pk=alert.pk).update(acknowledged_at=now, acknowledged_by=manager_sam)
    StockAlert.objects.filter(pk=alert.pk).update(resolved_at=now)  # other columns: fine


def test_a_pair_check_leaves_other_pairs_alone(
    downtown, eastside, syringe, fund, manager_sam, admin_ada
):
    for location in (downtown, eastside):
        quantity = stock_dropping_below_reorder_point(location, syringe, by=admin_ada, fund=fund)
        dispense(location, syringe, quantity, by=admin_ada)
    result = alerts_check(pairs=[(downtown.pk, syringe.pk)])
    assert result.raised == 1
    assert below_reorder(downtown, syringe).exists()
    assert not below_reorder(eastside, syringe).exists()

    # Eastside's alert, once raised, is not resolved by a check of Downtown.
    alerts_scan()
    receive(downtown, syringe, 500, by=admin_ada, fund=fund)
    alerts_check(pairs=[(downtown.pk, syringe.pk)])
    assert not below_reorder(downtown, syringe).exists()
    assert below_reorder(eastside, syringe).exists()


def _shortages_everywhere(locations: int, items: int, by, fund, prefix: str):
    """Each location × item: below its reorder point, one lot expired, one expiring."""
    for n in range(locations):
        location = LocationFactory(name=f"{prefix} van {n}", kind="van", site=None)
        for m in range(items):
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
            # FEFO takes these from lot E: 10 expired units stay, 40 usable < reorder 45.
            dispense(location, item, 90, by=by, days_ago=30)


@pytest.mark.postgres
def test_scan_query_count_does_not_grow_with_items_and_locations(
    fund, admin_ada, django_assert_max_num_queries, today
):
    _shortages_everywhere(1, 1, admin_ada, fund, prefix="small")
    with CaptureQueriesContext(connection) as small:
        assert alerts_scan().raised == 3

    _shortages_everywhere(6, 8, admin_ada, fund, prefix="large")
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert alerts_scan().raised == 48 * 3
    assert open_alerts().count() == 49 * 3

    # Resolving and refreshing many alerts at once is a fixed number of statements too.
    StockAlert.objects.update(facts={})
    Lot.objects.filter(lot_number__startswith="E").update(expires_on=today + timedelta(days=900))
    with django_assert_max_num_queries(len(small.captured_queries) + 2):
        result = alerts_scan()
    # Expired and below-reorder alerts resolve (50 usable now); expiring ones refresh.
    assert result.resolved == 49 * 2 and result.refreshed == 49
