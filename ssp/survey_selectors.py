"""Reads of the periodic anonymous survey: definitions, what is due at the desk, and
the answer counts the reports publish (always aggregated, never a response)."""

from collections import defaultdict
from datetime import date

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

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
from .survey_bank import BANK, answer_choices

__all__ = ["BANK", "OfferOutcome", "SurveyPeriod"]


def period_start_of(day: date, kind: str) -> date:
    """First day of the month or quarter that holds `day`."""
    if kind == SurveyPeriod.QUARTER:
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return date(day.year, day.month, 1)


def period_last_day(start: date, kind: str) -> date:
    months = 3 if kind == SurveyPeriod.QUARTER else 1
    month = start.month - 1 + months
    following = date(start.year + month // 12, month % 12 + 1, 1)
    return date.fromordinal(following.toordinal() - 1)


def visit_day(visit: Visit) -> date:
    """The program day of a visit (PROGRAM_TIME_ZONE is the active time zone)."""
    return timezone.localtime(visit.occurred_at).date()


def surveys() -> QuerySet[Survey]:
    return Survey.objects.all()


def surveys_active_on(day: date) -> QuerySet[Survey]:
    return Survey.objects.filter(
        Q(active_until__isnull=True) | Q(active_until__gte=day), active_from__lte=day
    ).order_by("name")


def survey_was_offered(*, survey: Survey, participant: Participant, period_start: date) -> bool:
    """Whether this person (any code merged into theirs included: the visits moved) was
    offered the survey in the period, whatever they answered."""
    return VisitSurveyOffer.objects.filter(
        survey=survey, period_start=period_start, visit__participant=participant
    ).exists()


def surveys_due(*, participant: Participant | None, day: date) -> list[Survey]:
    """The surveys to offer this person today: active, and not offered in this period."""
    if participant is None:
        return []
    return [
        survey
        for survey in surveys_active_on(day)
        if not survey_was_offered(
            survey=survey,
            participant=participant,
            period_start=period_start_of(day, survey.period),
        )
    ]


def offers_of(visit: Visit) -> list[VisitSurveyOffer]:
    return list(visit.survey_offers.select_related("survey").order_by("survey__name"))


def offer_for_user(*, uuid, visits: QuerySet[Visit]) -> VisitSurveyOffer | None:
    """An offer at one of `visits` (the person's own visits: ssp.selectors.visits_for_user)."""
    return (
        VisitSurveyOffer.objects.select_related("survey", "visit__site")
        .filter(uuid=uuid, visit__in=visits)
        .first()
    )


def survey_form_questions(survey: Survey) -> list[dict]:
    """The survey's questions with the answers offered, in the bank's order."""
    return [
        {
            "question": BANK[code],
            "choices": answer_choices(BANK[code], zip3_areas=survey.zip3_areas),
        }
        for code in BANK
        if code in survey.questions
    ]


def _within(rows, *, start: date, end: date):
    """Keep rows whose survey period lies wholly inside [start, end]: a quarterly
    survey's answers are reported for a quarter or a year, never for one of its months."""
    for row in rows:
        if (
            start <= row["period_start"]
            and period_last_day(row["period_start"], row["kind"]) <= end
        ):
            yield row


def survey_response_counts(*, start: date, end: date, site_ids) -> dict[int, int]:
    """site id → responses whose survey period lies inside [start, end] (dates inclusive)."""
    rows = (
        SurveyResponse.objects.filter(
            site_id__in=list(site_ids), period_start__gte=start, period_start__lte=end
        )
        .values("site_id", "period_start", kind=F("survey__period"))
        .annotate(n=Count("id"))
        .order_by()
    )
    counts: dict[int, int] = defaultdict(int)
    for row in _within(rows, start=start, end=end):
        counts[row["site_id"]] += row["n"]
    return dict(counts)


def survey_answer_counts(*, start: date, end: date, site_ids) -> dict[int, dict[tuple, int]]:
    """site id → {(question, answer): responses that chose it}, same periods as above."""
    rows = (
        SurveyAnswer.objects.filter(
            response__site_id__in=list(site_ids),
            response__period_start__gte=start,
            response__period_start__lte=end,
        )
        .values(
            "question",
            "answer",
            site_id=F("response__site_id"),
            period_start=F("response__period_start"),
            kind=F("response__survey__period"),
        )
        .annotate(n=Count("id"))
        .order_by()
    )
    counts: dict[int, dict[tuple, int]] = defaultdict(lambda: defaultdict(int))
    for row in _within(rows, start=start, end=end):
        counts[row["site_id"]][(row["question"], row["answer"])] += row["n"]
    return {site_id: dict(found) for site_id, found in counts.items()}


def survey_zip3_areas() -> list[str]:
    """Every ZIP3 area any survey offers, sorted (the reports' ZIP3 lines)."""
    areas = set()
    for listed in Survey.objects.values_list("zip3_areas", flat=True):
        areas.update(listed or [])
    return sorted(areas)
