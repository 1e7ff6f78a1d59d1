"""Turning findings into alert rows (raise what is new, refresh what still holds,
resolve what has cleared), acknowledging them, and who sees them."""

from collections.abc import Iterable
from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from .. import selectors
from ..models import AlertSeverity, StockAlert
from .conditions import Finding, Pair, ScanResult, alerts_findings
from .sql import FINDINGS_AT_PAIRS_SQL, FINDINGS_EVERYWHERE_SQL, findings_parameters

# The full scan holds this PostgreSQL advisory lock exclusively; a per-pair check holds
# it shared plus a lock on its own (location, item) keys, so overlapping copies of the
# jobs queue behind each other instead of deciding from each other's half-done work.
SCAN_LOCK_KEY = 0x53534B41  # "SSKA"


class AlertError(Exception):
    """A refused alert operation."""


class AlertNotAllowed(AlertError):
    """The alert is at a location this person does not manage."""


class AlertAlreadyResolved(AlertError):
    """The condition cleared before the alert was acknowledged."""


# --- Writes ------------------------------------------------------------------------


def _lock(*, pairs: Iterable[Pair] | None) -> None:
    """Serialise overlapping scans and checks (PostgreSQL; SQLite serialises writers anyway)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        if pairs is None:
            # The scan's commit does not wait for the disk (this transaction only, the
            # `SET LOCAL` of set_config's `true`, sent with the lock in one round trip):
            # what it writes is derived from the ledger, and a crash in the moment
            # between losing it leaves the next scan or check to write it again. Any
            # later commit that waits (a digest claiming these alerts) flushes it first.
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s), set_config('synchronous_commit', 'off', true)",
                [SCAN_LOCK_KEY],
            )
            return
        cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [SCAN_LOCK_KEY])
        for location_id, item_id in sorted(pairs):  # fixed order: no deadlock between checks
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [location_id, item_id])


def _reconcile_orm(*, findings: list[Finding], open_alerts: QuerySet, keep, now) -> ScanResult:
    """Make the open alerts in scope match the findings, in a fixed number of queries
    (any database; SQLite's path, and the reference the SQL path is tested against)."""
    found = {f.key: f for f in findings if keep(f.location_id, f.item_id)}
    existing = {}
    for pk, condition, location_id, item_id, lot_id, facts in open_alerts.values_list(
        "pk", "condition", "location_id", "item_id", "lot_id", "facts"
    ):
        if keep(location_id, item_id):
            existing[(condition, location_id, item_id, lot_id)] = (pk, facts)

    new = [
        StockAlert(
            condition=f.condition,
            severity=f.severity,
            location_id=f.location_id,
            item_id=f.item_id,
            lot_id=f.lot_id,
            facts=f.facts,
            raised_at=now,
        )
        for key, f in found.items()
        if key not in existing
    ]
    stale = {pk for key, (pk, _) in existing.items() if key not in found}
    changed = {
        pk: found[key].facts
        for key, (pk, facts) in existing.items()
        if key in found and found[key].facts != facts
    }
    if new:
        # A row another writer raised first is skipped by the one-open-alert index.
        StockAlert.objects.bulk_create(new, ignore_conflicts=True)
    resolved = refreshed = 0
    if stale or changed:
        # Lock in primary-key order, as the digest does, so the two never deadlock.
        locked = {
            alert.pk: alert
            for alert in StockAlert.objects.select_for_update()
            .filter(pk__in=stale | set(changed), resolved_at__isnull=True)
            .order_by("pk")
            .only("pk", "facts")
        }
        if stale:
            resolved = StockAlert.objects.filter(pk__in=stale & set(locked)).update(resolved_at=now)
        to_refresh = [locked[pk] for pk in changed if pk in locked]
        for alert in to_refresh:
            alert.facts = changed[alert.pk]
        refreshed = StockAlert.objects.bulk_update(to_refresh, ["facts"]) if to_refresh else 0
    return ScanResult(holding=len(found), raised=len(new), resolved=resolved, refreshed=refreshed)


ALERT = StockAlert._meta.db_table
# The open alerts in scope: every one for the scan, the pairs asked for a check.
EVERYWHERE = "a.resolved_at IS NULL"
AT_PAIRS = """
    a.resolved_at IS NULL AND (a.location_id, a.item_id) IN (
        SELECT * FROM unnest(%(locations)s::int[], %(items)s::int[]))
"""
# One statement: the findings are computed by the database (sql.py) and compared with
# the open alerts there, by one FULL JOIN on the subject (a hash or merge join whatever
# the row estimates, which are poor for a CTE and for a table the scan just filled).
# Its rows, findings and open alerts side by side with whether the facts still match,
# are materialized once (`diff`) and read twice: once for the count of findings and
# the ids of the alerts to change, once for the new alerts (findings with no open
# alert). Where another writer may be raising the same alerts, the one-open-alert index
# (stock_alert_one_open_per_subject, named by its expression and predicate) turns away
# one it raised meanwhile ({conflict}, see `alerts_scan`). Cleared alerts resolved,
# changed facts refreshed: the rows to write are locked first in primary-key order, as
# the digest locks them, so the two never deadlock; they are found by primary key from
# that list of ids, so a scan with nothing to change (a first scan, most rescans)
# reads no alert for it. The rows the INSERT adds are not seen by the UPDATEs (one
# snapshot), and need nothing from them.
RECONCILE_SQL = """
    WITH diff AS MATERIALIZED (
        SELECT f.condition, f.location_id, f.item_id, f.lot_id, f.facts,
               a.id AS alert_id, f.facts = a.facts AS unchanged
        FROM ({FINDINGS}) f
        FULL JOIN (SELECT id, condition, location_id, item_id, lot_id, facts
                   FROM {ALERT} a WHERE {scope}) a
          ON f.condition = a.condition AND f.location_id = a.location_id
         AND f.item_id = a.item_id AND COALESCE(f.lot_id, 0) = COALESCE(a.lot_id, 0)
    ),
    -- One read of it for the count and the open alerts whose condition cleared (no
    -- finding) or whose facts changed.
    summary AS (
        SELECT count(*) FILTER (WHERE condition IS NOT NULL) AS holding,
               array_agg(alert_id) FILTER (
                   WHERE alert_id IS NOT NULL AND unchanged IS NOT TRUE) AS changing
        FROM diff
    ),
    raised AS (
        INSERT INTO {ALERT} AS a
            (condition, severity, location_id, item_id, lot_id, facts, raised_at)
        SELECT condition, s.severity, location_id, item_id, lot_id, facts, %(now)s
        FROM diff
        JOIN unnest(%(conditions)s::text[], %(severities)s::text[]) AS s(condition, severity)
            USING (condition)
        WHERE alert_id IS NULL
        {conflict}
        RETURNING a.id
    ),
    -- Each of the three first tests whether there is anything to change: when there is
    -- not (a first scan, most rescans), that one-time test skips their reads.
    locked AS (
        SELECT a.id FROM {ALERT} a
        WHERE {changing} IS NOT NULL
          AND a.resolved_at IS NULL AND a.id = ANY ({changing})
        ORDER BY a.id FOR UPDATE
    ),
    resolved AS (
        UPDATE {ALERT} a SET resolved_at = %(now)s
        WHERE {changing} IS NOT NULL AND a.id = ANY (ARRAY(
            SELECT locked.id FROM locked JOIN diff ON diff.alert_id = locked.id
            WHERE diff.condition IS NULL))
        RETURNING a.id
    ),
    refreshed AS (
        UPDATE {ALERT} a SET facts = diff.facts FROM diff
        WHERE {changing} IS NOT NULL AND a.id = ANY (ARRAY(SELECT id FROM locked))
          AND diff.alert_id = a.id AND diff.condition IS NOT NULL
        RETURNING a.id
    )
    SELECT (SELECT holding FROM summary), (SELECT count(*) FROM raised),
           (SELECT count(*) FROM resolved), (SELECT count(*) FROM refreshed)
"""
CHANGING = "(SELECT changing FROM summary)::bigint[]"  # NULL when nothing changes
UNIQUE_VIOLATION = "23505"  # PostgreSQL's SQLSTATE
SKIP_RAISED_MEANWHILE = """ON CONFLICT (condition, location_id, item_id, COALESCE(lot_id, 0))
            WHERE resolved_at IS NULL DO NOTHING"""
RECONCILE_EVERYWHERE_SQL, RECONCILE_EVERYWHERE_RACING_SQL, RECONCILE_AT_PAIRS_SQL = (
    RECONCILE_SQL.format(
        FINDINGS=findings, ALERT=ALERT, scope=scope, conflict=conflict, changing=CHANGING
    )
    for findings, scope, conflict in (
        (FINDINGS_EVERYWHERE_SQL, EVERYWHERE, ""),
        (FINDINGS_EVERYWHERE_SQL, EVERYWHERE, SKIP_RAISED_MEANWHILE),
        (FINDINGS_AT_PAIRS_SQL, AT_PAIRS, SKIP_RAISED_MEANWHILE),
    )
)


def _reconcile_sql(*, pairs: set[Pair] | None, now, racing: bool = False) -> ScanResult:
    """Findings and reconciliation in one statement on PostgreSQL: the same result as
    `alerts_findings` reconciled by `_reconcile_orm` (tests/inventory/test_alerts_sql.py).
    `racing`: the scan's statement that turns away alerts raised meanwhile (`alerts_scan`)."""
    parameters = {
        **findings_parameters(today=timezone.localdate(now), now=timezone.now(), pairs=pairs),
        "now": now,
    }
    if pairs is not None:
        statement = RECONCILE_AT_PAIRS_SQL
    else:
        statement = RECONCILE_EVERYWHERE_RACING_SQL if racing else RECONCILE_EVERYWHERE_SQL
    with connection.cursor() as cursor:
        cursor.execute(statement, parameters)
        holding, raised, resolved, refreshed = cursor.fetchone()
    return ScanResult(holding=holding, raised=raised, resolved=resolved, refreshed=refreshed)


def _reconcile(*, pairs: set[Pair] | None, now, racing: bool = False) -> ScanResult:
    """Make the open alerts in scope (all, or those of `pairs`) match what holds now."""
    if connection.vendor == "postgresql":
        return _reconcile_sql(pairs=pairs, now=now, racing=racing)
    today = timezone.localdate(now)
    if pairs is None:
        return _reconcile_orm(
            findings=alerts_findings(today=today),
            open_alerts=StockAlert.objects.filter(resolved_at__isnull=True),
            keep=lambda location_id, item_id: True,
            now=now,
        )
    location_ids = {location_id for location_id, _ in pairs}
    item_ids = {item_id for _, item_id in pairs}
    return _reconcile_orm(
        findings=alerts_findings(today=today, location_ids=location_ids, item_ids=item_ids),
        open_alerts=StockAlert.objects.filter(
            resolved_at__isnull=True, location_id__in=location_ids, item_id__in=item_ids
        ),
        # The queries cover every location × every item named; act on the pairs asked only.
        keep=lambda location_id, item_id: (location_id, item_id) in pairs,
        now=now,
    )


def alerts_scan(*, now: datetime | None = None) -> ScanResult:
    """Evaluate every condition everywhere; raise, refresh and resolve alerts."""
    now = now or timezone.now()
    # The scan holds the advisory lock exclusively, so no other writer can be raising
    # alerts: its insert skips the speculative insertion that ON CONFLICT costs (a third
    # of a first scan's insert). Should one be all the same (the lock bypassed), the
    # index refuses the duplicate and the scan runs again, in a new transaction, turning
    # such rows away: an alert is still raised once and the scan succeeds. The whole
    # transaction is retried rather than the statement behind a savepoint, so the usual
    # scan costs no savepoint.
    try:
        return _scan(now=now, racing=False)
    except IntegrityError as refused:
        if getattr(refused.__cause__, "sqlstate", None) != UNIQUE_VIOLATION:
            raise
        return _scan(now=now, racing=True)


@transaction.atomic(durable=True)
def _scan(*, now: datetime, racing: bool) -> ScanResult:
    _lock(pairs=None)
    return _reconcile(pairs=None, now=now, racing=racing)


@transaction.atomic(durable=True)
def alerts_check(*, pairs: Iterable[Pair], now: datetime | None = None) -> ScanResult:
    """The same, for just these (location_id, item_id) pairs: run after a stock movement."""
    pairs = {(int(location_id), int(item_id)) for location_id, item_id in pairs}
    now = now or timezone.now()
    if not pairs:
        return ScanResult(holding=0, raised=0, resolved=0, refreshed=0)
    _lock(pairs=pairs)
    return _reconcile(pairs=pairs, now=now)


@transaction.atomic(durable=True)
def alert_acknowledge(*, alert: StockAlert, by) -> StockAlert:
    """A manager of the alert's location says they have seen it (who, when). Idempotent."""
    if not selectors.can_manage_location(by, alert.location):
        raise AlertNotAllowed(
            gettext("You do not manage stock at %(location)s.") % {"location": alert.location.name}
        )
    now = timezone.now()
    # Conditional: a second click, or a scan resolving it meanwhile, changes nothing.
    StockAlert.objects.filter(
        pk=alert.pk, resolved_at__isnull=True, acknowledged_at__isnull=True
    ).update(acknowledged_at=now, acknowledged_by=by)
    alert.refresh_from_db(fields=["acknowledged_at", "acknowledged_by", "resolved_at"])
    if alert.acknowledged_at is None:
        raise AlertAlreadyResolved(
            gettext("This alert cleared on %(when)s; there is nothing left to acknowledge.")
            % {"when": f"{timezone.localtime(alert.resolved_at):%Y-%m-%d %H:%M}"}
        )
    return alert


# --- Who sees what -------------------------------------------------------------------


def alerts_visible_to(user) -> QuerySet[StockAlert]:
    """Alerts at the locations whose stock this person manages (the stock pages' rule)."""
    return StockAlert.objects.filter(location__in=selectors.locations_managed_by(user))


def alerts_needing_attention(user) -> int:
    """Open, unacknowledged alerts for the navigation badge (one COUNT query)."""
    return (
        alerts_visible_to(user)
        .filter(resolved_at__isnull=True, acknowledged_at__isnull=True)
        .count()
    )


def open_alerts_by_severity(user) -> dict[str, int]:
    """Open alerts (acknowledged or not) per severity, at the person's locations."""
    rows = (
        alerts_visible_to(user)
        .filter(resolved_at__isnull=True)
        .order_by()
        .values_list("severity")
        .annotate(n=Count("pk"))
    )
    return dict(rows)


# --- Demo ----------------------------------------------------------------------------


def seed_demo_alerts(*, log) -> None:
    """Run the scan over the demo stock, as the hourly job would."""
    result = alerts_scan()
    open_alerts = StockAlert.objects.filter(resolved_at__isnull=True)
    log(
        f"Stock alerts: {result.raised} raised; open by severity: "
        + ", ".join(
            f"{label.lower()} {open_alerts.filter(severity=value).count()}"
            for value, label in AlertSeverity.choices
        )
    )
