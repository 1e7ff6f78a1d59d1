"""Writes of the periodic anonymous survey: definitions, offers at a visit, answers.

The answers are stored apart from the offer: `survey_answers_record` marks the offer
answered and writes a SurveyResponse with only the survey, the site and the period, so
nothing stored says whose answers they are (docs/privacy.md).
"""

import re
from collections.abc import Mapping
from datetime import date

from django.db import IntegrityError, transaction

from org.audit import attributed
from org.models import User

from .models import (
    OfferOutcome,
    Participant,
    Survey,
    SurveyAnswer,
    SurveyPeriod,
    SurveyResponse,
    Visit,
    VisitSurveyOffer,
)
from .survey_bank import BANK, PREFER_NOT, ZIP3, answer_choices
from .survey_selectors import period_start_of, survey_was_offered, visit_day

ZIP3_AREA = re.compile(r"^[0-9]{3}$")
# Answers that cannot be chosen together with another answer of the same question.
ALONE = {PREFER_NOT, "none"}


class SurveyError(Exception):
    """A refused survey definition, offer or answer (message in staff words)."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field
        # org.forms.form_errors_from puts each message next to its field.
        self.field_errors = {field: [message]} if field else {}


class SurveyAlreadyOffered(SurveyError):
    """The person was already offered this survey in its period."""


@transaction.atomic(durable=True)
def survey_save(
    *,
    name: str,
    questions: list[str],
    period: str,
    active_from: date,
    active_until: date | None = None,
    by: User,
    zip3_areas: list[str] = (),
    survey: Survey | None = None,
) -> Survey:
    """Create or change a survey definition (audited by auditlog). Once it has been
    offered, its questions and period stay as they were: the figures of a period must
    all answer the same questions."""
    unknown = [code for code in questions if code not in BANK]
    if unknown or not questions:
        raise SurveyError("Choose at least one question from the list.", field="questions")
    if period not in SurveyPeriod.values:
        raise SurveyError("Choose month or quarter.", field="period")
    if active_until is not None and active_until < active_from:
        raise SurveyError("The last day cannot be before the first.", field="active_until")
    areas = sorted(set(zip3_areas))
    if any(not ZIP3_AREA.match(area) for area in areas):
        raise SurveyError("ZIP3 areas are three digits each.", field="zip3_areas")
    if ZIP3.code in questions and not areas:
        raise SurveyError("List the ZIP3 areas the ZIP3 question offers.", field="zip3_areas")
    ordered = [code for code in BANK if code in questions]
    if survey is None:
        survey = Survey()
    elif survey.offers.exists() and (
        ordered != survey.questions or period != survey.period or areas != survey.zip3_areas
    ):
        raise SurveyError(
            "This survey has been offered: its questions, ZIP3 areas and period stay as "
            "they are. End it and define a new one instead.",
            field="questions",
        )
    survey.name = name
    survey.questions = ordered
    survey.zip3_areas = areas
    survey.period = period
    survey.active_from = active_from
    survey.active_until = active_until
    survey.full_clean()
    with attributed(by):
        survey.save()
    return survey


def _clean_answers(survey: Survey, answers: Mapping) -> list[tuple[str, str]]:
    """(question, answer) pairs after checking every question of the survey is
    answered with the answers it offers."""
    extra = sorted(set(answers) - set(survey.questions))
    if extra:
        raise SurveyError(f"Not a question of this survey: {', '.join(extra)}.")
    pairs = []
    for code in survey.questions:
        question = BANK[code]
        given = answers.get(code)
        chosen = [given] if isinstance(given, str) else list(given or [])
        if not chosen:
            raise SurveyError("Choose an answer (or “Prefer not to say”).", field=code)
        if not question.multiple and len(chosen) > 1:
            raise SurveyError("Choose one answer.", field=code)
        offered = {
            value for value, _label in answer_choices(question, zip3_areas=survey.zip3_areas)
        }
        if any(not isinstance(value, str) or value not in offered for value in chosen):
            raise SurveyError("Choose from the answers listed.", field=code)
        if len(set(chosen)) > 1 and ALONE & set(chosen):
            raise SurveyError("“Prefer not to say” and “None” go alone.", field=code)
        pairs += [(code, value) for value in sorted(set(chosen))]
    return pairs


def _response_write(*, survey: Survey, site_id: int, period_start: date, pairs) -> None:
    response = SurveyResponse.objects.create(
        survey=survey, site_id=site_id, period_start=period_start
    )
    SurveyAnswer.objects.bulk_create(
        SurveyAnswer(response=response, question=question, answer=answer)
        for question, answer in pairs
    )


@transaction.atomic(durable=True)
def survey_offer_record(
    *,
    visit: Visit,
    survey: Survey,
    outcome: str,
    by: User,
    answers: Mapping | None = None,
) -> VisitSurveyOffer:
    """Record that the survey was offered at the visit: declined, accepted (the answers
    follow on the answer screen) or answered (with `answers`, in the same request).
    At most once per survey period per person."""
    if outcome not in OfferOutcome.values:
        raise SurveyError(
            "Say whether the person answered, will answer or declined.", field="outcome"
        )
    if (answers is not None) != (outcome == OfferOutcome.ANSWERED):
        raise SurveyError("Answers go with the outcome “answered” only.", field="answers")
    if visit.voided_at is not None:
        raise SurveyError("This visit was voided.")
    if visit.participant_id is None or visit.contacts != 1:
        raise SurveyError(
            "The survey is offered at visits with a participant code, so that no one is "
            "asked twice in a period."
        )
    day = visit_day(visit)
    if not (
        survey.active_from <= day and (survey.active_until is None or day <= survey.active_until)
    ):
        raise SurveyError("This survey is not running on the day of the visit.", field="survey")
    period_start = period_start_of(day, survey.period)
    # One offer per person and period even when two desks ask at once: the person's
    # row is the lock (a merge moves visits under it, so it stays the right one).
    participant = Participant.objects.select_for_update().get(pk=visit.participant_id)
    if survey_was_offered(survey=survey, participant=participant, period_start=period_start):
        raise SurveyAlreadyOffered(
            "This person was already offered this survey this period.", field="survey"
        )
    pairs = _clean_answers(survey, answers) if answers is not None else None
    try:
        with transaction.atomic(), attributed(by):
            offer = VisitSurveyOffer.objects.create(
                visit=visit, survey=survey, period_start=period_start, outcome=outcome
            )
    except IntegrityError:
        raise SurveyAlreadyOffered(
            "This survey was already offered at this visit.", field="survey"
        ) from None
    if pairs is not None:
        _response_write(
            survey=survey, site_id=visit.site_id, period_start=period_start, pairs=pairs
        )
    return offer


@transaction.atomic(durable=True)
def survey_answers_record(*, offer: VisitSurveyOffer, answers: Mapping, by: User) -> None:
    """Store the answers of an accepted offer and mark it answered. Returns nothing on
    purpose: the caller gets no handle that could tie the answers to the offer."""
    pairs = _clean_answers(offer.survey, answers)
    # One answer set per offer, even if the screen is sent twice: the offer moves from
    # accepted to answered once, under its row lock, and only that request writes answers.
    locked = VisitSurveyOffer.objects.select_for_update().filter(pk=offer.pk).first()
    if locked is None or locked.outcome != OfferOutcome.ACCEPTED:
        raise SurveyError("These answers were already recorded, or the person declined.")
    locked.outcome = OfferOutcome.ANSWERED
    with attributed(by):
        locked.save(update_fields=["outcome"])
    offer.outcome = locked.outcome
    _response_write(
        survey=offer.survey,
        site_id=offer.visit.site_id,
        period_start=offer.period_start,
        pairs=pairs,
    )
