"""Reads of the outbox: which jobs are in which state (see models.JobState)."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from .models import JobState, OutboxJob

OPEN = Q(done_at__isnull=True, failed_at__isnull=True)


def redeliver_cutoff(*, after_seconds: int | None = None) -> datetime:
    """Jobs published before this and still not done are taken as lost by the broker."""
    seconds = settings.OUTBOX_REDELIVER_SECONDS if after_seconds is None else after_seconds
    return timezone.now() - timedelta(seconds=seconds)


def jobs_in_state(state: str, *, redeliver_after_seconds: int | None = None) -> QuerySet:
    cutoff = redeliver_cutoff(after_seconds=redeliver_after_seconds)
    condition = {
        JobState.PENDING: OPEN & Q(dispatched_at__isnull=True),
        JobState.SENT: OPEN & Q(dispatched_at__gt=cutoff),
        JobState.OVERDUE: OPEN & Q(dispatched_at__lte=cutoff),
        JobState.DONE: Q(done_at__isnull=False),
        JobState.FAILED: Q(done_at__isnull=True, failed_at__isnull=False),
    }[state]
    return OutboxJob.objects.filter(condition)


def jobs_state_counts() -> dict[str, int]:
    """How many jobs are in each state, for the relay command and the admin."""
    cutoff = redeliver_cutoff()
    return OutboxJob.objects.aggregate(
        **{
            JobState.PENDING.value: Count("pk", filter=OPEN & Q(dispatched_at__isnull=True)),
            JobState.SENT.value: Count("pk", filter=OPEN & Q(dispatched_at__gt=cutoff)),
            JobState.OVERDUE.value: Count("pk", filter=OPEN & Q(dispatched_at__lte=cutoff)),
            JobState.DONE.value: Count("pk", filter=Q(done_at__isnull=False)),
            JobState.FAILED.value: Count(
                "pk", filter=Q(done_at__isnull=True, failed_at__isnull=False)
            ),
        }
    )
