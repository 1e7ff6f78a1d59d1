"""Demo data for funder reports: last month's snapshot of every template, so the report
pages have something to show right after `manage.py seed_demo`."""

from django.utils import timezone

from ssp.selectors import visit_records_between

from .funder_templates import TEMPLATES
from .models import ReportStatus
from .periods import Period
from .services import report_build, scheduled_snapshot


def seed_reports(*, log) -> None:
    """Build last month's report for each template in-process, as the monthly job
    would on the 1st (without its email). Safe to run again: ready snapshots stay."""
    period = Period.previous_month(timezone.localdate())
    start, end = period.bounds()
    visits = visit_records_between(start=start, end=end)
    if not visits:
        log(f"No visits in {period.label}: the reports will show zeros.")
    for key, template in TEMPLATES.items():
        snapshot, _created = scheduled_snapshot(template=key, period=period)
        if snapshot.status != ReportStatus.READY:
            snapshot = report_build(snapshot_id=snapshot.pk) or snapshot
        log(
            f"  {template.name}, {period.label}: version {snapshot.version}, "
            f"{snapshot.status} ({visits} visit records)"
        )


def seed(*, log, days: int) -> None:
    seed_reports(log=log)
