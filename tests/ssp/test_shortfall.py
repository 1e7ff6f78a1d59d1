"""A contact is never refused for stock: a supply line beyond what the books hold is
saved with the visit, the shortfall is recorded in the ledger as stock found at
dispense, balances never go negative, the ledger still sums, and one count-discrepancy
alert asks a manager to count the item. SSP_STOCK_SHORTFALL=refuse keeps the refusal."""

import pytest
from django.core.management import call_command
from django.db.models import Sum

from inventory.models import (
    AdjustmentReason,
    AlertCondition,
    StockAlert,
    StockBalance,
    StockMovement,
)
from inventory.selectors import balance_drift, found_at_dispense, funded_dispense_by_source
from inventory.services import (
    CountLine,
    InsufficientStock,
    StockError,
    stock_adjust,
    stock_count,
)
from outbox.models import OutboxJob
from ssp.models import Visit
from ssp.services import visit_correct, visit_record, visit_void

from ..support.intake import item_line, kit_line, movements_of, new_uuid, on_hand

pytestmark = pytest.mark.django_db


def record(by, site, lines, **extra):
    visit, _ = visit_record(
        site=site, by=by, client_uuid=new_uuid(), lines=lines, confirm_large_quantity=True, **extra
    )
    return visit


def found_units(location=None, item=None) -> int:
    movements = StockMovement.objects.filter(kind="adjustment", reason=AdjustmentReason.SHORTFALL)
    if location is not None:
        movements = movements.filter(location=location, item=item)
    return movements.aggregate(total=Sum("quantity"))["total"] or 0


def count_alerts(location, item, **filters):
    return StockAlert.objects.filter(
        condition=AlertCondition.COUNT_DISCREPANCY, location=location, item=item, **filters
    )


def assert_ledger_sums():
    assert balance_drift() == []
    assert not StockBalance.objects.filter(quantity__lt=0).exists()


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """`with committed():` runs what the writes queued for after commit (the alert
    re-check job, in-process), as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def short_visit(front_desk_ana, site_a, stocked, supplies, injection_kit, committed):
    """1,000 syringes on the books; the visit hands out 1,000 loose and a kit of 10."""
    with committed():
        return record(
            front_desk_ana,
            site_a,
            [
                item_line(supplies["syringe"], 1000),
                kit_line(injection_kit),
                item_line(supplies["water"], 1),
            ],
            code="MAKO1993F",
        )


def test_a_line_beyond_the_books_by_10_is_saved_with_every_line(
    short_visit, stocked, supplies, front_desk_ana
):
    visit = Visit.objects.get()
    assert visit == short_visit
    assert visit.supplies.count() == 3
    assert on_hand(stocked, supplies["syringe"]) == 0
    assert on_hand(stocked, supplies["pad"]) == 990
    assert_ledger_sums()
    # The shortfall is an explicit, attributed movement on the placeholder lot, under
    # the visit's reference, followed by the dispense of those units.
    (found,) = movements_of(visit).filter(reason=AdjustmentReason.SHORTFALL)
    assert (found.quantity, found.item, found.recorded_by) == (
        10,
        supplies["syringe"],
        front_desk_ana,
    )
    assert found.lot.lot_number == "UNRECORDED" and found.lot.expires_on is None
    assert not found.lot.funding_source.is_active
    dispensed = movements_of(visit).filter(kind="dispense", item=supplies["syringe"])
    assert -sum(dispensed.values_list("quantity", flat=True)) == 1010
    assert dispensed.filter(lot=found.lot).get().quantity == -10
    assert count_alerts(stocked, supplies["syringe"]).count() == 1
    assert StockAlert.objects.filter(condition=AlertCondition.COUNT_DISCREPANCY).count() == 1


def test_the_visit_carries_a_notice_not_an_error(short_visit, stocked):
    assert "10 × Syringe 1 mL 28G ½in" in short_visit.stock_notice
    assert stocked.name in short_visit.stock_notice
    assert "count" in short_visit.stock_notice


def test_check_stock_reports_no_drift(short_visit, capsys):
    call_command("check_stock")
    assert "0 drift" in capsys.readouterr().out


def test_more_shortfalls_keep_one_open_alert_per_item_and_location(
    short_visit, front_desk_ana, site_a, stocked, supplies, committed
):
    for _ in range(3):
        with committed():
            record(front_desk_ana, site_a, [item_line(supplies["syringe"], 5)], code="MAKO1993F")
    assert found_units(stocked, supplies["syringe"]) == 10 + 3 * 5
    (alert,) = count_alerts(stocked, supplies["syringe"], resolved_at__isnull=True)
    assert alert.facts["found_at_dispense"] == 25
    assert "25 handed out beyond what the books held" in alert.summary
    assert on_hand(stocked, supplies["syringe"]) == 0
    assert_ledger_sums()


def test_a_count_afterwards_clears_the_alert(
    short_visit, stocked, supplies, manager_sam, committed
):
    syringe = supplies["syringe"]
    assert count_alerts(stocked, syringe, resolved_at__isnull=True).exists()
    with committed():
        stock_count(location=stocked, counts=[CountLine(counted=0, item=syringe)], by=manager_sam)
    assert not count_alerts(stocked, syringe, resolved_at__isnull=True).exists()
    assert_ledger_sums()


def test_a_count_that_differs_speaks_of_the_count_instead(
    short_visit, stocked, supplies, manager_sam, committed
):
    syringe = supplies["syringe"]
    with committed():
        stock_count(
            location=stocked,
            counts=[CountLine(counted=40, item=syringe, reason="found")],
            by=manager_sam,
        )
    (alert,) = count_alerts(stocked, syringe, resolved_at__isnull=True)
    assert alert.facts["difference"] == 40 and "found_at_dispense" not in alert.facts
    assert on_hand(stocked, syringe) == 40
    assert_ledger_sums()


def test_a_void_gives_the_stock_back_and_withdraws_what_was_found(
    short_visit, stocked, supplies, front_desk_ana, committed
):
    with committed():
        visit_void(visit=short_visit, by=front_desk_ana, reason="twice")
    # As before the visit: the books were right after all.
    assert on_hand(stocked, supplies["syringe"]) == 1000
    assert on_hand(stocked, supplies["pad"]) == 1000
    assert found_units() == 0
    assert found_at_dispense(reference=short_visit.stock_reference) == {}
    assert_ledger_sums()
    assert not count_alerts(stocked, supplies["syringe"], resolved_at__isnull=True).exists()


def test_a_correction_reverses_and_dispenses_anew_and_the_ledger_sums(
    short_visit, stocked, supplies, front_desk_ana, injection_kit, committed
):
    syringe = supplies["syringe"]
    fewer = visit_correct(
        visit=short_visit,
        by=front_desk_ana,
        lines=[item_line(syringe, 990)],
        confirm_large_quantity=True,
    )
    assert fewer.stock_notice is None
    assert on_hand(stocked, syringe) == 10
    assert found_at_dispense(reference=short_visit.stock_reference) == {}
    assert_ledger_sums()

    with committed():
        more = visit_correct(
            visit=short_visit,
            by=front_desk_ana,
            lines=[item_line(syringe, 1000), kit_line(injection_kit, 3)],
            confirm_large_quantity=True,
        )
    assert "30 × Syringe" in more.stock_notice
    assert on_hand(stocked, syringe) == 0
    assert found_at_dispense(reference=short_visit.stock_reference) == {syringe: 30}
    assert found_units() == 30
    assert_ledger_sums()
    assert count_alerts(stocked, syringe, resolved_at__isnull=True).count() == 1


def test_funders_are_not_credited_with_units_the_books_lacked(short_visit, stocked, supplies):
    by_source = {
        (row.source.code, row.category): row.units
        for row in funded_dispense_by_source(references=[short_visit.stock_reference])
    }
    assert by_source[("state", "syringe")] == 1000
    assert by_source[("unrecorded", "syringe")] == 10


def test_an_item_never_received_at_the_location_is_saved_too(
    front_desk_ana, site_a, stocked, supplies
):
    visit = record(front_desk_ana, site_a, [item_line(supplies["naloxone"], 2)], code="MAKO1993F")
    assert visit.supplies.get().quantity == 2
    assert on_hand(stocked, supplies["naloxone"]) == 0
    assert found_units(stocked, supplies["naloxone"]) == 2
    assert_ledger_sums()


def test_staff_cannot_adjust_with_the_shortfall_reason(stocked, supplies, manager_sam):
    lot = StockBalance.objects.filter(location=stocked, item=supplies["syringe"]).get().lot
    with pytest.raises(StockError, match="Choose damaged"):
        stock_adjust(location=stocked, lot=lot, quantity=5, reason="shortfall", by=manager_sam)


def test_under_refuse_the_visit_is_refused_and_nothing_moves(
    front_desk_ana, site_a, stocked, supplies, injection_kit, settings
):
    settings.SSP_STOCK_SHORTFALL = "refuse"
    with pytest.raises(InsufficientStock, match="1000 available"):
        record(
            front_desk_ana, site_a, [item_line(supplies["syringe"], 1000), kit_line(injection_kit)]
        )
    assert Visit.objects.count() == 0
    assert not StockMovement.objects.filter(kind="dispense").exists()
    assert found_units() == 0


# --- What staff see -----------------------------------------------------------------


def test_the_api_answers_with_the_notice(api_as, front_desk_ana, site_a, stocked):
    body = {
        "client_uuid": new_uuid(),
        "site": site_a.pk,
        "code": "MAKO1993F",
        "supplies": [{"item": "nalox-nasal", "quantity": 2}, {"item": "water", "quantity": 1}],
    }
    api = api_as(front_desk_ana)
    created = api.post("/api/v1/visits/", body, format="json")
    assert created.status_code == 201
    assert "2 × Naloxone nasal 4 mg" in created.json()["notice"]
    assert len(created.json()["supplies"]) == 2
    again = api.post("/api/v1/visits/", body, format="json")
    assert again.status_code == 200 and again.json()["notice"] == created.json()["notice"]
    plain = api.post(
        "/api/v1/visits/", {**body, "client_uuid": new_uuid(), "supplies": []}, format="json"
    )
    assert plain.status_code == 201 and plain.json()["notice"] is None


def test_a_synced_record_carries_the_notice_and_keeps_it_on_replay(
    api_as, front_desk_ana, site_a, stocked
):
    body = {
        "client_uuid": new_uuid(),
        "site": site_a.pk,
        "anonymous": True,
        "supplies": [{"item": "nalox-nasal", "quantity": 1}],
    }
    batch = {"records": [{"kind": "visit", "client_uuid": body["client_uuid"], "body": body}]}
    api = api_as(front_desk_ana)
    (first,) = api.post("/api/v1/sync/", batch, format="json").json()["results"]
    (again,) = api.post("/api/v1/sync/", batch, format="json").json()["results"]
    assert (first["status"], again["status"]) == ("created", "duplicate")
    assert "1 × Naloxone nasal 4 mg" in first["notice"]
    assert again["notice"] == first["notice"]
    assert found_units() == 1


def test_the_front_desk_shows_a_notice_after_save(
    client, front_desk_ana, site_a, stocked, supplies
):
    client.force_login(front_desk_ana)
    data = {
        "client_uuid": new_uuid(),
        "site": site_a.pk,
        "code": "MAKO1993F",
        "line": [f"item:{supplies['naloxone'].pk}"],
        "qty": ["1"],
    }
    response = client.post("/intake/", data)
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "msg-warning" in page and "1 × Naloxone nasal 4 mg" in page
    assert "msg-error" not in page
    assert Visit.objects.count() == 1


def test_the_street_shift_page_shows_the_notice(client, front_desk_ana, site_a, stocked, supplies):
    client.force_login(front_desk_ana)
    data = {
        "client_uuid": new_uuid(),
        "site": site_a.pk,
        "contacts": 20,
        "service_model": "outreach",
        "line": [f"item:{supplies['naloxone'].pk}"],
        "qty": ["20"],
    }
    response = client.post("/intake/shift/", data, follow=True)
    page = response.content.decode()
    assert "Shift saved" in page and "20 × Naloxone nasal 4 mg" in page
    assert found_units() == 20


def test_a_synced_batch_queues_one_alert_check_and_raises_one_alert(
    api_as, front_desk_ana, site_a, stocked, supplies, committed
):
    bodies = [
        {
            "client_uuid": new_uuid(),
            "site": site_a.pk,
            "anonymous": True,
            "supplies": [{"item": "nalox-nasal", "quantity": 1}, {"item": "water", "quantity": 1}],
        }
        for _ in range(3)
    ]
    batch = {
        "records": [{"kind": "visit", "client_uuid": b["client_uuid"], "body": b} for b in bodies]
    }
    jobs = OutboxJob.objects.filter(task_name="inventory.tasks.alerts_check")
    before = set(jobs.values_list("pk", flat=True))
    with committed():
        response = api_as(front_desk_ana).post("/api/v1/sync/", batch, format="json")
    assert [row["status"] for row in response.json()["results"]] == ["created"] * 3
    (job,) = jobs.exclude(pk__in=before)
    assert sorted(map(tuple, job.kwargs["pairs"])) == sorted(
        (stocked.pk, supplies[key].pk) for key in ("naloxone", "water")
    )
    (alert,) = count_alerts(stocked, supplies["naloxone"], resolved_at__isnull=True)
    assert alert.facts["found_at_dispense"] == 3
