"""Correcting the services given at a visit (ssp.services.visit_correct `services`):
replaced or cleared as a set, checked as at record time, named in the audit trail; from
the service, the visit's correction page and PATCH /api/v1/visits/{uuid}/."""

import html

import pytest
from auditlog.models import LogEntry
from django.utils import translation

from ssp.services import VisitError, visit_correct, visit_record

from ..support.intake import new_uuid

pytestmark = pytest.mark.django_db


@pytest.fixture
def tested_visit(site_a, front_desk_ana, stocked):
    """A returning person given counselling and an HIV test."""
    visit, _ = visit_record(
        site=site_a,
        by=front_desk_ana,
        client_uuid=new_uuid(),
        code="MAKO1993F",
        services=[("counselling", 1), ("hiv_test", 1)],
    )
    return visit


@pytest.fixture
def street_shift(site_a, front_desk_ana, stocked):
    visit, _ = visit_record(
        site=site_a,
        by=front_desk_ana,
        client_uuid=new_uuid(),
        contacts=30,
        syringes_collected=120,
        services=[("education", 25)],
    )
    return visit


def given(visit) -> list[tuple[str, int]]:
    return sorted(visit.services.values_list("service", "count"))


def services_entries(visit) -> list[list[str]]:
    return [
        e.changes_dict["services"]
        for e in LogEntry.objects.get_for_object(visit).order_by("pk")
        if "services" in e.changes_dict
    ]


# --- The service ---------------------------------------------------------------------


def test_a_correction_replaces_the_services_and_the_audit_trail_says_so(
    tested_visit, front_desk_ana
):
    visit_correct(
        visit=tested_visit, by=front_desk_ana, services=[("hcv_test", 1), ("counselling", 1)]
    )
    assert given(tested_visit) == [("counselling", 1), ("hcv_test", 1)]
    entries = LogEntry.objects.get_for_object(tested_visit).order_by("pk")
    last = [e for e in entries if "services" in e.changes_dict][-1]
    assert last.action == LogEntry.Action.UPDATE
    assert last.actor == front_desk_ana
    assert last.changes_dict["services"] == [
        "1 × counselling, 1 × hiv_test",
        "1 × hcv_test, 1 × counselling",
    ]


def test_an_empty_list_clears_the_services(tested_visit, front_desk_ana):
    visit_correct(visit=tested_visit, by=front_desk_ana, services=[])
    assert given(tested_visit) == []
    assert services_entries(tested_visit)[-1] == ["1 × counselling, 1 × hiv_test", "none"]


def test_none_leaves_the_services_and_writes_no_services_entry(tested_visit, front_desk_ana):
    before = services_entries(tested_visit)
    visit_correct(visit=tested_visit, by=front_desk_ana, syringes_collected=10)
    assert given(tested_visit) == [("counselling", 1), ("hiv_test", 1)]
    assert services_entries(tested_visit) == before
    # The same set again is no change either.
    visit_correct(
        visit=tested_visit, by=front_desk_ana, services=[("hiv_test", 1), ("counselling", 1)]
    )
    assert services_entries(tested_visit) == before


@pytest.mark.parametrize(
    ("services", "words"),
    [
        ([("massage", 1)], "Unknown service “massage”"),
        ([("hiv_test", 1), ("hiv_test", 1)], "HIV test is listed twice"),
        ([("hiv_test", 2)], "A visit of one person gets HIV test once"),
        ([("hiv_test", 0)], "The count of HIV test must be at least 1"),
    ],
)
def test_a_bad_service_is_refused_on_the_services_field_and_nothing_changes(
    tested_visit, front_desk_ana, services, words
):
    before = services_entries(tested_visit)
    with pytest.raises(VisitError) as refused:
        visit_correct(
            visit=tested_visit, by=front_desk_ana, syringes_collected=5, services=services
        )
    assert words in refused.value.field_errors["services"][0]
    tested_visit.refresh_from_db()
    assert tested_visit.syringes_collected == 0
    assert given(tested_visit) == [("counselling", 1), ("hiv_test", 1)]
    assert services_entries(tested_visit) == before


def test_a_street_shift_corrects_its_counts(street_shift, front_desk_ana):
    visit_correct(
        visit=street_shift, by=front_desk_ana, services=[("education", 30), ("hiv_test", 4)]
    )
    assert given(street_shift) == [("education", 30), ("hiv_test", 4)]
    assert services_entries(street_shift)[-1] == ["25 × education", "30 × education, 4 × hiv_test"]


def test_a_shift_corrected_to_one_person_cannot_keep_its_counts(street_shift, front_desk_ana):
    with pytest.raises(VisitError, match="A visit of one person gets Education once"):
        visit_correct(visit=street_shift, by=front_desk_ana, contacts=1)
    street_shift.refresh_from_db()
    assert street_shift.contacts == 30
    visit_correct(visit=street_shift, by=front_desk_ana, contacts=1, services=[("education", 1)])
    assert given(street_shift) == [("education", 1)]


def test_the_refusal_is_in_the_active_language(tested_visit, front_desk_ana):
    with translation.override("es"), pytest.raises(VisitError) as refused:
        visit_correct(visit=tested_visit, by=front_desk_ana, services=[("hiv_test", 2)])
    assert refused.value.field_errors["services"] == [
        "Una visita de una persona recibe Prueba de VIH una vez: una cantidad mayor que 1 es "
        "para un turno en la calle."
    ]


# --- The correction page -------------------------------------------------------------


def correction(stocked, **extra) -> dict:
    return {
        "code": "MAKO1993F",
        "location": stocked.pk,
        "contacts": "1",
        "service_model": "fixed",
        "collection_method": "counted",
        **extra,
    }


def test_the_correction_page_shows_the_services_given_and_changes_them(
    client, front_desk_ana, tested_visit, stocked
):
    client.force_login(front_desk_ana)
    url = f"/intake/visits/{tested_visit.uuid}/edit/"
    page = client.get(url).content.decode()
    # The front desk's choices, the visit's own ticked; no front-desk keys on this page.
    assert 'name="service:hiv_test" id="service-hiv_test" value="1" checked' in page
    assert 'name="service:counselling" id="service-counselling" value="1" checked' in page
    assert 'name="service:wound_care" id="service-wound_care" value="1">' in page
    assert 'data-key="H"' not in page
    saved = client.post(url, correction(stocked, **{"service:wound_care": "1"}))
    assert saved.status_code == 302, saved.content.decode()[:3000]
    assert given(tested_visit) == [("wound_care", 1)]
    detail = client.get(f"/intake/visits/{tested_visit.uuid}/").content.decode()
    assert "Services given</dt><dd>Wound care</dd>" in detail
    assert services_entries(tested_visit)[-1] == ["1 × counselling, 1 × hiv_test", "1 × wound_care"]


def test_a_street_shift_is_corrected_with_counts(client, front_desk_ana, street_shift, stocked):
    client.force_login(front_desk_ana)
    url = f"/intake/visits/{street_shift.uuid}/edit/"
    page = client.get(url).content.decode()
    assert 'type="number" name="service:education" id="service-education"' in page
    assert 'value="25"' in page
    posted = correction(
        stocked,
        code="",
        contacts="30",
        service_model="outreach",
        syringes_collected="120",
        **{"service:education": "28", "service:hcv_test": "3"},
    )
    saved = client.post(url, posted)
    assert saved.status_code == 302, saved.content.decode()[:3000]
    assert given(street_shift) == [("education", 28), ("hcv_test", 3)]


def test_a_refused_service_is_shown_by_the_services_and_nothing_changes(
    client, front_desk_ana, tested_visit, stocked
):
    client.force_login(front_desk_ana)
    refused = client.post(
        f"/intake/visits/{tested_visit.uuid}/edit/",
        correction(stocked, **{"service:hiv_test": "2"}),
    )
    assert refused.status_code == 400
    page = html.unescape(refused.content.decode())
    start = page.index('id="services"')
    services = page[start : page.index("</fieldset>", start)]
    assert "A visit of one person gets HIV test once" in services
    assert given(tested_visit) == [("counselling", 1), ("hiv_test", 1)]


def test_the_correction_page_refuses_in_spanish(client, front_desk_ana, tested_visit, stocked):
    front_desk_ana.language = "es"
    front_desk_ana.save(update_fields=["language"])
    client.force_login(front_desk_ana)
    url = f"/intake/visits/{tested_visit.uuid}/edit/"
    page = client.get(url).content.decode()
    assert "Servicios prestados" in page and "Prueba de VIH" in page
    assert "Services given" not in page
    refused = client.post(url, correction(stocked, **{"service:hiv_test": "dos"}))
    assert refused.status_code == 400
    text = html.unescape(refused.content.decode())
    assert "Prueba de VIH: escriba un número entero." in text
    assert "enter a whole number" not in text


# --- PATCH /api/v1/visits/{uuid}/ ------------------------------------------------------


def test_the_api_corrects_the_services_in_the_shape_it_takes_them(
    api_as, front_desk_ana, tested_visit
):
    api = api_as(front_desk_ana)
    url = f"/api/v1/visits/{tested_visit.uuid}/"
    response = api.patch(url, {"services": [{"service": "vaccination"}]}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["services"] == [
        {"service": "vaccination", "label": "Vaccination", "count": 1}
    ]
    assert services_entries(tested_visit)[-1] == [
        "1 × counselling, 1 × hiv_test",
        "1 × vaccination",
    ]
    # Leaving `services` out leaves them; [] clears them.
    kept = api.patch(url, {"syringes_collected": 3}, format="json").json()
    assert [s["service"] for s in kept["services"]] == ["vaccination"]
    cleared = api.patch(url, {"services": []}, format="json")
    assert cleared.status_code == 200 and cleared.json()["services"] == []


def test_the_api_refuses_a_bad_service_on_its_field_in_english_and_spanish(
    api_as, front_desk_ana, tested_visit
):
    api = api_as(front_desk_ana)
    url = f"/api/v1/visits/{tested_visit.uuid}/"
    body = {"services": [{"service": "hiv_test", "count": 2}]}
    english = api.patch(url, body, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert english.status_code == 400
    assert "A visit of one person gets HIV test once" in english.json()["errors"]["services"][0]
    spanish = api.patch(url, body, format="json", HTTP_ACCEPT_LANGUAGE="es")
    assert spanish.status_code == 400
    refusal = spanish.json()["errors"]["services"][0]
    assert "Una visita de una persona recibe Prueba de VIH" in refusal
    unknown = api.patch(url, {"services": [{"service": "massage"}]}, format="json")
    assert unknown.status_code == 400
    assert "Unknown service" in unknown.json()["errors"]["services"][0]
    assert given(tested_visit) == [("counselling", 1), ("hiv_test", 1)]
