"""The stock-alert scan over 10,000 lot × location balances, against one raw SQL pass.

Seeds (in bulk, with SQL) 50 locations × 40 lot-tracked items × 5 lots = 10,000
balances with a ledger that sums to them (receipts, 90 days of dispenses) and a count
sheet per location (lines only). The reference is a single SQL statement that finds
the same conditions (below reorder point, projected stock-out, lot expiring, expired
lot on hand, count discrepancy) without writing anything; the benchmark checks both
find the same set.

Then a second phase grows the ledger at the same 50 locations and 40 items to a
1M-visit ledger (two years of visits' dispenses under "visit:<uuid>" references, about
1.2 lines a visit, popular items used more; one visit in 211 voided, its stock given
back by reversal adjustments under the same reference, as `visit_void` does; a receipt
per balance two years ago so the ledger still sums to every balance, unchanged) and
times the raw pass, a first scan and a rescan again, as ratios to that phase's raw pass.
`BENCH_ALERT_VISITS` (default 1,000,000) scales the ledger down for a quick try.
"""

import os
import statistics
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from bench.common import bench_staff, result, timed
from inventory import selectors
from inventory.alerts import COUNT_LOOKBACK_DAYS, alerts_check, alerts_findings, alerts_scan
from inventory.alerts.sql import alerts_findings_sql
from inventory.models import FundingSource, Item, Location, Lot, StockBalance, StockMovement
from org.roles import ADMIN

LOCATIONS, ITEMS, LOTS = 50, 40, 5
PREFIX = "Bench alerts"
RAW = "alerts: one raw SQL pass finding the same conditions"
VISITS = int(os.environ.get("BENCH_ALERT_VISITS", 1_000_000))
LEDGER_DAYS = 730  # the visits' ledger spans two years; the 90-day window holds 1/8 of it
VOIDED_EVERY = 211  # one visit in 211 is voided (bench_reports has the same share)


def _seed(user) -> None:
    today = timezone.localdate()
    fund = FundingSource.objects.create(name=f"{PREFIX} fund", code="bench-alerts")
    Location.objects.bulk_create(
        Location(name=f"{PREFIX} van {n:02d}", kind="van") for n in range(LOCATIONS)
    )
    items = Item.objects.bulk_create(
        Item(
            name=f"{PREFIX} strip {n:02d}",
            code=f"bench-alerts-{n:02d}",
            category="drug_checking",
            is_lot_tracked=True,
        )
        for n in range(ITEMS)
    )
    # Lot k of each item expires (40k − 30) days from today: one expired, two expiring.
    Lot.objects.bulk_create(
        Lot(
            item=item,
            lot_number=f"BA-{item.pk}-{k}",
            funding_source=fund,
            expires_on=today + timedelta(days=40 * k - 30),
        )
        for item in items
        for k in range(LOTS)
    )
    parameters = {"prefix": f"{PREFIX} %", "user": user.pk, "today": today}
    with connection.cursor() as cursor:
        # Every location holds every lot.
        cursor.execute(
            """
            INSERT INTO inventory_stockbalance (location_id, lot_id, item_id, quantity)
            SELECT loc.id, lot.id, lot.item_id, ((loc.id * 3 + lot.id * 11) %% 20) * 5
            FROM inventory_location loc
            CROSS JOIN inventory_lot lot
            JOIN inventory_item item ON item.id = lot.item_id
            WHERE loc.name LIKE %(prefix)s AND item.name LIKE %(prefix)s
            """,
            parameters,
        )
        # Three equal dispenses over 90 days per pair, from the item's latest lot.
        cursor.execute(
            """
            INSERT INTO inventory_stockmovement
                (kind, item_id, lot_id, location_id, quantity, reason, reference,
                 occurred_at, recorded_at, recorded_by_id)
            SELECT 'dispense', item.id,
                   (SELECT max(id) FROM inventory_lot WHERE item_id = item.id),
                   loc.id, -((loc.id * 7 + item.id * 13) %% 10) * 10, '', 'bench-alerts',
                   now() - make_interval(days => day), now(), %(user)s
            FROM inventory_location loc
            CROSS JOIN inventory_item item
            CROSS JOIN generate_series(10, 70, 30) AS day
            WHERE loc.name LIKE %(prefix)s AND item.name LIKE %(prefix)s
              AND (loc.id * 7 + item.id * 13) %% 10 > 0
            """,
            parameters,
        )
        # Receipts 100 days ago so that the ledger sums to every balance.
        cursor.execute(
            """
            INSERT INTO inventory_stockmovement
                (kind, item_id, lot_id, location_id, quantity, reason, reference,
                 occurred_at, recorded_at, recorded_by_id)
            SELECT 'receipt', b.item_id, b.lot_id, b.location_id,
                   b.quantity - coalesce(out.total, 0), '', 'bench-alerts',
                   now() - interval '100 days', now(), %(user)s
            FROM inventory_stockbalance b
            JOIN inventory_location loc ON loc.id = b.location_id
            LEFT JOIN (
                SELECT location_id, lot_id, sum(quantity) AS total
                FROM inventory_stockmovement WHERE kind = 'dispense'
                GROUP BY location_id, lot_id
            ) out ON out.location_id = b.location_id AND out.lot_id = b.lot_id
            WHERE loc.name LIKE %(prefix)s AND b.quantity - coalesce(out.total, 0) <> 0
            """,
            parameters,
        )
        # A count sheet per location five days ago: ten items, by lot, some off by 16.
        cursor.execute(
            """
            INSERT INTO inventory_stockcount (location_id, occurred_at, recorded_at, recorded_by_id)
            SELECT id, now() - interval '5 days', now(), %(user)s
            FROM inventory_location WHERE name LIKE %(prefix)s
            """,
            parameters,
        )
        cursor.execute(
            """
            INSERT INTO inventory_stockcountline
                (count_id, item_id, lot_id, expected, counted, reason)
            SELECT c.id, b.item_id, b.lot_id, b.quantity,
                   greatest(b.quantity + ((c.location_id + b.item_id) %% 5 - 2) * 8, 0),
                   ''
            FROM inventory_stockcount c
            JOIN inventory_location loc ON loc.id = c.location_id
            JOIN inventory_stockbalance b ON b.location_id = c.location_id
            JOIN inventory_lot lot ON lot.id = b.lot_id
            WHERE loc.name LIKE %(prefix)s AND lot.lot_number LIKE 'BA-%%-4'
              AND b.item_id IN (SELECT id FROM inventory_item WHERE name LIKE %(prefix)s
                                ORDER BY id LIMIT 10)
            """,
            parameters,
        )
        cursor.execute("ANALYZE")


# One statement: visit g at location (17g mod 50), its first line of an item drawn with a
# squared uniform number (popular items used more), every fifth visit a second line 17
# items on; a voided visit's lines given back an hour later under the same reference.
LEDGER_SQL = """
WITH lines AS (
    SELECT g, loc, item, (%(lots)s::bigint[])[item * 5 + 1 + (g + line) %% 5] AS lot,
           1 + (g * 37) %% 3 AS units,
           'visit:' || md5('bench-alerts-visit-' || g)::uuid AS reference,
           now() - make_interval(secs => (g * 7919) %% %(seconds)s) AS at
    FROM (
        SELECT g, line, (%(locations)s::bigint[])[1 + (g * 17) %% 50] AS loc,
               (floor(40 * power(((g * 7919) %% 100003) / 100003.0, 2))::int
                + (line - 1) * 17) %% 40 AS item
        FROM generate_series(1::bigint, %(visits)s::bigint) AS g
        CROSS JOIN generate_series(1, 2) AS line
        WHERE line = 1 OR g %% 5 = 0
    ) AS picked
)
INSERT INTO inventory_stockmovement
    (kind, item_id, lot_id, location_id, quantity, reason, reference,
     occurred_at, recorded_at, recorded_by_id)
SELECT 'dispense', (%(items)s::bigint[])[item + 1], lot, loc, -units, '', reference,
       at AS occurred_at, at, %(user)s
FROM lines
UNION ALL
SELECT 'adjustment', (%(items)s::bigint[])[item + 1], lot, loc, units, 'reversal', reference,
       least(at + interval '1 hour', now()), least(at + interval '1 hour', now()), %(user)s
FROM lines WHERE g %% %(voided_every)s = 0
-- Appended as it happened, as a ledger is: the table's order follows the time.
ORDER BY occurred_at
"""


def _grow_ledger(user) -> int:
    """The 1M-visit ledger at the same locations and items; balances unchanged."""
    locations = list(
        Location.objects.filter(name__startswith=PREFIX).order_by("pk").values_list("pk", flat=True)
    )
    items = list(
        Item.objects.filter(name__startswith=PREFIX).order_by("pk").values_list("pk", flat=True)
    )
    lots = list(
        Lot.objects.filter(item__name__startswith=PREFIX)
        .order_by("item_id", "pk")
        .values_list("pk", flat=True)
    )
    if (len(locations), len(items), len(lots)) != (LOCATIONS, ITEMS, ITEMS * LOTS):
        raise RuntimeError("the first phase's locations, items and lots are not all there")
    before = StockMovement.objects.order_by("-pk").values_list("pk", flat=True).first()
    with connection.cursor() as cursor:
        cursor.execute(
            LEDGER_SQL,
            {
                "visits": VISITS,
                "locations": locations,
                "items": items,
                "lots": lots,
                "seconds": LEDGER_DAYS * 86400,
                "voided_every": VOIDED_EVERY,
                "user": user.pk,
            },
        )
        # What the visits took, received two years and a day ago: the ledger still sums
        # to every balance, and no balance was ever negative.
        cursor.execute(
            """
            INSERT INTO inventory_stockmovement
                (kind, item_id, lot_id, location_id, quantity, reason, reference,
                 occurred_at, recorded_at, recorded_by_id)
            SELECT 'receipt', item_id, lot_id, location_id, -sum(quantity), '',
                   'bench-alerts-ledger', now() - make_interval(days => %(days)s + 1), now(),
                   %(user)s
            FROM inventory_stockmovement WHERE id > %(before)s
            GROUP BY item_id, lot_id, location_id HAVING sum(quantity) <> 0
            """,
            {"days": LEDGER_DAYS, "user": user.pk, "before": before},
        )
        # A database that has been in use this long has been vacuumed and analysed.
        cursor.execute("VACUUM ANALYZE inventory_stockmovement")
    return StockMovement.objects.filter(pk__gt=before).count()


def _ledger_sums_to_balances() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*) FROM inventory_stockbalance b
            FULL JOIN (SELECT location_id, lot_id, sum(quantity) AS total
                       FROM inventory_stockmovement GROUP BY location_id, lot_id) m
              ON m.location_id = b.location_id AND m.lot_id = b.lot_id
            WHERE coalesce(b.quantity, 0) <> coalesce(m.total, 0)
            """
        )
        return cursor.fetchone()[0] == 0


RAW_SQL = """
WITH bal AS (
    SELECT b.location_id, b.item_id, b.lot_id, b.quantity, lot.expires_on
    FROM inventory_stockbalance b JOIN inventory_lot lot ON lot.id = b.lot_id
),
usable AS (
    SELECT location_id, item_id,
           coalesce(sum(quantity) FILTER (
               WHERE expires_on IS NULL OR expires_on >= %(today)s), 0) AS usable
    FROM bal GROUP BY location_id, item_id
),
-- Dispenses, and the reversals that gave a dispense's units back (a reversal whose
-- reference, location and lot were dispensed): the two kinds read apart, so that the
-- planner joins the few reversals to their dispenses (an EXISTS under an OR is costed
-- per row, and the estimate alone turns on JIT compilation at 1M visits).
used AS (
    SELECT location_id, item_id, -sum(quantity) AS used
    FROM (
        SELECT location_id, item_id, quantity FROM inventory_stockmovement
        WHERE kind = 'dispense' AND occurred_at >= %(since)s
        UNION ALL
        SELECT r.location_id, r.item_id, r.quantity FROM inventory_stockmovement r
        WHERE r.kind = 'adjustment' AND r.reason = 'reversal' AND r.occurred_at >= %(since)s
          AND EXISTS (SELECT 1 FROM inventory_stockmovement d
                      WHERE d.kind = 'dispense' AND d.reference = r.reference
                        AND d.location_id = r.location_id AND d.lot_id = r.lot_id)
    ) moves
    GROUP BY location_id, item_id
),
levels AS (
    SELECT coalesce(u.location_id, d.location_id) AS location_id,
           coalesce(u.item_id, d.item_id) AS item_id,
           coalesce(u.usable, 0) AS usable, greatest(coalesce(d.used, 0), 0) AS used
    FROM usable u FULL JOIN used d
      ON d.location_id = u.location_id AND d.item_id = u.item_id
),
latest_counts AS (
    SELECT DISTINCT ON (c.location_id, l.item_id)
           c.location_id, l.item_id, sum(l.counted - l.expected) AS difference
    FROM inventory_stockcountline l JOIN inventory_stockcount c ON c.id = l.count_id
    WHERE c.occurred_at >= %(count_since)s
    GROUP BY c.location_id, l.item_id, c.id, c.occurred_at
    ORDER BY c.location_id, l.item_id, c.occurred_at DESC, c.id DESC
)
SELECT CASE WHEN expires_on < %(today)s THEN 'expired' ELSE 'expiring' END,
       location_id, item_id, lot_id
FROM bal WHERE quantity > 0 AND expires_on <= %(horizon)s
UNION ALL
-- In float8 as the app computes it: numeric's 380 / 3.0 × 1.5 is 190.000…05, whose
-- ceiling 191 puts a pair holding exactly 190 below its reorder point of 190.
SELECT 'below_reorder', location_id, item_id, NULL FROM levels
WHERE usable < ceil(used::float8 / 3 * %(understock_months)s::float8)
UNION ALL
SELECT 'stockout_soon', location_id, item_id, NULL FROM levels
WHERE used > 0 AND usable * 90 < %(stockout_days)s * used
UNION ALL
SELECT 'count_discrepancy', location_id, item_id, NULL FROM latest_counts
WHERE abs(difference) > %(threshold)s
"""


def _raw_pass() -> set[tuple]:
    today = timezone.localdate()
    since = datetime.combine(
        today - timedelta(days=selectors.CONSUMPTION_WINDOW_DAYS - 1), datetime.min.time()
    )
    with connection.cursor() as cursor:
        cursor.execute(
            RAW_SQL,
            {
                "today": today,
                "horizon": today + timedelta(days=settings.SSP_ALERT_EXPIRY_DAYS),
                "since": timezone.make_aware(since),
                "count_since": timezone.now() - timedelta(days=COUNT_LOOKBACK_DAYS),
                "understock_months": settings.SSP_STOCK_UNDERSTOCK_MONTHS,
                "stockout_days": settings.SSP_ALERT_STOCKOUT_DAYS,
                "threshold": settings.SSP_ALERT_COUNT_DISCREPANCY,
            },
        )
        return set(cursor.fetchall())


def _first_scan() -> tuple:
    """A scan that raises every alert (the table emptied first, outside the timing)."""
    durations = []
    for _ in range(3):
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM inventory_stockalert")
            # A first scan meets no dead rows of the previous round in the alert indexes.
            cursor.execute("VACUUM inventory_stockalert")
        began = time.perf_counter()
        scan = alerts_scan()
        durations.append(time.perf_counter() - began)
    return scan, statistics.median(durations)


def _check_agree(found: set[tuple]) -> None:
    # The scan's own query (PostgreSQL) and the ORM reference it is tested against.
    for path, findings in (("SQL", alerts_findings_sql), ("ORM", alerts_findings)):
        scanned = {(f.condition, f.location_id, f.item_id, f.lot_id) for f in findings()}
        if scanned != found:
            raise RuntimeError(
                f"scan ({path} findings) and raw SQL disagree: {len(scanned - found)} only "
                f"in the scan, {len(found - scanned)} only in raw SQL"
            )


def _ledger_name(visits: int) -> str:
    return f"{visits // 1_000_000}M" if visits % 1_000_000 == 0 else f"{visits:,}"


def _with_ledger(user) -> list[dict]:
    """The second phase: raw pass, first scan and rescan over the grown ledger."""
    began = time.perf_counter()
    grown = _grow_ledger(user)
    seed_seconds = time.perf_counter() - began
    if not _ledger_sums_to_balances():
        raise RuntimeError("the grown ledger does not sum to the balances")
    name = f"alerts, {_ledger_name(VISITS)}-visit ledger"
    raw = f"{name}: one raw SQL pass finding the same conditions"
    found, raw_seconds = timed(_raw_pass, repeat=5)
    _check_agree(found)
    first, first_seconds = _first_scan()
    _, rescan_seconds = timed(alerts_scan, repeat=5)
    movements = StockMovement.objects.count()
    print(
        f"  {VISITS} visits: {grown} movements added in {seed_seconds:.0f} s ({movements} in "
        f"all); {first.holding} conditions; raw SQL {raw_seconds * 1000:.0f} ms, first scan "
        f"{first_seconds * 1000:.0f} ms, rescan {rescan_seconds * 1000:.0f} ms"
    )
    return [
        result(f"{name}: ledger rows", movements, "rows"),
        result(f"{name}: conditions found (open alerts)", first.holding, "alerts"),
        result(raw, raw_seconds * 1000, "ms"),
        result(
            f"{name}: first scan, raising {first.raised} alerts", first_seconds * 1000, "ms", raw
        ),
        result(f"{name}: hourly rescan, nothing new", rescan_seconds * 1000, "ms", raw),
    ]


def run() -> list[dict]:
    user = bench_staff(username="bench_alerts_admin", role=ADMIN)
    _seed(user)
    balances = StockBalance.objects.count()
    if balances < 10_000:
        raise RuntimeError(f"only {balances} balances seeded")

    found, raw_seconds = timed(_raw_pass, repeat=5)
    _check_agree(found)

    first, first_seconds = _first_scan()
    _, rescan_seconds = timed(alerts_scan, repeat=5)
    balance = StockBalance.objects.filter(quantity__gt=0).order_by("pk").first()
    _, check_seconds = timed(
        alerts_check, pairs=[(balance.location_id, balance.item_id)], repeat=20
    )

    rows = [
        result("alerts: lot × location balances scanned", balances, "rows"),
        result("alerts: conditions found (open alerts)", first.holding, "alerts"),
        result(RAW, raw_seconds * 1000, "ms"),
        result(
            f"alerts: first scan, raising {first.raised} alerts", first_seconds * 1000, "ms", RAW
        ),
        result("alerts: hourly rescan, nothing new", rescan_seconds * 1000, "ms", RAW),
        result("alerts: per-pair check after a movement", check_seconds * 1000, "ms", RAW),
    ]
    print(
        f"  {balances} balances; {first.holding} conditions; raw SQL {raw_seconds * 1000:.0f} ms, "
        f"first scan {first_seconds * 1000:.0f} ms, rescan {rescan_seconds * 1000:.0f} ms, "
        f"pair check {check_seconds * 1000:.1f} ms"
    )
    return rows + _with_ledger(user)
