"""Idempotency under real concurrency: 20 submissions of one visit (same client UUID) at
once, each in its own thread, PostgreSQL connection and transaction, through the service
and through the HTTP API. Exactly one visit and one set of stock movements must come out,
and every caller gets an answer pointing at that visit."""

import json
import urllib.error
import urllib.request
from collections import Counter

import pytest
from rest_framework.authtoken.models import Token

from inventory.models import StockMovement
from ssp.models import Participant, Visit
from ssp.services import visit_record

from ..support.intake import item_line, kit_line, movements_of, new_uuid, on_hand
from ..support.threads import run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CALLERS = 20


def stock_of(location, supplies) -> dict[str, int]:
    return {key: on_hand(location, item) for key, item in supplies.items() if key != "naloxone"}


def test_twenty_concurrent_retries_through_the_service_make_one_visit(
    front_desk_ana, site_a, stocked, supplies, injection_kit
):
    before = stock_of(stocked, supplies)
    client_uuid = new_uuid()

    def submit(_):
        visit, created = visit_record(
            site=site_a,
            by=front_desk_ana,
            client_uuid=client_uuid,
            code="NEWC1999X",  # a first visit: the participant row is raced for too
            lines=[kit_line(injection_kit), item_line(supplies["water"], 2)],
        )
        return visit.pk, created

    outcomes = run_together(CALLERS, submit)

    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert errors == []
    assert len({pk for pk, _ in outcomes}) == 1  # every caller points at the same visit
    assert Counter(created for _, created in outcomes) == {True: 1, False: CALLERS - 1}
    visit = Visit.objects.get()
    assert str(visit.uuid) == client_uuid and visit.pk == outcomes[0][0]
    assert Participant.objects.filter(code="NEWC1999X").count() == 1
    # One set of movements: one dispense row per item of the kit, and the water.
    assert movements_of(visit).count() == 4
    assert StockMovement.objects.filter(kind="dispense").count() == 4
    after = stock_of(stocked, supplies)
    assert {k: before[k] - after[k] for k in before} == {
        "syringe": 10,
        "pad": 10,
        "cooker": 2,
        "water": 2,
    }


def test_twenty_concurrent_retries_through_the_http_api_make_one_visit(
    live_server, front_desk_ana, site_a, stocked, supplies, injection_kit
):
    token = Token.objects.create(user=front_desk_ana).key
    before = stock_of(stocked, supplies)
    body = json.dumps(
        {
            "client_uuid": new_uuid(),
            "site": site_a.pk,
            "code": "MAKO1993F",
            "supplies": [{"kit": "std-kit", "quantity": 1}, {"item": "water", "quantity": 2}],
        }
    ).encode()

    def post(_):
        request = urllib.request.Request(
            f"{live_server.url}/api/v1/visits/",
            data=body,
            method="POST",
            headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")

    outcomes = run_together(CALLERS, post)

    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert errors == []
    statuses = Counter(status for status, _ in outcomes)
    # 201 for the one that recorded it, 200 "already recorded" for every retry.
    assert statuses == {201: 1, 200: CALLERS - 1}, [o for o in outcomes if o[0] >= 400]
    uuids = {answer["uuid"] for _, answer in outcomes}
    assert uuids == {json.loads(body)["client_uuid"]}
    visit = Visit.objects.get()
    assert movements_of(visit).count() == 4
    after = stock_of(stocked, supplies)
    assert {k: before[k] - after[k] for k in before} == {
        "syringe": 10,
        "pad": 10,
        "cooker": 2,
        "water": 2,
    }
