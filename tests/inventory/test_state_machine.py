"""A Hypothesis state machine drives random sequences of receive / dispense /
transfer / adjust / count / reverse and checks, after every step, that each cached
balance equals the sum of its movements, that none is negative, and that on-hand
totals match a simple independent model of what should be on the shelf."""

from collections import defaultdict
from datetime import timedelta

import pytest
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from inventory.models import Category, Lot, StockBalance, StockMovement
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

from ..factories import FundingSourceFactory, ItemFactory, LocationFactory


class LedgerMachine(RuleBasedStateMachine):
    """World (set by the test): two locations, an untracked and a tracked item,
    an allowed and a restricted funding source, and a manager of both locations."""

    world: dict = {}

    def __init__(self):
        super().__init__()
        # Each example runs in a savepoint rolled back at teardown.
        self._atomic = transaction.atomic()
        # Marked as Django's TestCase marks its own atomics, so the durable services
        # may run inside this rollback-only block.
        self._atomic._from_testcase = True
        self._atomic.__enter__()
        w = self.world
        self.locations = w["locations"]
        self.items = w["items"]
        self.by = w["by"]
        # Independent model: units per (location, item), usable vs expired.
        self.usable = defaultdict(int)
        self.expired = defaultdict(int)
        self.dispensed = {}  # reference -> (location, item, quantity), not yet reversed
        self.serial = 0
        today = timezone.localdate()
        # Tracked lot numbers and their fixed expiry; OLD expired five days ago and is
        # received back-dated, so expired stock sits on the shelf.
        self.tracked_lots = {
            "A": today + timedelta(days=60),
            "B": today + timedelta(days=300),
            "OLD": today - timedelta(days=5),
        }

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    def key(self, location, item):
        return (location.pk, item.pk)

    # --- rules ---------------------------------------------------------------------

    @rule(
        location=st.integers(0, 1),
        item=st.integers(0, 1),
        quantity=st.integers(1, 40),
        lot=st.sampled_from(["A", "B", "OLD"]),
        restricted=st.booleans(),
    )
    def receive(self, location, item, quantity, lot, restricted):
        location, item = self.locations[location], self.items[item]
        fund = self.world["restricted"] if restricted else self.world["fund"]
        occurred_at = None
        line = ReceiptLine(item=item, quantity=quantity)
        if item.is_lot_tracked:
            line = ReceiptLine(
                item=item, quantity=quantity, lot_number=lot, expires_on=self.tracked_lots[lot]
            )
            if lot == "OLD":
                occurred_at = timezone.now() - timedelta(days=30)
        refused = restricted and not fund.allows(item.category)
        try:
            stock_receive(
                location=location,
                lines=[line],
                funding_source=fund,
                by=self.by,
                occurred_at=occurred_at,
            )
        except StockError:
            assert refused
            return
        assert not refused
        if item.is_lot_tracked and lot == "OLD":
            self.expired[self.key(location, item)] += quantity
        else:
            self.usable[self.key(location, item)] += quantity

    @rule(location=st.integers(0, 1), quantities=st.tuples(st.integers(0, 25), st.integers(0, 25)))
    def dispense(self, location, quantities):
        location = self.locations[location]
        lines = [
            DispenseLine(item=item, quantity=q)
            for item, q in zip(self.items, quantities, strict=True)
            if q
        ]
        if not lines:
            return
        self.serial += 1
        reference = f"event:{self.serial}"
        short = any(line.quantity > self.usable[self.key(location, line.item)] for line in lines)
        try:
            stock_dispense(location=location, lines=lines, by=self.by, reference=reference)
        except InsufficientStock:
            assert short
            return
        assert not short
        for line in lines:
            self.usable[self.key(location, line.item)] -= line.quantity
        self.dispensed[reference] = [(location, line.item, line.quantity) for line in lines]

    @precondition(lambda self: self.dispensed)
    @rule(data=st.data())
    def reverse(self, data):
        reference = data.draw(st.sampled_from(sorted(self.dispensed)))
        stock_reverse(reference=reference, by=self.by)
        for location, item, quantity in self.dispensed.pop(reference):
            self.usable[self.key(location, item)] += quantity
        assert stock_reverse(reference=reference, by=self.by) == []

    @rule(source=st.integers(0, 1), item=st.integers(0, 1), quantity=st.integers(1, 30))
    def transfer(self, source, item, quantity):
        source, target = self.locations[source], self.locations[1 - source]
        item = self.items[item]
        short = quantity > self.usable[self.key(source, item)]
        try:
            stock_transfer(
                from_location=source,
                to_location=target,
                lines=[TransferLine(item=item, quantity=quantity)],
                by=self.by,
            )
        except InsufficientStock:
            assert short
            return
        assert not short
        self.usable[self.key(source, item)] -= quantity
        self.usable[self.key(target, item)] += quantity

    @precondition(lambda self: StockBalance.objects.exists())
    @rule(data=st.data(), quantity=st.integers(-30, 30).filter(bool))
    def adjust(self, data, quantity):
        balance = data.draw(
            st.sampled_from(list(StockBalance.objects.select_related("lot", "location")))
        )
        reason = "found" if quantity > 0 else data.draw(st.sampled_from(["damaged", "lost"]))
        reason = data.draw(st.sampled_from([reason, "correction"]))
        short = balance.quantity + quantity < 0
        try:
            stock_adjust(
                location=balance.location,
                lot=balance.lot,
                quantity=quantity,
                reason=reason,
                by=self.by,
            )
        except InsufficientStock:
            assert short
            return
        assert not short
        lot_expired = balance.lot.expires_on and balance.lot.expires_on < timezone.localdate()
        model = self.expired if lot_expired else self.usable
        model[(balance.location_id, balance.lot.item_id)] += quantity

    @precondition(lambda self: StockBalance.objects.exists())
    @rule(data=st.data(), location=st.integers(0, 1))
    def count(self, data, location):
        location = self.locations[location]
        untracked, tracked = self.items
        lines = []
        held = StockBalance.objects.filter(location=location, item=untracked).exists()
        if data.draw(st.booleans(), label="count untracked item") and held:
            lines.append(
                CountLine(
                    item=untracked, counted=data.draw(st.integers(0, 80)), reason="correction"
                )
            )
        lots = Lot.objects.filter(balances__location=location, item=tracked).distinct()
        for lot in lots:
            if data.draw(st.booleans(), label=f"count lot {lot.lot_number}"):
                lines.append(
                    CountLine(lot=lot, counted=data.draw(st.integers(0, 40)), reason="correction")
                )
        if not lines:
            return
        # What the model expects afterwards: lot lines replace that lot's units.
        lot_qty = {b.lot_id: b.quantity for b in StockBalance.objects.filter(location=location)}
        stock_count(location=location, counts=lines, by=self.by)
        today = timezone.localdate()
        for line in lines:
            if line.item is not None:
                self.usable[self.key(location, untracked)] = line.counted
                continue
            model = self.expired if line.lot.expires_on < today else self.usable
            model[self.key(location, tracked)] += line.counted - lot_qty.get(line.lot.pk, 0)

    # --- invariants --------------------------------------------------------------

    @invariant()
    def balance_equals_its_ledger_and_is_never_negative(self):
        ledger = {
            (row["location_id"], row["lot_id"]): row["total"]
            for row in StockMovement.objects.values("location_id", "lot_id").annotate(
                total=Sum("quantity")
            )
        }
        balances = {(b.location_id, b.lot_id): b.quantity for b in StockBalance.objects.all()}
        assert all(quantity >= 0 for quantity in balances.values())
        for key, quantity in balances.items():
            assert ledger.get(key, 0) == quantity, key
        for key, total in ledger.items():
            assert balances.get(key, 0) == total, key

    @invariant()
    def on_hand_matches_the_model(self):
        on_hand = {
            (row["location_id"], row["item_id"]): row["total"]
            for row in StockBalance.objects.values("location_id", "item_id").annotate(
                total=Sum("quantity")
            )
        }
        for location in self.locations:
            for item in self.items:
                key = self.key(location, item)
                assert on_hand.get(key, 0) == self.usable[key] + self.expired[key], key


@pytest.mark.django_db
def test_ledger_state_machine_keeps_balance_equal_to_movements(site_a, site_b, admin_ada):
    LedgerMachine.world = {
        "locations": [
            LocationFactory(name="Downtown drop-in", site=site_a),
            LocationFactory(name="Eastside clinic", site=site_b),
        ],
        "items": [
            ItemFactory(name="1 mL 28G syringe", code="s28", category=Category.SYRINGE),
            ItemFactory(
                name="Naloxone nasal 4 mg",
                code="nx4",
                category=Category.NALOXONE,
                is_lot_tracked=True,
            ),
        ],
        "fund": FundingSourceFactory(name="State grant", code="state"),
        "restricted": FundingSourceFactory(
            name="Federal grant", code="federal", disallowed_categories=["syringe"]
        ),
        "by": admin_ada,
    }
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=40,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
