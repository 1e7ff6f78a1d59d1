"""Helpers for tests that record visits against stock: receive, read stock, build lines.

The stocked storeroom and the injection kit they use are fixtures in tests/conftest.py."""

import uuid

from inventory.models import StockMovement
from inventory.selectors import stock_on_hand
from inventory.services import DispenseLine, ReceiptLine, stock_receive

from ..factories import FundingSourceFactory


def receive(location, quantities: dict, by) -> None:
    fund = FundingSourceFactory(name="State harm reduction fund", code="state")
    stock_receive(
        location=location,
        lines=[ReceiptLine(item=item, quantity=qty) for item, qty in quantities.items()],
        funding_source=fund,
        by=by,
    )


def on_hand(location, item) -> int:
    return stock_on_hand(location=location, item=item)


def movements_of(visit):
    return StockMovement.objects.filter(reference=visit.stock_reference)


def kit_line(kit, quantity=1):
    return DispenseLine(quantity=quantity, kit=kit)


def item_line(item, quantity):
    return DispenseLine(quantity=quantity, item=item)


def new_uuid() -> str:
    return str(uuid.uuid4())
