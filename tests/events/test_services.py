"""Recording, correcting and voiding program events: the kind's fields, bounds, sites,
dates, who may change what, and the audit trail."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from auditlog.models import LogEntry
from django.db import IntegrityError, transaction

from events.models import EventKind, ProgramEvent
from events.services import (
    EventError,
    EventNotAllowed,
    event_correct,
    event_record,
    event_void,
    syringes_from_weight,
)

pytestmark = pytest.mark.django_db

TODAY = date(2026, 12, 15)


def cleanup(by, site, **fields):
    values = {"occurred_on": TODAY, "syringes_collected": 40, "staff_hours": Decimal("6"), **fields}
    return event_record(kind="cleanup", site=site, by=by, **values)


def test_a_cleanup_is_recorded_with_its_counts_and_audited(front_desk_ana, site_a):
    event = cleanup(front_desk_ana, site_a, syringes_collected=120, staff_hours=Decimal("7.5"))
    event.refresh_from_db()
    assert (event.kind, event.syringes_collected, event.staff_hours) == (
        "cleanup",
        120,
        Decimal("7.50"),
    )
    entry = LogEntry.objects.get_for_object(event).get()
    assert entry.actor == front_desk_ana
    assert entry.action == LogEntry.Action.CREATE


def test_a_needle_stick_says_only_who_was_stuck(front_desk_ana, site_a):
    event = event_record(
        kind="needle_stick", site=site_a, occurred_on=TODAY, by=front_desk_ana,
        person_stuck="community",
    )  # fmt: skip
    assert event.person_stuck == "community"
    with pytest.raises(EventError) as refused:
        event_record(
            kind="needle_stick", site=site_a, occurred_on=TODAY, by=front_desk_ana,
            person_stuck="Maria Lopez",
        )  # fmt: skip
    assert "person_stuck" in refused.value.field_errors


@pytest.mark.parametrize(
    ("weight", "unit", "expected"),
    [(Decimal("10"), "lb", 2800), (Decimal("1"), "kg", 617), (Decimal("0.5"), "kg", 309)],
)
def test_a_weighed_bin_is_estimated_with_the_setting(
    front_desk_ana, site_a, settings, weight, unit, expected
):
    settings.SSP_SYRINGES_PER_POUND = 280
    event = event_record(
        kind="sharps_emptied", site=site_a, occurred_on=TODAY, by=front_desk_ana,
        container="kiosk", weight=weight, weight_unit=unit,
    )  # fmt: skip
    # Computed here without the service: pounds × 280, kg at 2.20462 lb, rounded half up.
    pounds = weight if unit == "lb" else weight * Decimal("2.20462")
    assert event.syringes_estimated == expected == int(pounds * 280 + Decimal("0.5"))
    assert event.syringes_per_pound == 280


def test_a_later_change_of_the_rate_does_not_rewrite_a_bin_but_a_correction_keeps_its_rate(
    manager_sam, site_a, settings
):
    settings.SSP_SYRINGES_PER_POUND = 280
    event = event_record(
        kind="sharps_emptied", site=site_a, occurred_on=TODAY, by=manager_sam,
        container="site_bin", weight=Decimal("2"), weight_unit="lb",
    )  # fmt: skip
    settings.SSP_SYRINGES_PER_POUND = 300
    event_correct(event=event, by=manager_sam, weight=Decimal("3"))
    event.refresh_from_db()
    assert (event.syringes_per_pound, event.syringes_estimated) == (280, 840)
    assert syringes_from_weight(weight=Decimal("3"), unit="lb", per_pound=300) == 900


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"syringes_collected": -1}, "syringes_collected"),
        ({"syringes_collected": 20_001}, "syringes_collected"),
        ({"syringes_collected": None}, "syringes_collected"),
        ({"staff_hours": Decimal("0")}, "staff_hours"),
        ({"staff_hours": Decimal("501")}, "staff_hours"),
        ({"staff_hours": Decimal("1.234")}, "staff_hours"),
        ({"person_stuck": "staff"}, "person_stuck"),  # another kind's field
        ({"weight": Decimal("3")}, "weight"),
    ],
)
def test_a_cleanup_refuses_out_of_bounds_or_foreign_fields(front_desk_ana, site_a, fields, field):
    with pytest.raises(EventError) as refused:
        cleanup(front_desk_ana, site_a, **fields)
    assert field in refused.value.field_errors
    assert not ProgramEvent.objects.exists()


def test_a_bin_refuses_a_weight_out_of_bounds_and_an_unknown_container(front_desk_ana, site_a):
    base = {"container": "kiosk", "weight": Decimal("3"), "weight_unit": "kg"}
    for change, field in (
        ({"weight": Decimal("0")}, "weight"),
        ({"weight": Decimal("500.01")}, "weight"),
        ({"container": "fridge"}, "container"),
        ({"weight_unit": "stone"}, "weight_unit"),
    ):
        with pytest.raises(EventError) as refused:
            event_record(
                kind="sharps_emptied", site=site_a, occurred_on=TODAY, by=front_desk_ana,
                **{**base, **change},
            )  # fmt: skip
        assert field in refused.value.field_errors


def test_dates_in_the_future_or_beyond_the_backdating_limit_are_refused(
    front_desk_ana, site_a, settings
):
    settings.SSP_EVENT_BACKDATE_DAYS = 31
    with pytest.raises(EventError, match="future"):
        cleanup(front_desk_ana, site_a, occurred_on=TODAY + timedelta(days=1))
    with pytest.raises(EventError, match="31 days"):
        cleanup(front_desk_ana, site_a, occurred_on=TODAY - timedelta(days=32))
    assert cleanup(front_desk_ana, site_a, occurred_on=TODAY - timedelta(days=31)).pk


def test_a_cleanup_today_counts_from_the_program_day_not_utc(front_desk_ana, site_a):
    # 23:30 in New York is already the next day in UTC: "today" is still the 15th.
    with time_machine.travel("2026-12-16 04:30:00+00:00", tick=False):
        assert cleanup(front_desk_ana, site_a, occurred_on=TODAY).pk
        with pytest.raises(EventError, match="future"):
            cleanup(front_desk_ana, site_a, occurred_on=TODAY + timedelta(days=1))


def test_only_recording_roles_at_their_own_sites_may_record(
    front_desk_ana, coordinator_cleo, site_a, site_b
):
    with pytest.raises(EventNotAllowed):
        cleanup(front_desk_ana, site_b)
    with pytest.raises(EventNotAllowed):
        cleanup(coordinator_cleo, site_a)  # coordinators read
    assert not ProgramEvent.objects.exists()


def test_the_recorder_corrects_within_the_window_a_manager_any_time(
    front_desk_ana, front_desk_ben, manager_sam, site_a, settings
):
    settings.SSP_VISIT_EDIT_HOURS = 24
    event = cleanup(front_desk_ana, site_a)
    event_correct(event=event, by=front_desk_ana, syringes_collected=41)
    with time_machine.travel("2026-12-17 10:00:00-05:00", tick=False):
        with pytest.raises(EventNotAllowed, match="24 hours"):
            event_correct(event=event, by=front_desk_ana, syringes_collected=42)
        with pytest.raises(EventNotAllowed):
            event_correct(event=event, by=front_desk_ben, syringes_collected=42)
        # A manager may also move it beyond the recording limit (paper records).
        event_correct(
            event=event, by=manager_sam, syringes_collected=43, occurred_on=date(2026, 10, 1)
        )
        with pytest.raises(EventError, match="2000-01-01"):
            event_correct(event=event, by=manager_sam, occurred_on=date(1999, 12, 31))
    event.refresh_from_db()
    assert (event.syringes_collected, event.occurred_on, event.updated_by) == (
        43,
        date(2026, 10, 1),
        manager_sam,
    )
    changes = [e.changes_dict for e in LogEntry.objects.get_for_object(event).order_by("pk")]
    assert changes[-1]["syringes_collected"] == [41, 43]


def test_a_void_keeps_the_record_with_a_reason_and_cannot_be_undone(front_desk_ana, site_a):
    event = cleanup(front_desk_ana, site_a)
    with pytest.raises(EventError, match="why"):
        event_void(event=event, by=front_desk_ana, reason="")
    with pytest.raises(EventError):
        event_void(event=event, by=front_desk_ana, reason="he asked me to")
    event_void(event=event, by=front_desk_ana, reason="twice")
    event.refresh_from_db()
    assert event.is_void and event.void_reason == "twice" and event.voided_by == front_desk_ana
    with pytest.raises(EventNotAllowed, match="voided"):
        event_correct(event=event, by=front_desk_ana, syringes_collected=1)
    assert ProgramEvent.objects.count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "fields",
    [
        {"kind": "cleanup", "syringes_collected": 10, "staff_hours": 0},
        {"kind": "cleanup", "syringes_collected": 10, "staff_hours": 2, "person_stuck": "staff"},
        {"kind": "needle_stick", "person_stuck": ""},
        {"kind": "sharps_emptied", "container": "kiosk", "weight": 600, "weight_unit": "kg",
         "syringes_per_pound": 280, "syringes_estimated": 1},
        {"kind": "sharps_emptied", "container": "kiosk", "weight": 1, "weight_unit": "kg",
         "syringes_per_pound": 280, "syringes_estimated": None},
        {"kind": "party"},
    ],
)  # fmt: skip
def test_the_database_refuses_what_the_service_would(front_desk_ana, site_a, fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        ProgramEvent.objects.create(
            site=site_a, occurred_on=TODAY, recorded_by=front_desk_ana, **fields
        )


def test_a_void_without_a_reason_is_refused_by_the_database(front_desk_ana, site_a):
    event = cleanup(front_desk_ana, site_a)
    with pytest.raises(IntegrityError), transaction.atomic():
        ProgramEvent.objects.filter(pk=event.pk).update(voided_at=event.created_at)
    assert EventKind(event.kind) == EventKind.CLEANUP
