"""Delivery that survives Redis losing data: a job is done when its task has run, and
the relay publishes again what was published but never ran."""

import itertools
import time
from datetime import timedelta

import pytest
import time_machine
from celery import shared_task
from django.conf import settings
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from outbox import selectors, services
from outbox.models import JobState, OutboxJob

pytestmark = pytest.mark.django_db(transaction=True)

TASK = "tests.outbox.test_delivery.count_a_run"
runs: list[int] = []
failures_left = itertools.count()


@shared_task(name=TASK)
def count_a_run(*, n: int) -> int:
    runs.append(n)
    return n


@shared_task(name="tests.outbox.test_delivery.fail_once")
def fail_once(*, n: int) -> int:
    if next(failures_left) == 0:
        raise ValueError("a plain bug")
    runs.append(n)
    return n


published: list[dict] = []


class LostByTheBroker:
    """Published, never run: what a Redis restart without persistence does to a job."""

    def apply_async(self, kwargs, **options):
        published.append({"kwargs": kwargs, **options})


@pytest.fixture(autouse=True)
def _fresh():
    global failures_left
    runs.clear()
    published.clear()
    failures_left = itertools.count()


def enqueue(task_name=TASK, **kwargs) -> OutboxJob:
    with transaction.atomic():
        job = services.job_enqueue(task_name=task_name, kwargs=kwargs)
    job.refresh_from_db()
    return job


def later(seconds: float):
    return time_machine.travel(timezone.now() + timedelta(seconds=seconds), tick=False)


def test_in_process_a_job_is_done_when_its_task_has_run():
    job = enqueue(n=1)
    assert runs == [1]
    assert job.dispatched_at is not None and job.done_at is not None
    assert job.state == JobState.DONE
    assert services.jobs_relay(older_than_seconds=0, redeliver_after_seconds=0) == 0


def test_a_published_job_that_never_ran_is_published_again_after_the_timeout(monkeypatch):
    monkeypatch.setattr(services, "_task", lambda name: LostByTheBroker())
    job = enqueue(n=2)
    first_published = job.dispatched_at
    assert (job.state, job.done_at, len(published)) == (JobState.SENT, None, 1)
    assert published[0]["headers"] == {services.JOB_HEADER: job.pk}

    # Within the timeout it may still be queued or running: left alone.
    assert services.jobs_relay(older_than_seconds=0) == 0
    with later(settings.OUTBOX_REDELIVER_SECONDS - 60):
        assert services.jobs_relay(older_than_seconds=0) == 0
    with later(settings.OUTBOX_REDELIVER_SECONDS + 1):
        job.refresh_from_db()
        assert job.state == JobState.OVERDUE
        assert services.jobs_relay_run(older_than_seconds=0) == services.RelayResult(0, 1)
        # `dispatched_at` is the last publish: the next minute's relay leaves it alone.
        assert services.jobs_relay(older_than_seconds=0) == 0
    job.refresh_from_db()
    assert job.dispatched_at > first_published and job.attempts == 2
    assert [call["kwargs"] for call in published] == [{"n": 2}, {"n": 2}]


def test_the_task_marks_its_job_done_whatever_delivery_ran_it(monkeypatch):
    monkeypatch.setattr(services, "_task", lambda name: LostByTheBroker())
    job = enqueue(n=3)
    monkeypatch.undo()
    assert services.jobs_relay(older_than_seconds=0, redeliver_after_seconds=0) == 1
    job.refresh_from_db()
    assert runs == [3] and job.state == JobState.DONE
    # A late duplicate (Redis gave back the first one after all) runs, harmlessly, and
    # changes nothing in the outbox.
    done_at = job.done_at
    count_a_run.apply(kwargs={"n": 3}, headers={services.JOB_HEADER: job.pk})
    job.refresh_from_db()
    assert job.done_at == done_at


def test_a_task_that_raised_is_failed_left_by_the_relay_and_sent_again_by_a_person():
    job = enqueue("tests.outbox.test_delivery.fail_once", n=4)  # the error is logged
    job.refresh_from_db()
    assert job.state == JobState.FAILED and job.last_error == "ValueError: a plain bug"
    assert services.jobs_relay(older_than_seconds=0, redeliver_after_seconds=0) == 0
    assert runs == []

    assert services.jobs_resend(job_ids=[job.pk]) == 1
    job.refresh_from_db()
    assert runs == [4] and job.state == JobState.DONE and job.failed_at is None
    assert services.jobs_resend(job_ids=[job.pk]) == 0  # done jobs are left alone


def test_prune_removes_only_done_jobs(monkeypatch):
    done = enqueue(n=5)
    monkeypatch.setattr(services, "_task", lambda name: LostByTheBroker())
    sent = enqueue(n=6)
    failed = OutboxJob.objects.create(task_name=TASK, failed_at=timezone.now())
    pending = OutboxJob.objects.create(task_name=TASK)
    with later(15 * 24 * 3600):
        assert services.jobs_prune(older_than_days=14) == 1
    assert set(OutboxJob.objects.values_list("pk", flat=True)) == {sent.pk, failed.pk, pending.pk}
    assert not OutboxJob.objects.filter(pk=done.pk).exists()


def test_the_relay_command_sends_pending_and_lost_jobs_and_shows_the_states(monkeypatch, capsys):
    monkeypatch.setattr(services, "_task", lambda name: LostByTheBroker())
    enqueue(n=7)  # published, lost
    with services.jobs_deferred():
        enqueue(n=8)  # never published
    OutboxJob.objects.create(task_name=TASK, kwargs={"n": 12}, failed_at=timezone.now())

    call_command("relay_outbox", "--redeliver-after", "0")
    out = capsys.readouterr().out
    assert "Sent 1 pending job(s)." in out
    assert "Sent again 1 job(s) published but never run." in out
    assert "Outbox now: 0 pending, 2 sent, 0 overdue, 0 done, 1 failed" in out

    monkeypatch.undo()
    call_command("relay_outbox", "--redeliver-after", "0", "--failed")
    out = capsys.readouterr().out
    assert "Sent again 2 job(s) published but never run." in out
    assert "Sent again 1 failed job(s)." in out
    assert "Outbox now: 0 pending, 0 sent, 0 overdue, 3 done, 0 failed" in out
    assert sorted(runs) == [7, 8, 12]


def test_state_counts_match_the_states_of_the_rows(monkeypatch):
    enqueue(n=9)
    monkeypatch.setattr(services, "_task", lambda name: LostByTheBroker())
    enqueue(n=10)
    counts = selectors.jobs_state_counts()
    assert counts == {"pending": 0, "sent": 1, "overdue": 0, "done": 1, "failed": 0}
    assert sorted(job.state for job in OutboxJob.objects.all()) == ["done", "sent"]


@pytest.mark.celery_worker
def test_a_real_worker_marks_the_job_done(celery_worker):
    job = enqueue(n=11)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not OutboxJob.objects.get(pk=job.pk).done_at:
        time.sleep(0.1)
    job.refresh_from_db()
    assert job.state == JobState.DONE
    assert runs == [11]  # the worker is a thread of this process


def test_the_admin_shows_states_and_sends_chosen_jobs_again(client, admin_ada, monkeypatch):
    monkeypatch.setattr(services, "_task", lambda name: LostByTheBroker())
    lost = enqueue(n=13)
    monkeypatch.undo()
    done = enqueue(n=14)
    client.force_login(admin_ada)

    page = client.get("/admin/outbox/outboxjob/", {"state": "sent"})
    assert page.status_code == 200
    assert list(page.context["cl"].queryset) == [lost]
    assert "Sent (published, not run yet)" in page.content.decode()

    answer = client.post(
        "/admin/outbox/outboxjob/",
        {"action": "send_again", "_selected_action": [lost.pk, done.pk]},
        follow=True,
    )
    assert "Sent 1 job(s) again." in answer.content.decode()
    lost.refresh_from_db()
    assert lost.state == JobState.DONE and runs == [14, 13]
