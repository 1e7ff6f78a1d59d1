"""Demo data for a first run: every installed app's `demo.py`, in app order.

Each app's demo module may define `seed(*, log, days)` (its demo records),
`finish(*, log)` (run after every app has seeded, e.g. the stock-alert scan over all
the stock the visits moved) and `seeding()`, a context manager held around all of it
(the outbox defers the jobs the writes queue); org, the ground floor, names no app.
The seed is all-or-nothing in effect: a DemoSeed row is written last, and a run that
finds the demo accounts without it starts over.
"""

import time
from contextlib import ExitStack

from django.apps import apps
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from org.demo import DEMO_STAFF
from org.models import DemoSeed, Site, User
from org.plugins import app_modules


def demo_modules():
    """(app label, its demo module) for each app that has one, in INSTALLED_APPS order."""
    for module in app_modules("demo"):
        yield apps.get_containing_app_config(module.__name__).label, module


class Command(BaseCommand):
    help = "Create demo sites, one demo user per role, and each capability's demo data."

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing if the demo data are already complete.",
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
        if if_empty and DemoSeed.objects.exists():
            self.stdout.write("Demo data already present; skipping (log in as before).")
            return
        self._start_clean()
        with ExitStack() as around:
            for _label, module in demo_modules():
                if hasattr(module, "seeding"):
                    around.enter_context(module.seeding())
            for label, module in demo_modules():
                if hasattr(module, "seed"):
                    self._step(f"{label}: seed", lambda m=module: m.seed(log=self._log, days=days))
            for label, module in demo_modules():
                if hasattr(module, "finish"):
                    self._step(f"{label}: finish", lambda m=module: m.finish(log=self._log))
        DemoSeed.objects.create(completed_at=timezone.now(), days=days)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))

    def _log(self, message: str) -> None:
        self.stdout.write(message)

    def _step(self, name: str, run) -> None:
        self.stdout.write(f"- {name}")
        started = time.monotonic()
        run()
        self.stdout.write(f"  ({time.monotonic() - started:.1f} s)")

    def _start_clean(self) -> None:
        """An empty database, or one a failed demo seed left behind (emptied first)."""
        if not Site.objects.exists() and not User.objects.exists():
            return
        demo_usernames = {username for username, _role, _sites in DEMO_STAFF}
        if not User.objects.filter(username__in=demo_usernames).exists():
            raise CommandError(
                "This database already has sites or accounts that are not the demo's; "
                "seed_demo leaves it alone. Use an empty database (see `make reset`)."
            )
        self.stdout.write(
            self.style.WARNING(
                "A previous demo seed did not finish (no completion mark): starting over."
            )
        )
        call_command("flush", interactive=False, verbosity=0)
        # flush empties the rows data migrations seeded (referral types); put them back.
        call_command("migrate", verbosity=0, run_syncdb=False)
