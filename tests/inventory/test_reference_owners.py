"""References owned by another record: the ledger's own endpoints refuse to reverse,
adjust or write under them (a visit is corrected or voided through intake; a count
is redone by counting again), while the owner's in-transaction forms still work.
One test per kind of reference the apps write."""

import re
from pathlib import Path

import pytest

from inventory.models import Lot, StockMovement
from inventory.services import (
    StockError,
    reference_owned,
    reference_owner_register,
    stock_adjust,
    stock_dispense,
    stock_reverse,
)
from ssp.services import visit_record, visit_void

from ..support.intake import item_line, movements_of, new_uuid, on_hand

API = "/api/v1/inventory"
ROOT = Path(__file__).resolve().parents[2]
APPS = ["org", "outbox", "inventory", "events", "ssp", "referrals", "reports"]

# Every kind of stock reference the apps write, and whether the ledger's own endpoints
# may undo it. A new kind fails test_every_reference_kind_the_apps_write_is_listed.
KINDS = {
    "visit:": "owned",  # ssp: Visit.stock_reference (street shifts are visits too)
    "count:": "owned",  # inventory: StockCount.reference
    "transfer:": "reversible",  # inventory: a transfer without a reference of its own
}


@pytest.fixture
def live_visit(site_a, front_desk_ana, stocked, supplies):
    visit, _ = visit_record(
        site=site_a,
        by=front_desk_ana,
        client_uuid=new_uuid(),
        code="MAKO1993F",
        lines=[item_line(supplies["water"], 3)],
    )
    return visit


def test_every_reference_kind_the_apps_write_is_listed():
    # A reference is a kind and one value (f"visit:{uuid}"); form field names such as
    # f"extra:{name}:type" are not references.
    pattern = re.compile(r'f"([a-z_]+:)\{[^{}]*\}"')
    written = set()
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" not in path.parts:
                written |= set(pattern.findall(path.read_text()))
    assert written == set(KINDS)


@pytest.mark.parametrize("prefix", [p for p, kind in KINDS.items() if kind == "owned"])
def test_owned_kinds_are_registered_and_free_ones_are_not(prefix):
    assert reference_owned(f"{prefix}123") is not None
    assert reference_owned(f"  {prefix.upper()}123") is not None
    for free in ("transfer:abc", "event:health-fair", "Packing slip 4411", ""):
        assert reference_owned(free) is None


def test_the_visit_reference_is_the_one_intake_registers(live_visit):
    prefix, owner = reference_owned(live_visit.stock_reference)
    assert prefix == "visit:"
    assert owner == "intake: correct or void the visit instead"


def test_a_prefix_cannot_change_owner():
    with pytest.raises(ValueError, match="already owned"):
        reference_owner_register(prefix="visit:", owner="someone else")


# --- visit: --------------------------------------------------------------------------


@pytest.mark.parametrize("spelling", [str, str.upper])
def test_reversing_a_live_visits_stock_through_the_api_is_refused(
    api_as, manager_sam, live_visit, stocked, supplies, spelling
):
    before = on_hand(stocked, supplies["water"])
    moved = movements_of(live_visit).count()
    response = api_as(manager_sam).post(
        f"{API}/reversals/", {"reference": spelling(live_visit.stock_reference)}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["errors"]["reference"] == [
        "References starting with “visit:” belong to intake: correct or void the visit instead."
    ]
    assert on_hand(stocked, supplies["water"]) == before
    assert movements_of(live_visit).count() == moved
    live_visit.refresh_from_db()
    assert not live_visit.is_void


def test_the_stand_alone_reversal_service_refuses_a_visit_too(manager_sam, live_visit):
    with pytest.raises(StockError, match="correct or void the visit"):
        stock_reverse(reference=live_visit.stock_reference, by=manager_sam)


def test_voiding_the_visit_still_puts_its_stock_back(front_desk_ana, live_visit, stocked, supplies):
    before = on_hand(stocked, supplies["water"])
    visit_void(visit=live_visit, by=front_desk_ana, reason="twice")
    assert on_hand(stocked, supplies["water"]) == before + 3


def test_an_adjustment_under_a_visit_reference_is_refused(
    api_as, manager_sam, live_visit, stocked, supplies
):
    lot = Lot.objects.get(item=supplies["water"])
    before = StockMovement.objects.count()
    response = api_as(manager_sam).post(
        f"{API}/adjustments/",
        {
            "location": stocked.pk,
            "lot": lot.pk,
            "quantity": 5,
            "reason": "found",
            "reference": live_visit.stock_reference,
        },
        format="json",
    )
    assert response.status_code == 400
    assert "correct or void the visit" in response.json()["errors"]["reference"][0]
    assert StockMovement.objects.count() == before


def test_other_stand_alone_writes_under_a_visit_reference_are_refused(
    api_as, manager_sam, live_visit, stocked, supplies, eastside_storeroom
):
    client = api_as(manager_sam)
    reference = live_visit.stock_reference
    before = StockMovement.objects.count()
    dispense = client.post(
        f"{API}/dispenses/",
        {
            "location": stocked.pk,
            "lines": [{"item": supplies["water"].pk, "quantity": 1}],
            "reference": reference,
        },
        format="json",
    )
    assert dispense.status_code == 400, dispense.content
    assert "correct or void the visit" in dispense.json()["errors"]["reference"][0]
    with pytest.raises(StockError, match="correct or void the visit"):
        stock_dispense(
            location=stocked,
            lines=[item_line(supplies["water"], 1)],
            by=manager_sam,
            reference=reference,
        )
    assert StockMovement.objects.count() == before


# --- count: --------------------------------------------------------------------------


def test_a_counts_movements_cannot_be_reversed_or_added_to(api_as, manager_sam, stocked, supplies):
    client = api_as(manager_sam)
    lot = Lot.objects.get(item=supplies["water"])
    counted = client.post(
        f"{API}/counts/record/",
        {
            "location": stocked.pk,
            "lines": [{"lot": lot.pk, "counted": 990, "reason": "correction"}],
        },
        format="json",
    )
    assert counted.status_code == 201, counted.content
    reference = f"count:{counted.json()['id']}"
    assert StockMovement.objects.filter(reference=reference).count() == 1
    refused = client.post(f"{API}/reversals/", {"reference": reference}, format="json")
    assert refused.status_code == 400
    assert "record a new count instead" in refused.json()["errors"]["reference"][0]
    with pytest.raises(StockError, match="record a new count instead"):
        stock_adjust(
            location=stocked, lot=lot, quantity=1, reason="found", by=manager_sam,
            reference=reference,
        )  # fmt: skip
    assert on_hand(stocked, supplies["water"]) == 990


# --- transfer: and free references ---------------------------------------------------


def test_a_transfer_and_a_free_reference_can_still_be_reversed(
    api_as, manager_sam, stocked, supplies, site_a
):
    client = api_as(manager_sam)
    van = stocked.__class__.objects.create(name="Downtown van", kind="van", site=site_a)
    sent = client.post(
        f"{API}/transfers/",
        {
            "from_location": stocked.pk,
            "to_location": van.pk,
            "lines": [{"item": supplies["water"].pk, "quantity": 10}],
        },
        format="json",
    )
    assert sent.status_code == 201, sent.content
    reference = sent.json()[0]["reference"]
    assert reference.startswith("transfer:")
    back = client.post(f"{API}/reversals/", {"reference": reference}, format="json")
    assert back.status_code == 201, back.content
    assert on_hand(stocked, supplies["water"]) == 1000
    assert on_hand(van, supplies["water"]) == 0

    out = client.post(
        f"{API}/dispenses/",
        {
            "location": stocked.pk,
            "lines": [{"item": supplies["water"].pk, "quantity": 4}],
            "reference": "event:health-fair",
        },
        format="json",
    )
    assert out.status_code == 201, out.content
    undone = client.post(f"{API}/reversals/", {"reference": "event:health-fair"}, format="json")
    assert undone.status_code == 201
    assert on_hand(stocked, supplies["water"]) == 1000
