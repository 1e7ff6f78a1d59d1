"""The transactional outbox: a job recorded with a change is never lost to a broker outage."""

import pytest
from django.contrib.auth.decorators import login_not_required
from django.db import OperationalError, transaction
from django.http import JsonResponse
from django.urls import path
from kombu.exceptions import OperationalError as BrokerError

from outbox import services
from outbox.models import OutboxJob

pytestmark = pytest.mark.django_db(transaction=True)

calls: list[dict] = []


class RecordingTask:
    def apply_async(self, kwargs, **options):
        calls.append(kwargs)


@pytest.fixture(autouse=True)
def _record_calls(monkeypatch):
    calls.clear()

    monkeypatch.setattr(services, "_task", lambda name: RecordingTask())


def test_a_job_is_sent_only_after_its_transaction_commits():
    with transaction.atomic():
        services.job_enqueue(task_name="x.tasks.check", kwargs={"id": 1})
        assert calls == []
    assert calls == [{"id": 1}]
    assert OutboxJob.objects.get().dispatched_at is not None


def test_a_rolled_back_change_sends_no_job():
    with pytest.raises(RuntimeError), transaction.atomic():
        services.job_enqueue(task_name="x.tasks.check", kwargs={"id": 2})
        raise RuntimeError("the visit failed")
    assert calls == []
    assert OutboxJob.objects.count() == 0


def test_broker_down_keeps_the_job_and_the_relay_sends_it_later(monkeypatch):
    class DownTask:
        def apply_async(self, kwargs, **options):
            raise BrokerError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(services, "_task", lambda name: DownTask())
    with transaction.atomic():
        services.job_enqueue(task_name="x.tasks.check", kwargs={"id": 3})
    job = OutboxJob.objects.get()
    assert job.dispatched_at is None and job.attempts == 1 and "refused" in job.last_error

    monkeypatch.undo()
    monkeypatch.setattr(services, "_task", lambda name: RecordingTask())
    assert services.jobs_relay(older_than_seconds=0) == 1
    assert calls == [{"id": 3}]
    assert services.jobs_relay(older_than_seconds=0) == 0  # sent once, not again


def test_in_a_request_a_job_is_sent_after_the_response_not_at_commit():
    with services.jobs_after_response() as collected:
        with transaction.atomic():
            job = services.job_enqueue(task_name="x.tasks.check", kwargs={"id": 3})
        # Committed, not sent: the client is not kept waiting on the broker.
        assert calls == [] and collected == [job.pk]
    assert OutboxJob.objects.get().dispatched_at is None
    services.jobs_send_collected(collected)
    assert calls == [{"id": 3}]


@login_not_required
def _records_a_job(request):
    with transaction.atomic():
        services.job_enqueue(task_name="x.tasks.check", kwargs={"id": 4})
    return JsonResponse({"sent_before_answer": list(calls)})


@pytest.mark.urls("tests.outbox.test_outbox")
def test_a_request_answers_first_and_publishes_its_job_when_the_response_closes(client):
    response = client.get("/job/")
    assert response.json() == {"sent_before_answer": []}
    # The test client closes the response as a WSGI server does, which sends the job.
    assert calls == [{"id": 4}]
    assert OutboxJob.objects.get().dispatched_at is not None


def test_prune_never_deletes_pending_jobs():
    OutboxJob.objects.create(task_name="x.tasks.check")
    assert services.jobs_prune(older_than_days=0) == 0
    assert OutboxJob.objects.count() == 1


@login_not_required
def _database_gone(request):
    raise OperationalError("server closed the connection unexpectedly")


@login_not_required
def _bug(request):
    raise ValueError("a plain bug")


urlpatterns = [
    path("page/", _database_gone),
    path("api/v1/thing/", _database_gone),
    path("bug/", _bug),
    path("job/", _records_a_job),
]
handler500 = "org.error_views.server_error"


@pytest.mark.urls("tests.outbox.test_outbox")
def test_a_lost_database_answers_a_clean_retryable_503(client):
    client.raise_request_exception = False
    page = client.get("/page/")
    assert page.status_code == 503
    assert page["Retry-After"] == "5"
    assert "Back in a moment" in page.content.decode()
    api = client.get("/api/v1/thing/")
    assert api.status_code == 503
    assert api.json()["code"] == "service_unavailable"


@pytest.mark.urls("tests.outbox.test_outbox")
def test_a_bug_is_still_a_500(client):
    client.raise_request_exception = False
    assert client.get("/bug/").status_code == 500
