"""Batch sync: 200 queued visits in one POST /api/v1/sync/ against the same 200 visits
sent one by one to POST /api/v1/visits/, on the same gunicorn server in the same run.

An outreach phone that was offline all afternoon comes back with its queue: each
visit has its client UUID, its time and 3 supply lines (a kit of three items and two
items, so 5 balance rows move), a returning participant code. The single POSTs go
from one client over one keep-alive connection, one after the other, as a device
would send its queue without a batch endpoint; the batch is one request. Both must
create every visit (the batch's answer is checked record by record), and a replay of
the batch must answer "duplicate" for each and create nothing. The two take turns for
ROUNDS rounds, each with a new queue, and the medians are compared.
"""

import http.client
import json
import time
import urllib.parse
import uuid
from datetime import timedelta
from statistics import median

from django.utils import timezone

from bench.common import bench_staff, gunicorn_server, http_load, result, token_headers
from config.celery import app as celery_app
from inventory.models import FundingSource, Item, Kit, KitComponent, Location
from inventory.services import ReceiptLine, stock_receive
from org.models import Site
from org.roles import FRONT_DESK, MANAGER
from ssp.models import Participant, Visit

QUEUED = 200
ROUNDS = 3  # single POSTs and a batch take turns; the medians are compared
NAME = f"sync: {QUEUED} queued visits (3 lines)"
SINGLES = f"{NAME}, {QUEUED} single POST /api/v1/visits/"
BATCH = f"{NAME}, one POST /api/v1/sync/"


def _setup() -> tuple[Site, list[str]]:
    site = Site.objects.get_or_create(
        code="BSYN", defaults={"name": "Bench sync van", "service_model": "mobile"}
    )[0]
    manager = bench_staff(username="bench_sync_manager", role=MANAGER, sites=[site])
    bench_staff(username="bench_sync_outreach", role=FRONT_DESK, sites=[site])
    fund = FundingSource.objects.get_or_create(code="bench-sync", defaults={"name": "Bench sync"})[
        0
    ]
    Item.objects.bulk_create(
        [
            Item(code=f"bsyn-{n}", name=f"Bench sync item {n}", category="injection")
            for n in range(5)
        ],
        ignore_conflicts=True,
    )
    items = list(Item.objects.filter(code__startswith="bsyn-").order_by("code"))
    kit = Kit.objects.get_or_create(code="bsyn-kit", defaults={"name": "Bench sync kit"})[0]
    KitComponent.objects.bulk_create(
        [KitComponent(kit=kit, item=item, quantity=10) for item in items[2:]],
        ignore_conflicts=True,
    )
    shelf = Location.objects.create(name="Bench sync van shelf", kind="van", site=site)
    receipt = [ReceiptLine(item=item, quantity=1_000_000) for item in items]
    stock_receive(location=shelf, lines=receipt, funding_source=fund, by=manager)
    # Returning participants: recipe-shaped codes (4 letters, a birth year, a gender).
    letters = [a + b for a in "ABCDEFGHIJ" for b in "KLMNOPQRST"]
    codes = [f"BS{pair}{1970 + n % 30}F" for n, pair in enumerate(letters)]
    day = timezone.localdate()
    # Some may be there already: bench_intake's million recipe-shaped codes, in the same run.
    Participant.objects.bulk_create(
        [Participant(code=c, first_seen_on=day) for c in codes], ignore_conflicts=True
    )
    return site, codes


def _queue(site: Site, codes: list[str]) -> list[dict]:
    """The device's queue: visits of the last few hours, oldest first."""
    start = timezone.now() - timedelta(hours=4)
    return [
        {
            "client_uuid": str(uuid.uuid4()),
            "site": site.pk,
            "code": codes[n % len(codes)],
            "occurred_at": (start + timedelta(seconds=60 * n)).isoformat(),
            "supplies": [
                {"kit": "bsyn-kit", "quantity": 1},
                {"item": "bsyn-0", "quantity": 10},
                {"item": "bsyn-1", "quantity": 2},
            ],
            "syringes_collected": 10,
        }
        for n in range(QUEUED)
    ]


def _post(base: str, path: str, body: dict, headers: dict) -> tuple[float, int, dict]:
    parts = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=300)
    send = {**headers, "Content-Type": "application/json", "Accept": "application/json"}
    began = time.perf_counter()
    conn.request("POST", path, body=json.dumps(body), headers=send)
    response = conn.getresponse()
    payload = response.read()
    seconds = time.perf_counter() - began
    conn.close()
    return seconds, response.status, json.loads(payload)


def _batch(queue: list[dict]) -> dict:
    return {
        "records": [
            {"kind": "visit", "client_uuid": body["client_uuid"], "body": body} for body in queue
        ]
    }


def _statuses(answer: dict) -> set[str]:
    return {row["status"] for row in answer["results"]}


def run() -> list[dict]:
    site, codes = _setup()
    headers = token_headers("bench_sync_outreach")
    warm_queue = _queue(site, codes)[:10]
    before = Visit.objects.count()
    singles_rounds, batch_rounds = [], []
    with gunicorn_server(workers=2) as base:
        # Warm both code paths (imports, connections, caches) before timing either.
        _post(base, "/api/v1/sync/", _batch(warm_queue[:5]), headers)
        # Taking turns, round after round: a shared machine's load moves more between a
        # minute of single POSTs and the batch after it than the code moves the ratio.
        for round_number in range(ROUNDS):
            singles_queue, batch_queue = _queue(site, codes), _queue(site, codes)
            singles = http_load(
                url=f"{base}/api/v1/visits/",
                clients=1,
                requests_per_client=QUEUED,
                method="POST",
                body_factory=lambda client, n, q=singles_queue: (
                    warm_queue[4 - n] if n < 0 else q[n]
                ),
                headers=headers,
                ok_status=lambda status: status == 201,
                warmup=5 if round_number == 0 else 0,
            )
            if singles.errors:
                raise RuntimeError(
                    f"single POSTs: {singles.errors} errors, e.g. {singles.error_samples}"
                )
            seconds, status, answer = _post(base, "/api/v1/sync/", _batch(batch_queue), headers)
            if (
                status != 200
                or _statuses(answer) != {"created"}
                or len(answer["results"]) != QUEUED
            ):
                raise RuntimeError(f"batch: {status}, {str(answer)[:300]}")
            singles_rounds.append(singles)
            batch_rounds.append(seconds)
        replay_seconds, replay_status, replay = _post(
            base, "/api/v1/sync/", _batch(batch_queue), headers
        )
    celery_app.control.purge()  # the alert re-checks have no worker here
    if replay_status != 200 or _statuses(replay) != {"duplicate"}:
        raise RuntimeError(f"replay: {replay_status}, {str(replay)[:300]}")
    created = Visit.objects.count() - before
    expected = ROUNDS * 2 * QUEUED + len(warm_queue)
    if created != expected:
        raise RuntimeError(f"{created} visits created, expected {expected}")
    singles_total = median(s.seconds for s in singles_rounds)
    batch_total = median(batch_rounds)
    each = ", ".join(
        f"{s.seconds / b:.2f}" for s, b in zip(singles_rounds, batch_rounds, strict=True)
    )
    print(f"  batch speed-up round by round: {each} ×", flush=True)
    return [
        result(f"{SINGLES}: total (median of {ROUNDS} rounds)", singles_total, "s"),
        result(f"{SINGLES}: p50 each", median(s.p50 for s in singles_rounds), "ms"),
        result(f"{BATCH}: total (median of {ROUNDS} rounds)", batch_total, "s"),
        result(f"{BATCH}, replayed (all duplicate): total", replay_seconds, "s"),
        result(
            f"{NAME}: batch speed-up over single POSTs (medians)",
            singles_total / batch_total,
            "×",
            reference=f"{SINGLES}: total (median of {ROUNDS} rounds)",
            ratio=singles_total / batch_total,
        ),
        result(
            f"{NAME}: batch speed-up, the lowest round",
            min(s.seconds / b for s, b in zip(singles_rounds, batch_rounds, strict=True)),
            "×",
        ),
    ]
