"""The staff pages: front desk, street shift, visits, corrections, participants, merge."""

import html
import re

import pytest

from inventory.models import StockMovement
from ssp.models import Participant, Visit
from ssp.services import visit_record

from ..factories import ParticipantFactory
from ..support.intake import item_line, kit_line, new_uuid, on_hand

pytestmark = pytest.mark.django_db


def intake_post(site, lines=(), **fields):
    data = {"client_uuid": new_uuid(), "site": site.pk, "code": "MAKO1993F", **fields}
    data["line"] = [f"{kind}:{pk}" for kind, pk, _ in lines]
    data["qty"] = [str(qty) for _, _, qty in lines]
    return data


def test_front_desk_page_shows_quick_buttons_and_the_code_field(
    client, front_desk_ana, site_a, stocked, injection_kit
):
    client.force_login(front_desk_ana)
    page = client.get("/intake/").content.decode()
    assert 'id="code"' in page
    assert "Standard injection kit" in page
    assert "Never enter names" in page  # the notes carry the PII warning
    assert "first 2 letters of mother's first name" in html.unescape(page)


def test_saving_a_visit_redirects_to_the_page_with_a_refer_link(
    client, front_desk_ana, site_a, stocked, injection_kit, supplies
):
    client.force_login(front_desk_ana)
    data = intake_post(site_a, [("kit", injection_kit.pk, 1)])
    response = client.post("/intake/", data)
    assert response.status_code == 302
    visit = Visit.objects.get()
    assert str(visit.uuid) == data["client_uuid"]
    page = client.get(response["Location"]).content.decode()
    assert f"/referrals/new/?visit={visit.uuid}" in page
    assert "MAKO1993F" in page and "1 × Standard injection kit" in page
    assert on_hand(stocked, supplies["syringe"]) == 990
    # A double-click posts the same form again: still one visit, stock moved once.
    assert client.post("/intake/", data).status_code == 302
    assert Visit.objects.count() == 1
    assert on_hand(stocked, supplies["syringe"]) == 990


@pytest.mark.parametrize(
    ("fields", "lines", "words"),
    [
        ({"code": ""}, [("item", "pad", 1)], "or tick Anonymous"),
        ({"code": "HELLO"}, [("item", "pad", 1)], "does not match the code recipe"),
        ({}, [("item", "pad", 0)], "must be at least 1"),
        ({}, [("item", 999999, 1)], "Unknown item"),
        ({"occurred_at": "2001-01-01T10:00"}, [("item", "pad", 1)], "backdated"),
        ({}, [("item", "syringe", 900)], "unusually large"),
    ],
)
def test_bad_input_shows_a_message_and_saves_nothing(
    client, front_desk_ana, site_a, stocked, supplies, fields, lines, words
):
    client.force_login(front_desk_ana)
    resolved = [(k, supplies[pk].pk if isinstance(pk, str) else pk, q) for k, pk, q in lines]
    response = client.post("/intake/", intake_post(site_a, resolved, **fields))
    assert response.status_code == 400
    assert words in response.content.decode()
    assert Visit.objects.count() == 0
    assert not StockMovement.objects.filter(kind="dispense").exists()


def test_large_quantity_is_saved_once_confirmed(client, front_desk_ana, site_a, stocked, supplies):
    client.force_login(front_desk_ana)
    data = intake_post(site_a, [("item", supplies["syringe"].pk, 900)])
    page = client.post("/intake/", data).content.decode()
    assert 'id="confirm_large_quantity"' in page
    assert client.post("/intake/", {**data, "confirm_large_quantity": "on"}).status_code == 302
    assert on_hand(stocked, supplies["syringe"]) == 100


def test_a_site_the_user_does_not_belong_to_is_refused(
    client, front_desk_ana, site_a, site_b, stocked, supplies
):
    client.force_login(front_desk_ana)
    response = client.post("/intake/", intake_post(site_b, [("item", supplies["pad"].pk, 1)]))
    assert response.status_code == 400
    assert Visit.objects.count() == 0


def test_lookup_panel_for_a_returning_participant(
    client, front_desk_ana, site_a, stocked, injection_kit
):
    visit_record(
        site=site_a, by=front_desk_ana, client_uuid=new_uuid(), code="MAKO1993F",
        lines=[kit_line(injection_kit)],
    )  # fmt: skip
    client.force_login(front_desk_ana)
    panel = client.get("/intake/lookup/?code=mako1993f").content.decode()
    assert 'id="use-usual"' in panel
    assert "1 × Standard injection kit" in panel
    assert 'id="referral-follow-ups"' in panel
    assert "/referrals/follow-ups/?code=MAKO1993F" in panel


def test_lookup_panel_offers_the_existing_code_for_a_typo(client, front_desk_ana):
    ParticipantFactory(code="MAKO1993F")
    client.force_login(front_desk_ana)
    panel = client.get("/intake/lookup/?code=MAOK1993F").content.decode()
    assert "new code" in panel
    assert 'data-code="MAKO1993F"' in panel and "letters swapped" in panel


def test_build_code_fragment_builds_and_stores_nothing(client, front_desk_ana):
    client.force_login(front_desk_ana)
    fragment = client.post(
        "/intake/build-code/",
        {
            "part_mother_first_name": "Zoë",
            "part_own_first_name": "Al",
            "part_birth_year": "1971",
            "part_gender": "X",
        },
    ).content.decode()
    assert 'data-built-code="ZOAL1971X"' in fragment
    assert Participant.objects.count() == 0


def test_the_code_can_be_given_as_parts_on_the_form(
    client, front_desk_ana, site_a, stocked, supplies
):
    client.force_login(front_desk_ana)
    data = intake_post(
        site_a,
        [("item", supplies["pad"].pk, 2)],
        code="",
        part_mother_first_name="maria",
        part_own_first_name="kofi",
        part_birth_year="1993",
        part_gender="f",
    )
    assert client.post("/intake/", data).status_code == 302
    assert Visit.objects.get().participant.code == "MAKO1993F"


def test_todays_list_undo_voids_the_visit_and_restores_stock(
    client, front_desk_ana, site_a, stocked, injection_kit, supplies
):
    client.force_login(front_desk_ana)
    client.post("/intake/", intake_post(site_a, [("kit", injection_kit.pk, 1)]))
    visit = Visit.objects.get()
    page = client.get("/intake/").content.decode()
    assert f'data-visit="{visit.uuid}"' in page and ">Undo<" in page
    response = client.post(f"/intake/visits/{visit.uuid}/void/", {"undo": "1", "next": "intake"})
    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.is_void and visit.void_reason == "undone"
    assert on_hand(stocked, supplies["syringe"]) == 1000


def test_street_shift_page_logs_contacts_in_bulk(client, front_desk_ana, site_a, stocked, supplies):
    client.force_login(front_desk_ana)
    assert client.get("/intake/shift/").status_code == 200
    response = client.post(
        "/intake/shift/",
        {
            "client_uuid": new_uuid(),
            "site": site_a.pk,
            "contacts": "40",
            "service_model": "outreach",
            "line": [f"item:{supplies['syringe'].pk}", f"item:{supplies['water'].pk}"],
            "qty": ["800", "40"],
            "syringes_collected": "300",
            "collection_method": "estimated",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    shift = Visit.objects.get()
    assert shift.contacts == 40 and shift.participant is None
    assert on_hand(stocked, supplies["syringe"]) == 200


def test_correction_page_changes_supplies_and_stock(
    client, front_desk_ana, site_a, stocked, injection_kit, supplies
):
    visit, _ = visit_record(
        site=site_a, by=front_desk_ana, client_uuid=new_uuid(), code="MAKO1993F",
        lines=[kit_line(injection_kit)],
    )  # fmt: skip
    client.force_login(front_desk_ana)
    page = client.get(f"/intake/visits/{visit.uuid}/edit/").content.decode()
    assert "Standard injection kit" in page
    response = client.post(
        f"/intake/visits/{visit.uuid}/edit/",
        {
            "code": "MAKO1993F",
            "location": stocked.pk,
            "contacts": "1",
            "service_model": "fixed",
            "line": [f"item:{supplies['water'].pk}"],
            "qty": ["4"],
            "syringes_collected": "20",
            "collection_method": "counted",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert on_hand(stocked, supplies["syringe"]) == 1000
    assert on_hand(stocked, supplies["water"]) == 996
    detail = client.get(f"/intake/visits/{visit.uuid}/").content.decode()
    assert "4 × Sterile water 10 mL" in detail


def test_visit_pages_are_scoped_to_my_sites(
    client, front_desk_ben, front_desk_ana, site_a, stocked, supplies
):
    visit, _ = visit_record(
        site=site_a, by=front_desk_ana, client_uuid=new_uuid(), code="MAKO1993F",
        lines=[item_line(supplies["pad"], 1)],
    )  # fmt: skip
    client.force_login(front_desk_ben)
    assert client.get(f"/intake/visits/{visit.uuid}/").status_code == 404
    assert "MAKO1993F" not in client.get("/intake/visits/").content.decode()
    assert client.get("/intake/participants/MAKO1993F/").status_code == 404


def test_visit_list_filters_by_code(client, front_desk_ana, site_a, stocked, supplies):
    for code in ("MAKO1993F", "JOKO1970M"):
        visit_record(
            site=site_a, by=front_desk_ana, client_uuid=new_uuid(), code=code,
            lines=[item_line(supplies["pad"], 1)],
        )  # fmt: skip
    client.force_login(front_desk_ana)
    page = client.get("/intake/visits/?code=jo ko 1970 m").content.decode()
    assert "JOKO1970M" in page and "MAKO1993F" not in page


def test_manager_merges_after_a_preview(client, manager_sam, site_a, stocked, supplies):
    for code in ("MAKO1993F", "MAKO1939F"):
        visit_record(
            site=site_a, by=manager_sam, client_uuid=new_uuid(), code=code,
            lines=[item_line(supplies["pad"], 1)],
        )  # fmt: skip
    client.force_login(manager_sam)
    detail = client.get("/intake/participants/MAKO1993F/").content.decode()
    assert "MAKO1939F" in detail  # offered as a possible duplicate
    preview = client.post(
        "/intake/participants/merge/", {"merged": "MAKO1939F", "kept": "MAKO1993F"}
    ).content.decode()
    assert 'id="merge-preview"' in preview
    assert Participant.objects.get(code="MAKO1939F").merged_into is None
    confirm = re.search(r'name="confirm" value="([^"]+)"', preview).group(1)
    response = client.post(
        "/intake/participants/merge/",
        {"merged": "MAKO1939F", "kept": "MAKO1993F", "confirm": confirm.replace("&gt;", ">")},
    )
    assert response.status_code == 302
    assert Participant.objects.get(code="MAKO1939F").merged_into.code == "MAKO1993F"


def test_front_desk_cannot_open_the_merge_page(client, front_desk_ana):
    client.force_login(front_desk_ana)
    assert client.get("/intake/participants/merge/").status_code == 403


def test_menu_shows_the_front_desk_to_staff_who_log_visits(
    client, front_desk_ana, coordinator_cleo
):
    client.force_login(front_desk_ana)
    assert 'href="/intake/"' in client.get("/").content.decode()
    client.force_login(coordinator_cleo)
    assert 'href="/intake/"' not in client.get("/").content.decode()
    assert client.get("/intake/").status_code == 403
