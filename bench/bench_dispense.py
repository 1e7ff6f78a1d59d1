"""Dispense throughput through `inventory.services.stock_dispense`, with and without
contention for the same balance row.

Each thread has its own database connection and calls the service in a loop for a
fixed time, one unit per call, each call its own transaction (lock the balances, write
the movement, mark the pair due an alert re-check; when the pair was not marked yet,
write the outbox job and, after commit, send it to Redis), as a visit does. A real
Celery worker runs meanwhile, so the re-checks really happen and clear the marks: a
dispense after a check has started queues the next one. The share of dispenses that
queued a job is printed.

- 1 thread on one item: the cost of one dispense with nobody in the way.
- 8 threads on 8 different items at the same location: no two transactions want the
  same row, so any slowdown is the machine (2 cores), not locking.
- 8 threads on the same item: every transaction locks the same balance row
  (`SELECT … FOR UPDATE`), so they queue behind each other; this is the worst case
  of a busy site handing out one popular item.
- The reference: the bare SQL of a one-unit dispense (a conditional
  `UPDATE … WHERE quantity >= 1` and an `INSERT` of the movement) from one thread.
- 1 thread, the outbox job left unsent (`jobs_after_response`, as a web request leaves
  it until its response is out), on an item of its own: its first job stays pending,
  so its pair stays marked and no later call queues a job. This is the dispense with a
  check already queued: the statement and the commit, nothing else. The run's database
  is dropped by the next run.

Every item is lot-tracked with two lots, so each call really chooses first-expiry-
first-out. After the runs the benchmark checks that no call failed and that every
balance still equals the sum of its movements.
"""

import contextlib
import statistics
import threading
import time
from datetime import timedelta

from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from bench.common import bench_staff, celery_worker, result
from config.celery import app as celery_app
from inventory.models import FundingSource, Item, Location, Lot, StockBalance
from inventory.selectors import balance_drift
from inventory.services import DispenseLine, ReceiptLine, stock_dispense, stock_receive
from org.roles import ADMIN
from outbox.models import OutboxJob
from outbox.services import jobs_after_response

THREADS = 8
SECONDS = 8.0
# The one-thread figures and the raw reference take turns in short rounds, so that load
# from elsewhere on the machine falls on all of them alike: their ratios are what counts.
ROUNDS = 4
WARMUP_CALLS = 20
STOCK_PER_LOT = 400_000  # 22 lots: one receipt holds 10,000,000 units at most
PREFIX = "Bench dispense"

ONE = "dispense: 1 thread, one item: throughput"
DISTINCT = f"dispense: {THREADS} threads, distinct items: throughput"
SAME = f"dispense: {THREADS} threads, same item: throughput"
RAW = "dispense: raw SQL UPDATE + INSERT, 1 thread: throughput"
UNSENT = "dispense: 1 thread, outbox job not sent in the call: throughput"
QUEUED = "dispense: 1 thread: share of dispenses that queued an alert re-check"
# items[0]: one thread and 8 threads on one item; 1..THREADS: distinct; then the raw
# reference's and the unsent loop's own items.
RAW_ITEM = THREADS + 1
UNSENT_ITEM = THREADS + 2


def _seed(user):
    today = timezone.localdate()
    location = Location.objects.create(name=f"{PREFIX} site", kind="site")
    fund = FundingSource.objects.create(name=f"{PREFIX} fund", code="bench-dispense")
    items = Item.objects.bulk_create(
        Item(
            name=f"{PREFIX} strip {n}",
            code=f"bench-dispense-{n}",
            category="drug_checking",
            is_lot_tracked=True,
        )
        for n in range(THREADS + 3)
    )
    stock_receive(
        location=location,
        lines=[
            ReceiptLine(
                item=item,
                quantity=STOCK_PER_LOT,
                lot_number=f"BD-{item.pk}-{k}",
                expires_on=today + timedelta(days=200 + 100 * k),
            )
            for item in items
            for k in range(2)
        ],
        funding_source=fund,
        by=user,
    )
    return location, items


def _dispense_loop(*, location, item, user, tag, send=True):
    lines = [DispenseLine(item=item, quantity=1)]
    n = 0

    def call():
        nonlocal n
        if send:
            stock_dispense(location=location, lines=lines, by=user, reference=f"bench:{tag}:{n}")
        else:
            with jobs_after_response():  # the ids it collects are dropped: never sent
                stock_dispense(
                    location=location, lines=lines, by=user, reference=f"bench:{tag}:{n}"
                )
        n += 1

    return call


def _raw_loop(*, location, item, user):
    """The bare SQL a one-unit dispense needs: take from the earliest lot, log it."""
    balance = (
        StockBalance.objects.filter(location=location, item=item)
        .order_by("lot__expires_on")
        .values_list("pk", "lot_id")
        .first()
    )
    balance_id, lot_id = balance

    def call():
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "UPDATE inventory_stockbalance SET quantity = quantity - 1 "
                "WHERE id = %s AND quantity >= 1",
                [balance_id],
            )
            if cursor.rowcount != 1:
                raise RuntimeError("raw reference ran out of stock")
            cursor.execute(
                "INSERT INTO inventory_stockmovement (kind, item_id, lot_id, location_id, "
                "quantity, reason, reference, occurred_at, recorded_at, recorded_by_id) "
                "VALUES ('dispense', %s, %s, %s, -1, '', 'bench:raw', now(), now(), %s)",
                [item.pk, lot_id, location.pk, user.pk],
            )

    return call


def _run(calls, seconds: float = SECONDS) -> dict:
    """Run each callable in its own thread for `seconds`; return throughput and latencies."""
    barrier = threading.Barrier(len(calls) + 1)
    lock = threading.Lock()
    latencies: list[float] = []
    errors: list[str] = []

    def worker(call):
        mine = []
        try:
            for _ in range(WARMUP_CALLS):  # connects, warms caches; not counted
                call()
            barrier.wait()
            deadline = time.perf_counter() + seconds
            while time.perf_counter() < deadline:
                began = time.perf_counter()
                call()
                mine.append(time.perf_counter() - began)
        except Exception as exc:  # reported below: a benchmark with errors fails
            errors.append(repr(exc))
            barrier.abort()
        finally:
            with lock:
                latencies.extend(mine)
            connection.close()

    threads = [threading.Thread(target=worker, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    # A thread that fails while warming up breaks the barrier; its error is raised below.
    with contextlib.suppress(threading.BrokenBarrierError):
        barrier.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    if errors:
        raise RuntimeError(f"{len(errors)} thread(s) failed: {errors[:3]}")
    return _summary(latencies, seconds)


def _summary(latencies: list[float], seconds: float) -> dict:
    ordered = sorted(latencies)
    return {
        "latencies": latencies,
        "seconds": seconds,
        "throughput": len(latencies) / seconds,
        "p50": statistics.median(ordered) * 1000,
        "p95": ordered[max(0, int(len(ordered) * 0.95) - 1)] * 1000,
        "calls": len(latencies),
    }


def _checks_queued(location, item, since) -> int:
    pair = [location.pk, item.pk]
    jobs = OutboxJob.objects.filter(task_name="inventory.tasks.alerts_check", created_at__gte=since)
    return sum(pair in kwargs["pairs"] for kwargs in jobs.values_list("kwargs", flat=True))


def _checks_catch_up(seconds: float = 120) -> tuple[float, int]:
    """Wait until the worker has run every re-check the dispenses sent (at most
    `seconds`); return the wait and how many were still waiting at its end."""
    began = time.monotonic()
    waiting = OutboxJob.objects.filter(
        task_name="inventory.tasks.alerts_check",
        done_at__isnull=True,
        dispatched_at__isnull=False,
    )
    while (left := waiting.count()) and time.monotonic() - began < seconds:
        time.sleep(0.5)
    return time.monotonic() - began, left


def run() -> list[dict]:
    user = bench_staff(username="bench_dispense_admin", role=ADMIN)
    location, items = _seed(user)
    close_old_connections()

    with celery_worker():
        distinct = _run(
            [
                _dispense_loop(location=location, item=items[1 + i], user=user, tag=f"d{i}")
                for i in range(THREADS)
            ]
        )
        same = _run(
            [
                _dispense_loop(location=location, item=items[0], user=user, tag=f"s{i}")
                for i in range(THREADS)
            ]
        )
        alone = {
            "one": _dispense_loop(location=location, item=items[0], user=user, tag="one"),
            "unsent": _dispense_loop(
                location=location, item=items[UNSENT_ITEM], user=user, tag="u", send=False
            ),
            "raw": _raw_loop(location=location, item=items[RAW_ITEM], user=user),
        }
        alone_began = timezone.now()
        turns = {name: [] for name in alone}
        for _ in range(ROUNDS):
            for name, call in alone.items():
                turns[name].append(_run([call], seconds=SECONDS / ROUNDS))
        checks_queued = _checks_queued(location, items[0], since=alone_began)
        catch_up, left = _checks_catch_up()
    one, unsent, raw = (
        _summary(
            [latency for turn in turns[name] for latency in turn["latencies"]],
            sum(turn["seconds"] for turn in turns[name]),
        )
        for name in ("one", "unsent", "raw")
    )

    # Every call committed a movement and its balance together: the ledger still sums.
    drift = balance_drift()
    if drift:
        raise RuntimeError(f"balances drifted from the ledger: {drift[:3]}")
    earliest = Lot.objects.filter(item=items[0]).order_by("expires_on").first()
    later = Lot.objects.filter(item=items[0]).order_by("-expires_on").first()
    taken_from_later = STOCK_PER_LOT - StockBalance.objects.get(lot=later).quantity
    if taken_from_later:
        raise RuntimeError("first-expiry-first-out broken: the later lot was used first")
    if StockBalance.objects.get(lot=earliest).quantity >= STOCK_PER_LOT:
        raise RuntimeError("nothing was dispensed")
    # Nothing left waiting in this run's Redis database.
    celery_app.control.purge()

    unit = "dispenses/s"
    return [
        result(RAW, raw["throughput"], unit),
        result(ONE, one["throughput"], unit, reference=RAW),
        result(UNSENT, unsent["throughput"], unit, reference=RAW),
        # The warm-up calls of each turn are not counted in `calls`: an upper bound.
        result(QUEUED, checks_queued / (one["calls"] + ROUNDS * WARMUP_CALLS), "ratio"),
        # The checks really ran: the worker's backlog when the dispensing stopped.
        result("dispense: worker catching up with the re-checks after the runs", catch_up, "s"),
        result("dispense: re-checks sent and still not run 120 s later", left, "jobs"),
        result(DISTINCT, distinct["throughput"], unit, reference=ONE),
        result(SAME, same["throughput"], unit, reference=ONE),
        result(
            f"dispense: same item vs distinct items, {THREADS} threads",
            same["throughput"] / distinct["throughput"],
            "ratio",
        ),
        result("dispense: 1 thread: p50 latency", one["p50"], "ms"),
        result("dispense: 1 thread: p95 latency", one["p95"], "ms"),
        result(
            f"dispense: {THREADS} threads, distinct items: p95 latency",
            distinct["p95"],
            "ms",
            reference="dispense: 1 thread: p95 latency",
        ),
        result(
            f"dispense: {THREADS} threads, same item: p95 latency",
            same["p95"],
            "ms",
            reference="dispense: 1 thread: p95 latency",
        ),
    ]
