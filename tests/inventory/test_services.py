"""The stock ledger's services: receive, dispense, transfer, adjust, count, reverse."""

from datetime import timedelta

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inventory import api as inventory_api  # noqa: F401  (registers the API's error statuses)
from inventory.models import (
    AdjustmentReason,
    Category,
    Kit,
    Lot,
    MovementKind,
    StockBalance,
    StockMovement,
)
from inventory.selectors import stock_on_hand
from inventory.services import (
    CountLine,
    DispenseLine,
    InsufficientStock,
    ReceiptLine,
    StockError,
    TransferLine,
    stock_adjust,
    stock_count,
    stock_dispense,
    stock_receive,
    stock_reverse,
    stock_transfer,
)
from org import api_errors

from ..factories import FundingSourceFactory, ItemFactory, KitFactory, LocationFactory


@pytest.fixture
def downtown(site_a):
    return LocationFactory(name="Downtown drop-in", site=site_a)


@pytest.fixture
def eastside(site_b):
    return LocationFactory(name="Eastside clinic", site=site_b)


@pytest.fixture
def cooker(db):
    return ItemFactory(name="Cooker", code="cook", category=Category.INJECTION_SUPPLIES)


def receive(location, item, quantity, by, fund, **line):
    return stock_receive(
        location=location,
        lines=[ReceiptLine(item=item, quantity=quantity, **line)],
        funding_source=fund,
        by=by,
    )


def ledger_sum(location, item) -> int:
    return (
        StockMovement.objects.filter(location=location, item=item).aggregate(t=Sum("quantity"))["t"]
        or 0
    )


# --- Receive -------------------------------------------------------------------------


def test_receive_converts_packs_to_base_units(downtown, syringe, state_fund, manager_sam):
    box = syringe.pack_sizes.get()
    (movement,) = receive(downtown, syringe, 3, manager_sam, state_fund, pack_size=box)
    assert movement.quantity == 300
    assert movement.kind == MovementKind.RECEIPT
    assert movement.lot.funding_source == state_fund
    assert stock_on_hand(location=downtown, item=syringe) == 300


def test_federal_grant_may_not_buy_syringes(downtown, syringe, federal_grant, manager_sam):
    with pytest.raises(StockError) as refused:
        receive(downtown, syringe, 100, manager_sam, federal_grant)
    assert "Federal grant may not buy syringe items" in str(refused.value)
    assert refused.value.field_errors["lines"][0]["item"]
    assert not StockMovement.objects.exists()
    assert not Lot.objects.exists()


def test_tracked_item_needs_lot_and_expiry(downtown, naloxone, state_fund, manager_sam):
    with pytest.raises(StockError) as refused:
        receive(downtown, naloxone, 10, manager_sam, state_fund)
    line = refused.value.field_errors["lines"][0]
    assert "lot_number" in line
    assert "expires_on" in line
    assert not StockMovement.objects.exists()


def test_expired_lot_is_refused_at_receipt(downtown, naloxone, state_fund, manager_sam, today):
    with pytest.raises(StockError) as refused:
        receive(
            downtown,
            naloxone,
            10,
            manager_sam,
            state_fund,
            lot_number="OLD1",
            expires_on=today - timedelta(days=1),
        )
    assert refused.value.field_errors["lines"][0]["expires_on"] == [
        "This lot has expired; do not receive it."
    ]
    assert not StockMovement.objects.exists()


@pytest.mark.parametrize("quantity", [0, -5, 2.5, "7", True])
def test_receive_refuses_quantities_that_are_not_positive_whole_numbers(
    quantity, downtown, syringe, state_fund, manager_sam
):
    with pytest.raises(StockError) as refused:
        receive(downtown, syringe, quantity, manager_sam, state_fund)
    assert "quantity" in refused.value.field_errors["lines"][0]
    assert not StockMovement.objects.exists()


def test_inactive_item_is_refused(downtown, syringe, state_fund, manager_sam):
    syringe.is_active = False
    syringe.save()
    with pytest.raises(StockError):
        receive(downtown, syringe, 5, manager_sam, state_fund)
    assert not StockMovement.objects.exists()


def test_manager_cannot_receive_at_another_sites_location(
    eastside, syringe, state_fund, manager_sam
):
    with pytest.raises(StockError) as refused:
        receive(eastside, syringe, 5, manager_sam, state_fund)
    assert refused.value.field_errors["location"] == ["You do not manage stock at Eastside clinic."]


def test_front_desk_cannot_receive(downtown, syringe, state_fund, front_desk_ana):
    with pytest.raises(StockError):
        receive(downtown, syringe, 5, front_desk_ana, state_fund)


def test_any_manager_manages_the_central_store(central, syringe, state_fund, manager_sam):
    receive(central, syringe, 5, manager_sam, state_fund)
    assert stock_on_hand(location=central, item=syringe) == 5


def test_same_lot_number_must_keep_its_expiry(downtown, naloxone, state_fund, manager_sam, today):
    expiry = today + timedelta(days=300)
    receive(downtown, naloxone, 5, manager_sam, state_fund, lot_number="L1", expires_on=expiry)
    with pytest.raises(StockError):
        receive(
            downtown,
            naloxone,
            5,
            manager_sam,
            state_fund,
            lot_number="L1",
            expires_on=expiry + timedelta(days=1),
        )
    receive(downtown, naloxone, 5, manager_sam, state_fund, lot_number="L1", expires_on=expiry)
    assert Lot.objects.count() == 1
    assert stock_on_hand(location=downtown, item=naloxone) == 10


# --- Dispense --------------------------------------------------------------------------


def test_dispense_uses_earliest_expiry_first(downtown, naloxone, state_fund, manager_sam, today):
    late = today + timedelta(days=400)
    early = today + timedelta(days=30)
    receive(downtown, naloxone, 5, manager_sam, state_fund, lot_number="LATE", expires_on=late)
    receive(downtown, naloxone, 3, manager_sam, state_fund, lot_number="EARLY", expires_on=early)

    movements = stock_dispense(
        location=downtown,
        lines=[DispenseLine(item=naloxone, quantity=4)],
        by=manager_sam,
        reference="event:1",
    )
    assert [(m.lot.lot_number, m.quantity) for m in movements] == [("EARLY", -3), ("LATE", -1)]


def test_dispense_never_uses_an_expired_lot(downtown, naloxone, state_fund, manager_sam, today):
    soon = today + timedelta(days=2)
    receive(downtown, naloxone, 5, manager_sam, state_fund, lot_number="SOON", expires_on=soon)
    good = today + timedelta(days=200)
    receive(downtown, naloxone, 2, manager_sam, state_fund, lot_number="GOOD", expires_on=good)

    with time_machine.travel(timezone.now() + timedelta(days=3)):
        with pytest.raises(InsufficientStock) as short:
            stock_dispense(
                location=downtown,
                lines=[DispenseLine(item=naloxone, quantity=3)],
                by=manager_sam,
                reference="event:x",
            )
        assert short.value.available == 2
        (movement,) = stock_dispense(
            location=downtown,
            lines=[DispenseLine(item=naloxone, quantity=2)],
            by=manager_sam,
            reference="event:y",
        )
    assert movement.lot.lot_number == "GOOD"


def test_dispensing_a_kit_moves_every_component(downtown, syringe, cooker, state_fund, manager_sam):
    kit = KitFactory(name="Standard injection kit", components=[(syringe, 10), (cooker, 2)])
    receive(downtown, syringe, 100, manager_sam, state_fund)
    receive(downtown, cooker, 20, manager_sam, state_fund)

    stock_dispense(
        location=downtown,
        lines=[DispenseLine(kit=kit, quantity=2), DispenseLine(item=syringe, quantity=5)],
        by=manager_sam,
        reference="event:kit",
    )
    assert stock_on_hand(location=downtown, item=syringe) == 100 - 25
    assert stock_on_hand(location=downtown, item=cooker) == 20 - 4
    # Lines for the same item are merged: one movement per lot, not per line.
    assert StockMovement.objects.filter(kind="dispense", item=syringe).count() == 1


def test_insufficient_stock_names_the_item_and_writes_nothing(
    downtown, syringe, cooker, state_fund, manager_sam
):
    receive(downtown, syringe, 5, manager_sam, state_fund)
    receive(downtown, cooker, 50, manager_sam, state_fund)
    before = StockMovement.objects.count()

    with pytest.raises(InsufficientStock) as short:
        stock_dispense(
            location=downtown,
            lines=[DispenseLine(item=cooker, quantity=2), DispenseLine(item=syringe, quantity=12)],
            by=manager_sam,
            reference="event:2",
        )
    assert str(short.value) == (
        "Not enough 1 mL 28G syringe at Downtown drop-in: 12 requested, 5 available."
    )
    assert api_errors.domain_error_response(short.value) == (409, "insufficient_stock")
    assert (short.value.requested, short.value.available) == (12, 5)
    assert StockMovement.objects.count() == before
    assert stock_on_hand(location=downtown, item=cooker) == 50


def test_dispense_query_count_does_not_grow_with_lines(
    downtown, syringe, cooker, naloxone, state_fund, manager_sam, today
):
    receive(downtown, syringe, 100, manager_sam, state_fund)
    receive(downtown, cooker, 100, manager_sam, state_fund)
    for n in range(3):
        receive(
            downtown,
            naloxone,
            2,
            manager_sam,
            state_fund,
            lot_number=f"N{n}",
            expires_on=today + timedelta(days=100 + n),
        )
    kit = KitFactory(components=[(syringe, 10), (cooker, 2)])
    few = [DispenseLine(kit=kit, quantity=1)]
    many = [
        # The kit as the next request loads it: its components are read once per object.
        DispenseLine(kit=Kit.objects.get(pk=kit.pk), quantity=1),
        DispenseLine(item=naloxone, quantity=5),
        DispenseLine(item=cooker, quantity=1),
        DispenseLine(item=syringe, quantity=3),
    ]
    with CaptureQueriesContext(connection) as one_kit:
        stock_dispense(location=downtown, lines=few, by=manager_sam, reference="event:q1")
    with CaptureQueriesContext(connection) as four_lines_five_lots:
        stock_dispense(location=downtown, lines=many, by=manager_sam, reference="event:q2")
    assert len(four_lines_five_lots) == len(one_kit)
    # Kit components, one lock, one bulk update, one bulk insert, the savepoint pair,
    # and whatever the alerts hook records (one outbox row at most).
    assert len(one_kit) <= 7


def test_reverse_puts_back_exactly_what_a_reference_moved(
    downtown, naloxone, state_fund, manager_sam, today
):
    for lot, days in (("A", 30), ("B", 60)):
        receive(
            downtown,
            naloxone,
            3,
            manager_sam,
            state_fund,
            lot_number=lot,
            expires_on=today + timedelta(days=days),
        )
    stock_dispense(
        location=downtown,
        lines=[DispenseLine(item=naloxone, quantity=4)],
        by=manager_sam,
        reference="event:v1",
    )
    assert stock_on_hand(location=downtown, item=naloxone) == 2

    reversals = stock_reverse(reference="event:v1", by=manager_sam)
    assert sorted((m.lot.lot_number, m.quantity) for m in reversals) == [("A", 3), ("B", 1)]
    assert all(m.kind == "adjustment" and m.reason == "reversal" for m in reversals)
    assert StockMovement.objects.filter(reference="event:v1").aggregate(t=Sum("quantity"))["t"] == 0
    assert stock_on_hand(location=downtown, item=naloxone) == 6
    # Twice is the same as once.
    assert stock_reverse(reference="event:v1", by=manager_sam) == []
    assert stock_on_hand(location=downtown, item=naloxone) == 6


def test_reverse_of_unknown_reference_writes_nothing(manager_sam):
    assert stock_reverse(reference="event:none", by=manager_sam) == []


# --- Transfer -----------------------------------------------------------------------


def test_transfer_moves_lots_with_their_funding_source(
    central, downtown, naloxone, state_fund, admin_ada, today
):
    receive(
        central,
        naloxone,
        10,
        admin_ada,
        state_fund,
        lot_number="T1",
        expires_on=today + timedelta(days=90),
    )
    movements = stock_transfer(
        from_location=central,
        to_location=downtown,
        lines=[TransferLine(item=naloxone, quantity=4)],
        by=admin_ada,
    )
    assert {(m.kind, m.location, m.quantity) for m in movements} == {
        ("transfer_out", central, -4),
        ("transfer_in", downtown, 4),
    }
    assert len({m.reference for m in movements}) == 1
    assert movements[0].reference.startswith("transfer:")
    assert stock_on_hand(location=central, item=naloxone) == 6
    assert stock_on_hand(location=downtown, item=naloxone) == 4
    assert StockBalance.objects.get(location=downtown).lot.funding_source == state_fund


def test_transfer_to_the_same_location_is_refused(downtown, syringe, state_fund, manager_sam):
    receive(downtown, syringe, 10, manager_sam, state_fund)
    with pytest.raises(StockError) as refused:
        stock_transfer(
            from_location=downtown,
            to_location=downtown,
            lines=[TransferLine(item=syringe, quantity=1)],
            by=manager_sam,
        )
    assert "to_location" in refused.value.field_errors


def test_nobody_pulls_stock_from_a_location_they_do_not_manage(
    downtown, eastside, syringe, state_fund, manager_sam, admin_ada
):
    receive(eastside, syringe, 10, admin_ada, state_fund)
    with pytest.raises(StockError) as refused:
        stock_transfer(
            from_location=eastside,
            to_location=downtown,
            lines=[TransferLine(item=syringe, quantity=1)],
            by=manager_sam,
        )
    assert "from_location" in refused.value.field_errors
    assert stock_on_hand(location=eastside, item=syringe) == 10


def test_transfer_of_an_expired_lot_is_refused(
    central, downtown, naloxone, state_fund, admin_ada, today
):
    receive(
        central,
        naloxone,
        5,
        admin_ada,
        state_fund,
        lot_number="X",
        expires_on=today + timedelta(days=1),
    )
    lot = Lot.objects.get()
    with (
        time_machine.travel(timezone.now() + timedelta(days=3)),
        pytest.raises(StockError) as refused,
    ):
        stock_transfer(
            from_location=central,
            to_location=downtown,
            lines=[TransferLine(item=naloxone, quantity=1, lot=lot)],
            by=admin_ada,
        )
    assert "lot" in refused.value.field_errors["lines"][0]


def test_transfer_short_of_stock_writes_nothing(central, downtown, syringe, state_fund, admin_ada):
    receive(central, syringe, 3, admin_ada, state_fund)
    before = StockMovement.objects.count()
    with pytest.raises(InsufficientStock):
        stock_transfer(
            from_location=central,
            to_location=downtown,
            lines=[TransferLine(item=syringe, quantity=4)],
            by=admin_ada,
        )
    assert StockMovement.objects.count() == before
    assert stock_on_hand(location=central, item=syringe) == 3


# --- Adjust ------------------------------------------------------------------------


def test_adjustment_reasons_have_a_direction(downtown, syringe, state_fund, manager_sam):
    receive(downtown, syringe, 10, manager_sam, state_fund)
    lot = Lot.objects.get()
    with pytest.raises(StockError) as refused:
        stock_adjust(location=downtown, lot=lot, quantity=2, reason="damaged", by=manager_sam)
    assert "quantity" in refused.value.field_errors
    with pytest.raises(StockError):
        stock_adjust(location=downtown, lot=lot, quantity=-2, reason="found", by=manager_sam)
    with pytest.raises(StockError):
        stock_adjust(location=downtown, lot=lot, quantity=1, reason="reversal", by=manager_sam)

    movement = stock_adjust(
        location=downtown, lot=lot, quantity=-3, reason=AdjustmentReason.DAMAGED, by=manager_sam
    )
    assert movement.quantity == -3
    assert stock_on_hand(location=downtown, item=syringe) == 7


def test_adjustment_cannot_take_a_balance_below_zero(downtown, syringe, state_fund, manager_sam):
    receive(downtown, syringe, 2, manager_sam, state_fund)
    with pytest.raises(InsufficientStock):
        stock_adjust(
            location=downtown, lot=Lot.objects.get(), quantity=-3, reason="lost", by=manager_sam
        )
    assert stock_on_hand(location=downtown, item=syringe) == 2


# --- Count ---------------------------------------------------------------------------


def test_count_becomes_the_balance_and_the_difference_is_a_movement(
    downtown, naloxone, syringe, state_fund, manager_sam, today
):
    receive(
        downtown,
        naloxone,
        10,
        manager_sam,
        state_fund,
        lot_number="C1",
        expires_on=today + timedelta(days=90),
    )
    receive(downtown, syringe, 100, manager_sam, state_fund)
    lot = Lot.objects.get(lot_number="C1")

    movements = stock_count(
        location=downtown,
        counts=[
            CountLine(lot=lot, counted=7, reason="correction"),
            CountLine(item=syringe, counted=100, reason="correction"),
        ],
        by=manager_sam,
    )
    (movement,) = movements
    assert (movement.kind, movement.quantity) == (MovementKind.COUNT, -3)
    assert stock_on_hand(location=downtown, item=naloxone) == 7
    assert ledger_sum(downtown, naloxone) == 7
    count = downtown.counts.get()
    assert movement.reference == count.reference
    assert sorted((line.expected, line.counted) for line in count.lines.all()) == [
        (10, 7),
        (100, 100),
    ]


def test_counting_an_untracked_item_as_a_whole(
    downtown, syringe, state_fund, federal_grant, manager_sam
):
    cooker_fund = FundingSourceFactory(name="Private donation", code="donation")
    receive(downtown, syringe, 30, manager_sam, state_fund)
    receive(downtown, syringe, 20, manager_sam, cooker_fund)
    stock_count(
        location=downtown,
        counts=[CountLine(item=syringe, counted=45, reason="correction")],
        by=manager_sam,
    )
    assert stock_on_hand(location=downtown, item=syringe) == 45
    stock_count(
        location=downtown,
        counts=[CountLine(item=syringe, counted=60, reason="correction")],
        by=manager_sam,
    )
    assert stock_on_hand(location=downtown, item=syringe) == 60
    assert ledger_sum(downtown, syringe) == 60


def test_lot_tracked_items_are_counted_by_lot(downtown, naloxone, manager_sam):
    with pytest.raises(StockError) as refused:
        stock_count(
            location=downtown,
            counts=[CountLine(item=naloxone, counted=3, reason="correction")],
            by=manager_sam,
        )
    assert "item" in refused.value.field_errors["lines"][0]


def test_count_at_a_location_the_user_does_not_manage_is_refused(
    eastside, syringe, state_fund, admin_ada, manager_sam
):
    receive(eastside, syringe, 5, admin_ada, state_fund)
    with pytest.raises(StockError) as refused:
        stock_count(
            location=eastside,
            counts=[CountLine(item=syringe, counted=0, reason="correction")],
            by=manager_sam,
        )
    assert "location" in refused.value.field_errors
    assert stock_on_hand(location=eastside, item=syringe) == 5


def test_negative_count_is_refused(downtown, syringe, state_fund, manager_sam):
    receive(downtown, syringe, 5, manager_sam, state_fund)
    with pytest.raises(StockError):
        stock_count(
            location=downtown,
            counts=[CountLine(item=syringe, counted=-1, reason="correction")],
            by=manager_sam,
        )


# --- The database's own guarantees -----------------------------------------------------


def test_balance_can_never_be_negative_in_the_database(downtown, syringe, state_fund, manager_sam):
    receive(downtown, syringe, 5, manager_sam, state_fund)
    with pytest.raises(IntegrityError), transaction.atomic():
        StockBalance.objects.update(quantity=-1)


@pytest.mark.postgres
def test_the_ledger_refuses_update_and_delete(downtown, syringe, state_fund, manager_sam):
    receive(downtown, syringe, 5, manager_sam, state_fund)
    with pytest.raises(IntegrityError), transaction.atomic():
        StockMovement.objects.update(quantity=50)
    with pytest.raises(IntegrityError), transaction.atomic():
        StockMovement.objects.all()._raw_delete(connection.alias)
    assert ledger_sum(downtown, syringe) == 5
