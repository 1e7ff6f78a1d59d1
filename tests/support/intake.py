"""Fixtures shared by the intake tests: a stocked storeroom at site A with the usual
injection kit, and helpers to read stock. Loaded for every test by tests/conftest.py."""

import uuid

import pytest

from inventory.models import StockMovement
from inventory.selectors import stock_on_hand
from inventory.services import DispenseLine, ReceiptLine, stock_receive

from .factories import FundingSourceFactory, ItemFactory, KitFactory, LocationFactory


@pytest.fixture
def storeroom(site_a):
    return LocationFactory(name="Downtown storeroom", kind="site", site=site_a)


@pytest.fixture
def eastside_storeroom(site_b):
    return LocationFactory(name="Eastside storeroom", kind="site", site=site_b)


@pytest.fixture
def supplies(db):
    """The items of a standard injection kit, plus naloxone."""
    return {
        "syringe": ItemFactory(name="Syringe 1 mL 28G ½in", code="syr-1ml-28g", category="syringe"),
        "pad": ItemFactory(name="Alcohol pad", code="alcohol-pad"),
        "cooker": ItemFactory(name="Cooker", code="cooker"),
        "water": ItemFactory(name="Sterile water 10 mL", code="water"),
        "naloxone": ItemFactory(
            name="Naloxone nasal 4 mg",
            code="nalox-nasal",
            category="naloxone",
            naloxone_formulation="nasal_4mg",
            naloxone_doses_per_unit=2,
        ),
    }


@pytest.fixture
def injection_kit(supplies):
    return KitFactory(
        name="Standard injection kit",
        code="std-kit",
        components=[(supplies["syringe"], 10), (supplies["pad"], 10), (supplies["cooker"], 2)],
    )


def receive(location, quantities: dict, by) -> None:
    fund = FundingSourceFactory(name="State harm reduction fund", code="state")
    stock_receive(
        location=location,
        lines=[ReceiptLine(item=item, quantity=qty) for item, qty in quantities.items()],
        funding_source=fund,
        by=by,
    )


@pytest.fixture
def stocked(storeroom, supplies, injection_kit, manager_sam):
    """Site A's storeroom with 1,000 of each untracked item (naloxone is not received)."""
    receive(
        storeroom,
        {item: 1000 for key, item in supplies.items() if key != "naloxone"},
        manager_sam,
    )
    return storeroom


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
