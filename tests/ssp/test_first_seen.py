"""A code's first-seen date is the day of its first standing visit, kept true by every
write that can move it (record, void, time correction, code correction, merge), and the
reports' "new participants" agree with a count made here from the visit rows."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from reports.metrics import TOTAL, compute_figures
from reports.periods import Period
from ssp.models import Participant, Visit
from ssp.selectors import code_lookup
from ssp.services import participant_merge, visit_correct, visit_record, visit_void

from ..support.intake import new_uuid

pytestmark = [pytest.mark.django_db, pytest.mark.figures]

PROGRAM = ZoneInfo("America/New_York")
DECEMBER, JANUARY, FEBRUARY = Period.month(2025, 12), Period.month(2026, 1), Period.month(2026, 2)


@pytest.fixture(autouse=True)
def _early_february(settings, storeroom):
    settings.SSP_VISIT_BACKDATE_DAYS = 90
    with time_machine.travel(datetime(2026, 2, 3, 15, tzinfo=PROGRAM), tick=False):
        yield


def record(by, site, code, when):
    visit, _created = visit_record(site=site, by=by, client_uuid=new_uuid(), code=code,
                                   occurred_at=when)  # fmt: skip
    return visit


def first_seen(code: str):
    return Participant.objects.get(code=code).first_seen_on


def new_participants_counted_here(period: Period) -> int:
    """Codes whose earliest non-voided visit falls in the period, from the raw rows."""
    earliest: dict[int, datetime] = {}
    for participant_id, when in Visit.objects.filter(
        voided_at__isnull=True, participant__isnull=False
    ).values_list("participant_id", "occurred_at"):
        earliest[participant_id] = min(when, earliest.get(participant_id, when))
    return sum(period.start <= timezone.localdate(when) <= period.end for when in earliest.values())


def reported_new(period: Period) -> int:
    return compute_figures(period=period)["values"][TOTAL]["new_participants"]


def assert_reports_agree():
    for period in (DECEMBER, JANUARY, FEBRUARY):
        assert reported_new(period) == new_participants_counted_here(period), period.label


def test_a_backdated_visit_moves_first_seen_back(manager_sam, site_a):
    record(manager_sam, site_a, "MAKO1993F", datetime(2026, 1, 20, 10, tzinfo=PROGRAM))
    record(manager_sam, site_a, "MAKO1993F", datetime(2025, 12, 28, 10, tzinfo=PROGRAM))
    assert first_seen("MAKO1993F").isoformat() == "2025-12-28"
    assert (reported_new(DECEMBER), reported_new(JANUARY)) == (1, 0)
    assert_reports_agree()


def test_voiding_the_only_earlier_visit_makes_the_person_new_in_the_later_month(
    manager_sam, site_a
):
    december = record(manager_sam, site_a, "MAKO1993F", datetime(2025, 12, 20, tzinfo=PROGRAM))
    record(manager_sam, site_a, "MAKO1993F", datetime(2026, 1, 10, 9, tzinfo=PROGRAM))
    assert (reported_new(DECEMBER), reported_new(JANUARY)) == (1, 0)

    visit_void(visit=december, by=manager_sam, reason="wrong_code")

    assert first_seen("MAKO1993F").isoformat() == "2026-01-10"
    assert (reported_new(DECEMBER), reported_new(JANUARY)) == (0, 1)
    assert_reports_agree()


def test_voiding_every_visit_leaves_the_code_counted_nowhere(manager_sam, site_a):
    only = record(manager_sam, site_a, "MAKO1993F", datetime(2026, 1, 10, 9, tzinfo=PROGRAM))
    visit_void(visit=only, by=manager_sam, reason="test")
    assert reported_new(JANUARY) == 0
    # The next visit sets the date again.
    record(manager_sam, site_a, "MAKO1993F", datetime(2026, 2, 2, 9, tzinfo=PROGRAM))
    assert first_seen("MAKO1993F").isoformat() == "2026-02-02"
    assert_reports_agree()


def test_a_time_correction_across_midnight_moves_the_person_to_the_next_month(manager_sam, site_a):
    visit = record(manager_sam, site_a, "MAKO1993F", datetime(2026, 1, 31, 23, 50, tzinfo=PROGRAM))
    assert (reported_new(JANUARY), reported_new(FEBRUARY)) == (1, 0)

    visit_correct(
        visit=visit, by=manager_sam, occurred_at=datetime(2026, 2, 1, 0, 10, tzinfo=PROGRAM)
    )

    assert first_seen("MAKO1993F").isoformat() == "2026-02-01"
    assert (reported_new(JANUARY), reported_new(FEBRUARY)) == (0, 1)
    # And back again: corrections move the date both ways.
    visit_correct(visit=visit, by=manager_sam, occurred_at=datetime(2026, 1, 15, tzinfo=PROGRAM))
    assert first_seen("MAKO1993F").isoformat() == "2026-01-15"
    assert_reports_agree()


def test_a_code_correction_moves_the_first_visit_of_both_codes(manager_sam, site_a):
    wrong = record(manager_sam, site_a, "MAKO1993F", datetime(2025, 12, 30, tzinfo=PROGRAM))
    record(manager_sam, site_a, "MAKO1993F", datetime(2026, 1, 12, tzinfo=PROGRAM))
    record(manager_sam, site_a, "MAKO1993M", datetime(2026, 1, 20, tzinfo=PROGRAM))
    assert (reported_new(DECEMBER), reported_new(JANUARY)) == (1, 1)

    visit_correct(visit=wrong, by=manager_sam, code="MAKO1993M")

    assert first_seen("MAKO1993F").isoformat() == "2026-01-12"
    assert first_seen("MAKO1993M").isoformat() == "2025-12-30"
    assert (reported_new(DECEMBER), reported_new(JANUARY)) == (1, 1)
    assert_reports_agree()


def test_a_merge_gives_the_kept_code_the_first_visit_of_both(manager_sam, site_a):
    record(manager_sam, site_a, "MAKO1939F", datetime(2025, 12, 15, tzinfo=PROGRAM))
    record(manager_sam, site_a, "MAKO1993F", datetime(2026, 1, 8, tzinfo=PROGRAM))
    assert (reported_new(DECEMBER), reported_new(JANUARY)) == (1, 1)

    merged, kept = (
        Participant.objects.get(code="MAKO1939F"),
        Participant.objects.get(code="MAKO1993F"),
    )
    participant_merge(merged=merged, kept=kept, by=manager_sam, reason="year")

    assert first_seen("MAKO1993F").isoformat() == "2025-12-15"
    # One person, new once: in December, when the merged code was first seen.
    assert (reported_new(DECEMBER), reported_new(JANUARY)) == (1, 0)
    assert_reports_agree()


def test_a_merge_into_a_code_whose_earlier_visit_was_voided(manager_sam, site_a):
    voided = record(manager_sam, site_a, "MAKO1993F", datetime(2025, 12, 1, tzinfo=PROGRAM))
    visit_void(visit=voided, by=manager_sam, reason="twice")
    record(manager_sam, site_a, "MAKO1939F", datetime(2026, 1, 25, tzinfo=PROGRAM))
    record(manager_sam, site_a, "MAKO1993F", datetime(2026, 2, 2, tzinfo=PROGRAM))

    merged, kept = (
        Participant.objects.get(code="MAKO1939F"),
        Participant.objects.get(code="MAKO1993F"),
    )
    participant_merge(merged=merged, kept=kept, by=manager_sam)

    assert first_seen("MAKO1993F").isoformat() == "2026-01-25"
    assert (reported_new(DECEMBER), reported_new(JANUARY), reported_new(FEBRUARY)) == (0, 1, 0)
    assert_reports_agree()


def test_the_desk_look_up_shows_the_derived_date(manager_sam, site_a):
    december = record(manager_sam, site_a, "MAKO1993F", datetime(2025, 12, 20, tzinfo=PROGRAM))
    record(manager_sam, site_a, "MAKO1993F", datetime(2026, 1, 10, 9, tzinfo=PROGRAM))
    visit_void(visit=december, by=manager_sam, reason="wrong_code")

    lookup = code_lookup("MAKO1993F", user=manager_sam)
    assert lookup.participant.first_seen_on.isoformat() == "2026-01-10"
