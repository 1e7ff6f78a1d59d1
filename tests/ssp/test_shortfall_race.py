"""The last units, raced: 50 front desks each hand out one syringe at once over the HTTP
API while the books hold 10, each request in its own thread, PostgreSQL connection and
transaction. Under SSP_STOCK_SHORTFALL=refuse exactly 10 visits are saved and 40 are
refused cleanly; under the default all 50 are saved and the 40 missing units are
recorded as found at dispense. Never a 5xx, a deadlock or a negative balance."""

import json
import time
import urllib.error
import urllib.request
from collections import Counter

import pytest
from django.db.models import Sum
from rest_framework.authtoken.models import Token

from inventory.models import (
    AdjustmentReason,
    AlertCondition,
    StockAlert,
    StockBalance,
    StockMovement,
)
from inventory.selectors import balance_drift
from outbox.models import OutboxJob
from ssp.models import Visit

from ..support.intake import new_uuid, on_hand, receive
from ..support.threads import run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CALLERS = 50
ON_THE_BOOKS = 10


@pytest.fixture
def last_ten(storeroom, supplies, manager_sam):
    receive(storeroom, {supplies["syringe"]: ON_THE_BOOKS}, manager_sam)
    return storeroom


def race(live_server, user, site) -> list[tuple[int, dict]]:
    token = Token.objects.create(user=user).key

    def post(_):
        body = {
            "client_uuid": new_uuid(),
            "site": site.pk,
            "anonymous": True,
            "supplies": [{"item": "syr-1ml-28g", "quantity": 1}],
        }
        request = urllib.request.Request(
            f"{live_server.url}/api/v1/visits/",
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
        )
        # The test server's listen queue is short: a connection it resets is sent
        # again with the same client UUID, as a device retries (idempotent).
        for _attempt in range(10):
            try:
                with urllib.request.urlopen(request, timeout=90) as response:
                    return response.status, json.loads(response.read())
            except urllib.error.HTTPError as exc:
                return exc.code, json.loads(exc.read() or b"{}")
            except ConnectionResetError:
                continue
        raise ConnectionResetError("reset ten times")

    outcomes = run_together(CALLERS, post)
    # The server sends each visit's jobs after its answer: wait for them before the
    # assertions and before the test's flush, which would otherwise race (deadlock on
    # the outbox's rows under load).
    jobs_settled()
    assert [o for o in outcomes if isinstance(o, Exception)] == []
    assert not [o for o in outcomes if o[0] >= 500], "a 5xx"
    return outcomes


def jobs_settled(timeout: float = 60) -> None:
    """Wait until every job the visits queued has run: they are sent after each response
    (outbox), so the last answers reach the test before their alert checks finish."""
    deadline = time.monotonic() + timeout
    while OutboxJob.objects.filter(done_at__isnull=True, failed_at__isnull=True).exists():
        assert time.monotonic() < deadline, "jobs still not run"
        time.sleep(0.2)


def found_at_dispense_units() -> int:
    found = StockMovement.objects.filter(kind="adjustment", reason=AdjustmentReason.SHORTFALL)
    return found.aggregate(total=Sum("quantity"))["total"] or 0


def assert_books_agree(location, item):
    assert on_hand(location, item) == 0
    assert not StockBalance.objects.filter(quantity__lt=0).exists()
    assert balance_drift() == []


def test_under_refuse_ten_visits_and_forty_clean_refusals(
    live_server, front_desk_ana, site_a, last_ten, supplies, settings
):
    settings.SSP_STOCK_SHORTFALL = "refuse"
    outcomes = race(live_server, front_desk_ana, site_a)

    assert Counter(status for status, _ in outcomes) == {201: 10, 409: 40}
    refusals = [body for status, body in outcomes if status == 409]
    assert all(set(body) == {"detail", "code", "errors"} for body in refusals)
    assert {body["code"] for body in refusals} == {"insufficient_stock"}
    assert all("0 available" in body["detail"] for body in refusals)
    assert Visit.objects.count() == 10
    assert -StockMovement.objects.filter(kind="dispense").aggregate(t=Sum("quantity"))["t"] == 10
    assert found_at_dispense_units() == 0
    assert_books_agree(last_ten, supplies["syringe"])


def test_by_default_fifty_visits_and_forty_units_found_at_dispense(
    live_server, front_desk_ana, site_a, last_ten, supplies
):
    outcomes = race(live_server, front_desk_ana, site_a)

    assert Counter(status for status, _ in outcomes) == {201: 50}
    notices = [body["notice"] for _, body in outcomes if body["notice"]]
    assert len(notices) == 40
    assert Visit.objects.count() == 50
    assert -StockMovement.objects.filter(kind="dispense").aggregate(t=Sum("quantity"))["t"] == 50
    assert found_at_dispense_units() == 40
    assert_books_agree(last_ten, supplies["syringe"])
    alerts = StockAlert.objects.filter(
        condition=AlertCondition.COUNT_DISCREPANCY, resolved_at__isnull=True
    )
    assert [(a.location, a.item) for a in alerts] == [(last_ten, supplies["syringe"])]
    assert alerts.get().facts["found_at_dispense"] == 40
