"""Stock alerts: warn before a stock-out or an expiry.

`alerts_findings` evaluates every condition for a scope (everything, or a few
location × item pairs) in a fixed number of set-based queries; `alerts_scan` and
`alerts_check` turn findings into alert rows: raise what is new, refresh what still
holds, resolve what has cleared. The digest announces each new alert once.

Conditions, per location × item (or lot):
- below reorder point: usable on hand < the reorder point;
- projected stock-out: usable on hand lasts fewer than SSP_ALERT_STOCKOUT_DAYS at
  the consumption rate of the last 90 days;
- lot expiring: a lot with stock expires within SSP_ALERT_EXPIRY_DAYS;
- expired lot on hand: a lot past its expiry date still has stock;
- count discrepancy: the latest physical count of the last 30 days differed from the
  books by more than SSP_ALERT_COUNT_DISCREPANCY units (net over the item's lots).
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import connection, transaction
from django.db.models import QuerySet, Sum
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from . import selectors
from .models import (
    AlertCondition,
    AlertDigest,
    AlertSeverity,
    StockAlert,
    StockBalance,
    StockCountLine,
)

# A count discrepancy is news for a month; after that it is history on the stock card.
COUNT_LOOKBACK_DAYS = 30
# The full scan holds this PostgreSQL advisory lock exclusively; a per-pair check holds
# it shared plus a lock on its own (location, item) keys, so overlapping copies of the
# jobs queue behind each other instead of deciding from each other's half-done work.
SCAN_LOCK_KEY = 0x53534B41  # "SSKA"

SEVERITY = {
    AlertCondition.BELOW_REORDER_POINT: AlertSeverity.UNDERSTOCK,
    AlertCondition.STOCKOUT_SOON: AlertSeverity.EMERGENCY,
    AlertCondition.EXPIRING: AlertSeverity.EXPIRY,
    AlertCondition.EXPIRED: AlertSeverity.EXPIRY,
    AlertCondition.COUNT_DISCREPANCY: AlertSeverity.DISCREPANCY,
}

Pair = tuple[int, int]


class AlertError(Exception):
    api_status = 400
    api_code = "alert_error"


class AlertNotAllowed(AlertError):
    api_status = 403
    api_code = "permission_denied"


class AlertAlreadyResolved(AlertError):
    api_status = 409
    api_code = "alert_resolved"


@dataclass(frozen=True)
class Finding:
    """A condition that holds now."""

    condition: str
    location_id: int
    item_id: int
    lot_id: int | None
    facts: dict

    @property
    def key(self) -> tuple:
        return (self.condition, self.location_id, self.item_id, self.lot_id)

    @property
    def severity(self) -> str:
        return SEVERITY[self.condition]


@dataclass(frozen=True)
class ScanResult:
    holding: int  # conditions that hold now
    raised: int
    resolved: int
    refreshed: int


# --- Reads -------------------------------------------------------------------------


def _scoped(queryset: QuerySet, location_ids, item_ids) -> QuerySet:
    if location_ids is not None:
        queryset = queryset.filter(location_id__in=location_ids)
    if item_ids is not None:
        queryset = queryset.filter(item_id__in=item_ids)
    return queryset


def alerts_findings(
    *, today: date | None = None, location_ids=None, item_ids=None
) -> list[Finding]:
    """Every condition that holds now, for all stock or only the given locations/items.

    Six queries whatever the number of items, lots and locations.
    """
    today = today or timezone.localdate()
    now = timezone.now()
    expiry_horizon = today + timedelta(days=settings.SSP_ALERT_EXPIRY_DAYS)
    findings: list[Finding] = []
    balances = _scoped(StockBalance.objects.filter(quantity__gt=0), location_ids, item_ids)

    # 1. Lots with stock that are expired or expire inside the window. A lot is usable
    # through its expiry date, as the dispense allocation has it.
    for row in balances.filter(lot__expires_on__lte=expiry_horizon).values(
        "location_id", "item_id", "lot_id", "quantity", "lot__expires_on", "lot__lot_number"
    ):
        expires_on = row["lot__expires_on"]
        expired = expires_on < today
        findings.append(
            Finding(
                condition=AlertCondition.EXPIRED if expired else AlertCondition.EXPIRING,
                location_id=row["location_id"],
                item_id=row["item_id"],
                lot_id=row["lot_id"],
                facts={
                    "on_hand": row["quantity"],
                    "lot_number": row["lot__lot_number"],
                    "expires_on": expires_on.isoformat(),
                    "days_to_expiry": (expires_on - today).days,
                },
            )
        )

    # 2. Stock levels per pair (the stock pages' own figures: usable on hand, 90-day
    # consumption, reorder point), in a constant number of queries.
    for level in selectors.stock_levels(location_ids=location_ids, item_ids=item_ids, today=today):
        if not (level.item.is_active and level.location.is_active):
            continue  # a retired item or location warns of nothing but its lots
        per_day = level.consumed_90d / selectors.CONSUMPTION_WINDOW_DAYS
        # Expired lots do not count: they cannot be handed out.
        on_hand = level.usable
        facts = {
            "on_hand": on_hand,
            "reorder_point": level.reorder_point,
            "daily_use": round(per_day, 2),
        }
        if per_day > 0:
            facts["days_left"] = round(on_hand / per_day, 1)
        pair = (level.location.pk, level.item.pk)
        if level.reorder_point and on_hand < level.reorder_point:
            findings.append(Finding(AlertCondition.BELOW_REORDER_POINT, *pair, None, facts))
        # on hand / daily use < N days, in whole numbers so no rounding decides it.
        if level.consumed_90d > 0 and (
            on_hand * selectors.CONSUMPTION_WINDOW_DAYS
            < settings.SSP_ALERT_STOCKOUT_DAYS * level.consumed_90d
        ):
            findings.append(Finding(AlertCondition.STOCKOUT_SOON, *pair, None, facts))

    # 3. Physical counts.
    findings.extend(
        _count_discrepancies(
            since=now - timedelta(days=COUNT_LOOKBACK_DAYS),
            location_ids=location_ids,
            item_ids=item_ids,
        )
    )
    return findings


def _count_discrepancies(*, since: datetime, location_ids, item_ids) -> list[Finding]:
    """Pairs whose latest physical count (of the lookback window) differed from the books
    by more than the threshold, net over the item's lots. A later count that matches
    clears it: count sheets keep every line, matching or not."""
    lines = StockCountLine.objects.filter(count__occurred_at__gte=since)
    if location_ids is not None:
        lines = lines.filter(count__location_id__in=location_ids)
    if item_ids is not None:
        lines = lines.filter(item_id__in=item_ids)
    latest: dict[Pair, dict] = {}
    for row in (
        lines.values("count__location_id", "item_id", "count_id", "count__occurred_at")
        .annotate(expected=Sum("expected"), counted=Sum("counted"))
        .order_by("count__occurred_at", "count_id")
    ):
        latest[(row["count__location_id"], row["item_id"])] = row  # later counts win
    return [
        Finding(
            AlertCondition.COUNT_DISCREPANCY,
            *pair,
            None,
            {
                "difference": row["counted"] - row["expected"],
                "expected": row["expected"],
                "counted": row["counted"],
                "counted_on": timezone.localdate(row["count__occurred_at"]).isoformat(),
                "threshold": settings.SSP_ALERT_COUNT_DISCREPANCY,
            },
        )
        for pair, row in sorted(latest.items())
        if abs(row["counted"] - row["expected"]) > settings.SSP_ALERT_COUNT_DISCREPANCY
    ]


# --- Writes ------------------------------------------------------------------------


def _lock(*, pairs: Iterable[Pair] | None) -> None:
    """Serialise overlapping scans and checks (PostgreSQL; SQLite serialises writers anyway)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        if pairs is None:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SCAN_LOCK_KEY])
            return
        cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [SCAN_LOCK_KEY])
        for location_id, item_id in sorted(pairs):  # fixed order: no deadlock between checks
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [location_id, item_id])


def _reconcile(*, findings: list[Finding], open_alerts: QuerySet, keep, now) -> ScanResult:
    """Make the open alerts in scope match the findings, in a fixed number of queries."""
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


@transaction.atomic
def alerts_scan(*, now: datetime | None = None) -> ScanResult:
    """Evaluate every condition everywhere; raise, refresh and resolve alerts."""
    now = now or timezone.now()
    _lock(pairs=None)
    findings = alerts_findings(today=timezone.localdate(now))
    return _reconcile(
        findings=findings,
        open_alerts=StockAlert.objects.filter(resolved_at__isnull=True),
        keep=lambda location_id, item_id: True,
        now=now,
    )


@transaction.atomic
def alerts_check(*, pairs: Iterable[Pair], now: datetime | None = None) -> ScanResult:
    """The same, for just these (location_id, item_id) pairs: run after a stock movement."""
    pairs = {(int(location_id), int(item_id)) for location_id, item_id in pairs}
    now = now or timezone.now()
    if not pairs:
        return ScanResult(holding=0, raised=0, resolved=0, refreshed=0)
    _lock(pairs=pairs)
    location_ids = {location_id for location_id, _ in pairs}
    item_ids = {item_id for _, item_id in pairs}
    findings = alerts_findings(
        today=timezone.localdate(now), location_ids=location_ids, item_ids=item_ids
    )
    return _reconcile(
        findings=findings,
        open_alerts=StockAlert.objects.filter(
            resolved_at__isnull=True, location_id__in=location_ids, item_id__in=item_ids
        ),
        # The queries cover every location × every item named; act on the pairs asked only.
        keep=lambda location_id, item_id: (location_id, item_id) in pairs,
        now=now,
    )


@transaction.atomic
def alert_acknowledge(*, alert: StockAlert, by) -> StockAlert:
    """A manager of the alert's location says they have seen it (who, when). Idempotent."""
    if not selectors.can_manage_location(by, alert.location):
        raise AlertNotAllowed(f"You do not manage stock at {alert.location.name}.")
    now = timezone.now()
    # Conditional: a second click, or a scan resolving it meanwhile, changes nothing.
    StockAlert.objects.filter(
        pk=alert.pk, resolved_at__isnull=True, acknowledged_at__isnull=True
    ).update(acknowledged_at=now, acknowledged_by=by)
    alert.refresh_from_db(fields=["acknowledged_at", "acknowledged_by", "resolved_at"])
    if alert.acknowledged_at is None:
        raise AlertAlreadyResolved(
            f"This alert cleared on {timezone.localtime(alert.resolved_at):%Y-%m-%d %H:%M}; "
            "there is nothing left to acknowledge."
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


# --- Digest ------------------------------------------------------------------------

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _recipients(site_ids: set[int | None]) -> dict[int | None, list]:
    """Managers to tell about each site's alerts: the site's own stock managers, or the
    program-wide ones where a site has none (and for the central store)."""
    from django.contrib.auth import get_user_model

    User = get_user_model()
    managers = list(
        User.objects.with_perm("inventory.manage_stock", backend=MODEL_BACKEND)
        .exclude(email="")
        .prefetch_related("sites")
        .order_by("pk")
    )
    program_wide = set(
        User.objects.with_perm("org.program_wide", backend=MODEL_BACKEND).values_list(
            "pk", flat=True
        )
    )
    fallback = [u for u in managers if u.pk in program_wide] or managers
    recipients = {}
    for site_id in site_ids:
        own = [u for u in managers if any(s.pk == site_id for s in u.sites.all())]
        recipients[site_id] = own or fallback
    return recipients


def alerts_send_digest() -> AlertDigest | None:
    """Email each manager the alerts raised at their sites since the last digest.

    One email per manager per run, never one per alert; each alert is announced once:
    the run claims the alerts with a conditional UPDATE and sends only what it claimed.
    The claim commits with the sending, so a failed send leaves them for the next run.
    """
    with transaction.atomic():
        # Locked in primary-key order like the scan's updates, so the two never deadlock;
        # a concurrent run waits here, then finds every row claimed.
        candidates = list(
            StockAlert.objects.select_for_update()
            .filter(digest__isnull=True, resolved_at__isnull=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if not candidates:
            return None
        digest = AlertDigest.objects.create()
        claimed = StockAlert.objects.filter(pk__in=candidates, digest__isnull=True).update(
            digest=digest
        )
        if claimed == 0:
            transaction.set_rollback(True)
            return None
        alerts = list(
            StockAlert.objects.filter(digest=digest)
            .select_related("location__site", "item", "lot")
            .order_by("location__name", "severity", "item__name")
        )
        by_site = defaultdict(list)
        for alert in alerts:
            by_site[alert.location.site_id].append(alert)
        per_user: dict[int, tuple] = {}
        for site_id, recipients in _recipients(set(by_site)).items():
            for user in recipients:
                per_user.setdefault(user.pk, (user, []))[1].extend(by_site[site_id])
        messages = [_digest_email(user, user_alerts) for user, user_alerts in per_user.values()]
        if messages:
            get_connection().send_messages(messages)
        digest.alert_count = claimed
        digest.email_count = len(messages)
        digest.sent_at = timezone.now()
        digest.save(update_fields=["alert_count", "email_count", "sent_at"])
        return digest


def _digest_email(user, alerts: list[StockAlert]) -> EmailMessage:
    alerts = sorted(alerts, key=lambda a: (a.location.name, a.severity, a.item.name))
    emergencies = sum(a.severity == AlertSeverity.EMERGENCY for a in alerts)
    subject = f"Stock alerts: {len(alerts)} new" + (
        f", {emergencies} emergency" if emergencies else ""
    )
    body = render_to_string(
        "inventory/alert_digest_email.txt",
        {
            "user": user,
            "alerts": alerts,
            "url": settings.SITE_BASE_URL.rstrip("/") + reverse("inventory:alerts"),
        },
    )
    return EmailMessage(subject=subject, body=body, to=[user.email])


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
