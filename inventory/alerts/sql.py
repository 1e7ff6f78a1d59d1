"""The alert conditions as one SQL query (PostgreSQL): the same findings, with the same
facts, as `alerts_findings` (conditions.py), which stays the reference and SQLite's path
(tests/inventory/test_alerts_sql.py checks the two agree). The scan feeds this query
straight into its reconciliation (scan.py), so no finding makes a round trip through
Python.

Each part mirrors one step of conditions.py:
- `bal`/`on_hand`: the balances, usable stock (expired lots excluded) per pair;
- `lot_facts`: the facts of each expiring lot, once per lot;
- `used`: the 90-day consumption, dispenses net of the reversals of dispenses. A
  reversal is matched to its dispense by a semi-join on (reference, location, lot),
  not by a subquery per ledger row; the window and the reversals are read through
  their own indexes (inventory/models.py), so a 1M-visit ledger costs its window only;
- `levels`: below reorder point and projected stock-out, active items and locations only;
- `counted_off`/`found`: the latest count of the lookback off by more than the threshold,
  and units found at dispense since the pair's latest count (which take precedence).
"""

import json
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from .. import selectors
from ..models import (
    AdjustmentReason,
    AlertCondition,
    Item,
    Location,
    Lot,
    MovementKind,
    StockBalance,
    StockCount,
    StockCountLine,
    StockMovement,
)
from .conditions import COUNT_LOOKBACK_DAYS, SEVERITY, Finding, Pair

BALANCE = StockBalance._meta.db_table
LOT = Lot._meta.db_table
MOVEMENT = StockMovement._meta.db_table
COUNT = StockCount._meta.db_table
COUNT_LINE = StockCountLine._meta.db_table
ITEM = Item._meta.db_table
LOCATION = Location._meta.db_table

# Only the pairs asked for (a per-pair check); empty for the scan of everything.
IN_SCOPE = " AND ({location}, {item}) IN (SELECT location_id, item_id FROM scope)"


def _scope(location: str, item: str, scoped: bool) -> str:
    return IN_SCOPE.format(location=location, item=item) if scoped else ""


def _findings_query(*, scoped: bool) -> str:
    s = {
        "bal": _scope("b.location_id", "b.item_id", scoped),
        "mov": _scope("m.location_id", "m.item_id", scoped),
        "count": _scope("c.location_id", "l.item_id", scoped),
    }
    scope_cte = (
        "scope AS (SELECT * FROM unnest(%(locations)s::int[], %(items)s::int[])"
        " AS s(location_id, item_id)),"
        if scoped
        else ""
    )
    # Python's `timezone.localdate(...).isoformat()`: JSON writes dates in ISO 8601
    # whatever the session's DateStyle.
    local_day = "({} AT TIME ZONE %(tz)s)::date"
    return f"""
    WITH {scope_cte}
    bal AS (
        SELECT b.location_id, b.item_id, b.lot_id, b.quantity, lot.expires_on
        FROM {BALANCE} b JOIN {LOT} lot ON lot.id = b.lot_id
        WHERE TRUE {s["bal"]}
    ),
    on_hand AS (
        SELECT location_id, item_id,
               coalesce(sum(quantity) FILTER (
                   WHERE expires_on IS NULL OR expires_on >= %(today)s), 0) AS usable
        FROM bal GROUP BY location_id, item_id
    ),
    -- Dispenses, and the reversals that gave dispensed units back: those whose
    -- (reference, location, lot) was dispensed, found by a semi-join the planner runs
    -- by hash or by the reference index, not a subquery per ledger row. The window's
    -- dispenses are the ledger's last pages (its BRIN index on occurred_at) and the
    -- reversals a partial index's few rows: neither branch reads the whole ledger.
    used AS (
        SELECT location_id, item_id, -sum(quantity) AS used
        FROM (
            SELECT m.location_id, m.item_id, m.quantity
            FROM {MOVEMENT} m
            WHERE m.occurred_at >= %(window_start)s AND m.kind = %(dispense)s {s["mov"]}
            UNION ALL
            SELECT m.location_id, m.item_id, m.quantity
            FROM {MOVEMENT} m
            WHERE m.occurred_at >= %(window_start)s
              AND m.kind = %(adjustment)s AND m.reason = %(reversal)s {s["mov"]}
              AND (m.reference, m.location_id, m.lot_id) IN (
                  SELECT d.reference, d.location_id, d.lot_id
                  FROM {MOVEMENT} d WHERE d.kind = %(dispense)s)
        ) moves
        GROUP BY location_id, item_id
    ),
    -- Pairs that used nothing have a reorder point of 0 and last forever: no finding.
    levels AS (
        SELECT u.location_id, u.item_id, coalesce(h.usable, 0) AS usable, u.used AS consumed,
               -- float8 as in Python (math.ceil of avg_monthly × months), same rounding.
               ceil(u.used::float8 / %(months_in_window)s * %(understock_months)s)::bigint
                   AS reorder_point
        FROM used u
        LEFT JOIN on_hand h ON h.location_id = u.location_id AND h.item_id = u.item_id
        JOIN {ITEM} i ON i.id = u.item_id AND i.is_active
        JOIN {LOCATION} loc ON loc.id = u.location_id AND loc.is_active
        WHERE u.used > 0
    ),
    level_facts AS (
        SELECT location_id, item_id, usable, consumed, reorder_point,
               jsonb_build_object(
                   'on_hand', usable,
                   'reorder_point', reorder_point,
                   'daily_use', round(consumed::numeric / %(window_days)s, 2),
                   -- Rounded half up in whole numbers, as conditions.py does.
                   'days_left', round(
                       ((usable * %(window_days)s * 20 + consumed) / (2 * consumed))::numeric
                       / 10, 1)
               ) AS facts
        FROM levels
        -- Facts only for the pairs that are a finding below (most pairs are not).
        WHERE (reorder_point > 0 AND usable < reorder_point)
           OR usable * %(window_days)s < %(stockout_days)s * consumed
    ),
    count_totals AS (
        SELECT c.location_id, l.item_id, c.id AS count_id, c.occurred_at,
               sum(l.expected) AS expected, sum(l.counted) AS counted
        FROM {COUNT_LINE} l JOIN {COUNT} c ON c.id = l.count_id
        WHERE c.occurred_at >= %(count_since)s {s["count"]}
        GROUP BY c.location_id, l.item_id, c.id, c.occurred_at
    ),
    counted_off AS (
        SELECT * FROM (
            SELECT DISTINCT ON (location_id, item_id) *
            FROM count_totals
            ORDER BY location_id, item_id, occurred_at DESC, count_id DESC
        ) latest
        WHERE abs(counted - expected) > %(threshold)s
    ),
    last_counted AS (
        SELECT c.location_id, l.item_id, max(c.recorded_at) AS recorded_at
        FROM {COUNT_LINE} l JOIN {COUNT} c ON c.id = l.count_id
        WHERE TRUE {s["count"]}
        GROUP BY c.location_id, l.item_id
    ),
    -- Over the whole ledger, but through the partial index of reversals and shortfalls.
    found AS (
        SELECT m.location_id, m.item_id, sum(m.quantity) AS units,
               min(m.occurred_at) AS since, max(m.occurred_at) AS latest
        FROM {MOVEMENT} m
        LEFT JOIN last_counted lc ON lc.location_id = m.location_id AND lc.item_id = m.item_id
        WHERE m.kind = %(adjustment)s AND m.reason = %(shortfall)s
          AND (lc.recorded_at IS NULL OR m.recorded_at > lc.recorded_at) {s["mov"]}
        GROUP BY m.location_id, m.item_id
        HAVING sum(m.quantity) > 0
    ),
    -- An expiring lot's facts built once per lot, its on hand set per balance: building
    -- jsonb is most of what these findings cost, and a lot is held at many locations.
    lot_facts AS MATERIALIZED (
        SELECT lot.id,
               jsonb_build_object(
                   'on_hand', 0,
                   'lot_number', lot.lot_number,
                   'expires_on', lot.expires_on,
                   'days_to_expiry', lot.expires_on - %(today)s::date
               ) AS facts
        FROM {LOT} lot
        WHERE lot.expires_on <= %(horizon)s
          AND lot.id IN (SELECT lot_id FROM bal WHERE quantity > 0)
    ),
    findings AS (
        SELECT CASE WHEN expires_on < %(today)s THEN %(expired)s ELSE %(expiring)s END
                   AS condition,
               location_id, item_id, lot_id,
               jsonb_set(lf.facts, '{{on_hand}}', to_jsonb(quantity)) AS facts
        FROM bal JOIN lot_facts lf ON lf.id = bal.lot_id
        WHERE quantity > 0 AND expires_on <= %(horizon)s
        UNION ALL
        SELECT %(below_reorder_point)s, location_id, item_id, NULL, facts FROM level_facts
        WHERE reorder_point > 0 AND usable < reorder_point
        UNION ALL
        -- on hand / daily use < N days, in whole numbers so no rounding decides it.
        SELECT %(stockout_soon)s, location_id, item_id, NULL, facts FROM level_facts
        WHERE usable * %(window_days)s < %(stockout_days)s * consumed
        UNION ALL
        SELECT %(count_discrepancy)s, location_id, item_id, NULL,
               jsonb_build_object(
                   'found_at_dispense', units,
                   'since', {local_day.format("since")},
                   'latest', {local_day.format("latest")}
               )
        FROM found
        UNION ALL
        -- One "count this item" alert per pair: units found at dispense win.
        SELECT %(count_discrepancy)s, location_id, item_id, NULL,
               jsonb_build_object(
                   'difference', counted - expected,
                   'expected', expected,
                   'counted', counted,
                   'counted_on', {local_day.format("occurred_at")},
                   'threshold', %(threshold)s
               )
        FROM counted_off o
        WHERE NOT EXISTS (
            SELECT 1 FROM found f WHERE f.location_id = o.location_id AND f.item_id = o.item_id)
    )
    SELECT condition, location_id, item_id, lot_id, facts FROM findings
    """


FINDINGS_EVERYWHERE_SQL = _findings_query(scoped=False)
FINDINGS_AT_PAIRS_SQL = _findings_query(scoped=True)


def findings_parameters(*, today: date, now: datetime, pairs: set[Pair] | None) -> dict:
    """The parameters of the findings query (named, so the reconciliation adds its own)."""
    window_start = timezone.make_aware(
        datetime.combine(
            today - timedelta(days=selectors.CONSUMPTION_WINDOW_DAYS - 1), datetime.min.time()
        )
    )
    scope = sorted(pairs or ())
    return {
        "today": today,
        "horizon": today + timedelta(days=settings.SSP_ALERT_EXPIRY_DAYS),
        "window_start": window_start,
        "count_since": now - timedelta(days=COUNT_LOOKBACK_DAYS),
        "tz": timezone.get_current_timezone_name(),
        "window_days": selectors.CONSUMPTION_WINDOW_DAYS,
        # Floats, so the database computes the reorder point in float8 as Python does.
        "months_in_window": float(selectors.CONSUMPTION_WINDOW_DAYS / selectors.DAYS_PER_MONTH),
        "understock_months": float(settings.SSP_STOCK_UNDERSTOCK_MONTHS),
        "stockout_days": settings.SSP_ALERT_STOCKOUT_DAYS,
        "threshold": settings.SSP_ALERT_COUNT_DISCREPANCY,
        # The severity of each condition, for the alerts raised (scan.py).
        "conditions": [str(condition) for condition in SEVERITY],
        "severities": [str(severity) for severity in SEVERITY.values()],
        "dispense": MovementKind.DISPENSE.value,
        "adjustment": MovementKind.ADJUSTMENT.value,
        "reversal": AdjustmentReason.REVERSAL.value,
        "shortfall": AdjustmentReason.SHORTFALL.value,
        **{condition.name.lower(): condition.value for condition in AlertCondition},
        "locations": [location_id for location_id, _ in scope],
        "items": [item_id for _, item_id in scope],
    }


def alerts_findings_sql(
    *, today: date | None = None, pairs: set[Pair] | None = None
) -> list[Finding]:
    """What `alerts_findings` finds, for everything or exactly these pairs, by the one
    query the scan reconciles from (PostgreSQL only)."""
    today = today or timezone.localdate()
    parameters = findings_parameters(today=today, now=timezone.now(), pairs=pairs)
    with connection.cursor() as cursor:
        cursor.execute(
            FINDINGS_EVERYWHERE_SQL if pairs is None else FINDINGS_AT_PAIRS_SQL, parameters
        )
        return [
            # Django's PostgreSQL backend hands jsonb over as text.
            Finding(condition, location_id, item_id, lot_id, json.loads(facts))
            for condition, location_id, item_id, lot_id, facts in cursor.fetchall()
        ]
