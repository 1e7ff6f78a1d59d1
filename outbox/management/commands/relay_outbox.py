from django.conf import settings
from django.core.management.base import BaseCommand

from outbox import selectors, services
from outbox.models import JobState


class Command(BaseCommand):
    help = (
        "Publish background jobs still pending in the outbox (e.g. recorded while Redis was "
        "down) and again those published but never run (e.g. lost by a Redis restart)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--redeliver-after",
            type=int,
            metavar="SECONDS",
            help="Publish again jobs published this long ago and not done "
            f"(default OUTBOX_REDELIVER_SECONDS, {settings.OUTBOX_REDELIVER_SECONDS}).",
        )
        parser.add_argument(
            "--failed",
            action="store_true",
            help="Also publish again the jobs whose task ran and raised.",
        )

    def handle(self, *args, redeliver_after=None, failed=False, **options):
        result = services.jobs_relay_run(
            older_than_seconds=0, redeliver_after_seconds=redeliver_after
        )
        self.stdout.write(f"Sent {result.sent} pending job(s).")
        self.stdout.write(f"Sent again {result.resent} job(s) published but never run.")
        if failed:
            job_ids = list(selectors.jobs_in_state(JobState.FAILED).values_list("pk", flat=True))
            self.stdout.write(f"Sent again {services.jobs_resend(job_ids=job_ids)} failed job(s).")
        counts = selectors.jobs_state_counts()
        self.stdout.write(
            "Outbox now: " + ", ".join(f"{counts[state]} {state}" for state in JobState.values)
        )
