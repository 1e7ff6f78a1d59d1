from celery import shared_task

from .services import jobs_prune, jobs_relay


@shared_task(name="outbox.tasks.relay_outbox", ignore_result=True)
def relay_outbox() -> int:
    """Beat, every minute: send jobs that could not be sent when they were recorded."""
    return jobs_relay()


@shared_task(name="outbox.tasks.prune_outbox", ignore_result=True)
def prune_outbox() -> int:
    return jobs_prune()
