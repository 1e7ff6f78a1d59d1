"""POST /api/v1/sync/: many queued visits in one request, answered record by record."""

import uuid
from datetime import datetime, timedelta

import pytest
import time_machine
from auditlog.models import LogEntry
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from inventory.models import StockMovement
from org import roles
from ssp.models import Participant, Visit
from ssp.selectors import participants_by_code
from ssp.services import participant_merge, visit_record
from ssp.sync import SYNC_MAX_RECORDS

from ..factories import make_staff
from ..support.intake import item_line, new_uuid, on_hand

pytestmark = pytest.mark.django_db

SYNC = "/api/v1/sync/"


def visit_body(site, **extra):
    body = {
        "client_uuid": new_uuid(),
        "site": site.pk,
        "code": "MAKO1993F",
        "supplies": [{"kit": "std-kit", "quantity": 1}, {"item": "water", "quantity": 2}],
    }
    body.update(extra)
    return body


def shift_body(site, **extra):
    """A street shift as the shift page records it: anonymous contacts and totals."""
    body = {
        "client_uuid": new_uuid(),
        "site": site.pk,
        "contacts": 12,
        "service_model": "outreach",
        "supplies": [{"item": "syr-1ml-28g", "quantity": 120}],
    }
    body.update(extra)
    return body


def record(body, **extra):
    return {"kind": "visit", "client_uuid": body["client_uuid"], "body": body, **extra}


def sync(api, bodies):
    return api.post(SYNC, {"records": [record(body) for body in bodies]}, format="json")


def statuses(response):
    return [row["status"] for row in response.json()["results"]]


def dispensed_units():
    return -sum(StockMovement.objects.filter(kind="dispense").values_list("quantity", flat=True))


def test_a_batch_creates_each_visit_and_answers_per_record(
    api_as, front_desk_ana, site_a, stocked, supplies
):
    bodies = [visit_body(site_a) for _ in range(3)] + [
        visit_body(site_a, code="", anonymous=True, supplies=[{"item": "water", "quantity": 1}])
    ]
    response = sync(api_as(front_desk_ana), bodies)
    assert response.status_code == 200, response.json()
    results = response.json()["results"]
    assert [row["client_uuid"] for row in results] == [b["client_uuid"] for b in bodies]
    assert statuses(response) == ["created"] * 4
    assert all(row["errors"] is None and row["notice"] is None for row in results)
    assert Visit.objects.count() == 4
    # The visit as GET /api/v1/visits/<uuid>/ returns it.
    first = results[0]["visit"]
    read = api_as(front_desk_ana).get(f"/api/v1/visits/{first['uuid']}/").json()
    assert first == read
    assert on_hand(stocked, supplies["water"]) == 1000 - 3 * 2 - 1


def test_a_replay_of_the_batch_is_duplicate_for_each_and_changes_nothing(
    api_as, front_desk_ana, site_a, stocked, supplies
):
    api = api_as(front_desk_ana)
    bodies = [visit_body(site_a) for _ in range(5)]
    first = sync(api, bodies)
    movements, entries = StockMovement.objects.count(), LogEntry.objects.count()
    water = on_hand(stocked, supplies["water"])

    again = sync(api, bodies)

    assert statuses(first) == ["created"] * 5
    assert statuses(again) == ["duplicate"] * 5
    assert [r["visit"]["uuid"] for r in again.json()["results"]] == [
        r["visit"]["uuid"] for r in first.json()["results"]
    ]
    assert Visit.objects.count() == 5
    assert StockMovement.objects.count() == movements
    assert LogEntry.objects.count() == entries
    assert on_hand(stocked, supplies["water"]) == water


def test_a_refused_record_does_not_stop_the_others(api_as, front_desk_ana, site_a, stocked):
    bodies = [
        visit_body(site_a),
        visit_body(site_a, code="HELLO1"),  # not the recipe
        visit_body(site_a, supplies=[{"item": "no-such-thing", "quantity": 1}]),
        visit_body(site_a, notes="reach her at jane@example.org"),  # personal details
        visit_body(site_a),
    ]
    response = sync(api_as(front_desk_ana), bodies)
    assert response.status_code == 200
    assert statuses(response) == ["created", "refused", "refused", "refused", "created"]
    results = response.json()["results"]
    assert "code" in results[1]["errors"]
    assert "Unknown item" in str(results[2]["errors"]["supplies"])
    assert "notes" in results[3]["errors"]
    assert all(results[i]["visit"] is None for i in (1, 2, 3))
    saved = {uuid.UUID(bodies[0]["client_uuid"]), uuid.UUID(bodies[4]["client_uuid"])}
    assert set(Visit.objects.values_list("uuid", flat=True)) == saved


def test_the_same_client_uuid_with_another_payload_is_refused(
    api_as, front_desk_ana, site_a, stocked
):
    api = api_as(front_desk_ana)
    body = visit_body(site_a)
    sync(api, [body])
    changed = {**body, "supplies": [{"item": "water", "quantity": 5}]}
    response = sync(api, [changed])
    (row,) = response.json()["results"]
    assert row["status"] == "refused"
    assert "different visit" in str(row["errors"]["client_uuid"])
    assert Visit.objects.count() == 1


def test_records_that_are_not_visits_are_refused_one_by_one(
    api_as, front_desk_ana, site_a, stocked
):
    good = visit_body(site_a)
    other = visit_body(site_a)
    records = [
        "not an object",
        {"kind": "referral", "client_uuid": new_uuid(), "body": visit_body(site_a)},
        {"kind": "visit", "client_uuid": new_uuid(), "body": other},  # uuids differ
        {"kind": "visit", "client_uuid": "not-a-uuid", "body": visit_body(site_a)},
        {"kind": "visit", "client_uuid": new_uuid()},
        record(good),
    ]
    response = api_as(front_desk_ana).post(SYNC, {"records": records}, format="json")
    assert response.status_code == 200
    assert statuses(response) == ["refused"] * 5 + ["created"]
    results = response.json()["results"]
    assert results[0]["client_uuid"] is None
    assert "kind" in results[1]["errors"]
    assert "differs" in str(results[2]["errors"]["client_uuid"])
    assert "client_uuid" in results[3]["errors"]
    assert "body" in results[4]["errors"]
    assert Visit.objects.count() == 1


def test_a_street_shift_syncs_like_the_shift_page_records_it(
    api_as, front_desk_ana, site_a, stocked, supplies
):
    response = sync(api_as(front_desk_ana), [shift_body(site_a)])
    (row,) = response.json()["results"]
    assert row["status"] == "created", row
    assert row["visit"]["contacts"] == 12 and row["visit"]["is_anonymous"]
    assert row["visit"]["service_model"] == "outreach"
    assert on_hand(stocked, supplies["syringe"]) == 1000 - 120


@pytest.mark.parametrize(
    "body",
    [{}, {"records": "all of them"}, [], {"records": {"kind": "visit"}}],
    ids=["empty", "string", "list", "object"],
)
def test_a_body_that_is_not_a_list_of_records_is_a_400(api_as, front_desk_ana, body):
    response = api_as(front_desk_ana).post(SYNC, body, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"detail", "code", "errors"}


def test_more_than_the_limit_is_refused_whole(api_as, front_desk_ana, site_a, stocked):
    records = [record(visit_body(site_a)) for _ in range(SYNC_MAX_RECORDS + 1)]
    response = api_as(front_desk_ana).post(SYNC, {"records": records}, format="json")
    assert response.status_code == 413
    body = response.json()
    assert body["code"] == "too_many_records" and "records" in body["errors"]
    assert Visit.objects.count() == 0


def test_an_empty_queue_syncs_to_nothing(api_as, front_desk_ana):
    response = api_as(front_desk_ana).post(SYNC, {"records": []}, format="json")
    assert response.status_code == 200 and response.json() == {"results": []}


# --- Who may sync what --------------------------------------------------------------


def test_a_record_at_another_site_is_refused_and_the_rest_saved(
    api_as, front_desk_ana, site_a, site_b, stocked, eastside_storeroom
):
    response = sync(api_as(front_desk_ana), [visit_body(site_b), visit_body(site_a)])
    assert statuses(response) == ["refused", "created"]
    assert "site" in response.json()["results"][0]["errors"]
    assert not Visit.objects.filter(site=site_b).exists()


def test_roles_without_visit_logging_may_not_sync(api_as, coordinator_cleo, site_a, stocked):
    response = sync(api_as(coordinator_cleo), [visit_body(site_a)])
    assert response.status_code == 403
    assert Visit.objects.count() == 0


def test_anonymous_callers_may_not_sync(api_client, site_a, stocked):
    response = sync(api_client, [visit_body(site_a)])
    assert response.status_code in (401, 403)


def test_a_session_needs_the_csrf_token(front_desk_ana, site_a, stocked):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(front_desk_ana)
    response = sync(client, [visit_body(site_a)])
    assert response.status_code == 403
    assert Visit.objects.count() == 0


def test_synced_visits_are_audited_as_the_token_user(front_desk_ana, site_a, stocked):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=front_desk_ana)}")
    response = sync(client, [visit_body(site_a), visit_body(site_a)])
    assert statuses(response) == ["created", "created"]
    entries = LogEntry.objects.filter(content_type__model="visit")
    assert entries.count() == 2
    assert set(entries.values_list("actor", flat=True)) == {front_desk_ana.pk}
    assert set(
        StockMovement.objects.filter(kind="dispense").values_list("recorded_by", flat=True)
    ) == {front_desk_ana.pk}


# --- Backdating counts from when the visit happened ------------------------------------


def program_time(*args) -> datetime:
    return timezone.make_aware(datetime(*args), timezone.get_default_timezone())


def test_a_visit_synced_a_day_after_it_happened_around_midnight_is_accepted(
    api_as, front_desk_ana, site_a, stocked
):
    # Logged offline at 23:50 program time, synced the next day at 00:10 and a day later.
    happened = program_time(2026, 11, 3, 23, 50)
    late = visit_body(site_a, occurred_at=happened.isoformat())
    later = visit_body(site_a, occurred_at=happened.isoformat())
    with time_machine.travel(happened + timedelta(minutes=20), tick=False):
        first = sync(api_as(front_desk_ana), [late])
    with time_machine.travel(happened + timedelta(days=1, minutes=20), tick=False):
        second = sync(api_as(front_desk_ana), [later])
    assert statuses(first) == statuses(second) == ["created"]
    stored = Visit.objects.get(uuid=later["client_uuid"])
    assert stored.occurred_at == happened
    assert timezone.localdate(stored.occurred_at).isoformat() == "2026-11-03"


def test_the_backdating_limit_counts_from_the_visit_not_from_the_sync(
    api_as, front_desk_ana, site_a, stocked
):
    days = settings.SSP_VISIT_BACKDATE_DAYS
    happened = program_time(2026, 11, 3, 23, 50)
    inside = visit_body(site_a, occurred_at=happened.isoformat())
    outside = visit_body(site_a, occurred_at=(happened - timedelta(minutes=2)).isoformat())
    # Synced exactly one minute before the limit runs out for `inside`: still accepted;
    # `outside` happened two minutes earlier and is a minute past it.
    with time_machine.travel(happened + timedelta(days=days, minutes=-1), tick=False):
        response = sync(api_as(front_desk_ana), [inside, outside])
    assert statuses(response) == ["created", "refused"]
    assert "backdated" in str(response.json()["results"][1]["errors"]["occurred_at"])


def test_a_visit_dated_ahead_of_the_server_clock_is_refused(
    api_as, front_desk_ana, site_a, stocked
):
    ahead = visit_body(site_a, occurred_at=(timezone.now() + timedelta(hours=2)).isoformat())
    response = sync(api_as(front_desk_ana), [ahead])
    assert statuses(response) == ["refused"]
    assert "occurred_at" in response.json()["results"][0]["errors"]


# A replayed record costs its code's look-up and the check for units found at its
# dispense; the visits, their lines and services are read for the whole batch at once.
QUERIES_PER_REPLAYED_RECORD = 2


def queries_of_batches(api, batches, *, status: str) -> list[int]:
    """The queries each batch's sync ran, every record of it answered `status`."""
    counts = []
    for bodies in batches:
        with CaptureQueriesContext(connection) as queries:
            response = sync(api, bodies)
        assert statuses(response) == [status] * len(bodies)
        counts.append(len(queries))
    return counts


def test_a_replay_reads_the_recorded_visits_at_once(api_as, front_desk_ana, site_a, stocked):
    api = api_as(front_desk_ana)
    one, six = [visit_body(site_a)], [visit_body(site_a) for _ in range(6)]
    sync(api, one + six)
    counts = queries_of_batches(api, (one, six), status="duplicate")
    assert counts[1] - counts[0] == 5 * QUERIES_PER_REPLAYED_RECORD, counts


def test_a_batch_of_replays_and_new_visits_answers_each_and_refuses_a_changed_one(
    api_as, front_desk_ana, site_a, stocked
):
    api = api_as(front_desk_ana)
    sent = [visit_body(site_a) for _ in range(2)]
    sync(api, sent)
    changed = {**sent[1], "syringes_collected": 40}
    response = sync(api, [sent[0], visit_body(site_a), changed])
    assert statuses(response) == ["duplicate", "created", "refused"]
    assert "different visit" in str(response.json()["results"][2]["errors"]["client_uuid"])
    assert Visit.objects.count() == 3


def test_a_replay_of_another_persons_visit_is_refused(api_as, front_desk_ana, site_a, stocked):
    body = visit_body(site_a)
    sync(api_as(front_desk_ana), [body])
    colleague = make_staff("cara", roles.FRONT_DESK, [site_a])
    response = sync(api_as(colleague), [body])
    assert statuses(response) == ["refused"]
    assert "another person" in str(response.json()["results"][0]["errors"]["client_uuid"])


# A created record of visit_body (a returning code, a kit and an item) in a test's
# transaction: its savepoint and release, the visit with its supply lines (one
# statement on PostgreSQL, ssp/visit_insert.py) and its audit entry, the dispense
# statement, and the code's lock and first-seen refresh (one round trip). Its code is
# read with the batch's others, in one query, not once a record. On SQLite the supply
# lines are a statement of their own and the dispense takes the ORM's path, four queries
# in place of the one statement (as a single POST: tests/ssp/test_api_queries.py).
QUERIES_PER_CREATED_RECORD = 6 if connection.vendor == "postgresql" else 10


def test_a_batch_reads_its_codes_once_not_once_a_record(api_as, front_desk_ana, site_a, stocked):
    api = api_as(front_desk_ana)
    codes = ["MAKO1993F", "JOLU1980M", "ANBE1975F", "CAFE1990M", "DORA1985F", "ELMO1970M"]
    sync(api, [visit_body(site_a, code=code) for code in codes])  # all returning now
    batches = [[visit_body(site_a, code=code) for code in batch] for batch in (codes[:1], codes)]
    counts = queries_of_batches(api, batches, status="created")
    assert counts[1] - counts[0] == 5 * QUERIES_PER_CREATED_RECORD, counts


def test_a_code_merged_after_the_batch_read_it_gets_the_visit_on_the_code_it_became(
    front_desk_ana, manager_sam, site_a, stocked, supplies
):
    for code in ("MAKO1939F", "MAKO1993F"):
        visit_record(site=site_a, by=front_desk_ana, client_uuid=new_uuid(), code=code)
    read = participants_by_code(["MAKO1939F"])  # the batch reads it: not merged yet
    merged, kept = (Participant.objects.get(code=c) for c in ("MAKO1939F", "MAKO1993F"))
    participant_merge(merged=merged, kept=kept, by=manager_sam, reason="year")
    water = on_hand(stocked, supplies["water"])

    visit, created = visit_record(
        site=site_a,
        by=front_desk_ana,
        client_uuid=new_uuid(),
        code="MAKO1939F",
        lines=[item_line(supplies["water"], 2)],
        participants=read,
    )

    assert created
    assert visit.participant == kept
    assert not Visit.objects.filter(participant=merged).exists()
    # The first try was undone whole: the stock moved once.
    assert on_hand(stocked, supplies["water"]) == water - 2
    assert Visit.objects.count() == 3


def test_each_answer_is_the_visit_as_read_back_whether_created_now_or_held_already(
    api_as, front_desk_ana, site_a, stocked
):
    # Created visits are answered as written, duplicates as read: both as GET shows them.
    api = api_as(front_desk_ana)
    bodies = [
        visit_body(site_a, services=[{"service": "hiv_test"}], notes="first visit"),
        visit_body(site_a, code="", anonymous=True, supplies=[{"item": "water", "quantity": 1}]),
        shift_body(site_a, services=[{"service": "hiv_test", "count": 3}]),
    ]
    created = sync(api, bodies).json()["results"]
    replayed = sync(api, bodies).json()["results"]

    assert [row["status"] for row in created] == ["created"] * 3
    assert [row["status"] for row in replayed] == ["duplicate"] * 3
    for first, again in zip(created, replayed, strict=True):
        read = api.get(f"/api/v1/visits/{first['visit']['uuid']}/").json()
        assert first["visit"] == read
        assert again["visit"] == read
