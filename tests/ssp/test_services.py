"""Logging, correcting and voiding visits; participants, codes and merges."""

from datetime import timedelta

import pytest
import time_machine
from auditlog.models import LogEntry
from django.utils import timezone

from inventory.models import StockMovement
from inventory.services import InsufficientStock
from ssp.codes import CodeError
from ssp.models import MergeReason, Participant, ParticipantMerge, Visit, VoidReason
from ssp.selectors import participant_by_code
from ssp.services import (
    LargeQuantityNotConfirmed,
    VisitConflict,
    VisitError,
    VisitNotAllowed,
    participant_merge,
    visit_correct,
    visit_record,
    visit_void,
)

from ..factories import ParticipantFactory
from ..support.intake import item_line, kit_line, movements_of, new_uuid, on_hand

pytestmark = pytest.mark.django_db


def record(by, site, **kwargs):
    kwargs.setdefault("client_uuid", new_uuid())
    visit, _created = visit_record(site=site, by=by, **kwargs)
    return visit


def test_a_visit_with_a_kit_moves_each_component_out_of_the_site(
    front_desk_ana, site_a, stocked, injection_kit, supplies
):
    visit = record(front_desk_ana, site_a, code="MAKO1993F", lines=[kit_line(injection_kit)])

    assert visit.participant.code == "MAKO1993F"
    assert visit.location == stocked
    assert on_hand(stocked, supplies["syringe"]) == 990
    assert on_hand(stocked, supplies["pad"]) == 990
    assert on_hand(stocked, supplies["cooker"]) == 998
    assert {m.reference for m in movements_of(visit)} == {f"visit:{visit.uuid}"}
    assert [(s.kit, s.quantity) for s in visit.supplies.all()] == [(injection_kit, 1)]


def test_a_new_code_creates_a_participant_first_seen_that_day_with_its_gender(
    front_desk_ana, site_a, stocked, supplies
):
    visit = record(
        front_desk_ana, site_a, code=" mä-ko 1993 f", lines=[item_line(supplies["pad"], 5)]
    )
    participant = Participant.objects.get()
    assert participant.code == "MAKO1993F" == visit.participant.code
    assert participant.first_seen_on == timezone.localdate()
    assert participant.gender == "F"


def test_a_known_code_reuses_the_participant(front_desk_ana, site_a, stocked, supplies):
    first = record(front_desk_ana, site_a, code="MAKO1993F", lines=[item_line(supplies["pad"], 1)])
    second = record(front_desk_ana, site_a, code="mako1993f", lines=[item_line(supplies["pad"], 1)])
    assert first.participant_id == second.participant_id
    assert Participant.objects.count() == 1


def test_anonymous_visit_has_no_participant(front_desk_ana, site_a, stocked, supplies):
    visit = record(front_desk_ana, site_a, lines=[item_line(supplies["syringe"], 20)])
    assert visit.participant is None
    assert Participant.objects.count() == 0


def test_same_client_uuid_returns_the_first_visit_and_moves_stock_once(
    front_desk_ana, site_a, stocked, injection_kit, supplies
):
    key = new_uuid()
    first, created = visit_record(
        site=site_a, by=front_desk_ana, client_uuid=key, code="MAKO1993F",
        lines=[kit_line(injection_kit)],
    )  # fmt: skip
    again, created_again = visit_record(
        site=site_a, by=front_desk_ana, client_uuid=key, code="MAKO1993F",
        lines=[kit_line(injection_kit)],
    )  # fmt: skip
    assert created and not created_again
    assert again.pk == first.pk
    assert Visit.objects.count() == 1
    assert on_hand(stocked, supplies["syringe"]) == 990


def test_someone_elses_client_uuid_is_refused(
    front_desk_ana, manager_sam, site_a, stocked, supplies
):
    key = new_uuid()
    record(front_desk_ana, site_a, client_uuid=key, lines=[item_line(supplies["pad"], 1)])
    with pytest.raises(VisitConflict):
        record(manager_sam, site_a, client_uuid=key, lines=[item_line(supplies["pad"], 1)])


def test_under_refuse_insufficient_stock_names_the_item_and_saves_nothing(
    front_desk_ana, site_a, stocked, injection_kit, supplies, settings
):
    settings.SSP_STOCK_SHORTFALL = "refuse"
    with pytest.raises(InsufficientStock) as caught:
        record(
            front_desk_ana,
            site_a,
            code="MAKO1993F",
            lines=[kit_line(injection_kit), item_line(supplies["cooker"], 999)],
            confirm_large_quantity=True,
        )
    assert "Cooker" in str(caught.value) and "1000 available" in str(caught.value)
    assert Visit.objects.count() == 0
    assert Participant.objects.count() == 0
    assert not StockMovement.objects.filter(kind="dispense").exists()
    assert on_hand(stocked, supplies["syringe"]) == 1000


def test_under_refuse_naloxone_never_received_is_insufficient(
    front_desk_ana, site_a, stocked, supplies, settings
):
    settings.SSP_STOCK_SHORTFALL = "refuse"
    with pytest.raises(InsufficientStock, match="0 available"):
        record(front_desk_ana, site_a, lines=[item_line(supplies["naloxone"], 1)])


def test_code_not_matching_the_recipe_is_refused(front_desk_ana, site_a, stocked, supplies):
    with pytest.raises(CodeError, match="does not match the code recipe"):
        record(front_desk_ana, site_a, code="HELLO", lines=[item_line(supplies["pad"], 1)])
    assert Visit.objects.count() == 0


def test_quantity_below_one_is_refused(front_desk_ana, site_a, stocked, supplies):
    with pytest.raises(VisitError, match="at least 1"):
        record(front_desk_ana, site_a, lines=[item_line(supplies["pad"], 0)])
    with pytest.raises(VisitError, match="at least 1"):
        record(front_desk_ana, site_a, lines=[item_line(supplies["pad"], -3)])
    assert Visit.objects.count() == 0


def test_visit_cannot_be_in_the_future(front_desk_ana, site_a, stocked, supplies):
    with pytest.raises(VisitError, match="future") as caught:
        record(
            front_desk_ana,
            site_a,
            occurred_at=timezone.now() + timedelta(hours=2),
            lines=[item_line(supplies["pad"], 1)],
        )
    assert caught.value.field_errors == {"occurred_at": [str(caught.value)]}


def test_backdating_is_allowed_within_the_window_only(
    front_desk_ana, site_a, stocked, supplies, settings
):
    settings.SSP_VISIT_BACKDATE_DAYS = 7
    earlier = timezone.now() - timedelta(days=6)
    visit = record(
        front_desk_ana, site_a, code="MAKO1993F", occurred_at=earlier,
        lines=[item_line(supplies["pad"], 1)],
    )  # fmt: skip
    assert visit.participant.first_seen_on == timezone.localdate(earlier)
    with pytest.raises(VisitError, match="backdated by 7 days at most"):
        record(
            front_desk_ana, site_a, occurred_at=timezone.now() - timedelta(days=8),
            lines=[item_line(supplies["pad"], 1)],
        )  # fmt: skip
    assert Visit.objects.count() == 1


def test_front_desk_cannot_log_at_a_site_they_do_not_belong_to(
    front_desk_ben, site_a, stocked, supplies
):
    with pytest.raises(VisitNotAllowed, match="You do not work at Downtown drop-in"):
        record(front_desk_ben, site_a, lines=[item_line(supplies["pad"], 1)])
    assert Visit.objects.count() == 0


def test_coordinator_without_log_visit_cannot_log(coordinator_cleo, site_a, stocked, supplies):
    with pytest.raises(VisitNotAllowed):
        record(coordinator_cleo, site_a, lines=[item_line(supplies["pad"], 1)])


def test_large_quantity_asks_for_confirmation(
    front_desk_ana, site_a, stocked, injection_kit, supplies, settings
):
    settings.SSP_LARGE_QUANTITY = 500
    # 51 kits = 510 syringes: above the limit through the kit's components.
    with pytest.raises(LargeQuantityNotConfirmed, match="510 × Syringe"):
        record(front_desk_ana, site_a, lines=[kit_line(injection_kit, 51)])
    assert Visit.objects.count() == 0
    visit = record(
        front_desk_ana, site_a, lines=[kit_line(injection_kit, 51)], confirm_large_quantity=True
    )
    assert on_hand(stocked, supplies["syringe"]) == 1000 - 510
    assert visit.supplies.get().quantity == 51


def test_street_shift_counts_contacts_and_moves_stock_once(
    front_desk_ana, site_a, stocked, supplies
):
    shift = record(
        front_desk_ana,
        site_a,
        contacts=40,
        lines=[item_line(supplies["syringe"], 900), item_line(supplies["water"], 80)],
        syringes_collected=300,
        collection_method="estimated",
    )
    assert shift.contacts == 40 and shift.participant is None
    assert shift.service_model == "outreach"
    assert on_hand(stocked, supplies["syringe"]) == 100
    assert movements_of(shift).count() == 2


def test_street_shift_cannot_carry_a_code(front_desk_ana, site_a, stocked, supplies):
    with pytest.raises(VisitError, match="anonymous"):
        record(front_desk_ana, site_a, contacts=5, code="MAKO1993F", lines=[])


# --- Corrections and voids -----------------------------------------------------------


def test_author_corrects_supplies_and_stock_follows_exactly(
    front_desk_ana, site_a, stocked, injection_kit, supplies
):
    visit = record(front_desk_ana, site_a, code="MAKO1993F", lines=[kit_line(injection_kit)])
    visit_correct(
        visit=visit,
        by=front_desk_ana,
        lines=[kit_line(injection_kit, 2), item_line(supplies["water"], 3)],
        syringes_collected=15,
    )
    visit.refresh_from_db()
    assert visit.syringes_collected == 15
    assert visit.updated_by == front_desk_ana
    assert on_hand(stocked, supplies["syringe"]) == 980
    assert on_hand(stocked, supplies["water"]) == 997
    net = {}
    for m in movements_of(visit):
        net[m.item.code] = net.get(m.item.code, 0) + m.quantity
    assert net == {"syr-1ml-28g": -20, "alcohol-pad": -20, "cooker": -4, "water": -3}
    updates = LogEntry.objects.get_for_object(visit).filter(action=LogEntry.Action.UPDATE)
    assert {tuple(e.changes) for e in updates} >= {("supplies",)}
    assert {e.actor for e in updates} == {front_desk_ana}


def test_correction_without_supply_changes_moves_no_stock(
    front_desk_ana, site_a, stocked, injection_kit
):
    visit = record(front_desk_ana, site_a, code="MAKO1993F", lines=[kit_line(injection_kit)])
    before = movements_of(visit).count()
    visit_correct(visit=visit, by=front_desk_ana, notes="Asked about wound care")
    assert movements_of(visit).count() == before


def test_correction_can_change_the_code_and_make_it_anonymous(
    front_desk_ana, site_a, stocked, supplies
):
    visit = record(front_desk_ana, site_a, code="MAKO1993F", lines=[item_line(supplies["pad"], 1)])
    visit_correct(visit=visit, by=front_desk_ana, code="MAKO1992F")
    assert Visit.objects.get().participant.code == "MAKO1992F"
    visit_correct(visit=visit, by=front_desk_ana, code="")
    assert Visit.objects.get().participant is None


def test_author_may_correct_only_within_the_edit_window(
    front_desk_ana, manager_sam, site_a, stocked, supplies, settings
):
    settings.SSP_VISIT_EDIT_HOURS = 24
    visit = record(front_desk_ana, site_a, lines=[item_line(supplies["pad"], 1)])
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        with pytest.raises(VisitNotAllowed, match="24 hours"):
            visit_correct(visit=visit, by=front_desk_ana, syringes_collected=3)
        # A manager may correct any visit at their sites, any time.
        visit_correct(visit=visit, by=manager_sam, syringes_collected=3)
    assert Visit.objects.get().syringes_collected == 3


def test_another_front_desk_worker_cannot_correct_my_visit(
    front_desk_ana, site_a, stocked, supplies
):
    from ..factories import make_staff

    colleague = make_staff("carla", "Front desk", [site_a])
    visit = record(front_desk_ana, site_a, lines=[item_line(supplies["pad"], 1)])
    with pytest.raises(VisitNotAllowed, match="Only the person who logged"):
        visit_void(visit=visit, by=colleague, reason="wrong")


def test_void_keeps_the_record_and_puts_the_stock_back(
    front_desk_ana, site_a, stocked, injection_kit, supplies
):
    visit = record(front_desk_ana, site_a, code="MAKO1993F", lines=[kit_line(injection_kit)])
    visit_void(visit=visit, by=front_desk_ana, reason="Entered twice")
    visit.refresh_from_db()
    assert visit.is_void and visit.void_reason == VoidReason.ENTERED_TWICE
    assert visit.voided_by == front_desk_ana
    assert on_hand(stocked, supplies["syringe"]) == 1000
    assert sum(m.quantity for m in movements_of(visit)) == 0
    with pytest.raises(VisitConflict, match="voided"):
        visit_void(visit=visit, by=front_desk_ana, reason="again")
    with pytest.raises(VisitConflict):
        visit_correct(visit=visit, by=front_desk_ana, notes="x")
    assert on_hand(stocked, supplies["syringe"]) == 1000


def test_void_needs_a_reason(front_desk_ana, site_a, stocked, supplies):
    visit = record(front_desk_ana, site_a, lines=[item_line(supplies["pad"], 1)])
    with pytest.raises(VisitError, match="why"):
        visit_void(visit=visit, by=front_desk_ana, reason="  ")


# --- Participants --------------------------------------------------------------------


def test_manager_merges_two_codes_and_visits_move(
    front_desk_ana, manager_sam, site_a, stocked, supplies
):
    right = record(front_desk_ana, site_a, code="MAKO1993F", lines=[item_line(supplies["pad"], 1)])
    typo = record(front_desk_ana, site_a, code="MAKO1939F", lines=[item_line(supplies["pad"], 1)])
    merge = participant_merge(
        merged=typo.participant, kept=right.participant, by=manager_sam, reason=MergeReason.YEAR_OFF
    )
    assert merge.visits_moved == 1
    assert set(Visit.objects.values_list("participant__code", flat=True)) == {"MAKO1993F"}
    # The old code still finds the person, so a returning visit lands on the kept code.
    assert participant_by_code("MAKO1939F") == right.participant
    again = record(front_desk_ana, site_a, code="MAKO1939F", lines=[item_line(supplies["pad"], 1)])
    assert again.participant == right.participant
    merged = Participant.objects.get(code="MAKO1939F")
    assert LogEntry.objects.get_for_object(merged).filter(changes__has_key="merged_into").exists()
    assert ParticipantMerge.objects.get().merged_by == manager_sam


def test_front_desk_cannot_merge(front_desk_ana):
    a, b = ParticipantFactory(code="MAKO1993F"), ParticipantFactory(code="MAKO1939F")
    with pytest.raises(VisitNotAllowed):
        participant_merge(merged=a, kept=b, by=front_desk_ana)


def test_a_code_cannot_be_merged_twice_or_into_itself(manager_sam):
    a, b, c = (ParticipantFactory(code=c) for c in ("MAKO1993F", "MAKO1939F", "MAKO1993M"))
    with pytest.raises(VisitError, match="two different"):
        participant_merge(merged=a, kept=a, by=manager_sam)
    participant_merge(merged=b, kept=a, by=manager_sam)
    with pytest.raises(VisitError, match="already merged"):
        participant_merge(merged=b, kept=c, by=manager_sam)
    with pytest.raises(VisitError, match="merge into that one"):
        participant_merge(merged=c, kept=b, by=manager_sam)


def test_merging_keeps_the_earliest_first_seen_date(manager_sam):
    old = ParticipantFactory(
        code="MAKO1939F", first_seen_on=timezone.localdate() - timedelta(days=90)
    )
    kept = ParticipantFactory(code="MAKO1993F")
    participant_merge(merged=old, kept=kept, by=manager_sam)
    kept.refresh_from_db()
    assert kept.first_seen_on == old.first_seen_on
