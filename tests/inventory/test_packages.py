"""The shape of inventory's write and read entry points: durable outermost writes, the
in-transaction forms a visit uses, the error registry, and kit expansion."""

import pytest
from django.db import transaction

from inventory import api  # noqa: F401  (registers inventory's error statuses)
from inventory.models import Category
from inventory.selectors import kit_components, lines_expand, supply_catalog
from inventory.services import (
    DispenseLine,
    InsufficientStock,
    ReceiptLine,
    StockError,
    stock_dispense,
    stock_dispense_in_transaction,
    stock_receive,
    stock_reverse_in_transaction,
)
from org import api_errors
from tests.factories import FundingSourceFactory, ItemFactory, KitFactory, LocationFactory


@pytest.fixture
def stocked(manager_sam, site_a):
    location = LocationFactory(name="Downtown drop-in", site=site_a)
    syringe = ItemFactory(name="1 mL 28G syringe", code="s28", category=Category.SYRINGE)
    pad = ItemFactory(name="Alcohol pad", code="pad", category=Category.OTHER)
    fund = FundingSourceFactory(name="State harm reduction grant", code="state")
    stock_receive(
        location=location,
        lines=[ReceiptLine(item=syringe, quantity=100), ReceiptLine(item=pad, quantity=100)],
        funding_source=fund,
        by=manager_sam,
    )
    return location, syringe, pad


def test_the_stand_alone_dispense_refuses_to_nest_in_another_transaction(stocked, manager_sam):
    location, syringe, _ = stocked
    with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
        stock_dispense(
            location=location,
            lines=[DispenseLine(item=syringe, quantity=1)],
            by=manager_sam,
            reference="visit:nested",
        )


def test_the_in_transaction_dispense_joins_the_callers_transaction(stocked, manager_sam):
    location, syringe, _ = stocked
    with transaction.atomic():
        moved = stock_dispense_in_transaction(
            location=location,
            lines=[DispenseLine(item=syringe, quantity=3)],
            by=manager_sam,
            reference="visit:inner",
        )
        reversed_ = stock_reverse_in_transaction(reference="visit:inner", by=manager_sam)
    assert [m.quantity for m in moved] == [-3]
    assert [m.quantity for m in reversed_] == [3]


@pytest.mark.django_db(transaction=True)
def test_the_in_transaction_forms_refuse_to_run_without_one():
    with pytest.raises(RuntimeError, match="caller's transaction"):
        stock_reverse_in_transaction(reference="visit:none", by=None)


def test_the_most_specific_registered_error_class_gives_the_status():
    short = InsufficientStock.__new__(InsufficientStock)
    assert api_errors.domain_error_response(short) == (409, "insufficient_stock")
    assert api_errors.domain_error_response(StockError("no")) == (400, "stock_error")

    class Subclassed(InsufficientStock):
        pass

    assert api_errors.domain_error_response(Subclassed.__new__(Subclassed)) == (
        409,
        "insufficient_stock",
    )
    assert api_errors.domain_error_response(ValueError("not a domain error")) is None


def test_lines_expand_unpacks_kits_and_merges_items_in_first_seen_order(stocked):
    _, syringe, pad = stocked
    kit = KitFactory(name="Syringe pack", code="pack", components=[(syringe, 10), (pad, 5)])
    lines = [DispenseLine(item=pad, quantity=1), DispenseLine(kit=kit, quantity=2)]
    assert lines_expand(lines) == {pad: 11, syringe: 20}
    components = kit_components([kit])
    assert sorted(c.item.name for c in components[kit.pk]) == ["1 mL 28G syringe", "Alcohol pad"]
    assert lines_expand(lines, components=components) == {pad: 11, syringe: 20}


def test_the_supply_catalog_lists_only_what_is_handed_out(stocked):
    _, syringe, pad = stocked
    pad.is_active = False
    pad.save()
    kit = KitFactory(name="Syringe pack", code="pack", components=[(syringe, 10)])
    KitFactory(name="Old pack", code="old", components=[(syringe, 5)], is_active=False)
    catalog = supply_catalog()
    assert catalog == {"kits": [kit], "items": [syringe]}
