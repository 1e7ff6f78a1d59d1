"""The survey in a real browser at desk (1280 px) and phone (390 px) widths: the
coordinator defines it, the desk sees it due after saving a visit, offers it, and the
person answers with big taps. No sideways scrolling, no serious axe violation."""

import datetime as dt

import pytest
from django.utils import timezone

from ssp.models import OfferOutcome, SurveyAnswer, VisitSurveyOffer
from ssp.survey_services import survey_save

from ..factories import ParticipantFactory, VisitFactory
from ..support.accessibility import assert_no_serious_axe_violations
from ..support.walk import follow, go_to_menu_entry, horizontal_overflow, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
WIDTHS = [1280, 390]


def assert_fits(page):
    overflow = horizontal_overflow(page)
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"


@pytest.mark.parametrize("width", WIDTHS)
def test_the_coordinator_defines_a_survey(page, browser_login, coordinator_cleo, width):
    page.set_viewport_size({"width": width, "height": 900})
    browser_login(page, coordinator_cleo)
    go_to_menu_entry(page, "Surveys")
    assert_fits(page)
    page.get_by_role("link", name="Define a survey").click()
    page.fill("#id_name", "Spring check-in")
    page.get_by_label("How old are you?").check()
    page.get_by_label("Where do you stay most nights?").check()
    page.get_by_label("Where do you live or stay most nights? (first three ZIP digits)").check()
    page.get_by_role("button", name="Save survey").click()
    # The ZIP3 question needs its areas: said next to the field.
    assert "ZIP3 areas" in page.locator(".errorlist").first.inner_text()
    assert_fits(page)
    assert_no_serious_axe_violations(page)
    page.fill("#id_zip3_areas", "100, 112")
    page.get_by_role("button", name="Save survey").click()
    page.get_by_text("Survey “Spring check-in” saved.").wait_for()
    assert_fits(page)
    assert_no_serious_axe_violations(page)
    screenshot(page, f"survey-list-{width}")


@pytest.mark.parametrize("width", WIDTHS)
def test_the_desk_offers_and_the_person_answers(
    page, browser_login, front_desk_ana, coordinator_cleo, site_a, width
):
    survey = survey_save(
        name="Check-in", questions=["age_band", "substances", "overdose_witnessed"],
        period="quarter", active_from=timezone.localdate() - dt.timedelta(days=1),
        by=coordinator_cleo,
    )  # fmt: skip
    visit = VisitFactory(
        site=site_a, recorded_by=front_desk_ana,
        participant=ParticipantFactory(code="KAFA1991M"), occurred_at=timezone.now(),
    )  # fmt: skip
    page.set_viewport_size({"width": width, "height": 900})
    browser_login(page, front_desk_ana)
    page.goto(f"/intake/?site={site_a.pk}&saved={visit.uuid}")
    page.locator("#saved-survey-due [data-survey-due]").wait_for()
    assert_fits(page)
    follow(page, page.get_by_role("link", name="Offer survey"))
    assert_fits(page)
    assert_no_serious_axe_violations(page)
    page.get_by_role("button", name="Will answer now").click()

    page.get_by_role("button", name="Save answers").click()  # nothing chosen yet
    assert page.locator(".survey-question .errorlist").count() == 3
    page.get_by_label("25–34").check()
    page.get_by_label("Heroin, fentanyl or other opioids").check()
    page.get_by_label("Alcohol").check()
    page.locator("fieldset", has_text="seen someone overdose").get_by_label("Yes").check()
    assert_fits(page)
    assert_no_serious_axe_violations(page)
    # Big taps on the phone: every answer is at least 44 px high.
    heights = page.locator(".survey-choice").evaluate_all("els => els.map(e => e.offsetHeight)")
    assert min(heights) >= 44
    screenshot(page, f"survey-answer-{width}")
    page.get_by_role("button", name="Save answers").click()
    page.get_by_text("The answers are saved without the code.").wait_for()

    offer = VisitSurveyOffer.objects.get(visit=visit, survey=survey)
    assert offer.outcome == OfferOutcome.ANSWERED
    assert sorted(SurveyAnswer.objects.values_list("question", "answer")) == [
        ("age_band", "25_34"),
        ("overdose_witnessed", "yes"),
        ("substances", "alcohol"),
        ("substances", "opioids"),
    ]
