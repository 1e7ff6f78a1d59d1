"""Catalog, location and funding fixtures of the inventory and stock-alert tests.

`syringe`, `downtown` and `fund`, which the fault tests share, are in tests/conftest.py.
"""

import pytest

from inventory.models import Category

from ..factories import FundingSourceFactory, ItemFactory, LocationFactory


@pytest.fixture
def eastside(site_b):
    return LocationFactory(name="Eastside storeroom", site=site_b)


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
def naloxone(db):
    return ItemFactory(
        name="Naloxone nasal 4 mg",
        code="nx4",
        category=Category.NALOXONE,
        is_lot_tracked=True,
        naloxone_formulation="nasal_4mg",
        naloxone_doses_per_unit=2,
    )
