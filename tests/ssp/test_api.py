"""The visits and participants API: /api/v1/visits/ and /api/v1/participants/."""

from datetime import datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from inventory.models import StockMovement
from ssp.models import Participant, ParticipantMerge, Visit

from ..factories import ParticipantFactory, VisitFactory
from ..support.intake import new_uuid, on_hand

pytestmark = pytest.mark.django_db


def payload(site, **extra):
    body = {
        "client_uuid": new_uuid(),
        "site": site.pk,
        "code": "MAKO1993F",
        "supplies": [{"kit": "std-kit", "quantity": 1}, {"item": "water", "quantity": 2}],
    }
    body.update(extra)
    return body


def test_create_a_visit_and_read_it_back(api_as, front_desk_ana, site_a, stocked, supplies):
    api = api_as(front_desk_ana)
    response = api.post("/api/v1/visits/", payload(site_a), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["code"] == "MAKO1993F" and body["site_code"] == "DTWN"
    assert {(s["code"], s["quantity"]) for s in body["supplies"]} == {("std-kit", 1), ("water", 2)}
    assert body["recorded_by"] == "ana" and body["is_void"] is False
    assert api.get(f"/api/v1/visits/{body['uuid']}/").json()["uuid"] == body["uuid"]
    assert on_hand(stocked, supplies["water"]) == 998


def test_retry_with_the_same_client_uuid_returns_the_first_visit(
    api_as, front_desk_ana, site_a, stocked, supplies
):
    api = api_as(front_desk_ana)
    body = payload(site_a)
    first = api.post("/api/v1/visits/", body, format="json")
    again = api.post("/api/v1/visits/", body, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["uuid"] == again.json()["uuid"] == body["client_uuid"]
    assert Visit.objects.count() == 1
    assert on_hand(stocked, supplies["water"]) == 998


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"supplies": [{"item": "no-such-thing", "quantity": 1}]}, "supplies", "Unknown item"),
        ({"supplies": [{"item": "water", "quantity": 0}]}, "supplies", "at least 1"),
        ({"supplies": [{"item": "water", "quantity": -5}]}, "supplies", "at least 1"),
        ({"code": "HELLO1"}, "code", "does not match the code recipe"),
        ({"code": ""}, "code", "anonymous=true"),
        ({"occurred_at": "2001-01-01T10:00:00Z"}, "occurred_at", "backdated"),
        ({"zip3": "12345"}, "zip3", "never a full ZIP"),
    ],
)
def test_bad_input_gets_a_field_message_and_saves_nothing(
    api_as, front_desk_ana, site_a, stocked, change, field, words
):
    response = api_as(front_desk_ana).post(
        "/api/v1/visits/", payload(site_a, **change), format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert field in body["errors"], body
    assert words in str(body), body
    assert Visit.objects.count() == 0
    assert not StockMovement.objects.filter(kind="dispense").exists()


@pytest.mark.parametrize(
    ("site", "words"),
    [
        (999_999, 'Invalid pk "999999" - object does not exist.'),
        (2**70, "That number is too large."),
        ("DTWN", "Incorrect type. Expected pk value, received str."),
        (True, "Incorrect type. Expected pk value, received bool."),
        (None, "This field may not be null."),
    ],
)
def test_a_site_that_is_not_one_gets_the_related_fields_message(
    api_as, front_desk_ana, site_a, stocked, site, words
):
    # The site is read by a compiled query (ssp/intake_catalog.py), with the messages
    # of the related field it replaces.
    response = api_as(front_desk_ana).post(
        "/api/v1/visits/", {**payload(site_a), "site": site}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"]["site"] == [words]
    assert Visit.objects.count() == 0


def test_the_site_may_come_as_a_string_of_digits(api_as, front_desk_ana, site_a, stocked):
    response = api_as(front_desk_ana).post(
        "/api/v1/visits/", {**payload(site_a), "site": str(site_a.pk)}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert Visit.objects.get().location == stocked


# 19:18 program time is already tomorrow in UTC: the schema's date window once refused
# "tomorrow at this time" with its own message before the visit's rule could speak.
@pytest.mark.parametrize("program_time", ["10:00", "19:18", "23:59", "00:30"])
def test_future_visit_is_refused(api_as, front_desk_ana, site_a, stocked, program_time):
    hour, minute = map(int, program_time.split(":"))
    now = timezone.make_aware(datetime(2026, 12, 1, hour, minute))
    with time_machine.travel(now, tick=False):
        future = (timezone.now() + timedelta(days=1)).isoformat()
        response = api_as(front_desk_ana).post(
            "/api/v1/visits/", payload(site_a, occurred_at=future), format="json"
        )
    assert response.status_code == 400
    assert "future" in response.json()["errors"]["occurred_at"][0]


def test_under_refuse_insufficient_stock_is_409_naming_item_and_available(
    api_as, front_desk_ana, site_a, stocked, settings
):
    settings.SSP_STOCK_SHORTFALL = "refuse"
    response = api_as(front_desk_ana).post(
        "/api/v1/visits/",
        payload(site_a, supplies=[{"item": "nalox-nasal", "quantity": 2}]),
        format="json",
    )
    assert response.status_code == 409
    assert response.json()["code"] == "insufficient_stock"
    assert "Naloxone nasal 4 mg" in response.json()["detail"]
    assert "0 available" in response.json()["detail"]
    assert Visit.objects.count() == 0


def test_large_quantity_needs_confirmation(api_as, front_desk_ana, site_a, stocked, settings):
    settings.SSP_LARGE_QUANTITY = 500
    api = api_as(front_desk_ana)
    big = payload(site_a, supplies=[{"item": "syr-1ml-28g", "quantity": 600}])
    response = api.post("/api/v1/visits/", big, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "confirm_large_quantity"
    assert Visit.objects.count() == 0
    response = api.post("/api/v1/visits/", {**big, "confirm_large_quantity": True}, format="json")
    assert response.status_code == 201


def test_a_visit_at_another_site_is_refused(api_as, front_desk_ben, site_a, stocked):
    response = api_as(front_desk_ben).post("/api/v1/visits/", payload(site_a), format="json")
    assert response.status_code == 403
    assert "You do not work at Downtown drop-in" in response.json()["detail"]
    assert Visit.objects.count() == 0


def test_anonymous_visit_and_street_shift(api_as, front_desk_ana, site_a, stocked):
    api = api_as(front_desk_ana)
    anon = api.post(
        "/api/v1/visits/", payload(site_a, code="", anonymous=True), format="json"
    ).json()
    assert anon["is_anonymous"] is True and anon["code"] is None
    shift = api.post(
        "/api/v1/visits/",
        payload(site_a, code="", contacts=40, supplies=[{"item": "water", "quantity": 80}]),
        format="json",
    )
    assert shift.status_code == 201 and shift.json()["contacts"] == 40
    listed = api.get("/api/v1/visits/?bulk=true").json()["results"]
    assert [v["contacts"] for v in listed] == [40]


def test_list_is_scoped_to_my_sites_and_filters(
    api_as, front_desk_ana, front_desk_ben, site_a, site_b, stocked
):
    mine = VisitFactory(site=site_a, recorded_by=front_desk_ana)
    VisitFactory(site=site_b, recorded_by=front_desk_ben)
    api = api_as(front_desk_ana)
    listed = api.get("/api/v1/visits/").json()["results"]
    assert [v["uuid"] for v in listed] == [str(mine.uuid)]
    assert api.get(f"/api/v1/visits/?code={mine.participant.code}").json()["count"] == 1
    assert api.get("/api/v1/visits/?code=ZZZZ1990F").json()["count"] == 0
    today = timezone.localdate().isoformat()
    assert api.get(f"/api/v1/visits/?occurred_from={today}&site={site_a.pk}").json()["count"] == 1
    other = Visit.objects.exclude(pk=mine.pk).get()
    assert api.get(f"/api/v1/visits/{other.uuid}/").status_code == 404


def test_correct_then_void_through_the_api(api_as, front_desk_ana, site_a, stocked, supplies):
    api = api_as(front_desk_ana)
    created = api.post("/api/v1/visits/", payload(site_a), format="json").json()
    url = f"/api/v1/visits/{created['uuid']}/"
    corrected = api.patch(
        url,
        {"supplies": [{"item": "water", "quantity": 5}], "syringes_collected": 12},
        format="json",
    )
    assert corrected.status_code == 200, corrected.json()
    assert corrected.json()["supplies"] == [
        {"kind": "item", "code": "water", "name": "Sterile water 10 mL", "quantity": 5}
    ]
    assert on_hand(stocked, supplies["syringe"]) == 1000
    assert on_hand(stocked, supplies["water"]) == 995
    voided = api.post(f"{url}void/", {"reason": "wrong_site"}, format="json")
    assert voided.status_code == 200 and voided.json()["is_void"] is True
    assert on_hand(stocked, supplies["water"]) == 1000
    assert api.post(f"{url}void/", {"reason": "twice"}, format="json").status_code == 409
    assert api.post(f"{url}void/", {}, format="json").status_code == 400
    # Voided visits are kept, listed only when asked for.
    assert api.get("/api/v1/visits/").json()["count"] == 0
    assert api.get("/api/v1/visits/?include_void=true").json()["count"] == 1


def test_a_colleague_cannot_correct_my_visit(api_as, front_desk_ana, site_a, stocked):
    from ..factories import make_staff

    created = api_as(front_desk_ana).post("/api/v1/visits/", payload(site_a), format="json").json()
    colleague = make_staff("carla", "Front desk", [site_a])
    response = api_as(colleague).patch(
        f"/api/v1/visits/{created['uuid']}/", {"notes": "x"}, format="json"
    )
    assert response.status_code == 403


def test_coordinator_cannot_use_the_visits_api(api_as, coordinator_cleo):
    assert api_as(coordinator_cleo).get("/api/v1/visits/").status_code == 403


# --- Participants --------------------------------------------------------------------


def test_lookup_of_a_known_code_gives_last_visit_and_usual_supplies(
    api_as, front_desk_ana, site_a, stocked
):
    api = api_as(front_desk_ana)
    for _ in range(2):
        api.post("/api/v1/visits/", payload(site_a), format="json")
    body = api.get("/api/v1/participants/lookup/?code=mako 1993 f").json()
    assert body["participant"]["code"] == "MAKO1993F"
    assert body["visit_count"] == 2
    assert {(s["code"], s["quantity"]) for s in body["usual_supplies"]} == {
        ("std-kit", 1),
        ("water", 2),
    }
    assert body["suggestions"] == []


def test_lookup_of_an_unknown_code_suggests_near_matches(api_as, front_desk_ana):
    ParticipantFactory(code="MAKO1993F")
    body = api_as(front_desk_ana).get("/api/v1/participants/lookup/?code=MAKO1993M").json()
    assert body["participant"] is None and body["matches_recipe"] is True
    assert [s["code"] for s in body["suggestions"]] == ["MAKO1993F"]


def test_lookup_by_prefix(api_as, front_desk_ana):
    for code in ("MAKO1993F", "MAKE1980M", "JOKO1970F"):
        ParticipantFactory(code=code)
    body = api_as(front_desk_ana).get("/api/v1/participants/lookup/?code=MAK").json()
    assert body["prefix_matches"] == ["MAKE1980M", "MAKO1993F"]


def test_build_code_from_parts_stores_nothing(api_as, front_desk_ana):
    response = api_as(front_desk_ana).post(
        "/api/v1/participants/build-code/",
        {
            "parts": {
                "mother_first_name": "Marie-Hélène",
                "own_first_name": "Kofi",
                "birth_year": "1993",
                "gender": "m",
            }
        },
        format="json",
    )
    assert response.json() == {"code": "MAKO1993M", "known": False}
    assert Participant.objects.count() == 0
    missing = api_as(front_desk_ana).post(
        "/api/v1/participants/build-code/", {"parts": {"own_first_name": "Kofi"}}, format="json"
    )
    assert missing.status_code == 400
    assert "mother_first_name" in missing.json()["errors"]


def test_manager_merges_codes_through_the_api(api_as, manager_sam, front_desk_ana, site_a):
    kept = VisitFactory(site=site_a, participant=ParticipantFactory(code="MAKO1993F")).participant
    VisitFactory(site=site_a, participant=ParticipantFactory(code="MAKO1939F"))
    assert (
        api_as(front_desk_ana)
        .post("/api/v1/participants/merge/", {"merged": "MAKO1939F", "kept": "MAKO1993F"})
        .status_code
        == 403
    )
    response = api_as(manager_sam).post(
        "/api/v1/participants/merge/",
        {"merged": "mako1939f", "kept": "MAKO1993F", "reason": "year"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["visits_moved"] == 1
    assert kept.visits.count() == 2
    assert ParticipantMerge.objects.get().reason == "year"
    read = api_as(manager_sam).get("/api/v1/participants/MAKO1939F/").json()
    assert read["code"] == "MAKO1993F"


def test_participant_of_another_site_is_not_readable(api_as, front_desk_ben, site_a):
    VisitFactory(site=site_a, participant=ParticipantFactory(code="MAKO1993F"))
    assert api_as(front_desk_ben).get("/api/v1/participants/MAKO1993F/").status_code == 404
