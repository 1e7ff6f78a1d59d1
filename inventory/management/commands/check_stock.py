"""Recompute every cached balance from the ledger and report drift (0 expected)."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from inventory.selectors import balance_drift
from inventory.services import balances_rebuild


class Command(BaseCommand):
    help = (
        "Recompute every stock balance (location × lot) from the append-only ledger and "
        "report any difference. Exits non-zero when a balance drifted."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--repair",
            action="store_true",
            help="Rewrite drifted balances from the ledger (the ledger is the record).",
        )

    def handle(self, *args, repair=False, **options):
        drift = balance_drift()
        if not drift:
            self.stdout.write(self.style.SUCCESS("Stock balances agree with the ledger: 0 drift."))
            return
        for row in drift:
            self.stdout.write(
                f"DRIFT {row.location_name} · {row.lot_label}: balance {row.balance}, "
                f"ledger {row.ledger} ({row.ledger - row.balance:+d})"
            )
        if repair:
            with transaction.atomic():
                fixed = balances_rebuild(keys=[(row.location_id, row.lot_id) for row in drift])
            self.stdout.write(self.style.WARNING(f"Repaired {fixed} balance(s) from the ledger."))
        raise CommandError(f"{len(drift)} balance(s) differ from the ledger.")
