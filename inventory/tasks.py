"""Celery tasks of the stock ledger: thin, idempotent, safe to run twice or side by side.

Each takes ids, calls inventory/alerts/ and returns a small summary. A lost database
connection or a serialisation hiccup is retried with exponential backoff, a bounded
number of times; anything else is a bug and fails loudly.
"""

from dataclasses import asdict
from smtplib import SMTPException

from celery import shared_task
from django.db import InterfaceError, OperationalError

from . import alerts
from .services import alert_rechecks_claim

TRANSIENT_DB_ERRORS = (OperationalError, InterfaceError)
RETRY = {
    "retry_backoff": 2,  # 2 s, 4 s, 8 s… with jitter
    "retry_backoff_max": 120,
    "retry_jitter": True,
    "max_retries": 5,
}


# Run a moment after the write that queued it: the writes on the same pairs meanwhile
# queue no job of their own (their pairs are marked already), so one check covers them.
@shared_task(
    name="inventory.tasks.alerts_check",
    autoretry_for=TRANSIENT_DB_ERRORS,
    outbox_countdown_setting="SSP_ALERT_RECHECK_DELAY_SECONDS",
    **RETRY,
)
def alerts_check(*, pairs: list[list[int]]) -> dict:
    """After stock moved: re-evaluate just these (location_id, item_id) pairs. Their
    re-check marks go first, so writes from then on queue a check of their own; a
    second delivery finds no mark and checks again, which changes nothing."""
    pairs = [tuple(pair) for pair in pairs]
    alert_rechecks_claim(pairs=pairs)
    return asdict(alerts.alerts_check(pairs=pairs))


@shared_task(name="inventory.tasks.alerts_scan", autoretry_for=TRANSIENT_DB_ERRORS, **RETRY)
def alerts_scan(*, digest: bool = True) -> dict:
    """Beat, hourly: every condition everywhere, then the email digest of what is new."""
    alert_rechecks_claim()  # every pair is checked now: the marks go first, as above
    result = asdict(alerts.alerts_scan())
    if digest:
        alerts_digest.delay()
    return result


@shared_task(
    name="inventory.tasks.alerts_digest",
    autoretry_for=(*TRANSIENT_DB_ERRORS, SMTPException, ConnectionError),
    **RETRY,
)
def alerts_digest() -> dict:
    """Email managers the alerts raised since the last digest (each alert once)."""
    digest = alerts.alerts_send_digest()
    if digest is None:
        return {"alerts": 0, "emails": 0}
    return {"digest": digest.pk, "alerts": digest.alert_count, "emails": digest.email_count}
