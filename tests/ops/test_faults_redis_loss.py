"""Redis loses its data (killed with -9, no persistence) while visits and reports are
queued: after it comes back empty, the outbox's relay sends again what was lost, and
every job runs exactly once in effect.

"Once in effect" means: every job's task ran to completion at least once (each outbox
row is done, marked by the task's own success in the worker, none pending or failed),
and the duplicates the relay may send changed nothing a second run could change: no
visit's stock moved twice, the stock alerts are exactly what one fresh scan of
everything finds (it raises and resolves nothing), and each report was built once (one
"ready" build per report, one CSV and one XLSX each, version 1); a duplicate build
finds its report taken and writes nothing.

The services are the test's own (a private redis-server, gunicorn and a Celery worker
as subprocesses, see test_faults.py), so nothing shared is broken.
"""

import re
import signal
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest

from bench.common import gunicorn_server
from inventory import alerts
from inventory.models import StockMovement
from outbox import selectors
from outbox.models import JobState, OutboxJob
from reports.models import ReportSnapshot, ReportStatus
from ssp.models import Visit

from ..factories import ItemFactory
from ..support.alerts import below_reorder, stock_dropping_below_reorder_point
from ..support.intake import on_hand
from .test_faults import (
    PrivateRedis,
    app_env,
    call,
    celery_worker_process,
    eventually,
    manage,
    pytest_database_url,
    timings,
)

pytestmark = [pytest.mark.usefixtures("one_production_server_at_a_time")]

# Seconds, shortened so the test waits seconds, not hours. A report build pauses at
# its first step so the worker falls behind and Redis holds a backlog when it dies.
REPORT_PAUSE = 3
TASK_TIME_LIMIT = 10
REDELIVER_AFTER = 15  # above the task time limit, as the settings require


def _state_counts() -> dict[str, int]:
    return selectors.jobs_state_counts()


def _given_up(item) -> list[OutboxJob]:
    """The alert checks of `item` kept pending after a failed publish."""
    jobs = selectors.jobs_in_state(JobState.PENDING).exclude(last_error="")
    return [
        job
        for job in jobs.filter(task_name="inventory.tasks.alerts_check")
        if any(pair[1] == item.pk for pair in job.kwargs.get("pairs", []))
    ]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_jobs_lost_with_redis_data_are_sent_again_and_run_once_in_effect(
    tmp_path, front_desk_ana, coordinator_cleo, manager_sam, site_a, downtown, syringe, fund
):
    from rest_framework.authtoken.models import Token

    began = time.monotonic()
    redis = PrivateRedis(tmp_path)  # --save "" --appendonly no: a restart comes back empty
    redis.start()
    # One item per phase, so each phase's alert depends on that phase's own checks: a
    # lost check that nothing re-sent would leave its item without its alert.
    cookers = ItemFactory(code="cook", name="Cooker", category="injection")
    wipes = ItemFactory(code="wipe", name="Alcohol wipe", category="hygiene")
    for item in (syringe, cookers, wipes):
        stock_dropping_below_reorder_point(downtown, item, by=manager_sam, fund=fund)
    jobs_before = OutboxJob.objects.count()
    assert _state_counts()[JobState.DONE] == jobs_before  # the set-up's ran in-process

    desk = Token.objects.create(user=front_desk_ana).key
    cleo = Token.objects.create(user=coordinator_cleo).key
    media = tmp_path / "media"
    env = app_env(
        database_url=pytest_database_url(),
        redis_url=redis.url,
        media=media,
        CELERY_TASK_TIME_LIMIT=str(TASK_TIME_LIMIT),
        CELERY_VISIBILITY_TIMEOUT=str(TASK_TIME_LIMIT + 2),
        OUTBOX_REDELIVER_SECONDS=str(REDELIVER_AFTER),
        FAULT_REPORT_PAUSE_SECONDS=str(REPORT_PAUSE),
    )
    last_month = date.today().replace(day=1) - timedelta(days=1)
    month_before = last_month.replace(day=1) - timedelta(days=1)
    reports = [
        ("program_monthly", last_month),
        ("state_ssp", last_month),
        ("program_monthly", month_before),
    ]
    visits: list[str] = []

    def log_visit(item, units: int):
        body = {
            "client_uuid": str(uuid.uuid4()),
            "site": site_a.pk,
            "code": "MAKO1993F",
            "supplies": [{"item": item.code, "quantity": units}],
        }
        status, _, answer = call(f"{base}/api/v1/visits/", token=desk, body=body)
        assert status == 201, answer
        visits.append(answer["uuid"])

    log = tmp_path / "worker.log"
    try:
        with (
            gunicorn_server(workers=1, threads=2, env=env) as base,
            celery_worker_process(app="tests.ops.fault_worker", env=env, log=log),
        ):
            for template, month in reports:
                status, _, body = call(
                    f"{base}/api/v1/reports/",
                    token=cleo,
                    body={"template": template, "period": month.strftime("%Y-%m")},
                )
                assert status == 202, body
            # Phase 1: published while the worker is busy with the first report.
            for _ in range(20):
                log_visit(syringe, 2)
            # Each visit's job is published after its response: let the last ones go out
            # before the kill, so that phase 2's are the only ones left pending.
            eventually(
                lambda: not selectors.jobs_in_state(JobState.PENDING).exists(),
                "the web process published the jobs of phase 1",
            )
            redis.stop(signal.SIGKILL)
            killed_at = time.monotonic()
            published_not_run = selectors.jobs_in_state(JobState.SENT).count()

            # Phase 2: Redis is gone; the visits are saved, their check kept pending:
            # one, queued by the first visit; the other seven find the item marked due
            # a re-check and queue none (the pending check covers them).
            for _ in range(8):
                log_visit(cookers, 5)
            # A visit is answered before its job is published (after the response):
            # wait until the publish has given up on the missing broker. Phase 2's job
            # is told by its item: a phase-1 publish still on its way when Redis died
            # gives up too, and is one more pending job for the relay.
            eventually(
                lambda: len(_given_up(cookers)) == 1,
                "the web process gave up publishing the job of phase 2",
                seconds=90,
            )
            pending = selectors.jobs_in_state(JobState.PENDING).count()

            redis.start()
            assert redis.client().dbsize() == 0  # everything it held is gone
            # Phase 3: Redis is back: jobs go straight out again.
            for _ in range(12):
                log_visit(wipes, 4)

            # More were lost than the worker could hold itself (one running, one
            # prefetched): the crash really took jobs with it.
            assert published_not_run > 2, _state_counts()
            assert pending >= 1, _state_counts()

            resent = 0
            sent_pending = 0
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline:
                out = manage("relay_outbox", env=env)
                sent_pending += int(re.search(r"Sent (\d+) pending", out).group(1))
                resent += int(re.search(r"Sent again (\d+) job", out).group(1))
                counts = _state_counts()
                if counts[JobState.DONE] == OutboxJob.objects.count():
                    break
                time.sleep(2)
            caught_up = time.monotonic() - killed_at
            # Quiet: nothing left in Redis that could still run.
            broker = redis.client()
            eventually(
                lambda: broker.llen("celery") == 0 and broker.hlen("unacked") == 0,
                "the worker drained the queue",
                seconds=60,
            )
    finally:
        redis.stop(signal.SIGKILL)

    counts = _state_counts()
    jobs = OutboxJob.objects.count()
    # One per report, and a check per run of visits on one item (never one per visit
    # while a check of the item is queued); each phase queued at least one.
    checks = jobs - jobs_before - len(reports)
    assert 3 <= checks <= len(visits), checks
    assert counts == {
        JobState.PENDING: 0,
        JobState.SENT: 0,
        JobState.OVERDUE: 0,
        JobState.DONE: jobs,
        JobState.FAILED: 0,
    }
    # At least those counted pending: a web process still giving up its after-response
    # publish when they were counted leaves one more for the relay.
    assert sent_pending >= pending
    assert resent >= published_not_run - 2  # the lost ones went out again

    # No visit's stock moved twice.
    assert Visit.objects.count() == len(visits) == 40
    movements = StockMovement.objects.filter(reference__in=[f"visit:{u}" for u in visits])
    assert movements.count() == len(visits)
    assert [on_hand(downtown, item) for item in (syringe, cookers, wipes)] == [20, 20, 12]

    # Every check happened: each phase's item has its alert, and a fresh scan of
    # everything finds nothing the checks missed.
    for item in (syringe, cookers, wipes):
        assert below_reorder(downtown, item).count() == 1, item
    rescan = alerts.alerts_scan()
    assert (rescan.raised, rescan.resolved) == (0, 0), rescan

    # Each report built once.
    snapshots = ReportSnapshot.objects.all()
    assert snapshots.count() == len(reports)
    assert {(s.status, s.version, s.progress) for s in snapshots} == {(ReportStatus.READY, 1, 100)}
    files = sorted(path.name for path in media.rglob("*.*"))
    expected = sorted(
        Path(name).name for s in snapshots for name in (s.csv_file.name, s.xlsx_file.name)
    )
    assert files == expected
    worker_log = log.read_text()
    built = re.findall(r"build_report\[[^\]]+\] succeeded in [^:]+: '(\w+)'", worker_log)
    assert built.count("ready") == len(reports), worker_log[-3000:]
    timings(
        f"redis loss ({published_not_run} lost, {pending} pending, {resent} sent again)",
        caught_up=caught_up,
        began=began,
    )
