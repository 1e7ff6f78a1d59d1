"""Celery tasks of funder reports: thin wrappers that take ids and call a service."""

from celery import shared_task
from django.db import OperationalError

from .services import (
    monthly_reports_build,
    quarterly_reports_build,
    report_build,
    snapshots_recheck,
)


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def build_report(snapshot_id: int) -> str:
    """Build one queued report (on-demand request or regeneration)."""
    snapshot = report_build(snapshot_id=snapshot_id)
    return snapshot.status if snapshot else "taken by another worker"


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def build_monthly_reports() -> list[int]:
    """Beat, on the 1st of each month: last month's report for every template."""
    return [snapshot.pk for snapshot in monthly_reports_build()]


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def build_quarterly_reports() -> list[int]:
    """Beat, nightly: last quarter's (and a closed year's) reports, where not built yet."""
    return [snapshot.pk for snapshot in quarterly_reports_build()]


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def recheck_last_month() -> list[int]:
    """Beat, daily: have last month's reports' figures changed since they were built?"""
    return [check.snapshot_id for check in snapshots_recheck()]
