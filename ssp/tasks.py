"""Celery tasks of the ssp app: thin wrappers that take ids and call a service."""

from celery import shared_task
from django.db import OperationalError


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def build_report(snapshot_id: int) -> str:
    """Build one queued report (on-demand request or regeneration)."""
    from ssp.reports.services import report_build

    snapshot = report_build(snapshot_id=snapshot_id)
    return snapshot.status if snapshot else "taken by another worker"


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def build_monthly_reports() -> list[int]:
    """Beat, on the 1st of each month: last month's report for every template."""
    from ssp.reports.services import monthly_reports_build

    return [snapshot.pk for snapshot in monthly_reports_build()]
