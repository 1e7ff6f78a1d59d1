"""Intake: visit creation through the API, and code look-up with near-match suggestions
at 1M participants.

(a) POST /api/v1/visits/ with 6 supply lines (one kit of three items + five items) by 16
concurrent clients with tokens, spread over four sites (a busy program's front desks,
not 16 desks fighting over one shelf), each request a new client UUID and a returning
code. The reference is the bare authenticated DRF endpoint (GET /api/v1/sites/) loaded
the same way on the same gunicorn server in the same run, just before.

(b) 1,000,000 participants inserted with one `generate_series` statement, then the
look-up of a mistyped code (one letter wrong, or two swapped): `code_lookup` in-process
(selector) and GET /api/v1/participants/lookup/ over HTTP (endpoint). Both must return
the intended code among the suggestions; the plan of the suggestion query is checked to
use the code index, not a scan.
"""

import random
import statistics
import time
import uuid

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench.common import bench_staff, gunicorn_server, http_load, result, token_headers
from config.celery import app as celery_app
from inventory.models import FundingSource, Item, Kit, Location
from inventory.services import ReceiptLine, stock_receive
from org.models import Site
from org.roles import FRONT_DESK, MANAGER
from outbox.models import OutboxJob
from outbox.services import jobs_deferred, jobs_send_collected
from ssp.codes import near_variants
from ssp.models import Participant
from ssp.selectors import code_lookup

CLIENTS = 16
SECONDS = 15
PARTICIPANTS = 1_000_000
LOOKUPS = 300
BASE = "intake: bare GET /api/v1/sites/, 16 clients"
VISITS = "intake: POST /api/v1/visits/ (6 lines), 16 clients"
HAND = "intake: hand-written visit (one SQL statement, 6 lines), 16 clients"
QUERIES = "intake: SQL queries per request"


def _visit_setup() -> tuple[list[Site], list[str]]:
    sites = [
        Site.objects.get_or_create(
            code=f"BINT{n}", defaults={"name": f"Bench intake {n}", "service_model": "fixed"}
        )[0]
        for n in range(4)
    ]
    manager = bench_staff(username="bench_intake_manager", role=MANAGER, sites=sites)
    bench_staff(username="bench_intake_desk", role=FRONT_DESK, sites=sites)
    fund = FundingSource.objects.get_or_create(code="bench-intake", defaults={"name": "Bench"})[0]
    items = [
        Item.objects.get_or_create(
            code=f"bint-{n}", defaults={"name": f"Bench intake item {n}", "category": "injection"}
        )[0]
        for n in range(8)
    ]
    kit, created = Kit.objects.get_or_create(code="bint-kit", defaults={"name": "Bench kit"})
    if created:
        for item in items[5:]:
            kit.components.create(item=item, quantity=10)
    for site in sites:
        location = Location.objects.get_or_create(
            name=f"Bench intake shelf {site.code}", defaults={"kind": "site", "site": site}
        )[0]
        stock_receive(
            location=location,
            lines=[ReceiptLine(item=item, quantity=1_000_000) for item in items],
            funding_source=fund,
            by=manager,
        )
    codes = [f"BQ{chr(65 + n // 26 % 26)}{chr(65 + n % 26)}19{70 + n % 30}M" for n in range(400)]
    today = timezone.localdate()
    Participant.objects.bulk_create(
        [Participant(code=code, first_seen_on=today) for code in codes], ignore_conflicts=True
    )
    return sites, codes


def _visits(rows: list[dict]) -> None:
    sites, codes = _visit_setup()
    headers = token_headers("bench_intake_desk")
    lines = [{"kit": "bint-kit", "quantity": 1}] + [
        {"item": f"bint-{n}", "quantity": 2} for n in range(5)
    ]

    def body(client: int, n: int) -> dict:
        return {
            "client_uuid": str(uuid.uuid4()),
            "site": sites[client % len(sites)].pk,
            "code": codes[(client * 7919 + n) % len(codes)],
            "supplies": lines,
            "syringes_collected": 10,
        }

    # One server for the three loads: the bare endpoint, the hand-written visit and the
    # project's visit (bench/reference_wsgi.py adds the hand-written one, bench only).
    with gunicorn_server(workers=2, app="bench.reference_wsgi") as base:
        sites_url = f"{base}/api/v1/sites/"
        reference = http_load(
            url=sites_url, clients=CLIENTS, duration=SECONDS, headers=headers, warmup=3
        )
        hand, visits = (
            http_load(
                url=f"{base}{path}",
                clients=CLIENTS,
                duration=SECONDS,
                method="POST",
                body_factory=body,
                headers=headers,
                ok_status=lambda status: status == 201,
                warmup=2,
            )
            for path in ("/bench/reference-visit/", "/api/v1/visits/")
        )
    # The alert re-checks the visits queued have no worker here; drop them so they do
    # not wait in this run's Redis database.
    celery_app.control.purge()
    for name, load in ((BASE, reference), (HAND, hand), (VISITS, visits)):
        if load.errors:
            raise RuntimeError(f"{name}: {load.errors} errors, e.g. {load.error_samples}")
    rows += [
        result(f"{BASE}: throughput", reference.throughput, "req/s"),
        result(f"{BASE}: p50 latency", reference.p50, "ms"),
        result(f"{BASE}: p95 latency", reference.p95, "ms"),
        result(f"{HAND}: throughput", hand.throughput, "req/s", reference=f"{BASE}: throughput"),
        result(f"{HAND}: p95 latency", hand.p95, "ms", reference=f"{BASE}: p95 latency"),
        result(
            f"{VISITS}: throughput", visits.throughput, "req/s", reference=f"{BASE}: throughput"
        ),
        result(
            f"{VISITS} vs hand-written: throughput",
            visits.throughput,
            "req/s",
            reference=f"{HAND}: throughput",
        ),
        result(f"{VISITS}: p50 latency", visits.p50, "ms", reference=f"{BASE}: p50 latency"),
        result(f"{VISITS}: p95 latency", visits.p95, "ms", reference=f"{BASE}: p95 latency"),
    ]
    rows += _query_counts(body)


def _query_counts(body) -> list[dict]:
    """SQL statements one request runs, in-process through Django's test client (the
    same views and middleware, no HTTP), BEGIN and COMMIT included. What runs after the
    response (the outbox send) is counted apart."""
    client = Client(headers=token_headers("bench_intake_desk"), SERVER_NAME="127.0.0.1")
    requests = {
        "GET /api/v1/sites/": lambda: client.get("/api/v1/sites/"),
        "POST /api/v1/visits/ (6 lines)": lambda: client.post(
            "/api/v1/visits/", body(0, 0), content_type="application/json"
        ),
        "GET /api/v1/participants/lookup/": lambda: client.get(
            "/api/v1/participants/lookup/?code=BQAB1971M"
        ),
    }
    rows = []
    for name, call in requests.items():
        call()  # warm-up: content types and other per-process caches
        last_job = OutboxJob.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        # Jobs held back, then sent as the response's close() would send them, apart.
        with jobs_deferred(), CaptureQueriesContext(connection) as queries:
            response = call()
        if response.status_code >= 400:
            raise RuntimeError(f"{name}: {response.status_code} {response.content[:300]}")
        rows.append(result(f"{QUERIES}: {name}", len(queries.captured_queries), "queries"))
        jobs = list(OutboxJob.objects.filter(pk__gt=last_job).values_list("pk", flat=True))
        if jobs:
            with CaptureQueriesContext(connection) as after:
                jobs_send_collected(jobs)
            rows.append(result(f"{QUERIES}: {name}, after the response", len(after), "queries"))
    celery_app.control.purge()
    return rows


# --- (b) Look-up at 1M participants ----------------------------------------------------

# Codes of the default recipe (2 + 2 letters, birth year, gender), all distinct: the four
# letters are a permutation p of i mod 26^4; the year carries i div 26^4 and p mod 20.
INSERT_PARTICIPANTS = """
INSERT INTO ssp_participant (code, first_seen_on, gender, age_band, zip3, created_at)
SELECT chr(65 + p %% 26) || chr(65 + (p / 26) %% 26) || chr(65 + (p / 676) %% 26)
       || chr(65 + (p / 17576) %% 26)
       || (1950 + (i / 456976) * 20 + p %% 20)::text
       || substr('FMXU', 1 + ((p / 20) %% 4)::int, 1),
       current_date - (i %% 900), '', '', '', now()
FROM (SELECT i::int AS i, ((i %% 456976) * 7919 %% 456976)::int AS p
      FROM generate_series(1::bigint, %(count)s) AS i) AS numbers
ON CONFLICT DO NOTHING
"""


def _mistyped(code: str, rng: random.Random) -> str:
    if rng.random() < 0.5:  # swapped neighbouring letters
        i = rng.randrange(3)
        return code[:i] + code[i + 1] + code[i] + code[i + 2 :]
    i = rng.randrange(4)  # one letter wrong
    letter = rng.choice([c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c != code[i]])
    return code[:i] + letter + code[i + 1 :]


def _index_used(code: str) -> None:
    variants = sorted(near_variants(code))
    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN SELECT id, code FROM ssp_participant WHERE code = ANY(%s)", [variants]
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    if "Seq Scan" in plan:
        raise RuntimeError(f"near-match query scans the table:\n{plan}")


def _lookups(rows: list[dict]) -> None:
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(INSERT_PARTICIPANTS, {"count": PARTICIPANTS})
        cursor.execute("ANALYZE ssp_participant")
    seeded = time.perf_counter() - began
    total = Participant.objects.count()
    if total < PARTICIPANTS:
        raise RuntimeError(f"only {total} participants after the insert")
    rng = random.Random(7)
    sample = list(
        Participant.objects.filter(code__regex=r"^[A-Z]{4}[0-9]{4}[FMXU]$")
        .order_by("?")
        .values_list("code", flat=True)[:LOOKUPS]
    )
    typed = []
    for code in sample:
        wrong = _mistyped(code, rng)
        if wrong != code and not Participant.objects.filter(code=wrong).exists():
            typed.append((wrong, code))
    _index_used(typed[0][0])

    desk = bench_staff(username="bench_intake_manager", role=MANAGER)
    timings = []
    for wrong, meant in typed:
        start = time.perf_counter()
        found = code_lookup(wrong, user=desk)
        timings.append((time.perf_counter() - start) * 1000)
        # At a million dense codes a typo can have more near matches than the list
        # shows (8, people seen recently first): then the intended one may be cut.
        crowded = len(found.suggestions) >= 8
        if meant not in {s.code for s in found.suggestions} and not crowded:
            raise RuntimeError(f"{wrong}: {meant} not suggested ({found.suggestions})")
    selector = statistics.quantiles(timings, n=100)

    headers = token_headers("bench_intake_manager")
    # The per-person look-up limit (SSP_LOOKUP_RATE) would refuse a load of 300 in a row.
    with gunicorn_server(workers=2, env={"SSP_LOOKUP_RATE": "1000000/min"}) as base:
        load = http_load(
            url=f"{base}/api/v1/participants/lookup/?code={typed[0][0]}",
            clients=1,
            requests_per_client=LOOKUPS,
            headers=headers,
            warmup=5,
        )
    if load.errors:
        raise RuntimeError(f"lookup endpoint: {load.errors} errors, e.g. {load.error_samples}")
    name = f"intake: code look-up with suggestions, {total:,} participants"
    rows += [
        result(f"intake: insert {PARTICIPANTS:,} participants (generate_series)", seeded, "s"),
        result(f"{name}, selector: p50", selector[49], "ms"),
        result(f"{name}, selector: p95", selector[94], "ms"),
        result(f"{name}, GET endpoint 1 client: p50", load.p50, "ms"),
        result(f"{name}, GET endpoint 1 client: p95", load.p95, "ms"),
    ]


def run() -> list[dict]:
    rows: list[dict] = []
    _visits(rows)
    _lookups(rows)
    return rows
