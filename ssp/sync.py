"""Batch sync: the records a device queued while it had no connection, applied in one
request, each on its own.

A record is a visit (a street shift is a visit with contacts > 1) keyed on the client
UUID the device made when the visit happened. Each goes through `visit_record` in its
own durable transaction, so one refusal never undoes or blocks another, and a replay
of the same batch finds every visit already there ("duplicate") and moves no stock.
The backdating limit counts from the record's `occurred_at`, as for any visit: a visit
synced a day late is accepted if it is within SSP_VISIT_BACKDATE_DAYS of when it happened.

On PostgreSQL the records' commits are not each waited for on the disk: they are made
durable together, once, before the answer (`_commits_flushed_once`).
"""

from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from inventory.services import InsufficientStock, StockError, alert_checks_coalesced
from org.models import User

from .codes import CodeError
from .models import Participant, Visit
from .selectors import participants_by_code
from .services import VisitError, visit_record, visit_replay

# A day of outreach on one phone is far below this; a bigger queue syncs in several requests.
SYNC_MAX_RECORDS = 500


class SyncStatus:
    CREATED = "created"
    DUPLICATE = "duplicate"
    REFUSED = "refused"


class SyncTooLarge(VisitError):
    """More records than one request may carry."""


@dataclass(frozen=True)
class SyncRecord:
    """One queued record as the API read it: the keyword arguments of `visit_record`
    (without `by`), or the errors that kept it from being read."""

    client_uuid: str | None
    fields: dict | None = None
    errors: dict | None = None


@dataclass(frozen=True)
class SyncResult:
    client_uuid: str | None
    status: str
    visit: Visit | None = None
    errors: dict | None = None
    notice: str | None = None


def refusal_errors(exc: Exception) -> dict:
    """The field errors of a refused record, in the shape of the API's error body."""
    errors = getattr(exc, "field_errors", None) or {}
    if isinstance(exc, InsufficientStock) and not errors:
        return {"supplies": [str(exc)]}
    return errors or {"non_field_errors": [str(exc)]}


TOO_MANY_RECORDS = gettext_noop(
    "Send at most %(limit)s records a request (%(count)s sent); send the rest in another."
)


def sync_size_check(count: int) -> None:
    """Refuse a batch above SYNC_MAX_RECORDS before anything in it is read."""
    if count > SYNC_MAX_RECORDS:
        message = _(TOO_MANY_RECORDS) % {"limit": SYNC_MAX_RECORDS, "count": count}
        raise SyncTooLarge(message, "records")


def visits_sync(*, by: User, records: Sequence[SyncRecord]) -> list[SyncResult]:
    """Apply queued visits one by one, in the order given; a result per record."""
    sync_size_check(len(records))
    # A device that lost the answer sends its queue again: the visits already recorded
    # are read at once, with their lines, and answered without another try to insert.
    uuids = [record.fields["client_uuid"] for record in records if not record.errors]
    recorded = Visit.objects.filter(uuid__in=uuids).prefetch_related("supplies", "services")
    known = {str(visit.uuid): visit for visit in recorded}
    # And the batch's codes in one query, not one a record (visit_record checks each
    # again when it locks it, so a code merged since is not written to).
    codes = [record.fields.get("code", "") for record in records if not record.errors]
    participants = participants_by_code(codes)
    with _commits_flushed_once(), alert_checks_coalesced():
        return [
            _applied(record, by=by, known=known, participants=participants) for record in records
        ]


@contextmanager
def _commits_flushed_once():
    """Group commit for a batch (PostgreSQL): each record's transaction commits without
    waiting for its WAL to reach the disk (synchronous_commit off for the block), and
    one commit that does wait, at the end, makes them all durable before the answer is
    sent: the WAL is flushed in order, so a flush up to the last commit covers every
    commit before it. Each record stays its own atomic, isolated transaction, visible
    to others at once; a crash before the end can lose only records of a batch that
    got no answer, which the device sends again (a replay is idempotent). Waiting on
    the disk once a record was up to a third of its time on a busy disk (bench/README.md).

    Inside a transaction (a test's) and on SQLite, nothing changes."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with connection.cursor() as cursor:
        # The connection's setting before (the server's, the database's, the options'),
        # read and replaced in one round trip; it is put back as it was.
        cursor.execute(
            "SELECT current_setting('synchronous_commit'),"
            " set_config('synchronous_commit', 'off', false)"
        )
        before = cursor.fetchone()[0]
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('synchronous_commit', %s, false)", [before])
        _wal_flushed()


def _wal_flushed() -> None:
    """Wait until every commit so far is on the disk. A commit waits for the WAL up to
    its own commit record only if the transaction wrote WAL (the smallest such write is
    a logical-decoding message: read by no one; any role may emit one) and only if
    synchronous_commit is on for it: set so for this one transaction, so the batch is
    on the disk before its answer even where the server's default does not wait."""
    with transaction.atomic(durable=True), connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO on")
        cursor.execute("SELECT pg_logical_emit_message(true, 'ssp.sync', '')")


def _applied(
    record: SyncRecord,
    *,
    by: User,
    known: dict[str, Visit],
    participants: dict[str, Participant],
) -> SyncResult:
    if record.errors:
        return SyncResult(record.client_uuid, SyncStatus.REFUSED, errors=record.errors)
    try:
        first = known.get(str(record.fields["client_uuid"]))
        if first is not None:
            visit, created = visit_replay(first, by=by, **record.fields), False
        else:
            visit, created = visit_record(by=by, participants=participants, **record.fields)
    except (VisitError, StockError, CodeError) as exc:
        return SyncResult(record.client_uuid, SyncStatus.REFUSED, errors=refusal_errors(exc))
    status = SyncStatus.CREATED if created else SyncStatus.DUPLICATE
    return SyncResult(record.client_uuid, status, visit=visit, notice=visit.stock_notice)
