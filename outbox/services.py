"""Send background jobs through a transactional outbox.

Callers use `job_enqueue` inside their own transaction instead of `task.delay()`:
the job row commits with the data it is about, the send happens after commit,
and `jobs_relay` (beat, every minute) re-sends whatever could not be sent.
Delivery is at-least-once, so tasks must be idempotent (they are: they take ids
and re-check state).
"""

import contextlib
import importlib
import logging
from contextvars import ContextVar
from datetime import timedelta

from celery import current_app as celery_app
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from .models import OutboxJob

logger = logging.getLogger(__name__)

# Errors that mean "the broker is not reachable now": keep the job for the relay.
BROKER_DOWN = (BrokerError, ConnectionError, OSError, TimeoutError)


# Set by `jobs_deferred()`: jobs are recorded but left for the relay instead of being
# sent at each commit.
_deferred: ContextVar[bool] = ContextVar("outbox_jobs_deferred", default=False)


@contextlib.contextmanager
def jobs_deferred():
    """Record jobs without sending them at commit; `jobs_relay` sends what is left.

    For bulk writes made of many small transactions (the demo seed): the caller may
    drop jobs that a later one supersedes before they are ever sent."""
    token = _deferred.set(True)
    try:
        yield
    finally:
        _deferred.reset(token)


def job_enqueue(*, task_name: str, kwargs: dict | None = None) -> OutboxJob:
    """Record a job in the caller's transaction; it is sent to Celery after commit."""
    job = OutboxJob.objects.create(task_name=task_name, kwargs=kwargs or {})
    if not _deferred.get():
        transaction.on_commit(lambda: job_send(job_id=job.pk), robust=True)
    return job


def jobs_pending_drop(*, task_name: str) -> int:
    """Delete the jobs of one task not sent yet (superseded by work the caller does
    itself). Returns how many."""
    deleted, _ = OutboxJob.objects.filter(task_name=task_name, dispatched_at__isnull=True).delete()
    return deleted


def _task(task_name: str):
    module, _ = task_name.rsplit(".", 1)
    importlib.import_module(module)  # registers the task in a web process too
    return celery_app.tasks[task_name]


def job_send(*, job_id: int) -> bool:
    """Send one pending job to the broker (or run it in-process without Redis)."""
    job = OutboxJob.objects.filter(pk=job_id, dispatched_at__isnull=True).first()
    if job is None:
        return False
    try:
        # Nobody waits on an outbox job's result; with a result the Redis backend would
        # subscribe first and, Redis being down, retry for ~20 s inside the request.
        _task(job.task_name).apply_async(kwargs=job.kwargs, ignore_result=True)
    except BROKER_DOWN as exc:
        OutboxJob.objects.filter(pk=job.pk).update(
            attempts=F("attempts") + 1, last_error=str(exc)[:300]
        )
        logger.warning("Broker unavailable; job %s kept for the relay: %s", job.pk, exc)
        return False
    OutboxJob.objects.filter(pk=job.pk, dispatched_at__isnull=True).update(
        dispatched_at=timezone.now(), attempts=F("attempts") + 1
    )
    return True


def jobs_relay(*, older_than_seconds: int = 5, limit: int = 500) -> int:
    """Send every job still pending (e.g. recorded while Redis was down). Returns how many."""
    # Leave the youngest to their own on-commit send, which is usually milliseconds away.
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    pending = OutboxJob.objects.filter(dispatched_at__isnull=True, created_at__lte=cutoff)
    sent = 0
    for job_id in pending.values_list("pk", flat=True)[:limit]:
        sent += job_send(job_id=job_id)
    return sent


def jobs_prune(*, older_than_days: int = 14) -> int:
    """Delete sent jobs older than the given age; pending ones are never pruned."""
    cutoff = timezone.now() - timedelta(days=older_than_days)
    deleted, _ = OutboxJob.objects.filter(dispatched_at__lt=cutoff).delete()
    return deleted
