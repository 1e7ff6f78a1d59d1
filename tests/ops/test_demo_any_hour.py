"""A first run works at any hour: the demo never dates anything after "now".

The schedule test below covers every hour × day combination (and every position in the
two-week delivery cycle) without a database, through the demo's pure date plans. The
first-run test runs the real `migrate` + one-year `seed_demo` (in a process of its own,
on a fresh SQLite file, as a fresh clone's `make run`) twice in `make test`, and on each
day of a delivery cycle, a first of the month and both DST changes, the hours rotating,
in `make first-runs`."""

import json
import os
import random
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, time, timedelta
from io import StringIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import timezone

import reports.demo
from events.demo import event_plan
from inventory.demo import history_dates
from inventory.selectors import balance_drift
from org.models import DemoSeed
from referrals.demo import LINK_CHANCE, outcome_plan
from ssp.demo import BLOCK_DAYS, demo_schedule
from ssp.models import Visit

PROGRAM = ZoneInfo("America/New_York")
HOURS = [time(0, 30), time(3, 0), time(7, 29), time(23, 59)]
CYCLE = [date(2026, 12, 2) + timedelta(days=n) for n in range(BLOCK_DAYS)]
FIRST_OF_MONTH = date(2027, 1, 1)
DST_DAYS = [date(2026, 3, 8), date(2026, 11, 1)]  # clocks forward, clocks back
DAYS = [*CYCLE, FIRST_OF_MONTH, *DST_DAYS]
# The schedule test also tries the edges: just after midnight, the repeated hour of the
# November change (both folds), the missing hour of the March one, opening time.
EDGE_HOURS = [time(0, 0, 30), time(1, 30), time(1, 30, fold=1), time(2, 30), time(9, 0)]


def at(day: date, hour: time) -> datetime:
    return datetime.combine(day, hour, tzinfo=PROGRAM)


@pytest.fixture(autouse=True)
def program_time_zone(settings):
    settings.TIME_ZONE = "America/New_York"


def assert_schedule_in_the_past(now: datetime, days: int) -> None:
    schedule = demo_schedule(random.Random(1985), now=now, days=days, participants=260)
    assert schedule.visits, now
    assert max(v.occurred_at for v in schedule.visits) <= now
    assert min(timezone.localdate(v.occurred_at) for v in schedule.visits) >= (schedule.first_day)
    assert sorted(schedule.deliveries) == list(range(schedule.last_block + 1))
    first_visit: dict[int, datetime] = {}
    for visit in schedule.visits:
        first_visit.setdefault(schedule.block_of(visit.occurred_at), visit.occurred_at)
    for block, delivered in schedule.deliveries.items():
        assert delivered <= now, (now, block)
        # On the block's first day, and before anything of that block is handed out.
        assert timezone.localdate(delivered) == schedule.block_start(block), (now, block)
        assert delivered <= first_visit.get(block, now), (now, block)
    for step, moments in history_dates(now).items():
        assert max(moments) <= now, (now, step)


@pytest.mark.parametrize("day", DAYS, ids=str)
def test_no_planned_date_is_after_now_at_any_hour_of_any_day(day):
    for hour in HOURS + EDGE_HOURS:
        assert_schedule_in_the_past(at(day, hour), days=365)


@pytest.mark.parametrize("offset", range(BLOCK_DAYS))
def test_no_planned_date_is_after_now_anywhere_in_the_delivery_cycle(offset):
    # With the default year the newest block always starts today (364 = 26 × 14), the
    # case that broke; longer histories put today at every other place in the cycle.
    for hour in HOURS:
        assert_schedule_in_the_past(at(CYCLE[0], hour), days=365 + offset)


@pytest.mark.parametrize("day", DAYS, ids=str)
def test_no_referral_outcome_is_dated_after_now(day):
    rng = random.Random(5)
    for hour in HOURS + EDGE_HOURS:
        now = at(day, hour)
        today = timezone.localdate(now)
        for age in range(130):
            referred_on = today - timedelta(days=age)
            for group in LINK_CHANCE:
                for follow_up_in in (0, 7, 30):
                    plan = outcome_plan(
                        rng,
                        referred_on=referred_on,
                        follow_up_on=referred_on + timedelta(days=follow_up_in),
                        group=group,
                        now=now,
                    )
                    if plan is None:
                        assert age < 7
                        continue
                    assert plan.referred_at <= now
                    if plan.changed_at is not None:
                        assert plan.referred_at <= plan.changed_at <= now
                    if plan.linked_on is not None:
                        assert referred_on <= plan.linked_on <= today


# The real first run: `migrate` + `seed_demo` in its own process on a fresh SQLite file,
# as `make run` on a fresh clone, the clock frozen at that moment; two run at once (one
# per core). The plan above is checked at every hour of every day; `make test` checks
# that the seed writes what the plan says at two moments most likely to break it: before
# opening on the first day of a delivery cycle (the 07:29 bug), and 23:59 on the first of
# a month (already the 2nd in UTC). `make first-runs` (SSP_FIRST_RUNS=all) runs every day
# of a cycle, a first of the month and both DST changes, the four hours rotating: 17
# seeds of about 40 s of CPU each, which were half the suite's time.
EVERY_FIRST_RUN = [(day, HOURS[n % len(HOURS)]) for n, day in enumerate(DAYS)]
REAL_RUNS = (
    EVERY_FIRST_RUN
    if os.environ.get("SSP_FIRST_RUNS") == "all"
    else [(CYCLE[0], time(7, 29)), (FIRST_OF_MONTH, time(23, 59))]
)
FIRST_RUN = Path(__file__).with_name("first_run_at.py")


def first_run_at(moment: datetime, folder: Path) -> dict:
    database = folder / f"first-run-{moment:%Y%m%d-%H%M}.sqlite3"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "PROGRAM_TIME_ZONE": "America/New_York",
        "USE_CELERY_WORKER": "false",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    done = subprocess.run(
        [sys.executable, str(FIRST_RUN), moment.isoformat()],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, (moment, done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_one_year_demo_seeds_at_any_hour(memory_tmp_path):
    # The SQLite files are in memory (tmpfs): a year's seed is some 4,000 commits, each an
    # fsync on disk; the same migrate and seed run, without waiting for the disk.
    moments = [at(day, hour) for day, hour in REAL_RUNS]
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = dict(
            zip(
                moments,
                pool.map(lambda m: first_run_at(m, memory_tmp_path), moments),
                strict=True,
            )
        )
    for now, facts in results.items():
        assert "Demo data ready." in facts["output"], now
        assert facts["seeded_days"] == [365], now
        assert facts["visits"] > 1000 and facts["referrals"] > 0, now
        for what, latest in facts["latest"].items():
            assert latest is not None and datetime.fromisoformat(latest) <= now, (now, what)
        assert date.fromisoformat(facts["referred_on_latest"]) <= now.date(), now
        assert facts["drift"] == 0 and "0 drift" in facts["check_stock"], now


@pytest.mark.django_db(transaction=True)
def test_a_seed_that_fails_half_way_leaves_no_mark_and_the_next_starts_over(monkeypatch):
    def broken(*, log):
        raise RuntimeError("the reports step fell over")

    monkeypatch.setattr(reports.demo, "seed_reports", broken)
    with pytest.raises(RuntimeError, match="fell over"):
        call_command("seed_demo", "--days", "7", stdout=StringIO())
    assert not DemoSeed.objects.exists()
    assert Visit.objects.exists()  # half-way: the earlier steps wrote their rows
    monkeypatch.undo()

    out = StringIO()
    call_command("seed_demo", "--if-empty", "--days", "7", stdout=out)
    assert "did not finish" in out.getvalue() and "Demo data ready." in out.getvalue()
    assert DemoSeed.objects.get().days == 7
    assert balance_drift() == []
    visits = Visit.objects.count()

    again = StringIO()
    call_command("seed_demo", "--if-empty", stdout=again)
    assert "already present; skipping" in again.getvalue()
    assert Visit.objects.count() == visits
    assert DemoSeed.objects.count() == 1


@pytest.mark.parametrize("day", DAYS, ids=str)
def test_no_program_event_is_dated_after_now_and_each_month_has_a_handful(day):
    for hour in HOURS + EDGE_HOURS:
        now = at(day, hour)
        today = timezone.localdate(now)
        plans = event_plan(random.Random(2718), now=now, days=365)
        # Dated by the day only: every event is on a day already over.
        assert max(p.occurred_on for p in plans) < today, now
        assert min(p.occurred_on for p in plans) >= today - timedelta(days=364), now
        per_month = Counter((p.occurred_on.year, p.occurred_on.month) for p in plans)
        whole_months = sorted(per_month)[1:-1]  # the first and last months are cut short
        assert all(4 <= per_month[month] <= 16 for month in whole_months), (now, per_month)
