"""The alert conditions: what holds now, evaluated set-based for a scope.

Conditions, per location × item (or lot):
- below reorder point: usable on hand < the reorder point;
- projected stock-out: usable on hand lasts fewer than SSP_ALERT_STOCKOUT_DAYS at
  the consumption rate of the last 90 days;
- lot expiring: a lot with stock expires within SSP_ALERT_EXPIRY_DAYS;
- expired lot on hand: a lot past its expiry date still has stock;
- count discrepancy: the latest physical count of the last 30 days differed from the
  books by more than SSP_ALERT_COUNT_DISCREPANCY units (net over the item's lots), or
  a dispense since the latest count found fewer units on the books than it handed out
  (SHORTFALL movements, net of withdrawals): the books are wrong, count the item.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import F, Max, Min, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone

from .. import selectors
from ..models import (
    AdjustmentReason,
    AlertCondition,
    AlertSeverity,
    MovementKind,
    StockBalance,
    StockCountLine,
    StockMovement,
)

Pair = tuple[int, int]

# A count discrepancy is news for a month; after that it is history on the stock card.
COUNT_LOOKBACK_DAYS = 30

SEVERITY = {
    AlertCondition.BELOW_REORDER_POINT: AlertSeverity.UNDERSTOCK,
    AlertCondition.STOCKOUT_SOON: AlertSeverity.EMERGENCY,
    AlertCondition.EXPIRING: AlertSeverity.EXPIRY,
    AlertCondition.EXPIRED: AlertSeverity.EXPIRY,
    AlertCondition.COUNT_DISCREPANCY: AlertSeverity.DISCREPANCY,
}


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

    Seven queries whatever the number of items, lots and locations.
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
            # on hand / daily use, rounded half up in whole numbers: the SQL path (sql.py)
            # computes the same figure, where a float's rounding would differ at ties.
            window = selectors.CONSUMPTION_WINDOW_DAYS
            facts["days_left"] = (
                (on_hand * window * 20 + level.consumed_90d) // (2 * level.consumed_90d) / 10
            )
        pair = (level.location.pk, level.item.pk)
        if level.below_reorder_point:
            findings.append(Finding(AlertCondition.BELOW_REORDER_POINT, *pair, None, facts))
        # on hand / daily use < N days, in whole numbers so no rounding decides it.
        if level.consumed_90d > 0 and (
            on_hand * selectors.CONSUMPTION_WINDOW_DAYS
            < settings.SSP_ALERT_STOCKOUT_DAYS * level.consumed_90d
        ):
            findings.append(Finding(AlertCondition.STOCKOUT_SOON, *pair, None, facts))

    # 3. Physical counts, and units found at dispenses since the latest count: one
    # "count this item" alert per pair (the unique index has no room for two).
    counts = _count_discrepancies(
        since=now - timedelta(days=COUNT_LOOKBACK_DAYS),
        location_ids=location_ids,
        item_ids=item_ids,
    )
    found = _found_since_count(location_ids=location_ids, item_ids=item_ids)
    findings.extend(found.get(pair, finding) for pair, finding in counts.items())
    findings.extend(finding for pair, finding in found.items() if pair not in counts)
    return findings


def _found_since_count(*, location_ids, item_ids) -> dict[Pair, Finding]:
    """Pairs where dispenses handed out more than the books held since the pair was last
    counted (or ever, if never): the units recorded as found, net of those withdrawn when
    such a visit was corrected or voided. A count recorded afterwards clears it."""
    last_counted = (
        StockCountLine.objects.filter(
            count__location_id=OuterRef("location_id"), item_id=OuterRef("item_id")
        )
        .order_by("-count__recorded_at")
        .values("count__recorded_at")[:1]
    )
    movements = _scoped(
        StockMovement.objects.filter(
            kind=MovementKind.ADJUSTMENT, reason=AdjustmentReason.SHORTFALL
        ),
        location_ids,
        item_ids,
    )
    rows = (
        movements.annotate(last_counted=Subquery(last_counted))
        .filter(Q(last_counted__isnull=True) | Q(recorded_at__gt=F("last_counted")))
        .values("location_id", "item_id")
        .annotate(units=Sum("quantity"), since=Min("occurred_at"), latest=Max("occurred_at"))
        .order_by("location_id", "item_id")
    )
    return {
        (row["location_id"], row["item_id"]): Finding(
            AlertCondition.COUNT_DISCREPANCY,
            row["location_id"],
            row["item_id"],
            None,
            {
                "found_at_dispense": row["units"],
                "since": timezone.localdate(row["since"]).isoformat(),
                "latest": timezone.localdate(row["latest"]).isoformat(),
            },
        )
        for row in rows
        if row["units"] > 0
    }


def _count_discrepancies(*, since: datetime, location_ids, item_ids) -> dict[Pair, Finding]:
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
    return {
        pair: Finding(
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
    }
