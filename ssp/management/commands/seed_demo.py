import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.module_loading import import_string

from outbox.models import OutboxJob
from ssp.models import Site

# In dependency order: each capability adds its step here.
STEPS = [
    "ssp.demo.seed_sites_and_staff",
    "inventory.demo.seed_inventory",
    "ssp.demo.seed_visits",
    "referrals.demo.seed_referrals",
    "ssp.reports.demo.seed_reports",
    # Last: the hourly scan over everything the steps above recorded.
    "inventory.alerts.seed_demo_alerts",
]


class Command(BaseCommand):
    help = "Create demo sites, one demo user per role, and each capability's demo data."

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing if the database already has sites."
        )
        parser.add_argument(
            "--days",
            type=int,
            default=365,
            help="How many days of demo visits to record (default: a year).",
        )

    def handle(self, *args, if_empty=False, days=365, **options):
        if days < 1:
            raise CommandError("--days must be at least 1.")
        if if_empty and Site.objects.exists():
            self.stdout.write("Demo data already present; skipping (log in as before).")
            return
        for path in STEPS:
            self.stdout.write(f"- {path}")
            started = time.monotonic()
            with transaction.atomic():
                newest_job = OutboxJob.objects.order_by("-pk").values_list("pk", flat=True).first()
                step_options = {"days": days} if path == "ssp.demo.seed_visits" else {}
                import_string(path)(log=self.stdout.write, **step_options)
                # The last step scans all stock once; the per-write re-checks queued by
                # thousands of demo movements would repeat it (minutes without a worker).
                OutboxJob.objects.filter(
                    pk__gt=newest_job or 0,
                    task_name="inventory.tasks.alerts_check",
                    dispatched_at__isnull=True,
                ).delete()
            self.stdout.write(f"  ({time.monotonic() - started:.1f} s)")
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
