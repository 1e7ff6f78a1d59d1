"""A small, fixed month of visits that the report tests build reports from."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from reports.periods import Period
from reports.services import report_build, report_request
from ssp.models import VisitSupply

from ..factories import ItemFactory, ParticipantFactory, VisitFactory

PROGRAM = ZoneInfo("America/New_York")
JANUARY = Period.month(2026, 1)


def january_visits(site_a, site_b, *, syringes=12, extra_visits=0):
    """A small month: 14 visits at A (some anonymous), 3 at B (small: suppressed)."""
    item = ItemFactory(code="syr-1ml", name="Syringe 1 mL", category="syringe")
    people = [
        ParticipantFactory(code=f"JAN{n:02d}F", first_seen_on=date(2026, 1, 1)) for n in range(9)
    ]
    visits = []
    for n in range(14 + extra_visits):
        visits.append(
            VisitFactory(
                site=site_a,
                occurred_at=datetime(2026, 1, 2 + n % 25, 10, tzinfo=PROGRAM),
                participant=people[n % 9] if n % 5 else None,
                syringes_collected=10,
            )
        )
    for n in range(3):
        visits.append(
            VisitFactory(
                site=site_b,
                occurred_at=datetime(2026, 1, 5 + n, 11, tzinfo=PROGRAM),
                participant=people[n],
            )
        )
    for v in visits:
        VisitSupply.objects.create(visit=v, item=item, quantity=syringes)
    return visits


def built_report(by, template="program_monthly", period=JANUARY, **kwargs):
    """A report requested by `by` and built at once (in-process), as stored."""
    snapshot = report_request(template=template, period=period, by=by, **kwargs)
    report_build(snapshot_id=snapshot.pk)
    snapshot.refresh_from_db()
    return snapshot
