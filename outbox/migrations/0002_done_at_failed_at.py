from django.db import migrations, models
from django.db.models import F


def sent_jobs_were_done(apps, schema_editor):
    # Before this migration "sent" was the final state; without this the relay would
    # publish every job of the last two weeks again.
    OutboxJob = apps.get_model("outbox", "OutboxJob")
    OutboxJob.objects.filter(dispatched_at__isnull=False).update(done_at=F("dispatched_at"))


class Migration(migrations.Migration):
    dependencies = [("outbox", "0001_initial")]

    operations = [
        migrations.RemoveIndex(model_name="outboxjob", name="outbox_pending_idx"),
        migrations.AddField(
            model_name="outboxjob",
            name="done_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="outboxjob",
            name="failed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name="outboxjob",
            index=models.Index(
                condition=models.Q(("done_at__isnull", True), ("failed_at__isnull", True)),
                fields=["created_at"],
                name="outbox_open_idx",
            ),
        ),
        migrations.RunPython(sent_jobs_were_done, migrations.RunPython.noop),
    ]
