"""The ledger under real concurrency: threads, each with its own PostgreSQL
connection and transaction, hitting the same balances at once."""

import random
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from inventory.models import Category, StockBalance, StockMovement
from inventory.selectors import stock_on_hand
from inventory.services import (
    DispenseLine,
    InsufficientStock,
    ReceiptLine,
    TransferLine,
    stock_dispense,
    stock_receive,
    stock_transfer,
)

from ..factories import FundingSourceFactory, ItemFactory, LocationFactory
from ..support.threads import run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_in_threads(count: int, work) -> list:
    """run_together, each outcome "ok" or the exception raised."""
    outcomes = run_together(count, work)
    return [o if isinstance(o, Exception) else "ok" for o in outcomes]


@pytest.fixture
def downtown(site_a):
    return LocationFactory(name="Downtown drop-in", site=site_a)


@pytest.fixture
def fund(db):
    return FundingSourceFactory(name="State grant", code="state")


def test_fifty_concurrent_one_unit_dispenses_against_ten_units(downtown, fund, manager_sam):
    syringe = ItemFactory(name="1 mL 28G syringe", code="s28", category=Category.SYRINGE)
    naloxone = ItemFactory(
        name="Naloxone nasal", code="nx", category=Category.NALOXONE, is_lot_tracked=True
    )
    expiry = timezone.localdate() + timedelta(days=100)
    for round_number in range(4):
        # Syringes in one untracked lot; naloxone split over two lots (FEFO across lots).
        stock_receive(
            location=downtown,
            lines=[
                ReceiptLine(item=syringe, quantity=10),
                ReceiptLine(
                    item=naloxone, quantity=4, lot_number=f"A{round_number}", expires_on=expiry
                ),
                ReceiptLine(
                    item=naloxone,
                    quantity=6,
                    lot_number=f"B{round_number}",
                    expires_on=expiry + timedelta(days=30),
                ),
            ],
            funding_source=fund,
            by=manager_sam,
        )
        item = syringe if round_number % 2 == 0 else naloxone
        other = naloxone if item is syringe else syringe
        # The other item is drained too, in the next round's turn; keep it out of this one.
        assert stock_on_hand(location=downtown, item=item) == 10

        def dispense_one(i, item=item, round_number=round_number):
            stock_dispense(
                location=downtown,
                lines=[DispenseLine(item=item, quantity=1)],
                by=manager_sam,
                reference=f"event:{round_number}-{i}",
            )

        outcomes = run_in_threads(50, dispense_one)
        kinds = Counter(o if o == "ok" else type(o).__name__ for o in outcomes)
        assert kinds == {"ok": 10, "InsufficientStock": 40}, kinds
        assert all(
            o.available == 0 and o.requested == 1
            for o in outcomes
            if isinstance(o, InsufficientStock)
        )
        assert stock_on_hand(location=downtown, item=item) == 0
        dispensed = StockMovement.objects.filter(
            location=downtown,
            item=item,
            kind="dispense",
            reference__startswith=f"event:{round_number}-",
        )
        assert dispensed.count() == 10
        assert dispensed.aggregate(total=Sum("quantity"))["total"] == -10
        # Drain the other item so every round starts from exactly 10.
        left = stock_on_hand(location=downtown, item=other)
        if left:
            stock_dispense(
                location=downtown,
                lines=[DispenseLine(item=other, quantity=left)],
                by=manager_sam,
                reference=f"drain:{round_number}",
            )
    assert not StockBalance.objects.filter(quantity__lt=0).exists()


def test_concurrent_multi_item_dispenses_and_transfers_do_not_deadlock(
    downtown, fund, site_b, admin_ada
):
    eastside = LocationFactory(name="Eastside clinic", site=site_b)
    items = [ItemFactory(name=f"Supply {n}", code=f"sup{n}") for n in range(6)]
    for location in (downtown, eastside):
        stock_receive(
            location=location,
            lines=[ReceiptLine(item=item, quantity=5000) for item in items],
            funding_source=fund,
            by=admin_ada,
        )
    rounds = 15

    def work(i):
        rng = random.Random(i)
        for n in range(rounds):
            chosen = rng.sample(items, k=rng.randint(2, len(items)))  # random order
            if i % 4 == 0:
                # Transfers lock two locations at once, in both directions.
                source, target = (downtown, eastside) if n % 2 else (eastside, downtown)
                stock_transfer(
                    from_location=source,
                    to_location=target,
                    lines=[TransferLine(item=item, quantity=1) for item in chosen],
                    by=admin_ada,
                )
            else:
                stock_dispense(
                    location=rng.choice([downtown, eastside]),
                    lines=[DispenseLine(item=item, quantity=rng.randint(1, 3)) for item in chosen],
                    by=admin_ada,
                    reference=f"event:{i}-{n}",
                )

    outcomes = run_in_threads(24, work)
    errors = [o for o in outcomes if o != "ok"]
    assert errors == []
    # Every balance still equals its ledger.
    for balance in StockBalance.objects.all():
        ledger = StockMovement.objects.filter(
            location=balance.location_id, lot=balance.lot_id
        ).aggregate(total=Sum("quantity"))["total"]
        assert balance.quantity == ledger
    total = StockBalance.objects.aggregate(total=Sum("quantity"))["total"]
    dispensed = -StockMovement.objects.filter(kind="dispense").aggregate(t=Sum("quantity"))["t"]
    assert total == 2 * 6 * 5000 - dispensed
    assert connection.vendor == "postgresql"


def test_concurrent_receipts_of_a_new_lot_create_it_once(downtown, fund, manager_sam):
    naloxone = ItemFactory(
        name="Naloxone nasal", code="nx", category=Category.NALOXONE, is_lot_tracked=True
    )
    expiry = timezone.localdate() + timedelta(days=200)

    def receive(i):
        stock_receive(
            location=downtown,
            lines=[ReceiptLine(item=naloxone, quantity=3, lot_number="NEW", expires_on=expiry)],
            funding_source=fund,
            by=manager_sam,
        )

    outcomes = run_in_threads(20, receive)
    assert outcomes == ["ok"] * 20
    assert naloxone.lots.count() == 1
    assert stock_on_hand(location=downtown, item=naloxone) == 60
