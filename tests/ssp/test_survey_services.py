"""The periodic anonymous survey: definitions, the once-per-period offer, the answers."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from auditlog.models import LogEntry
from django.conf import settings

from ssp.models import OfferOutcome, SurveyAnswer, SurveyResponse, VisitSurveyOffer
from ssp.survey_selectors import period_start_of, surveys_due
from ssp.survey_services import (
    SurveyAlreadyOffered,
    SurveyError,
    survey_answers_record,
    survey_offer_record,
    survey_save,
)

from ..factories import ParticipantFactory, VisitFactory

pytestmark = pytest.mark.django_db
PROGRAM_TZ = ZoneInfo(settings.TIME_ZONE)
MID_MAY = dt.datetime(2026, 5, 14, 15, 0, tzinfo=PROGRAM_TZ)

ANSWERS = {
    "age_band": "25_34",
    "substances": ["opioids", "stimulants"],
    "overdose_witnessed": "yes",
}


@pytest.fixture
def spring_check_in(coordinator_cleo):
    return survey_save(
        name="Spring check-in",
        questions=["substances", "age_band", "overdose_witnessed"],
        period="quarter",
        active_from=dt.date(2026, 4, 1),
        by=coordinator_cleo,
    )


def visit_of(code, site, *, at=MID_MAY, **extra):
    return VisitFactory(
        site=site, participant=ParticipantFactory(code=code), occurred_at=at, **extra
    )


def test_periods_start_on_the_first_day_of_the_month_or_quarter():
    assert period_start_of(dt.date(2026, 5, 31), "quarter") == dt.date(2026, 4, 1)
    assert period_start_of(dt.date(2026, 12, 31), "quarter") == dt.date(2026, 10, 1)
    assert period_start_of(dt.date(2026, 5, 31), "month") == dt.date(2026, 5, 1)


def test_questions_are_kept_in_the_bank_order(spring_check_in):
    assert spring_check_in.questions == ["age_band", "substances", "overdose_witnessed"]


def test_a_question_outside_the_bank_is_refused(coordinator_cleo):
    with pytest.raises(SurveyError, match="from the list"):
        survey_save(
            name="Bad", questions=["full_name"], period="month",
            active_from=dt.date(2026, 4, 1), by=coordinator_cleo,
        )  # fmt: skip


def test_the_zip3_question_needs_three_digit_areas(coordinator_cleo):
    with pytest.raises(SurveyError, match="ZIP3 areas"):
        survey_save(
            name="Where", questions=["zip3"], period="month",
            active_from=dt.date(2026, 4, 1), by=coordinator_cleo,
        )  # fmt: skip
    with pytest.raises(SurveyError, match="three digits"):
        survey_save(
            name="Where", questions=["zip3"], zip3_areas=["10001"], period="month",
            active_from=dt.date(2026, 4, 1), by=coordinator_cleo,
        )  # fmt: skip


def test_the_definition_is_audited(spring_check_in, coordinator_cleo):
    entry = LogEntry.objects.get_for_object(spring_check_in).get()
    assert entry.actor == coordinator_cleo


def test_once_offered_its_questions_stay(spring_check_in, site_a, front_desk_ana):
    survey_offer_record(
        visit=visit_of("KAFA1991M", site_a), survey=spring_check_in,
        outcome="declined", by=front_desk_ana,
    )  # fmt: skip
    with pytest.raises(SurveyError, match="stay as"):
        survey_save(
            survey=spring_check_in, name="Spring check-in", questions=["age_band"],
            period="quarter", active_from=dt.date(2026, 4, 1), by=front_desk_ana,
        )  # fmt: skip
    # Ending it is still allowed.
    survey_save(
        survey=spring_check_in, name="Spring check-in",
        questions=spring_check_in.questions, period="quarter",
        active_from=dt.date(2026, 4, 1), active_until=dt.date(2026, 6, 30), by=front_desk_ana,
    )  # fmt: skip


def test_a_person_is_offered_a_survey_once_per_period(
    spring_check_in, site_a, site_b, front_desk_ana
):
    first = visit_of("KAFA1991M", site_a)
    assert surveys_due(participant=first.participant, day=MID_MAY.date()) == [spring_check_in]
    survey_offer_record(visit=first, survey=spring_check_in, outcome="declined", by=front_desk_ana)
    assert surveys_due(participant=first.participant, day=MID_MAY.date()) == []

    # Another visit in the same quarter, even at another site: refused.
    again = VisitFactory(
        site=site_b, participant=first.participant, occurred_at=MID_MAY + dt.timedelta(days=30)
    )
    with pytest.raises(SurveyAlreadyOffered):
        survey_offer_record(
            visit=again, survey=spring_check_in, outcome="accepted", by=front_desk_ana
        )

    # The next quarter it is due again.
    july = VisitFactory(
        site=site_a, participant=first.participant, occurred_at=MID_MAY + dt.timedelta(days=60)
    )
    assert surveys_due(participant=first.participant, day=july.occurred_at.date()) == [
        spring_check_in
    ]
    survey_offer_record(visit=july, survey=spring_check_in, outcome="accepted", by=front_desk_ana)


def test_anonymous_visits_and_street_shifts_are_not_offered(
    spring_check_in, site_a, front_desk_ana
):
    anonymous = VisitFactory(site=site_a, participant=None, occurred_at=MID_MAY)
    shift = VisitFactory(site=site_a, participant=None, contacts=40, occurred_at=MID_MAY)
    for visit in (anonymous, shift):
        with pytest.raises(SurveyError, match="participant code"):
            survey_offer_record(
                visit=visit, survey=spring_check_in, outcome="declined", by=front_desk_ana
            )


def test_a_survey_not_running_on_the_visit_day_is_refused(spring_check_in, site_a, front_desk_ana):
    march = visit_of("KAFA1991M", site_a, at=MID_MAY - dt.timedelta(days=60))
    with pytest.raises(SurveyError, match="not running"):
        survey_offer_record(
            visit=march, survey=spring_check_in, outcome="declined", by=front_desk_ana
        )


def test_answers_in_the_same_request_store_an_unlinked_response(
    spring_check_in, site_a, front_desk_ana
):
    visit = visit_of("KAFA1991M", site_a)
    offer = survey_offer_record(
        visit=visit, survey=spring_check_in, outcome="answered", answers=ANSWERS, by=front_desk_ana
    )
    assert offer.outcome == OfferOutcome.ANSWERED
    response = SurveyResponse.objects.get()
    assert (response.survey, response.site, response.period_start) == (
        spring_check_in,
        site_a,
        dt.date(2026, 4, 1),
    )
    assert sorted(response.answers.values_list("question", "answer")) == [
        ("age_band", "25_34"),
        ("overdose_witnessed", "yes"),
        ("substances", "opioids"),
        ("substances", "stimulants"),
    ]
    # The offer is audited; the answers are not.
    assert LogEntry.objects.get_for_object(offer).get().actor == front_desk_ana
    models = set(LogEntry.objects.values_list("content_type__model", flat=True))
    assert not models & {"surveyresponse", "surveyanswer"}


def test_answers_on_the_answer_screen_follow_an_accepted_offer_once(
    spring_check_in, site_a, front_desk_ana
):
    offer = survey_offer_record(
        visit=visit_of("KAFA1991M", site_a),
        survey=spring_check_in,
        outcome="accepted",
        by=front_desk_ana,
    )
    assert survey_answers_record(offer=offer, answers=ANSWERS, by=front_desk_ana) is None
    offer.refresh_from_db()
    assert offer.outcome == OfferOutcome.ANSWERED
    with pytest.raises(SurveyError, match="already recorded"):
        survey_answers_record(offer=offer, answers=ANSWERS, by=front_desk_ana)
    assert SurveyResponse.objects.count() == 1
    assert SurveyAnswer.objects.count() == 4
    # accepted → answered is in the audit trail, attributed.
    assert LogEntry.objects.get_for_object(offer).count() == 2


def test_a_declined_offer_takes_no_answers(spring_check_in, site_a, front_desk_ana):
    offer = survey_offer_record(
        visit=visit_of("KAFA1991M", site_a),
        survey=spring_check_in,
        outcome="declined",
        by=front_desk_ana,
    )
    with pytest.raises(SurveyError):
        survey_answers_record(offer=offer, answers=ANSWERS, by=front_desk_ana)
    assert not SurveyResponse.objects.exists()


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"age_band": "25_34", "overdose_witnessed": "yes"}, "Choose an answer"),
        ({**ANSWERS, "age_band": ["25_34", "35_44"]}, "Choose one answer"),
        ({**ANSWERS, "age_band": "twenty"}, "answers listed"),
        ({**ANSWERS, "substances": ["opioids", "prefer_not"]}, "go alone"),
        ({**ANSWERS, "housing": "shelter"}, "Not a question"),
    ],
)
def test_answers_are_checked_against_the_survey(
    spring_check_in, site_a, front_desk_ana, answers, message
):
    visit = visit_of("KAFA1991M", site_a)
    with pytest.raises(SurveyError, match=message):
        survey_offer_record(
            visit=visit,
            survey=spring_check_in,
            outcome="answered",
            answers=answers,
            by=front_desk_ana,
        )
    assert not VisitSurveyOffer.objects.exists() and not SurveyResponse.objects.exists()


def test_survey_due_follows_the_program_day(spring_check_in, site_a):
    participant = ParticipantFactory(code="KAFA1991M")
    # 00:30 on 1 April program time: the survey has started.
    with time_machine.travel(dt.datetime(2026, 4, 1, 0, 30, tzinfo=PROGRAM_TZ), tick=False):
        assert surveys_due(participant=participant, day=dt.date(2026, 4, 1)) == [spring_check_in]
    assert surveys_due(participant=participant, day=dt.date(2026, 3, 31)) == []
