"""Fixtures of the intake tests (the personas, sites and stock: tests/conftest.py)."""

import pytest

from ..factories import ItemFactory
from ..support.intake import receive


@pytest.fixture
def twelve_items(stocked, manager_sam):
    items = [ItemFactory(name=f"Supply {n}", code=f"supply-{n}") for n in range(12)]
    receive(stocked, dict.fromkeys(items, 100), manager_sam)
    return items
