"""Every API write leaves a record of who made it and when.

For each write operation of the schema, an authorised persona makes the call with an
API token (the way scripts and the van tablets call the API) and the test looks for
the record that attributes it:

- the audit log (django-auditlog LogEntry) with that person as actor, for everything
  auditlog tracks (config/settings.py AUDITLOG_*);
- the stock ledger itself for stock movements: StockMovement is append-only, written
  in bulk (so no per-row signal) and excluded from auditlog on purpose; each row
  carries recorded_by and recorded_at, which makes the ledger its own audit record;
- the alert row for an acknowledgement, which is a conditional UPDATE (one click wins)
  that stores acknowledged_by and acknowledged_at on the alert;
- nothing, for the one POST that stores nothing (building a code from its parts).

Whatever the audit log gains during a call must name the caller: no entry of a
token request may be left without an actor.
"""

import pytest
from auditlog.models import LogEntry
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from inventory.models import StockAlert, StockMovement

from ..support.world import rows_written, tables_changed
from .api_calls import request, schema_operations, write_for

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

LOG = "audit log"
LEDGER = "stock ledger"
ALERT_ROW = "alert row"
NOTHING = "nothing stored"

# operation: (who makes the call, where the record is, the audit log's model if any)
AUDITED = {
    "POST /api/v1/visits/": ("front_desk", LOG, "ssp.visit"),
    "PATCH /api/v1/visits/{uuid}/": ("front_desk", LOG, "ssp.visit"),
    "POST /api/v1/visits/{uuid}/void/": ("front_desk", LOG, "ssp.visit"),
    "POST /api/v1/sync/": ("front_desk", LOG, "ssp.visit"),
    "POST /api/v1/participants/merge/": ("manager", LOG, "ssp.participantmerge"),
    "POST /api/v1/participants/build-code/": ("front_desk", NOTHING, None),
    "POST /api/v1/surveys/": ("coordinator", LOG, "ssp.survey"),
    "PUT /api/v1/surveys/{id}/": ("coordinator", LOG, "ssp.survey"),
    "PATCH /api/v1/surveys/{id}/": ("coordinator", LOG, "ssp.survey"),
    "POST /api/v1/survey-offers/": ("front_desk", LOG, "ssp.visitsurveyoffer"),
    # The offer's move to "answered" is logged; the answers themselves never are.
    "POST /api/v1/survey-offers/{uuid}/answers/": ("front_desk", LOG, "ssp.visitsurveyoffer"),
    "POST /api/v1/referrals/": ("front_desk", LOG, "referrals.referral"),
    "POST /api/v1/referrals/{id}/status-changes/": (
        "front_desk",
        LOG,
        "referrals.referralstatuschange",
    ),
    "POST /api/v1/referrals/types/": ("coordinator", LOG, "referrals.referraltype"),
    "PUT /api/v1/referrals/types/{id}/": ("coordinator", LOG, "referrals.referraltype"),
    "PATCH /api/v1/referrals/types/{id}/": ("coordinator", LOG, "referrals.referraltype"),
    "POST /api/v1/referrals/partners/": ("coordinator", LOG, "referrals.partner"),
    "PUT /api/v1/referrals/partners/{id}/": ("coordinator", LOG, "referrals.partner"),
    "PATCH /api/v1/referrals/partners/{id}/": ("coordinator", LOG, "referrals.partner"),
    "POST /api/v1/events/": ("front_desk", LOG, "events.programevent"),
    "PATCH /api/v1/events/{uuid}/": ("front_desk", LOG, "events.programevent"),
    "POST /api/v1/events/{uuid}/void/": ("front_desk", LOG, "events.programevent"),
    "POST /api/v1/inventory/receipts/": ("manager", LEDGER, None),
    "POST /api/v1/inventory/transfers/": ("manager", LEDGER, None),
    "POST /api/v1/inventory/adjustments/": ("manager", LEDGER, None),
    "POST /api/v1/inventory/dispenses/": ("manager", LEDGER, None),
    "POST /api/v1/inventory/reversals/": ("manager", LEDGER, None),
    # The count record goes to the audit log; its differences go to the ledger.
    "POST /api/v1/inventory/counts/record/": ("manager", LOG, "inventory.stockcount"),
    "POST /api/v1/inventory/alerts/{id}/acknowledge/": ("manager", ALERT_ROW, None),
    "POST /api/v1/reports/": ("coordinator", LOG, "reports.reportsnapshot"),
    "POST /api/v1/reports/{id}/regenerate/": ("coordinator", LOG, "reports.reportsnapshot"),
    # Logged against the token's owner (the token row holds the key, so it is not logged).
    "POST /api/v1/tokens/": ("front_desk", LOG, "org.user"),
    "DELETE /api/v1/tokens/{id}/": ("front_desk", LOG, "org.user"),
    # One's own language, on one's own account row.
    "PATCH /api/v1/account/": ("front_desk", LOG, "org.user"),
}
# A token may not make its successor (it would never expire): a signed-in session does.
SESSION_ONLY = {"POST /api/v1/tokens/"}

WRITES = ("POST ", "PUT ", "PATCH ", "DELETE ")


def test_every_write_operation_says_where_its_audit_record_is():
    writes = [op for op in schema_operations() if op.startswith(WRITES)]
    assert sorted(AUDITED) == writes


@pytest.fixture(scope="module")
def api_client_once():
    """One client for the module: its first request loads the middleware, which is slow."""
    return APIClient()


@pytest.fixture
def token_client(api_client_once):
    """token_client(user) -> the module's client, calling with a fresh token of `user`."""

    def with_token(user) -> APIClient:
        token = Token.objects.create(user=user).key
        api_client_once.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        return api_client_once

    return with_token


@pytest.mark.parametrize("op", sorted(AUDITED))
def test_a_write_is_attributed_to_the_person_who_made_it(module_world, token_client, op):
    role, record, model = AUDITED[op]
    user = getattr(module_world.people, role)
    if op in SESSION_ONLY:
        client = APIClient()
        client.force_login(user)
    else:
        client = token_client(user)
    last_entry = LogEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    last_movement = StockMovement.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    call = write_for(op, module_world, module_world.A, user)
    before, started = rows_written(), timezone.now()
    response = request(client, op, call)
    finished = timezone.now()
    assert 200 <= response.status_code < 300, (op, response.status_code, response.json())

    entries = LogEntry.objects.filter(pk__gt=last_entry)
    assert not entries.filter(actor__isnull=True).exists(), (op, "audit entries with no actor")
    assert not entries.exclude(actor=user).exists(), (op, "audit entries naming someone else")
    movements = StockMovement.objects.filter(pk__gt=last_movement)
    assert not movements.exclude(recorded_by=user).exists(), (op, "ledger rows of someone else")

    if record == LOG:
        app_label, model_name = model.split(".")
        logged = entries.filter(
            content_type__app_label=app_label,
            content_type__model=model_name,
            actor=user,
            timestamp__range=(started, finished),
        )
        assert logged.exists(), (op, f"no audit entry for {model} by {user}")
    elif record == LEDGER:
        assert movements.exists(), (op, "no ledger row")
        assert all(started <= m.recorded_at <= finished for m in movements), op
    elif record == ALERT_ROW:
        alert = StockAlert.objects.get(pk=call.path["id"])
        assert alert.acknowledged_by == user
        assert started <= alert.acknowledged_at <= finished
    else:
        assert response.status_code == 200
        assert not tables_changed(before, rows_written()), (op, "a call meant to store nothing")


def test_a_session_write_is_attributed_too(module_world):
    """The web pages' path: the session user is known before the view runs."""
    cleo = module_world.people.coordinator
    client = APIClient()
    client.force_login(cleo)
    response = client.patch(
        f"/api/v1/referrals/partners/{module_world.partner.pk}/", {"hours": "Daily 8–20"}
    )
    assert response.status_code == 200, response.json()
    entry = LogEntry.objects.get_for_object(module_world.partner).latest("pk")
    assert entry.actor == cleo and entry.changes_dict["hours"][1] == "Daily 8–20"


def test_reading_a_report_with_a_token_is_logged_with_its_reader(module_world, token_client):
    """Reads of report figures are audited too (42 CFR Part 2 habits): by whom."""
    cleo = module_world.people.coordinator
    snapshot = module_world.A.snapshot
    response = token_client(cleo).get(f"/api/v1/reports/{snapshot.pk}/")
    assert response.status_code == 200
    access = LogEntry.objects.get_for_object(snapshot).filter(action=LogEntry.Action.ACCESS)
    assert access.filter(actor=cleo).exists()
    assert not access.filter(actor__isnull=True).exists()
