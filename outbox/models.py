from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class JobState(models.TextChoices):
    PENDING = "pending", "Pending (not published yet)"
    SENT = "sent", "Sent (published, not run yet)"
    OVERDUE = "overdue", "Overdue (published, not run in time: the relay re-sends it)"
    DONE = "done", "Done (its task ran)"
    FAILED = "failed", "Failed (its task ran and raised)"


class OutboxJob(models.Model):
    """A background job recorded in the same transaction as the change that needs it.

    It is published to the broker after commit; it is done only when its task has run
    (a worker's signal receiver sets `done_at`, see outbox.receivers). The relay
    publishes what could not be published (Redis down) and publishes again what was
    published but never ran (Redis lost it), so no job a visit or a stock movement
    triggered is lost. Tasks are idempotent, so a second delivery is harmless.
    """

    task_name = models.CharField(max_length=200)
    kwargs = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # When it was last published to the broker (not proof that it ran).
    dispatched_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    # Its task ran and raised after its own retries: not re-sent by the relay.
    failed_at = models.DateTimeField(null=True, blank=True)
    # Publish tries, failed ones (broker down) included.
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["pk"]
        indexes = [
            # The relay reads only jobs still open (not done, not failed).
            models.Index(
                fields=["created_at"],
                condition=Q(done_at__isnull=True, failed_at__isnull=True),
                name="outbox_open_idx",
            ),
        ]

    def __str__(self):
        return f"{self.task_name} ({self.state})"

    @property
    def state(self) -> str:
        if self.done_at:
            return JobState.DONE
        if self.failed_at:
            return JobState.FAILED
        if self.dispatched_at is None:
            return JobState.PENDING
        overdue = timezone.now() - timedelta(seconds=settings.OUTBOX_REDELIVER_SECONDS)
        return JobState.OVERDUE if self.dispatched_at <= overdue else JobState.SENT
