"""Survey pages and API: the coordinator defines, the front desk offers and records."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from ssp.models import OfferOutcome, Survey, SurveyAnswer, SurveyResponse, VisitSurveyOffer
from ssp.survey_services import survey_save

from ..factories import ParticipantFactory, VisitFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def check_in(coordinator_cleo, today):
    return survey_save(
        name="Check-in", questions=["age_band", "substances"], period="month",
        active_from=today - dt.timedelta(days=40), by=coordinator_cleo,
    )  # fmt: skip


@pytest.fixture
def visit(site_a, front_desk_ana):
    return VisitFactory(
        site=site_a, recorded_by=front_desk_ana,
        participant=ParticipantFactory(code="KAFA1991M"), occurred_at=timezone.now(),
    )  # fmt: skip


def test_the_coordinator_defines_a_survey_on_its_page(client, coordinator_cleo, today):
    client.force_login(coordinator_cleo)
    assert client.get(reverse("ssp:survey-list")).status_code == 200
    response = client.post(
        reverse("ssp:survey-create"),
        {"name": "Quarterly", "questions": ["housing", "zip3"], "zip3_areas": "100, 112",
         "period": "quarter", "active_from": today.isoformat()},
    )  # fmt: skip
    assert response.status_code == 302
    survey = Survey.objects.get()
    assert (survey.questions, survey.zip3_areas) == (["zip3", "housing"], ["100", "112"])


def test_a_survey_page_says_what_is_wrong(client, coordinator_cleo, today):
    client.force_login(coordinator_cleo)
    response = client.post(
        reverse("ssp:survey-create"),
        {
            "name": "Where",
            "questions": ["zip3"],
            "period": "month",
            "active_from": today.isoformat(),
        },
    )
    assert response.status_code == 400
    assert "ZIP3 areas" in response.content.decode()


def test_the_front_desk_may_not_define_surveys(client, front_desk_ana):
    client.force_login(front_desk_ana)
    assert client.get(reverse("ssp:survey-list")).status_code == 403


def test_the_desk_sees_survey_due_then_offers_and_the_person_answers(
    client, front_desk_ana, check_in, visit
):
    client.force_login(front_desk_ana)
    due = client.get(reverse("ssp:survey-due"), {"visit": visit.uuid}).content.decode()
    assert "Survey due" in due and "Check-in" in due
    by_code = client.get(reverse("ssp:survey-due"), {"code": "KAFA1991M"}).content.decode()
    assert "Survey due" in by_code

    page = client.get(reverse("ssp:survey-offer", args=[visit.uuid]))
    assert page.status_code == 200
    response = client.post(
        reverse("ssp:survey-offer", args=[visit.uuid]),
        {"survey": check_in.pk, "outcome": "accepted"},
    )
    offer = VisitSurveyOffer.objects.get()
    assert response["Location"] == reverse("ssp:survey-answer", args=[offer.uuid])

    screen = client.get(response["Location"])
    assert screen.status_code == 200 and "Prefer not to say" in screen.content.decode()
    missing = client.post(response["Location"], {"age_band": "25_34"})
    assert missing.status_code == 400
    done = client.post(
        response["Location"], {"age_band": "25_34", "substances": ["opioids", "alcohol"]}
    )
    assert done.status_code == 302
    offer.refresh_from_db()
    assert offer.outcome == OfferOutcome.ANSWERED
    assert SurveyAnswer.objects.count() == 3
    # No longer due, at this visit or by code.
    assert (
        "Survey due"
        not in client.get(reverse("ssp:survey-due"), {"code": "KAFA1991M"}).content.decode()
    )


def test_another_sites_visit_cannot_be_offered(client, front_desk_ben, check_in, visit):
    client.force_login(front_desk_ben)
    assert client.get(reverse("ssp:survey-offer", args=[visit.uuid])).status_code == 404


def test_api_definitions_offers_and_write_only_answers(
    api_as, front_desk_ana, coordinator_cleo, check_in, visit, today
):
    coordinator = api_as(coordinator_cleo)
    made = coordinator.post(
        "/api/v1/surveys/",
        {
            "name": "Housing",
            "questions": ["housing"],
            "period": "quarter",
            "active_from": today.isoformat(),
        },
        format="json",
    )
    assert made.status_code == 201, made.json()
    # Coordinators do not log visits, so they do not offer surveys.
    refused = coordinator.post(
        "/api/v1/survey-offers/",
        {"visit": str(visit.uuid), "survey": check_in.pk, "outcome": "declined"},
        format="json",
    )
    assert refused.status_code == 403

    desk = api_as(front_desk_ana)
    assert desk.post("/api/v1/surveys/", {"name": "x"}, format="json").status_code == 403
    offer = desk.post(
        "/api/v1/survey-offers/",
        {"visit": str(visit.uuid), "survey": check_in.pk, "outcome": "answered",
         "answers": {"age_band": "35_44", "substances": ["none"]}},
        format="json",
    )  # fmt: skip
    assert offer.status_code == 201, offer.json()
    assert set(offer.json()) == {"uuid", "visit", "survey", "period_start", "outcome"}
    assert SurveyResponse.objects.count() == 1

    again = desk.post(
        "/api/v1/survey-offers/",
        {
            "visit": str(visit.uuid),
            "survey": Survey.objects.get(name="Housing").pk,
            "outcome": "accepted",
        },
        format="json",
    )
    assert again.status_code == 201
    answered = desk.post(
        f"/api/v1/survey-offers/{again.json()['uuid']}/answers/",
        {"answers": {"housing": "shelter"}},
        format="json",
    )
    assert answered.status_code == 204 and not answered.content
    twice = desk.post(
        f"/api/v1/survey-offers/{again.json()['uuid']}/answers/",
        {"answers": {"housing": "shelter"}},
        format="json",
    )
    assert twice.status_code == 400
    assert SurveyResponse.objects.count() == 2


def test_api_refuses_a_second_offer_in_the_period(api_as, front_desk_ana, check_in, visit, site_a):
    desk = api_as(front_desk_ana)
    body = {"visit": str(visit.uuid), "survey": check_in.pk, "outcome": "declined"}
    assert desk.post("/api/v1/survey-offers/", body, format="json").status_code == 201
    later = VisitFactory(site=site_a, participant=visit.participant, occurred_at=timezone.now())
    second = desk.post("/api/v1/survey-offers/", {**body, "visit": str(later.uuid)}, format="json")
    assert second.status_code == 409
    assert second.json()["code"] == "survey_already_offered"
