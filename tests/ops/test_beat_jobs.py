"""Beat's messages go straight to Redis, not through the outbox: every beat entry is a
job that is idempotent and re-run by beat, so one run lost with Redis's data is made
good by the next (docs/operations.md, "Jobs and Redis", names each and why)."""

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import time_machine
from django.conf import settings

from reports.periods import Period

DOCS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def test_every_beat_entry_says_why_losing_one_run_loses_nothing():
    section = DOCS.read_text().split("## Jobs and Redis", 1)[1]
    for name in settings.CELERY_BEAT_SCHEDULE:
        assert f"| `{name}` |" in section, (
            f"{name}: say in docs/operations.md why a lost run is safe"
        )


def test_a_monthly_report_run_lost_on_the_first_is_made_good_the_next_night():
    program = ZoneInfo(settings.TIME_ZONE)
    schedule = settings.CELERY_BEAT_SCHEDULE["monthly-funder-reports"]["schedule"]
    # Beat sent the 1st's message (so it counts as run) and Redis lost it.
    sent_on_the_first = datetime(2026, 2, 1, 2, 0, tzinfo=program)
    next_night = sent_on_the_first + timedelta(days=1)
    with time_machine.travel(next_night + timedelta(seconds=1), tick=False):
        assert schedule.is_due(sent_on_the_first).is_due
    # ...and that night's run builds January still, which the 1st's would have built.
    assert Period.previous_month(next_night.date()) == Period.previous_month(date(2026, 2, 1))
