"""Codes that cannot split one person by accident: the suggestion labels name the real
difference, a new code one edit from a known one asks "new person?" (page and API),
and the gender letters are the program's setting."""

import pytest

from ssp.codes import CodeError, build_code, matches_recipe, near_difference
from ssp.models import Participant, Visit
from ssp.selectors import code_lookup
from ssp.services import NewPersonNotConfirmed, visit_record

from ..support.intake import new_uuid

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("typed", "existing", "label"),
    [
        ("MAKO1990F", "MAKO1989F", "birth year ±1"),  # two neighbouring digits, not a swap
        ("MAKO1994F", "MAKO1993F", "birth year ±1"),
        ("AMKO1993F", "MAKO1993F", "letters swapped"),
        ("MAKO1939F", "MAKO1993F", "digits swapped"),
        ("MAKA1993F", "MAKO1993F", "one letter different"),
        ("MAKO1993M", "MAKO1993F", "one letter different"),
        ("MAK1993F", "MAKO1993F", "one letter missing"),
        ("MAKOO1993F", "MAKO1993F", "one letter extra"),
    ],
)
def test_a_suggestion_names_the_real_difference(typed, existing, label):
    assert near_difference(typed, existing) == label


def record(by, site, code, **extra):
    visit, _created = visit_record(site=site, by=by, client_uuid=new_uuid(), code=code, **extra)
    return visit


def test_the_lookup_labels_a_birth_year_off_by_one(front_desk_ana, site_a, storeroom):
    record(front_desk_ana, site_a, "MAKO1989F")
    [suggestion] = code_lookup("MAKO1990F", user=front_desk_ana).suggestions
    assert (suggestion.code, suggestion.reason) == ("MAKO1989F", "birth year ±1")


def test_a_new_code_one_edit_from_a_known_one_is_asked_before_it_is_created(
    front_desk_ana, site_a, storeroom
):
    record(front_desk_ana, site_a, "MAKO1993F")
    with pytest.raises(NewPersonNotConfirmed, match=r"New person\? AMKO1993F .* MAKO1993F"):
        record(front_desk_ana, site_a, "AMKO1993F", confirm_new_person=False)
    assert not Participant.objects.filter(code="AMKO1993F").exists()
    record(front_desk_ana, site_a, "AMKO1993F", confirm_new_person=True)
    assert Participant.objects.filter(code="AMKO1993F").exists()


def test_a_code_far_from_every_known_one_is_not_asked(front_desk_ana, site_a, storeroom):
    record(front_desk_ana, site_a, "MAKO1993F")
    record(front_desk_ana, site_a, "JOLU1971M", confirm_new_person=False)
    assert Participant.objects.filter(code="JOLU1971M").exists()


def test_the_front_desk_asks_new_person_and_saves_once_answered(
    client, front_desk_ana, site_a, storeroom
):
    record(front_desk_ana, site_a, "MAKO1993F")
    client.force_login(front_desk_ana)
    data = {"client_uuid": new_uuid(), "site": site_a.pk, "code": "MAKO1994F"}
    response = client.post(f"/intake/?site={site_a.pk}", data)
    assert response.status_code == 400
    page = response.content.decode()
    assert "New person? MAKO1994F is not known, but MAKO1993F is (birth year ±1)" in page
    assert 'id="confirm-new-person"' in page
    assert Visit.objects.count() == 1
    response = client.post(f"/intake/?site={site_a.pk}", {**data, "confirm_new_person": "on"})
    assert response.status_code == 302
    assert Visit.objects.filter(participant__code="MAKO1994F").count() == 1


def test_the_api_asks_when_told_to_and_keeps_old_clients_working(
    api_as, front_desk_ana, site_a, storeroom
):
    record(front_desk_ana, site_a, "MAKO1993F")
    api = api_as(front_desk_ana)
    body = {"site": site_a.pk, "code": "MAKA1993F", "supplies": []}
    refused = api.post(
        "/api/v1/visits/",
        {**body, "client_uuid": new_uuid(), "confirm_new_person": False},
        format="json",
    )
    assert refused.status_code == 400
    assert refused.json()["code"] == "confirm_new_person"
    assert not Participant.objects.filter(code="MAKA1993F").exists()
    created = api.post("/api/v1/visits/", {**body, "client_uuid": new_uuid()}, format="json")
    assert created.status_code == 201
    assert Participant.objects.filter(code="MAKA1993F").exists()


def test_gender_letters_are_the_programs_setting(settings):
    settings.SSP_GENDER_CHOICES = ["W:Woman", "M:Man", "N:Non-binary", "D:Declined"]
    assert matches_recipe("MAKO1993W")
    assert not matches_recipe("MAKO1993F")
    parts = {"mother_first_name": "Mary", "own_first_name": "Kofi", "birth_year": "1993"}
    assert build_code({**parts, "gender": "n"}) == "MAKO1993N"
    with pytest.raises(CodeError, match="Choose one of W, M, N, D"):
        build_code({**parts, "gender": "F"})


def test_the_build_code_form_offers_the_settings_gender_choices(
    client, front_desk_ana, site_a, storeroom, settings
):
    settings.SSP_GENDER_CHOICES = ["W:Woman", "N:Non-binary"]
    client.force_login(front_desk_ana)
    page = client.get("/intake/").content.decode()
    assert '<option value="N">Non-binary</option>' in page
    assert ">Trans / non-binary / two-spirit<" not in page
