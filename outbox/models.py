from django.db import models
from django.db.models import Q


class OutboxJob(models.Model):
    """A background job recorded in the same transaction as the change that needs it.

    It is sent to the broker after commit; if Redis is down then, the relay task
    sends it when Redis is back, so no job a visit or a stock movement triggered is lost.
    """

    task_name = models.CharField(max_length=200)
    kwargs = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["pk"]
        indexes = [
            # The relay reads only what is still pending.
            models.Index(
                fields=["created_at"],
                condition=Q(dispatched_at__isnull=True),
                name="outbox_pending_idx",
            ),
        ]

    def __str__(self):
        state = "sent" if self.dispatched_at else "pending"
        return f"{self.task_name} ({state})"
