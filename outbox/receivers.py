"""A job is done when its task has run: Celery's signals, in the worker or in-process
(eager), mark the outbox row named by the message's header. Tasks know nothing of it."""

import logging

from celery.signals import task_failure, task_success

from .services import JOB_HEADER, job_mark_done, job_mark_failed

logger = logging.getLogger(__name__)


def _job_id(task, task_id: str | None = None) -> int | None:
    request = task.request
    # A failure the worker's main process reports (a hard time limit) comes with no
    # request of its own: leave that job to the relay rather than guess.
    if task_id is not None and request.id != task_id:
        return None
    value = getattr(request, JOB_HEADER, None) or (request.headers or {}).get(JOB_HEADER)
    return int(value) if value else None


@task_success.connect
def _task_ran(sender=None, **kwargs):
    job_id = _job_id(sender)
    if job_id is not None:
        job_mark_done(job_id=job_id)


@task_failure.connect
def _task_failed(sender=None, task_id=None, exception=None, **kwargs):
    job_id = _job_id(sender, task_id)
    if job_id is not None:
        job_mark_failed(job_id=job_id, error=f"{type(exception).__name__}: {exception}")
