"""A month's funder report over 1M visits, against raw SQL; peak memory at 1M and 5M.

Seeds, in bulk with SQL (generate_series straight into ssp_visit, ssp_visitsupply,
inventory_stockmovement and referrals_referral), one month with 1M visits at 8 sites
plus a month of history before it: people mostly keep to a home site (one in ten visits
is elsewhere) and a few regulars come often; 12% of visits are anonymous, one in 997 is
a street shift logged in bulk, one in 211 is voided (its stock reversed in the ledger);
about 1.2 supply lines per visit (syringes, naloxone of two formulations, FTS, XTS,
other supplies, kits), each line's stock taken from lots of three funding sources; a
referral at 3% of visits, half of them linked.

Figures:
- the raw SQL: one hand-written statement computing every figure of the report (per
  site and in total); the benchmark checks it agrees with the report, figure by figure;
- `compute_figures` (the report's aggregate queries), as a ratio to the raw SQL;
- the whole build of an on-demand report (figures, suppression, CSV, XLSX, snapshot),
  in a fresh process, as a ratio to the raw SQL, at 1M visits and at 5M (the raw SQL
  timed again at 5M; both builds' figures checked against it);
- the build's linked-set suppression step (`report_release`, timed inside the build,
  over a set that already holds the month's dashboard release), as a ratio to the rest
  of the build;
- that process's peak memory: Python allocations (tracemalloc) and resident set growth
  (ru_maxrss) while building, at 1M visits and again after 4M more visits are added to
  the same month (5M), with the 5M : 1M ratios.

`BENCH_REPORT_VISITS` (default 1,000,000) and `BENCH_REPORT_MORE_VISITS` (default
4,000,000) scale it down for a quick try.
"""

import contextlib
import json
import os
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from statistics import median
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection

from bench.common import ROOT, bench_env, bench_staff, result, timed
from inventory.models import FundingSource, Item, Kit, KitComponent, Location, Lot
from org.models import Site
from org.roles import ADMIN
from reports.metrics import TOTAL, compute_figures
from reports.models import PeriodSuppression
from reports.periods import Period
from reports.selectors import monthly_trends
from ssp.models import Participant

VISITS = int(os.environ.get("BENCH_REPORT_VISITS", 1_000_000))
MORE_VISITS = int(os.environ.get("BENCH_REPORT_MORE_VISITS", 4_000_000))
HISTORY_VISITS = max(VISITS // 5, 1)  # the month before: makes "new participant" real work
PEOPLE = 80_000
YEAR, MONTH = 2026, 9
PERIOD = Period.month(YEAR, MONTH)
TEMPLATE = "program_monthly"
ROUNDS = 3  # raw SQL and compute_figures, in turns; the medians are compared
USERNAME = "bench_reports_admin"

SITES = [  # name, code, service model
    ("Bench downtown", "BDTN", "fixed"),
    ("Bench eastside", "BEST", "fixed"),
    ("Bench westside", "BWST", "fixed"),
    ("Bench harbour", "BHRB", "fixed"),
    ("Bench van north", "BVN1", "mobile"),
    ("Bench van south", "BVN2", "mobile"),
    ("Bench street team", "BOUT", "outreach"),
    ("Bench mail", "BMAI", "mail"),
]
# Busy sites get more visits: the site of visit g is SITE_SPREAD[(g * 13) % 20].
SITE_SPREAD = [1, 1, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 5, 5, 6, 6, 7, 8, 8]

RAW = "reports: raw SQL computing every figure of the month"


# --- Seeding ---------------------------------------------------------------------------


def _reference_data(user) -> dict:
    """Sites, locations, items, a kit, funders and lots, through the ORM (a few rows)."""
    sites = [Site.objects.create(name=n, code=c, service_model=m) for n, c, m in SITES]
    locations = [
        Location.objects.create(name=f"{s.name} shelf", kind="site", site=s) for s in sites
    ]
    spec = [  # code, name, category, formulation, doses per unit
        ("b-syr-1ml", "Bench syringe 1 mL 28G", "syringe", "", 0),
        ("b-syr-3ml", "Bench syringe 3 mL 25G", "syringe", "", 0),
        ("b-nasal", "Bench naloxone nasal 4 mg", "naloxone", "nasal_4mg", 2),
        ("b-im", "Bench naloxone 0.4 mg/mL vial", "naloxone", "im_0_4mg", 1),
        ("b-fts", "Bench fentanyl test strip", "drug_checking", "", 0),
        ("b-xts", "Bench xylazine test strip", "drug_checking", "", 0),
        ("b-cooker", "Bench cooker", "injection", "", 0),
        ("b-pipe", "Bench glass pipe", "smoking", "", 0),
        ("b-condom", "Bench condom", "safer_sex", "", 0),
        ("b-wound", "Bench wound-care pack", "wound_care", "", 0),
    ]
    items = {
        code: Item.objects.create(
            code=code,
            name=name,
            category=category,
            naloxone_formulation=formulation,
            naloxone_doses_per_unit=doses,
            is_lot_tracked=True,
        )
        for code, name, category, formulation, doses in spec
    }
    kit = Kit.objects.create(code="b-standard", name="Bench standard injection kit")
    for code, quantity in (("b-syr-1ml", 10), ("b-cooker", 2)):
        KitComponent.objects.create(kit=kit, item=items[code], quantity=quantity)
    funders = [
        FundingSource.objects.create(code=code, name=name)
        for code, name in (
            ("b-state", "Bench state grant"),
            ("b-federal", "Bench federal grant"),
            ("b-donation", "Bench private donation"),
        )
    ]
    for item in items.values():
        for funder in funders:
            # Federal money may not buy syringes.
            if item.category == "syringe" and funder.code == "b-federal":
                continue
            Lot.objects.create(
                item=item, lot_number=f"{item.code}-{funder.code}", funding_source=funder
            )
    # The second supply line of a visit: option (visit id * 11) % len.
    options = [
        (items["b-nasal"], None, 1),
        (items["b-im"], None, 2),
        (items["b-fts"], None, 5),
        (items["b-fts"], None, 10),
        (items["b-xts"], None, 3),
        (items["b-cooker"], None, 5),
        (items["b-pipe"], None, 1),
        (items["b-condom"], None, 6),
        (items["b-wound"], None, 1),
        (None, kit, 1),
        (None, kit, 2),
    ]
    participants_before = Participant.objects.order_by("-pk").values_list("pk", flat=True).first()
    with connection.cursor() as cursor:
        # Three in four codes were first seen long ago, the rest in the report month.
        cursor.execute(
            """
            INSERT INTO ssp_participant (code, first_seen_on, gender, age_band, zip3, created_at)
            SELECT 'BN' || lpad(g::text, 7, '0'),
                   CASE WHEN g %% 4 = 0 THEN %(month_start)s ELSE DATE '2025-01-15' END,
                   '', '', '', now()
            FROM generate_series(1, %(people)s) AS g
            """,
            {"people": PEOPLE, "month_start": PERIOD.start},
        )
    first_person = Participant.objects.filter(pk__gt=participants_before or 0).order_by("pk")
    return {
        "user": user.pk,
        "sites": [s.pk for s in sites],
        "locations": [loc.pk for loc in locations],
        "models": [m for _, _, m in SITES],
        "syringes": [items["b-syr-1ml"].pk, items["b-syr-3ml"].pk],
        "opt_items": [i.pk if i else None for i, _, _ in options],
        "opt_kits": [k.pk if k else None for _, k, _ in options],
        "opt_qty": [q for _, _, q in options],
        "pmin": first_person.values_list("pk", flat=True).first(),
        "people": PEOPLE,
        "block": PEOPLE // len(SITES),
        "spread": SITE_SPREAD,
    }


VISITS_SQL = """
INSERT INTO ssp_visit (uuid, occurred_at, recorded_at, updated_at, service_model, contacts,
    syringes_collected, collection_method, secondary_people, naloxone_refill_reason,
    overdose_reversals, notes, void_reason, voided_at, location_id, participant_id,
    recorded_by_id, site_id)
SELECT gen_random_uuid(), at, at, at,
       CASE WHEN bulk THEN 'outreach' ELSE (%(models)s::text[])[s] END,
       CASE WHEN bulk THEN 15 + g %% 30 ELSE 1 END,
       CASE WHEN bulk THEN 400 ELSE ((g * 37) %% 8) * 10 END,
       (ARRAY['counted', 'estimated', 'weighed'])[1 + (g * 11) %% 3],
       CASE WHEN (g * 17) %% 10 = 0 THEN 1 + g %% 4 ELSE 0 END,
       CASE (g * 23) %% 40 WHEN 0 THEN 'used' WHEN 1 THEN 'lost' WHEN 2 THEN 'expired'
            WHEN 3 THEN 'police' WHEN 4 THEN 'other' ELSE '' END,
       CASE WHEN (g * 29) %% 60 = 0 THEN 1 ELSE 0 END,
       '', CASE WHEN voided THEN 'twice' ELSE '' END,
       CASE WHEN voided THEN at + interval '1 hour' END,
       (%(locations)s::bigint[])[s],
       CASE WHEN bulk OR (g * 19) %% 100 < 12 THEN NULL
            WHEN g %% 10 = 0 THEN %(pmin)s + (g * 31337) %% %(people)s
            -- Squaring a uniform number favours the low end of the block: regulars.
            ELSE %(pmin)s + (s - 1) * %(block)s
                 + floor(%(block)s * power(((g * 7919) %% 100003) / 100003.0, 2))::bigint
       END,
       %(user)s, (%(sites)s::bigint[])[s]
FROM (
    SELECT g, (%(spread)s::int[])[1 + (g * 13) %% 20] AS s,
           %(start)s::timestamptz + make_interval(secs => (g * 7919) %% %(seconds)s) AS at,
           g %% 997 = 0 AS bulk, g %% 211 = 0 AS voided
    FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS g
) AS generated
"""

SUPPLIES_SQL = """
INSERT INTO ssp_visitsupply (visit_id, item_id, kit_id, quantity)
SELECT id, (%(syringes)s::bigint[])[1 + id %% 2], NULL,
       CASE WHEN contacts > 1 THEN contacts * 20 ELSE 10 + (id * 7) %% 21 END
FROM ssp_visit WHERE id > %(after)s AND ((id * 3) %% 10 < 7 OR contacts > 1)
UNION ALL
SELECT id, (%(opt_items)s::bigint[])[k], (%(opt_kits)s::bigint[])[k], (%(opt_qty)s::int[])[k]
FROM (SELECT id, 1 + (id * 11) %% array_length(%(opt_qty)s::int[], 1) AS k
      FROM ssp_visit WHERE id > %(after)s AND id %% 2 = 0) AS picked
"""

# Each line's stock comes from one of its item's lots (funders), kits as components;
# a voided visit's movements are reversed under the same reference, as visit_void does.
MOVEMENTS_SQL = """
INSERT INTO inventory_stockmovement (kind, quantity, reason, reference, occurred_at,
    recorded_at, item_id, location_id, lot_id, recorded_by_id)
SELECT 'dispense', -x.units, '', 'visit:' || v.uuid, v.occurred_at, v.occurred_at,
       x.item_id, v.location_id, l.lots[1 + (v.id + x.item_id) %% array_length(l.lots, 1)],
       %(user)s
FROM ssp_visit v
JOIN (
    SELECT visit_id, item_id, quantity AS units
    FROM ssp_visitsupply WHERE item_id IS NOT NULL AND visit_id > %(after)s
    UNION ALL
    SELECT s.visit_id, c.item_id, s.quantity * c.quantity
    FROM ssp_visitsupply s JOIN inventory_kitcomponent c ON c.kit_id = s.kit_id
    WHERE s.visit_id > %(after)s
) AS x ON x.visit_id = v.id
JOIN (SELECT item_id, array_agg(id ORDER BY id) AS lots FROM inventory_lot GROUP BY item_id) l
  ON l.item_id = x.item_id
WHERE v.id > %(after)s
"""

REVERSALS_SQL = """
INSERT INTO inventory_stockmovement (kind, quantity, reason, reference, occurred_at,
    recorded_at, item_id, location_id, lot_id, recorded_by_id)
SELECT 'adjustment', -m.quantity, 'reversal', m.reference, v.voided_at, v.voided_at,
       m.item_id, m.location_id, m.lot_id, %(user)s
FROM ssp_visit v JOIN inventory_stockmovement m ON m.reference = 'visit:' || v.uuid
WHERE v.id > %(after)s AND v.voided_at IS NOT NULL AND m.kind = 'dispense'
"""

REFERRALS_SQL = """
INSERT INTO referrals_referral (uuid, status, referred_on, follow_up_on, linked_on,
    status_changed_at, created_at, created_by_id, participant_id, site_id, visit_id, type_id)
SELECT gen_random_uuid(), status, day, day + 30,
       CASE WHEN status = 'linked' THEN day + (id %% 20)::int END,
       now(), now(), %(user)s, participant_id, site_id, id, types[1 + id %% array_length(types, 1)]
FROM (
    SELECT v.id, v.participant_id, v.site_id,
           (v.occurred_at AT TIME ZONE %(tz)s)::date AS day,
           (ARRAY['referred', 'linked', 'linked', 'declined', 'lost'])[1 + (v.id / 33) %% 5]
               AS status,
           (SELECT array_agg(id ORDER BY id) FROM referrals_referraltype) AS types
    FROM ssp_visit v
    WHERE v.id > %(after)s AND v.participant_id IS NOT NULL AND v.id %% 33 = 0
) AS chosen
"""


BULK_TABLES = ["ssp_visit", "ssp_visitsupply", "inventory_stockmovement", "referrals_referral"]


@contextlib.contextmanager
def _indexes_rebuilt_after(cursor):
    """Drop the secondary indexes (and unique constraints) of the bulk tables, and build
    them again, from their own definitions, when the block ends: one sort per index is
    many times faster than millions of random b-tree inserts. The schema ends as it was."""
    cursor.execute(
        """
        SELECT quote_ident(t.relname), quote_ident(ci.relname), pg_get_indexdef(i.indexrelid),
               con.conname IS NOT NULL
        FROM pg_index i
        JOIN pg_class t ON t.oid = i.indrelid
        JOIN pg_class ci ON ci.oid = i.indexrelid
        LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.contype = 'u'
        WHERE t.relname = ANY(%s) AND NOT i.indisprimary
        """,
        [BULK_TABLES],
    )
    indexes = cursor.fetchall()
    for table, name, _, is_constraint in indexes:
        if is_constraint:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
        else:
            cursor.execute(f"DROP INDEX {name}")
    try:
        yield
    finally:
        cursor.execute("SET maintenance_work_mem = '256MB'")
        for table, name, definition, is_constraint in indexes:
            cursor.execute(definition)
            if is_constraint:
                cursor.execute(
                    f"ALTER TABLE {table} ADD CONSTRAINT {name} UNIQUE USING INDEX {name}"
                )
        cursor.execute("RESET maintenance_work_mem")


def _add_visits(ref: dict, *, first: int, count: int, start: date, days: int) -> None:
    """`count` visits spread over `days` days from `start`, with their lines and stock."""
    with connection.cursor() as cursor, _indexes_rebuilt_after(cursor):
        cursor.execute("SELECT coalesce(max(id), 0) FROM ssp_visit")
        after = cursor.fetchone()[0]
        # Rows are consistent by construction: skip the per-row foreign-key triggers.
        cursor.execute("SET session_replication_role = replica")
        try:
            midnight = datetime.combine(start, datetime.min.time(), ZoneInfo(settings.TIME_ZONE))
            cursor.execute(
                VISITS_SQL,
                {
                    **ref,
                    "start": midnight,
                    "seconds": days * 86400,
                    "first": first,
                    "last": first + count - 1,
                },
            )
            parameters = {**ref, "after": after, "tz": settings.TIME_ZONE}
            for statement in (SUPPLIES_SQL, MOVEMENTS_SQL, REVERSALS_SQL, REFERRALS_SQL):
                cursor.execute(statement, parameters)
        finally:
            cursor.execute("SET session_replication_role = DEFAULT")
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {', '.join(BULK_TABLES)}, ssp_participant")


def _count_in_month() -> int:
    start, end = PERIOD.bounds()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM ssp_visit WHERE occurred_at >= %s AND occurred_at < %s",
            [start, end],
        )
        return cursor.fetchone()[0]


# --- The raw SQL reference ----------------------------------------------------------------

# Every figure of the report, written by hand: GROUPING SETS give each site and the
# program total (a NULL site) in one pass; unique participants are counted again for
# the total, so a person seen at two sites counts once.
RAW_SQL = """
WITH pv AS MATERIALIZED (
    SELECT id, uuid, site_id, participant_id, contacts, service_model, syringes_collected,
           collection_method, secondary_people, naloxone_refill_reason, overdose_reversals
    FROM ssp_visit
    WHERE occurred_at >= %(start)s AND occurred_at < %(end)s AND voided_at IS NULL
      AND site_id = ANY(%(sites)s)
),
firsts AS (
    SELECT DISTINCT ON (participant_id) id, participant_id
    FROM ssp_visit WHERE voided_at IS NULL AND participant_id IS NOT NULL
    ORDER BY participant_id, occurred_at, id
),
units AS (
    SELECT pv.site_id, s.item_id, s.quantity AS units
    FROM pv JOIN ssp_visitsupply s ON s.visit_id = pv.id WHERE s.item_id IS NOT NULL
    UNION ALL
    SELECT pv.site_id, c.item_id, s.quantity * c.quantity
    FROM pv JOIN ssp_visitsupply s ON s.visit_id = pv.id
    JOIN inventory_kitcomponent c ON c.kit_id = s.kit_id
),
supplied AS (
    SELECT u.site_id, u.units, i.category, i.naloxone_doses_per_unit AS per_unit,
           coalesce(nullif(i.naloxone_formulation, ''), 'unspecified') AS formulation,
           CASE WHEN i.category <> 'drug_checking' THEN NULL
                WHEN i.code ILIKE '%%fts%%' OR i.name ILIKE '%%fentanyl%%' THEN 'fts'
                WHEN i.code ILIKE '%%xts%%' OR i.name ILIKE '%%xylazine%%' THEN 'xts'
                ELSE 'other' END AS strip
    FROM units u JOIN inventory_item i ON i.id = u.item_id
),
referrals AS (
    SELECT r.site_id, t.code, r.referred_on, r.status, r.linked_on
    FROM referrals_referral r JOIN referrals_referraltype t ON t.id = r.type_id
    LEFT JOIN ssp_visit v ON v.id = r.visit_id
    WHERE v.voided_at IS NULL AND r.site_id = ANY(%(sites)s)
)
SELECT site_id, unnest(ARRAY['visits', 'identified_visits', 'anonymous_visits',
           'secondary_people', 'secondary_visits', 'overdose_reversals',
           'syringes_collected', 'refills', 'unique_participants']),
       unnest(ARRAY[sum(contacts),
           coalesce(sum(contacts) FILTER (WHERE participant_id IS NOT NULL), 0),
           coalesce(sum(contacts) FILTER (WHERE participant_id IS NULL), 0),
           sum(secondary_people), count(*) FILTER (WHERE secondary_people > 0),
           sum(overdose_reversals), sum(syringes_collected),
           count(*) FILTER (WHERE naloxone_refill_reason <> ''),
           count(DISTINCT participant_id)])
FROM pv GROUP BY GROUPING SETS ((site_id), ())
UNION ALL
SELECT site_id, 'service_model.' || service_model, sum(contacts)
FROM pv GROUP BY GROUPING SETS ((site_id, service_model), (service_model))
UNION ALL
SELECT site_id, 'collected.' || collection_method, sum(syringes_collected)
FROM pv GROUP BY GROUPING SETS ((site_id, collection_method), (collection_method))
UNION ALL
SELECT site_id, 'refills.' || naloxone_refill_reason, count(*)
FROM pv WHERE naloxone_refill_reason <> ''
GROUP BY GROUPING SETS ((site_id, naloxone_refill_reason), (naloxone_refill_reason))
UNION ALL
SELECT pv.site_id, 'new_participants', count(*)
FROM pv JOIN firsts f ON f.id = pv.id JOIN ssp_participant p ON p.id = pv.participant_id
WHERE p.first_seen_on >= %(first_day)s
GROUP BY GROUPING SETS ((pv.site_id), ())
UNION ALL
SELECT site_id, 'supplies.' || category, sum(units)
FROM supplied GROUP BY GROUPING SETS ((site_id, category), (category))
UNION ALL
SELECT site_id, 'strips.' || strip, sum(units)
FROM supplied WHERE strip IS NOT NULL GROUP BY GROUPING SETS ((site_id, strip), (strip))
UNION ALL
SELECT site_id, unnest(ARRAY['naloxone_units.' || formulation, 'naloxone_doses.' || formulation]),
       unnest(ARRAY[sum(units), sum(units * per_unit)])
FROM supplied WHERE category = 'naloxone'
GROUP BY GROUPING SETS ((site_id, formulation), (formulation))
UNION ALL
SELECT site_id, 'naloxone_doses', sum(units * per_unit)
FROM supplied WHERE category = 'naloxone' GROUP BY GROUPING SETS ((site_id), ())
UNION ALL
SELECT pv.site_id,
       CASE WHEN GROUPING(i.category) = 1 THEN 'funding.' || f.code
            ELSE 'funding.' || f.code || '.' || i.category END,
       -sum(m.quantity)
FROM pv JOIN inventory_stockmovement m ON m.reference = 'visit:' || pv.uuid
JOIN inventory_lot lot ON lot.id = m.lot_id
JOIN inventory_fundingsource f ON f.id = lot.funding_source_id
JOIN inventory_item i ON i.id = m.item_id
GROUP BY GROUPING SETS ((pv.site_id, f.code, i.category), (f.code, i.category),
                        (pv.site_id, f.code), (f.code))
UNION ALL
SELECT site_id, CASE WHEN GROUPING(code) = 1 THEN 'referred' ELSE 'referred.' || code END,
       count(*)
FROM referrals WHERE referred_on >= %(first_day)s AND referred_on < %(after_day)s
GROUP BY GROUPING SETS ((site_id, code), (code), (site_id), ())
UNION ALL
SELECT site_id, CASE WHEN GROUPING(code) = 1 THEN 'linked' ELSE 'linked.' || code END,
       count(*)
FROM referrals
WHERE status = 'linked' AND linked_on >= %(first_day)s AND linked_on < %(after_day)s
GROUP BY GROUPING SETS ((site_id, code), (code), (site_id), ())
"""


def _raw_figures(site_ids: list[int]) -> dict[tuple[str, str], int]:
    start, end = PERIOD.bounds()
    codes = dict(Site.objects.filter(pk__in=site_ids).values_list("pk", "code"))
    with connection.cursor() as cursor:
        cursor.execute(
            RAW_SQL,
            {
                "start": start,
                "end": end,
                "first_day": PERIOD.start,
                "after_day": PERIOD.end_exclusive,
                "sites": site_ids,
            },
        )
        return {
            (codes[site] if site is not None else TOTAL, key): int(value or 0)
            for site, key, value in cursor.fetchall()
        }


def _check_agreement(figures: dict, raw: dict) -> int:
    """Every figure of the report equals the raw SQL's (absent there means zero)."""
    wrong = []
    compared = 0
    for scope, row in figures["values"].items():
        for key, value in row.items():
            compared += 1
            if raw.get((scope, key), 0) != value:
                wrong.append((scope, key, value, raw.get((scope, key), 0)))
    missing = [
        (scope, key, value)
        for (scope, key), value in raw.items()
        if value and key not in figures["values"][scope]
    ]
    if wrong or missing:
        raise RuntimeError(
            f"report and raw SQL disagree on {len(wrong)} figures, e.g. {wrong[:5]}; "
            f"figures only in SQL: {missing[:5]}"
        )
    return compared


# --- A build in a fresh process, for its peak memory ---------------------------------------

BUILD_SCRIPT = """
import json, os, resource, sys, time, tracemalloc
import django
django.setup()
from openpyxl import Workbook  # imported before the baseline, as a warm worker has it
from reports.models import ReportSnapshot
from org.models import User
from reports.periods import Period
import reports.services
from reports.services import report_request
# The linked-set suppression step of the build, timed where the build calls it.
release = reports.services.report_release
release_seconds = []
def timed_release(**kwargs):
    began = time.perf_counter()
    try:
        return release(**kwargs)
    finally:
        release_seconds.append(time.perf_counter() - began)
reports.services.report_release = timed_release
user = User.objects.get(username=sys.argv[1])
period = Period.month(int(sys.argv[2]), int(sys.argv[3]))
ReportSnapshot.objects.exists()  # connect before the baseline
before_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
tracemalloc.start()
began = time.perf_counter()
# Celery runs eagerly here (USE_CELERY_WORKER=false): the on-commit job builds the report
# in this process, through the same request → outbox → task → build path as a worker.
snapshot = report_request(template=sys.argv[4], period=period, by=user)
seconds = time.perf_counter() - began
_, peak = tracemalloc.get_traced_memory()
snapshot.refresh_from_db()
print(json.dumps({
    "status": snapshot.status, "error": snapshot.error, "seconds": seconds,
    "tracemalloc_peak": peak,
    "rss_before_kb": before_kb,
    "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    "visits": snapshot.figures.get("values", {}).get("TOTAL", {}).get("visits"),
    "release_seconds": sum(release_seconds), "releases": len(release_seconds),
    "values": snapshot.figures.get("values", {}),
}))
"""


def _build_between_raw(media_root: str, site_ids: list[int]) -> tuple[dict, float]:
    """A build, and the raw SQL's mean time just before and just after it: the build's
    reference under the same load."""
    before = timed(_raw_figures, site_ids)[1]
    outcome = _build_in_subprocess(media_root)
    after = timed(_raw_figures, site_ids)[1]
    return outcome, (before + after) / 2


def _release_dashboard(site_ids: list[int]) -> int:
    """Show the month on the dashboard (suppressed, the day after it ended): its cells
    join the month's linked set. Returns how many cells the set then holds."""
    monthly_trends(site_ids=site_ids, months=1, today=PERIOD.end_exclusive)
    row = PeriodSuppression.objects.get(period_start=PERIOD.start, period_end=PERIOD.end)
    return len(row.values)


def _build_in_subprocess(media_root: str) -> dict:
    env = bench_env(
        {"USE_CELERY_WORKER": "false", "MEDIA_ROOT": media_root, "EMAIL_URL": "dummymail://"}
    )
    completed = subprocess.run(
        [sys.executable, "-c", BUILD_SCRIPT, USERNAME, str(YEAR), str(MONTH), TEMPLATE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if completed.returncode:
        raise RuntimeError(f"report build failed:\n{completed.stderr[-3000:]}")
    outcome = json.loads(completed.stdout.strip().splitlines()[-1])
    if outcome["status"] != "ready":
        raise RuntimeError(f"report build ended {outcome['status']}: {outcome['error']}")
    return outcome


def run() -> list[dict]:
    import tempfile

    began = time.perf_counter()
    user = bench_staff(username=USERNAME, role=ADMIN)
    ref = _reference_data(user)
    before = PERIOD.start - timedelta(days=31)
    _add_visits(ref, first=1, count=HISTORY_VISITS, start=before, days=31)
    _add_visits(ref, first=HISTORY_VISITS + 1, count=VISITS, start=PERIOD.start, days=30)
    seed_seconds = time.perf_counter() - began
    in_month = _count_in_month()
    print(f"  seeded {in_month:,} visits in the month in {seed_seconds:.0f} s", flush=True)
    if in_month < VISITS:
        raise RuntimeError(f"only {in_month} visits seeded in the month")

    site_ids = ref["sites"]
    # The first report run warms the cache for both timed runs (and is checked).
    figures = compute_figures(period=PERIOD, site_ids=site_ids)
    raw = _raw_figures(site_ids)
    compared = _check_agreement(figures, raw)
    # Taking turns, so a change of load on a shared machine weighs on both alike.
    raw_times, report_times = [], []
    for _ in range(ROUNDS):
        raw_times.append(timed(_raw_figures, site_ids)[1])
        report_times.append(timed(compute_figures, period=PERIOD, site_ids=site_ids)[1])
    raw_seconds, report_seconds = median(raw_times), median(report_times)

    # The month's linked set holds the dashboard's release before the report's (as on a
    # program's server, where the dashboard is looked at every day), so the build's
    # suppression is chosen over both, not over a set of one.
    released = _release_dashboard(site_ids)
    with tempfile.TemporaryDirectory(prefix="bench-reports-") as media_root:
        small, raw_around_small = _build_between_raw(media_root, site_ids)
        _check_agreement(small, raw)
        began = time.perf_counter()
        _add_visits(
            ref, first=HISTORY_VISITS + VISITS + 1, count=MORE_VISITS, start=PERIOD.start, days=30
        )
        more_seed_seconds = time.perf_counter() - began
        in_month_large = _count_in_month()
        print(f"  seeded to {in_month_large:,} in {more_seed_seconds:.0f} s", flush=True)
        raw_large = _raw_figures(site_ids)  # also reads the new rows into the cache once
        large, raw_large_seconds = _build_between_raw(media_root, site_ids)
        _check_agreement(large, raw_large)

    small_label = f"{in_month:,} visits"
    large_label = f"{in_month_large:,} visits"
    raw_large_name = f"{RAW}, {large_label}, timed just before and after the build"
    build = "reports: whole on-demand build (figures, suppression, CSV, XLSX)"
    without = "reports: the same build less its linked-set suppression step"
    suppression = (
        f"reports: linked-set suppression step of the build ({released} cells of the "
        "dashboard already in the set)"
    )
    python_peak = "reports: build peak Python allocations (tracemalloc)"
    process_peak = "reports: build process peak resident memory (ru_maxrss)"
    rows = [
        result("reports: visits in the month", in_month, "visits"),
        result(f"reports: figures equal to the raw SQL's, {small_label}", compared, "figures"),
        result(RAW, raw_seconds * 1000, "ms"),
        result(f"reports: compute_figures, {small_label}", report_seconds * 1000, "ms", RAW),
        result(f"{RAW}, timed just before and after the build", raw_around_small * 1000, "ms"),
        result(
            f"{build}, {small_label}",
            small["seconds"] * 1000,
            "ms",
            f"{RAW}, timed just before and after the build",
        ),
        result(raw_large_name, raw_large_seconds * 1000, "ms"),
        result(f"{build}, {large_label}", large["seconds"] * 1000, "ms", raw_large_name),
        result(
            f"{build}, {large_label} against {small_label}",
            large["seconds"] * 1000,
            "ms",
            f"{build}, {small_label}",
        ),
        result(
            f"{without}, {small_label}",
            (small["seconds"] - small["release_seconds"]) * 1000,
            "ms",
        ),
        result(
            f"{suppression}, {small_label}",
            small["release_seconds"] * 1000,
            "ms",
            f"{without}, {small_label}",
        ),
        result(
            f"{without}, {large_label}",
            (large["seconds"] - large["release_seconds"]) * 1000,
            "ms",
        ),
        result(
            f"{suppression}, {large_label}",
            large["release_seconds"] * 1000,
            "ms",
            f"{without}, {large_label}",
        ),
        result(f"{python_peak}, {small_label}", small["tracemalloc_peak"] / 2**20, "MiB"),
        result(
            f"{python_peak}, {large_label}",
            large["tracemalloc_peak"] / 2**20,
            "MiB",
            f"{python_peak}, {small_label}",
        ),
        result(f"{process_peak}, {small_label}", small["peak_rss_kb"] / 1024, "MiB"),
        result(
            f"{process_peak}, {large_label}",
            large["peak_rss_kb"] / 1024,
            "MiB",
            f"{process_peak}, {small_label}",
        ),
    ]
    print(
        f"  seeded {in_month:,} visits in {seed_seconds:.0f} s and {MORE_VISITS:,} more in "
        f"{more_seed_seconds:.0f} s; raw SQL {raw_seconds:.1f} s, compute_figures "
        f"{report_seconds:.1f} s, build {small['seconds']:.1f} s → {large['seconds']:.1f} s; "
        f"peak Python memory {small['tracemalloc_peak'] / 2**20:.1f} → "
        f"{large['tracemalloc_peak'] / 2**20:.1f} MiB; {compared} figures agree"
    )
    return rows
