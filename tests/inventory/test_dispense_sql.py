"""On PostgreSQL a dispense is one statement (lock, first-expiry-first-out pick, balance
update, ledger insert); the ORM path it replaced is kept for SQLite. Both must write
the same ledger: the same movements, in the same order, and the same balances."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection, transaction
from django.utils import timezone

from inventory.models import AdjustmentReason, StockBalance, StockMovement
from inventory.selectors import balance_drift
from inventory.services import (
    DispenseLine,
    InsufficientStock,
    ReceiptLine,
    stock_dispense_in_transaction,
    stock_receive,
)
from inventory.services import dispense as dispense_module

from ..factories import KitFactory, LocationFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the one-statement path is PostgreSQL's"
    ),
]


@pytest.fixture
def two_sites(site_a):
    """Two locations stocked alike: one is dispensed from by each path."""
    return (
        LocationFactory(name="Downtown drop-in", site=site_a),
        LocationFactory(name="Downtown van", site=site_a),
    )


@pytest.fixture
def orm_path(monkeypatch):
    """Run the next dispenses through the ORM path, as before the statement."""

    def use_orm():
        monkeypatch.setattr(dispense_module, "_dispense_sql", dispense_module._dispense_orm)

    return use_orm


def stock(location, *, naloxone, syringe, fund, by, today):
    lots = [
        # Received in an order unlike expiry order: FEFO must not follow lot ids.
        ("LATE", 5, today + timedelta(days=400)),
        ("SOON", 4, today + timedelta(days=2)),  # expired by the time of the dispense
        ("EARLY", 3, today + timedelta(days=30)),
        ("MID", 2, today + timedelta(days=90)),
    ]
    stock_receive(
        location=location,
        lines=[
            ReceiptLine(item=naloxone, quantity=units, lot_number=number, expires_on=expires)
            for number, units, expires in lots
        ]
        + [ReceiptLine(item=syringe, quantity=40)],
        funding_source=fund,
        by=by,
    )


def dispense(location, lines, by, reference, **options):
    with transaction.atomic():
        moved = stock_dispense_in_transaction(
            location=location, lines=lines, by=by, reference=reference, **options
        )
    return [(m.kind, m.reason, m.item_id, m.lot.lot_number, m.quantity, m.reference) for m in moved]


def ledger(location):
    return list(
        StockMovement.objects.filter(location=location)
        .order_by("pk")
        .values_list("kind", "reason", "item_id", "lot__lot_number", "quantity", "reference")
    )


def balances(location):
    return sorted(
        StockBalance.objects.filter(location=location).values_list("lot__lot_number", "quantity")
    )


def test_the_statement_writes_what_the_orm_path_wrote_for_a_multi_lot_shortfall(
    two_sites, naloxone, syringe, fund, manager_sam, today, orm_path
):
    kit = KitFactory(components=[(syringe, 10), (naloxone, 1)])
    statement_site, orm_site = two_sites
    for location in two_sites:
        stock(location, naloxone=naloxone, syringe=syringe, fund=fund, by=manager_sam, today=today)
    # Naloxone: 2 kits + 11 asked, 10 usable (the SOON lot expired): 3 found at dispense.
    # Syringes: 20 in kits + 5, 40 held. Then again, the placeholder row now at 0.
    lines = [
        DispenseLine(kit=kit, quantity=2),
        DispenseLine(item=syringe, quantity=5),
        DispenseLine(item=naloxone, quantity=11),
    ]
    again = [DispenseLine(item=naloxone, quantity=2), DispenseLine(item=syringe, quantity=1)]
    written = {}
    with time_machine.travel(timezone.now() + timedelta(days=3)):
        for location, path in ((statement_site, "sql"), (orm_site, "orm")):
            if path == "orm":
                orm_path()
            first = dispense(location, lines, manager_sam, "event:1", record_shortfall=True)
            second = dispense(location, again, manager_sam, "event:2", record_shortfall=True)
            written[path] = (first, second, ledger(location), balances(location))

    assert written["sql"] == written["orm"]
    first, second, _, held = written["sql"]
    assert [(m[3], m[4]) for m in first if m[2] == naloxone.pk] == [
        ("UNRECORDED", 3),  # found first, then taken last: it has no expiry
        ("EARLY", -3),
        ("MID", -2),
        ("LATE", -5),
        ("UNRECORDED", -3),
    ]
    assert [m[1] for m in second if m[2] == naloxone.pk] == [AdjustmentReason.SHORTFALL, ""]
    assert ("SOON", 4) in held
    assert balance_drift() == []


def test_the_statement_refuses_like_the_orm_path_and_writes_nothing(
    two_sites, naloxone, syringe, fund, manager_sam, today, orm_path
):
    statement_site, orm_site = two_sites
    for location in two_sites:
        stock(location, naloxone=naloxone, syringe=syringe, fund=fund, by=manager_sam, today=today)
    # Both short; the first line's item is named, with what was usable on the day.
    lines = [DispenseLine(item=syringe, quantity=41), DispenseLine(item=naloxone, quantity=20)]
    refused = {}
    with time_machine.travel(timezone.now() + timedelta(days=3)):
        for location, path in ((statement_site, "sql"), (orm_site, "orm")):
            if path == "orm":
                orm_path()
            before = ledger(location)
            with pytest.raises(InsufficientStock) as short:
                dispense(location, lines, manager_sam, "event:3")
            assert ledger(location) == before
            refused[path] = (short.value.item, short.value.requested, short.value.available)
    assert refused["sql"] == refused["orm"] == (syringe, 41, 40)
