"""Catalog and funding fixtures shared by the inventory tests (import them by name)."""

import pytest

from inventory.models import Category

from .factories import FundingSourceFactory, ItemFactory, LocationFactory


@pytest.fixture
def central(db):
    return LocationFactory(name="Central store", kind="central", site=None)


@pytest.fixture
def state_fund(db):
    return FundingSourceFactory(name="State harm reduction grant", code="state")


@pytest.fixture
def federal_grant(db):
    return FundingSourceFactory(
        name="Federal grant", code="federal", disallowed_categories=["syringe", "needle"]
    )


@pytest.fixture
def syringe(db):
    item = ItemFactory(name="1 mL 28G syringe", code="s28", category=Category.SYRINGE)
    item.pack_sizes.create(name="box of 100", units=100)
    return item


@pytest.fixture
def naloxone(db):
    return ItemFactory(
        name="Naloxone nasal 4 mg",
        code="nx4",
        category=Category.NALOXONE,
        is_lot_tracked=True,
        naloxone_formulation="nasal_4mg",
        naloxone_doses_per_unit=2,
    )


# What `from .inventory_support import *` brings in: the fixtures (pytest finds them by name).
__all__ = ["central", "federal_grant", "naloxone", "state_fund", "syringe"]
