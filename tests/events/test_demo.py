"""The demo's program events (events/demo.py): a handful each month over the seeded
span, recorded through the events services, none dated after the seed's "now"."""

from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from auditlog.models import LogEntry
from django.core.management import call_command
from django.db.models import Max

from events.models import EventKind, ProgramEvent

pytestmark = pytest.mark.django_db

NY = ZoneInfo("America/New_York")


def test_a_month_of_demo_seeds_events_none_after_now(settings):
    settings.TIME_ZONE = "America/New_York"
    # 03:00 program time: today has barely begun, so nothing may be dated today or later.
    now = datetime(2026, 12, 15, 3, 0, tzinfo=NY)
    out = StringIO()
    with time_machine.travel(now, tick=False):
        call_command("seed_demo", "--days", "30", stdout=out)
    assert "Program events:" in out.getvalue(), out.getvalue()
    events = ProgramEvent.objects.all()
    kinds = set(events.values_list("kind", flat=True))
    assert {EventKind.SHARPS_EMPTIED, EventKind.CLEANUP} <= kinds, kinds
    assert 4 <= events.filter(voided_at__isnull=True).count() <= 15
    latest = events.aggregate(day=Max("occurred_on"), made=Max("created_at"), void=Max("voided_at"))
    assert latest["day"] < now.date() and latest["made"] <= now and latest["void"] <= now
    assert events.order_by("occurred_on").first().occurred_on >= now.date() - timedelta(days=29)
    # Through the services: estimated from the weight, recorded by a person, audited.
    for event in events.filter(kind=EventKind.SHARPS_EMPTIED):
        assert event.syringes_estimated > 0 and event.syringes_per_pound == 280
    assert all(LogEntry.objects.get_for_object(e).filter(actor=e.recorded_by) for e in events)
    # One kiosk round entered twice, the copy voided with its reason.
    assert list(events.filter(voided_at__isnull=False).values_list("void_reason", flat=True)) == [
        "twice"
    ]
