"""Survey answer figures: counted per site and in total, for the periods they lie in,
against counts this test makes from the answers it stored."""

import datetime as dt
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings

from reports.metrics import TOTAL, compute_figures
from reports.periods import Period
from ssp.survey_services import survey_offer_record, survey_save

from ..factories import ParticipantFactory, VisitFactory

pytestmark = [pytest.mark.django_db, pytest.mark.figures]
TZ = ZoneInfo(settings.TIME_ZONE)


def test_answer_counts_per_site_and_total(site_a, site_b, coordinator_cleo, front_desk_ana):
    monthly = survey_save(
        name="Monthly", questions=["age_band", "substances"], period="month",
        active_from=dt.date(2026, 1, 1), by=coordinator_cleo,
    )  # fmt: skip
    quarterly = survey_save(
        name="Quarterly", questions=["housing"], period="quarter",
        active_from=dt.date(2026, 1, 1), by=coordinator_cleo,
    )  # fmt: skip
    given = [
        # (site, day, survey, answers)
        (
            site_a,
            dt.date(2026, 2, 3),
            monthly,
            {"age_band": "25_34", "substances": ["opioids", "alcohol"]},
        ),
        (site_a, dt.date(2026, 2, 28), monthly, {"age_band": "25_34", "substances": ["opioids"]}),
        (site_b, dt.date(2026, 2, 10), monthly, {"age_band": "prefer_not", "substances": ["none"]}),
        # Another month: not in February's report.
        (site_a, dt.date(2026, 3, 1), monthly, {"age_band": "45_54", "substances": ["cocaine"]}),
        # A quarterly survey: in the quarter's report, never in a month's.
        (site_b, dt.date(2026, 2, 11), quarterly, {"housing": "shelter"}),
    ]
    for n, (site, day, survey, answers) in enumerate(given):
        visit = VisitFactory(
            site=site, participant=ParticipantFactory(code=f"CODE{n}"),
            occurred_at=dt.datetime.combine(day, dt.time(23, 50), tzinfo=TZ),
        )  # fmt: skip
        survey_offer_record(
            visit=visit, survey=survey, outcome="answered", answers=answers, by=front_desk_ana
        )

    def expected(start, end, kind):
        counts = {site_a.code: Counter(), site_b.code: Counter()}
        for site, day, survey, answers in given:
            if survey.period == "quarter" and kind == "month":
                continue
            if start <= day <= end:
                counts[site.code]["survey_responses"] += 1
                for question, chosen in answers.items():
                    for answer in [chosen] if isinstance(chosen, str) else chosen:
                        counts[site.code][f"survey.{question}.{answer}"] += 1
        return counts

    for period in (Period.month(2026, 2), Period.quarter(2026, 1)):
        values = compute_figures(period=period, site_ids=[site_a.pk, site_b.pk])["values"]
        want = expected(period.start, period.end, period.kind)
        for scope in (site_a.code, site_b.code):
            got = {
                k: v
                for k, v in values[scope].items()
                if k.startswith("survey") and v and not k.startswith("survey_asked")
            }
            assert got == dict(want[scope]), (period.label, scope)
        total = want[site_a.code] + want[site_b.code]
        assert values[TOTAL]["survey_responses"] == total["survey_responses"]
        assert values[TOTAL]["survey.age_band.25_34"] == total["survey.age_band.25_34"]
        # Single-answer questions add up to the responses asked them.
        assert values[TOTAL]["survey_asked.age_band"] == sum(
            n for key, n in total.items() if key.startswith("survey.age_band.")
        )
    assert compute_figures(period=Period.month(2026, 2))["values"][TOTAL]["survey_responses"] == 3
