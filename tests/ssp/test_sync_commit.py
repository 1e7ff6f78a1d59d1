"""A sync batch's group commit (PostgreSQL): each record commits on its own without
waiting for the disk, and the whole batch is on the disk before the answer is sent.

Transactional tests: the batch must run as it does in production, outside any
transaction (inside one, as in the other sync tests, nothing changes)."""

import pytest
from django.db import connection

from ssp import sync as ssp_sync
from ssp.models import Visit

from .test_sync import statuses, sync, visit_body

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def scalar(sql: str):
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


def lsn(text: str) -> int:
    high, low = text.split("/")
    return (int(high, 16) << 32) + int(low, 16)


def test_each_record_commits_on_its_own_and_the_batch_is_on_disk_before_the_answer(
    api_as, front_desk_ana, site_a, stocked, monkeypatch
):
    seen = []
    record = ssp_sync.visit_record

    def watched(**fields):
        answer = record(**fields)
        # The record's own transaction has committed (visible, not waited for on disk).
        assert not connection.in_atomic_block
        seen.append(
            (scalar("SHOW synchronous_commit"), scalar("SELECT pg_current_wal_insert_lsn()"))
        )
        return answer

    monkeypatch.setattr(ssp_sync, "visit_record", watched)
    bodies = [visit_body(site_a) for _ in range(3)]
    # As a production connection has it (the test database's default does not wait).
    scalar("SELECT set_config('synchronous_commit', 'on', false)")

    response = sync(api_as(front_desk_ana), bodies)

    assert statuses(response) == ["created"] * 3
    assert [setting for setting, _ in seen] == ["off"] * 3
    # Every record's commit (up to the WAL position after the last one) is flushed.
    flushed = lsn(scalar("SELECT pg_current_wal_flush_lsn()"))
    assert flushed >= max(lsn(position) for _, position in seen)
    # The connection (kept between requests) is back to its own setting.
    assert scalar("SHOW synchronous_commit") == "on"


def test_the_batch_is_on_disk_before_the_answer_where_the_server_does_not_wait(
    api_as, front_desk_ana, site_a, stocked, monkeypatch
):
    # The test database's default is off (tests/conftest.py), as a server's may be: the
    # last commit of the batch waits for the disk all the same, and the setting stays.
    assert scalar("SHOW synchronous_commit") == "off"
    flush = ssp_sync._wal_flushed
    after_records = []

    def watched():
        after_records.append(lsn(scalar("SELECT pg_current_wal_insert_lsn()")))
        flush()

    monkeypatch.setattr(ssp_sync, "_wal_flushed", watched)
    response = sync(api_as(front_desk_ana), [visit_body(site_a) for _ in range(2)])
    assert statuses(response) == ["created"] * 2
    assert lsn(scalar("SELECT pg_current_wal_flush_lsn()")) >= after_records[0]
    assert scalar("SHOW synchronous_commit") == "off"


def test_the_setting_comes_back_and_earlier_records_stay_when_a_record_fails_unexpectedly(
    api_as, front_desk_ana, site_a, stocked, monkeypatch
):
    record = ssp_sync.visit_record
    calls = []

    def failing_second(**fields):
        calls.append(fields["client_uuid"])
        if len(calls) == 2:
            raise RuntimeError("the process died here")
        return record(**fields)

    monkeypatch.setattr(ssp_sync, "visit_record", failing_second)
    api = api_as(front_desk_ana)
    api.raise_request_exception = True
    bodies = [visit_body(site_a) for _ in range(3)]
    scalar("SELECT set_config('synchronous_commit', 'on', false)")

    with pytest.raises(RuntimeError, match="died here"):
        sync(api, bodies)

    assert scalar("SHOW synchronous_commit") == "on"
    # Its own transaction: the first record is saved; the device, with no answer, sends
    # the three again and gets "duplicate" for it.
    assert [str(v) for v in Visit.objects.values_list("uuid", flat=True)] == [
        bodies[0]["client_uuid"]
    ]
    monkeypatch.setattr(ssp_sync, "visit_record", record)
    assert statuses(sync(api, bodies)) == ["duplicate", "created", "created"]
