"""Send background jobs through a transactional outbox.

Callers use `job_enqueue` inside their own transaction instead of `task.delay()`:
the job row commits with the data it is about and is published after commit. A job is
done when its task has run, not when it was published: the job's id travels in the
message's headers and outbox.receivers marks the row done (or failed) when the task
finishes, in a worker or in-process alike. `jobs_relay` (beat, every minute) publishes
what could not be published (Redis down) and publishes again what was published more
than OUTBOX_REDELIVER_SECONDS ago and never ran (Redis lost it: a crash without
persistence, a flush). Delivery is at-least-once, so tasks must be idempotent (they
are: they take ids and re-check or claim state). A task with an
`outbox_countdown_setting` attribute (the name of a setting in seconds) is published to
run that long after, so that the jobs its callers stop queueing meanwhile are covered by
it (the stock alerts' re-check does).
"""

import contextlib
import importlib
import logging
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta

from celery import current_app as celery_app
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from . import selectors
from .models import JobState, OutboxJob

logger = logging.getLogger(__name__)

# Errors that mean "the broker is not reachable now": keep the job for the relay.
BROKER_DOWN = (BrokerError, ConnectionError, OSError, TimeoutError)

# The message header that carries the job's id to the worker (see outbox.receivers).
JOB_HEADER = "outbox_job"


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


# Set by `jobs_after_response()` (outbox.middleware, for each request): the jobs that
# commit are collected and sent once the response has gone out, not while the client
# waits. Their rows are committed, so a send lost meanwhile is the relay's to redo.
_after_response: ContextVar[list[int] | None] = ContextVar("outbox_after_response", default=None)


@contextlib.contextmanager
def jobs_after_response():
    """Collect the ids of jobs committed inside the block instead of sending them at
    commit; the caller sends them with `jobs_send_collected` when its answer is out."""
    collected: list[int] = []
    token = _after_response.set(collected)
    try:
        yield collected
    finally:
        _after_response.reset(token)


def _committed(job: OutboxJob) -> None:
    collected = _after_response.get()
    if collected is None:
        # The row as created, never sent: no need to read it back before the claim.
        _publish(job)
    else:
        collected.append(job.pk)


def jobs_send_collected(job_ids: list[int]) -> None:
    """Send jobs collected by `jobs_after_response`; one failing leaves the others sent
    (as robust on-commit callbacks do) and itself for the relay."""
    for job_id in job_ids:
        try:
            job_send(job_id=job_id)
        except Exception:
            logger.exception(
                "Outbox job %s not sent after the response; left for the relay", job_id
            )


def job_enqueue(*, task_name: str, kwargs: dict | None = None) -> OutboxJob:
    """Record a job in the caller's transaction; it is sent to Celery after commit (or,
    in a request, after the response)."""
    job = OutboxJob.objects.create(task_name=task_name, kwargs=kwargs or {})
    if not _deferred.get():
        transaction.on_commit(lambda: _committed(job), robust=True)
    return job


def jobs_pending_drop(*, task_name: str) -> int:
    """Delete the jobs of one task not sent yet (superseded by work the caller does
    itself). Returns how many."""
    deleted, _ = selectors.jobs_in_state(JobState.PENDING).filter(task_name=task_name).delete()
    return deleted


def _task(task_name: str):
    module, _ = task_name.rsplit(".", 1)
    importlib.import_module(module)  # registers the task in a web process too
    return celery_app.tasks[task_name]


def publish_countdown(task) -> float | None:
    """The seconds after publishing that `task` runs: the setting its
    `outbox_countdown_setting` names, read at each publish (not when the task's module was
    imported, so that a changed setting applies)."""
    setting = getattr(task, "outbox_countdown_setting", None)
    return getattr(settings, setting) if setting else None


def _publish(job: OutboxJob) -> bool:
    now = timezone.now()
    # Compare-and-set on the last publish time (`= None` is IS NULL): of two relays
    # (beat and manage.py) that picked the same job, one publishes it.
    claimed = OutboxJob.objects.filter(
        pk=job.pk, dispatched_at=job.dispatched_at, done_at__isnull=True
    ).update(dispatched_at=now, attempts=F("attempts") + 1)
    if not claimed:
        return False
    try:
        # Nobody waits on an outbox job's result; with a result the Redis backend would
        # subscribe first and, Redis being down, retry for ~20 s inside the request.
        task = _task(job.task_name)
        options = {"ignore_result": True, "headers": {JOB_HEADER: job.pk}}
        countdown = publish_countdown(task)
        if countdown:
            options["countdown"] = countdown
        task.apply_async(kwargs=job.kwargs, **options)
    except Exception as exc:
        # In-process (eager) Celery propagates the task's own error instead of sending
        # task_failure: the job ran and failed; the error goes on to be logged.
        ran_and_failed = celery_app.conf.task_always_eager and not isinstance(exc, BrokerError)
        if ran_and_failed:
            job_mark_failed(job_id=job.pk, error=f"{type(exc).__name__}: {exc}")
        if ran_and_failed or not isinstance(exc, BROKER_DOWN):
            raise
        OutboxJob.objects.filter(selectors.OPEN, pk=job.pk, dispatched_at=now).update(
            dispatched_at=job.dispatched_at, last_error=str(exc)[:300]
        )
        logger.warning("Broker unavailable; job %s kept for the relay: %s", job.pk, exc)
        return False
    return True


def job_send(*, job_id: int) -> bool:
    """Publish one open job to the broker (or run it in-process without Redis)."""
    job = OutboxJob.objects.filter(selectors.OPEN, pk=job_id).first()
    if job is None:
        return False
    return _publish(job)


def job_mark_done(*, job_id: int) -> bool:
    """Its task has run (called by outbox.receivers). A second run changes nothing."""
    return bool(
        OutboxJob.objects.filter(pk=job_id, done_at__isnull=True).update(
            done_at=timezone.now(), failed_at=None
        )
    )


def job_mark_failed(*, job_id: int, error: str) -> bool:
    """Its task ran and raised after its own retries: left for a person, not the relay.
    A job another delivery already did stays done."""
    return bool(
        OutboxJob.objects.filter(pk=job_id, done_at__isnull=True).update(
            failed_at=timezone.now(), last_error=error[:300]
        )
    )


@dataclass(frozen=True)
class RelayResult:
    sent: int  # published for the first time (they could not be at commit)
    resent: int  # published again: published long ago and never run


def jobs_relay_run(
    *, older_than_seconds: int = 5, redeliver_after_seconds: int | None = None, limit: int = 500
) -> RelayResult:
    """Publish pending jobs, and again the overdue ones (published, never run)."""
    # Leave the youngest to their own on-commit send, which is usually milliseconds away.
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    pending = selectors.jobs_in_state(JobState.PENDING).filter(created_at__lte=cutoff)
    overdue = selectors.jobs_in_state(
        JobState.OVERDUE, redeliver_after_seconds=redeliver_after_seconds
    )
    counts = {}
    for name, jobs in (("sent", pending), ("resent", overdue)):
        counts[name] = sum(_publish(job) for job in jobs.order_by("pk")[:limit])
    if counts["resent"]:
        logger.warning("Outbox: %s job(s) published again (never ran)", counts["resent"])
    return RelayResult(**counts)


def jobs_relay(
    *, older_than_seconds: int = 5, redeliver_after_seconds: int | None = None, limit: int = 500
) -> int:
    """`jobs_relay_run`, counted as one number (the beat task's result)."""
    result = jobs_relay_run(
        older_than_seconds=older_than_seconds,
        redeliver_after_seconds=redeliver_after_seconds,
        limit=limit,
    )
    return result.sent + result.resent


def jobs_resend(*, job_ids) -> int:
    """Publish these jobs again now, failed ones included (a person decided to); done
    jobs are left alone. Returns how many were published."""
    OutboxJob.objects.filter(pk__in=job_ids, done_at__isnull=True).update(failed_at=None)
    jobs = OutboxJob.objects.filter(selectors.OPEN, pk__in=job_ids).order_by("pk")
    return sum(_publish(job) for job in jobs)


def jobs_prune(*, older_than_days: int = 14) -> int:
    """Delete done jobs older than the given age; jobs not done are never pruned."""
    cutoff = timezone.now() - timedelta(days=older_than_days)
    deleted, _ = OutboxJob.objects.filter(done_at__lt=cutoff).delete()
    return deleted
