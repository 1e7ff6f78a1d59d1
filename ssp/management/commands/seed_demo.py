from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.module_loading import import_string

from ssp.models import Site

# In dependency order: each capability adds its step here.
STEPS = [
    "ssp.demo.seed_sites_and_staff",
    "inventory.demo.seed_inventory",
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

    def handle(self, *args, if_empty=False, **options):
        if if_empty and Site.objects.exists():
            self.stdout.write("Demo data already present; skipping (log in as before).")
            return
        for path in STEPS:
            self.stdout.write(f"- {path}")
            with transaction.atomic():
                import_string(path)(log=self.stdout.write)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
