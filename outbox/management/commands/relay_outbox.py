from django.core.management.base import BaseCommand

from outbox.services import jobs_relay


class Command(BaseCommand):
    help = "Send background jobs still pending in the outbox (e.g. recorded while Redis was down)."

    def handle(self, *args, **options):
        sent = jobs_relay(older_than_seconds=0)
        self.stdout.write(f"Sent {sent} pending job(s).")
