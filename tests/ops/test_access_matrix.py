"""Every API operation × every role × own site / other site, against the stated policy.

POLICY is the access policy written out by hand from the capabilities of ssp/roles.py
(front desk: log_visit, record_events, view_events; manager: + correct_any_visit,
merge_participants, manage_stock, correct_any_event; coordinator: view_reports,
view_unsuppressed, program_wide, manage_referrals, view_events; admin: all) and from
what each viewset promises. It is not read from the code: the code is checked against
it. A new API operation fails `test_policy_names_every_operation` until someone states
who may call it.

Site scoping: the front desk and the manager belong to site A only; the coordinator
and the admin are program-wide. Site B's records must be out of their reach for the
first two: left out of lists, 404 when addressed, refused when named in a request.
A refused call (by role or by site) must write nothing at all, to any table.
"""

import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.urls import URLResolver, get_resolver, resolve
from django.utils import timezone
from rest_framework.test import APIClient

from ..support.world import rows_written, tables_changed
from .api_calls import Call, listed, request, schema_operations, write_for

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

# --- Who ------------------------------------------------------------------------------

ANONYMOUS = "anonymous"
FRONT_DESK = "front_desk"  # ana, site A
MANAGER = "manager"  # sam, site A
COORDINATOR = "coordinator"  # cleo, program-wide
ADMIN = "admin"  # ada, program-wide
ROLES = [ANONYMOUS, FRONT_DESK, MANAGER, COORDINATOR, ADMIN]
PROGRAM_WIDE = {COORDINATOR, ADMIN}

SIGNED_IN = frozenset({FRONT_DESK, MANAGER, COORDINATOR, ADMIN})
LOGS_VISITS = frozenset({FRONT_DESK, MANAGER, ADMIN})  # log_visit
MERGES_CODES = frozenset({MANAGER, ADMIN})  # merge_participants
MANAGES_STOCK = frozenset({MANAGER, ADMIN})  # manage_stock
MANAGES_REFERRALS = frozenset({COORDINATOR, ADMIN})  # manage_referrals
RECORDS_REFERRALS = LOGS_VISITS | MANAGES_REFERRALS  # at a visit, or as a coordinator
VIEWS_REPORTS = frozenset({COORDINATOR, ADMIN})  # view_reports
MANAGES_SURVEYS = frozenset({COORDINATOR, ADMIN})  # manage_surveys
RECORDS_EVENTS = frozenset({FRONT_DESK, MANAGER, ADMIN})  # record_events
VIEWS_EVENTS = frozenset({FRONT_DESK, MANAGER, COORDINATOR, ADMIN})  # view_events

# --- How an operation is tied to a site -----------------------------------------------

NO_SITE = "no site"  # program-wide reference data: catalog, partners, templates
LIST = "list"  # another site's records are left out
OBJECT = "object"  # another site's record answers 404
NAMED = "named"  # a request naming another site's place, code or reference is refused
# A batch (sync): a record naming another site is refused in the answer (200), the
# request as a whole is not.
NAMED_PER_RECORD = "named, per record"


@dataclass(frozen=True)
class Rule:
    who: frozenset
    scope: str


POLICY = {
    # Sites
    "GET /api/v1/sites/": Rule(SIGNED_IN, LIST),
    "GET /api/v1/sites/{id}/": Rule(SIGNED_IN, OBJECT),
    # Visits: the people who log them (coordinators read figures through reports)
    "GET /api/v1/visits/": Rule(LOGS_VISITS, LIST),
    "POST /api/v1/visits/": Rule(LOGS_VISITS, NAMED),
    "GET /api/v1/visits/{uuid}/": Rule(LOGS_VISITS, OBJECT),
    # The author within the edit window (ana logged site A's visit) or a manager.
    "PATCH /api/v1/visits/{uuid}/": Rule(LOGS_VISITS, OBJECT),
    "POST /api/v1/visits/{uuid}/void/": Rule(LOGS_VISITS, OBJECT),
    # Queued visits of an offline device, in one batch.
    "POST /api/v1/sync/": Rule(LOGS_VISITS, NAMED_PER_RECORD),
    # Participant codes
    "GET /api/v1/participants/{code}/": Rule(LOGS_VISITS, OBJECT),
    # A code is known program-wide (so it is not counted as new elsewhere), but the
    # visits the look-up shows are only those at the caller's sites.
    "GET /api/v1/participants/lookup/": Rule(LOGS_VISITS, LIST),
    "POST /api/v1/participants/build-code/": Rule(LOGS_VISITS, NO_SITE),
    "POST /api/v1/participants/merge/": Rule(MERGES_CODES, NAMED),
    # What the offline app keeps on a phone: the sites one records at, and the codes
    # seen at one's own sites (never another site's).
    "GET /api/v1/device/catalog/": Rule(LOGS_VISITS, LIST),
    "GET /api/v1/device/codes/": Rule(LOGS_VISITS, LIST),
    # The periodic anonymous survey: definitions read by all, managed by coordinators;
    # offers at the caller's sites' visits; answers written, never read back.
    "GET /api/v1/surveys/": Rule(SIGNED_IN, NO_SITE),
    "POST /api/v1/surveys/": Rule(MANAGES_SURVEYS, NO_SITE),
    "GET /api/v1/surveys/{id}/": Rule(SIGNED_IN, NO_SITE),
    "PUT /api/v1/surveys/{id}/": Rule(MANAGES_SURVEYS, NO_SITE),
    "PATCH /api/v1/surveys/{id}/": Rule(MANAGES_SURVEYS, NO_SITE),
    "GET /api/v1/survey-offers/": Rule(LOGS_VISITS, LIST),
    "POST /api/v1/survey-offers/": Rule(LOGS_VISITS, NAMED),
    "GET /api/v1/survey-offers/{uuid}/": Rule(LOGS_VISITS, OBJECT),
    "POST /api/v1/survey-offers/{uuid}/answers/": Rule(LOGS_VISITS, OBJECT),
    # Program events (clean-ups, needle-sticks, bins emptied): recorded by front desk and
    # managers at their sites, read by coordinators too. The recorder corrects within the
    # edit window (ana recorded site A's clean-up), a manager any time.
    "GET /api/v1/events/": Rule(VIEWS_EVENTS, LIST),
    "POST /api/v1/events/": Rule(RECORDS_EVENTS, NAMED),
    "GET /api/v1/events/{uuid}/": Rule(VIEWS_EVENTS, OBJECT),
    "PATCH /api/v1/events/{uuid}/": Rule(RECORDS_EVENTS, OBJECT),
    "POST /api/v1/events/{uuid}/void/": Rule(RECORDS_EVENTS, OBJECT),
    # Referrals: read by everyone at the site, recorded by front desk and coordinators,
    # types and partners read by all and managed by coordinators.
    "GET /api/v1/referrals/": Rule(SIGNED_IN, LIST),
    "POST /api/v1/referrals/": Rule(RECORDS_REFERRALS, NAMED),
    "GET /api/v1/referrals/{id}/": Rule(SIGNED_IN, OBJECT),
    "GET /api/v1/referrals/{id}/status-changes/": Rule(SIGNED_IN, OBJECT),
    "GET /api/v1/referrals/linkage/": Rule(SIGNED_IN, LIST),  # rows per site: yours only
    "POST /api/v1/referrals/{id}/status-changes/": Rule(RECORDS_REFERRALS, OBJECT),
    "GET /api/v1/referrals/types/": Rule(SIGNED_IN, NO_SITE),
    "POST /api/v1/referrals/types/": Rule(MANAGES_REFERRALS, NO_SITE),
    "GET /api/v1/referrals/types/{id}/": Rule(SIGNED_IN, NO_SITE),
    "PUT /api/v1/referrals/types/{id}/": Rule(MANAGES_REFERRALS, NO_SITE),
    "PATCH /api/v1/referrals/types/{id}/": Rule(MANAGES_REFERRALS, NO_SITE),
    "GET /api/v1/referrals/partners/": Rule(SIGNED_IN, NO_SITE),
    "POST /api/v1/referrals/partners/": Rule(MANAGES_REFERRALS, NO_SITE),
    "GET /api/v1/referrals/partners/{id}/": Rule(SIGNED_IN, NO_SITE),
    "PUT /api/v1/referrals/partners/{id}/": Rule(MANAGES_REFERRALS, NO_SITE),
    "PATCH /api/v1/referrals/partners/{id}/": Rule(MANAGES_REFERRALS, NO_SITE),
    # Stock catalog: the same for every site. Lots are batches (number, expiry, funder),
    # not places: where a lot lies is a balance, and balances are scoped.
    "GET /api/v1/inventory/items/": Rule(SIGNED_IN, NO_SITE),
    "GET /api/v1/inventory/items/{id}/": Rule(SIGNED_IN, NO_SITE),
    "GET /api/v1/inventory/kits/": Rule(SIGNED_IN, NO_SITE),
    "GET /api/v1/inventory/kits/{id}/": Rule(SIGNED_IN, NO_SITE),
    "GET /api/v1/inventory/funding-sources/": Rule(SIGNED_IN, NO_SITE),
    "GET /api/v1/inventory/funding-sources/{id}/": Rule(SIGNED_IN, NO_SITE),
    "GET /api/v1/inventory/lots/": Rule(SIGNED_IN, NO_SITE),
    "GET /api/v1/inventory/lots/{id}/": Rule(SIGNED_IN, NO_SITE),
    # Stock on the shelves: anyone may look at their own sites' stock.
    "GET /api/v1/inventory/locations/": Rule(SIGNED_IN, LIST),
    "GET /api/v1/inventory/locations/{id}/": Rule(SIGNED_IN, OBJECT),
    "GET /api/v1/inventory/balances/": Rule(SIGNED_IN, LIST),
    "GET /api/v1/inventory/balances/{id}/": Rule(SIGNED_IN, OBJECT),
    "GET /api/v1/inventory/movements/": Rule(SIGNED_IN, LIST),
    "GET /api/v1/inventory/movements/{id}/": Rule(SIGNED_IN, OBJECT),
    "GET /api/v1/inventory/counts/": Rule(SIGNED_IN, LIST),
    "GET /api/v1/inventory/counts/{id}/": Rule(SIGNED_IN, OBJECT),
    "GET /api/v1/inventory/levels/": Rule(SIGNED_IN, NAMED),
    "GET /api/v1/inventory/stock-card/": Rule(SIGNED_IN, NAMED),
    "GET /api/v1/inventory/trend/": Rule(SIGNED_IN, NAMED),
    # Moving stock: stock managers, at the locations they manage.
    "POST /api/v1/inventory/receipts/": Rule(MANAGES_STOCK, NAMED),
    "POST /api/v1/inventory/transfers/": Rule(MANAGES_STOCK, NAMED),
    "POST /api/v1/inventory/adjustments/": Rule(MANAGES_STOCK, NAMED),
    "POST /api/v1/inventory/counts/record/": Rule(MANAGES_STOCK, NAMED),
    "POST /api/v1/inventory/dispenses/": Rule(MANAGES_STOCK, NAMED),
    "POST /api/v1/inventory/reversals/": Rule(MANAGES_STOCK, NAMED),
    # Stock alerts go to those who can act on them.
    "GET /api/v1/inventory/alerts/": Rule(MANAGES_STOCK, LIST),
    "GET /api/v1/inventory/alerts/{id}/": Rule(MANAGES_STOCK, OBJECT),
    "POST /api/v1/inventory/alerts/{id}/acknowledge/": Rule(MANAGES_STOCK, OBJECT),
    # Funder reports
    "GET /api/v1/reports/": Rule(VIEWS_REPORTS, LIST),
    "POST /api/v1/reports/": Rule(VIEWS_REPORTS, NAMED),
    "GET /api/v1/reports/{id}/": Rule(VIEWS_REPORTS, OBJECT),
    "GET /api/v1/reports/{id}/progress/": Rule(VIEWS_REPORTS, OBJECT),
    "POST /api/v1/reports/{id}/regenerate/": Rule(VIEWS_REPORTS, OBJECT),
    "GET /api/v1/reports/{id}/files/{fmt}/": Rule(VIEWS_REPORTS, OBJECT),
    "GET /api/v1/reports/templates/": Rule(VIEWS_REPORTS, NO_SITE),
    "GET /api/v1/reports/trends/": Rule(VIEWS_REPORTS, NAMED),
    # API tokens: everyone lists, makes and revokes their own; admins (org.manage_staff)
    # everyone's. Not tied to a site.
    "GET /api/v1/tokens/": Rule(SIGNED_IN, NO_SITE),
    "POST /api/v1/tokens/": Rule(SIGNED_IN, NO_SITE),
    "DELETE /api/v1/tokens/{id}/": Rule(SIGNED_IN, NO_SITE),
    # One's own account (the language of one's pages): everyone signed in, no site.
    "GET /api/v1/account/": Rule(SIGNED_IN, NO_SITE),
    "PATCH /api/v1/account/": Rule(SIGNED_IN, NO_SITE),
    # The audit trail: admins only (org.view_audit), every site.
    "GET /api/v1/audit/": Rule(frozenset({ADMIN}), NO_SITE),
}


# --- The request made for each operation, at one site's records -------------------------
# (the writes, `write_for`, are in api_calls.py: the audit coverage makes them too)


def read_for(op: str, w, s) -> Call:
    match op:
        case "GET /api/v1/sites/":
            return Call(shows=listed(s.site.pk))
        case "GET /api/v1/sites/{id}/":
            return Call({"id": s.site.pk})
        case "GET /api/v1/visits/":
            return Call(shows=listed(str(s.visit.uuid)))
        case "GET /api/v1/visits/{uuid}/":
            return Call({"uuid": s.visit.uuid})
        case "GET /api/v1/participants/{code}/":
            return Call({"code": s.code})
        case "GET /api/v1/participants/lookup/":

            def shows_visit(body):
                return body["last_visit"] is not None and body["last_visit"]["uuid"] == str(
                    s.visit.uuid
                )

            return Call(data={"code": s.code}, shows=shows_visit)
        case "GET /api/v1/device/catalog/":
            return Call(shows=lambda body: s.site.pk in {site["id"] for site in body["sites"]})
        case "GET /api/v1/device/codes/":
            return Call(shows=lambda body: s.code in body["codes"])
        case "GET /api/v1/surveys/":
            return Call(shows=listed(w.survey.pk))
        case "GET /api/v1/surveys/{id}/":
            return Call({"id": w.survey.pk})
        case "GET /api/v1/survey-offers/":
            return Call(shows=listed(str(s.extra["survey_offer"].uuid)))
        case "GET /api/v1/survey-offers/{uuid}/":
            return Call({"uuid": s.extra["survey_offer"].uuid})
        case "GET /api/v1/events/":
            return Call(shows=listed(str(s.event.uuid)))
        case "GET /api/v1/events/{uuid}/":
            return Call({"uuid": s.event.uuid})
        case "GET /api/v1/referrals/":
            return Call(shows=listed(s.referral.pk))
        case "GET /api/v1/referrals/linkage/":
            today = timezone.localdate()
            period = {"start": today - timedelta(days=30), "end": today + timedelta(days=1)}
            return Call(
                data=period, shows=lambda body: s.site.pk in {row["id"] for row in body["by_site"]}
            )
        case "GET /api/v1/referrals/{id}/" | "GET /api/v1/referrals/{id}/status-changes/":
            return Call({"id": s.referral.pk})
        case "GET /api/v1/referrals/types/" | "GET /api/v1/referrals/partners/":
            return Call()
        case "GET /api/v1/referrals/types/{id}/":
            return Call({"id": w.referral_type.pk})
        case "GET /api/v1/referrals/partners/{id}/":
            return Call({"id": w.partner.pk})
        case (
            "GET /api/v1/inventory/items/"
            | "GET /api/v1/inventory/kits/"
            | "GET /api/v1/inventory/funding-sources/"
            | "GET /api/v1/inventory/lots/"
            | "GET /api/v1/reports/templates/"
        ):
            return Call()
        case "GET /api/v1/inventory/items/{id}/":
            return Call({"id": w.syringe.pk})
        case "GET /api/v1/inventory/kits/{id}/":
            return Call({"id": w.kit.pk})
        case "GET /api/v1/inventory/funding-sources/{id}/":
            return Call({"id": w.fund.pk})
        case "GET /api/v1/inventory/lots/{id}/":
            return Call({"id": w.lot.pk})
        case "GET /api/v1/inventory/locations/":
            return Call(shows=listed(s.storeroom.pk))
        case "GET /api/v1/inventory/locations/{id}/":
            return Call({"id": s.storeroom.pk})
        case "GET /api/v1/inventory/balances/":
            return Call(shows=listed(s.balance.pk))
        case "GET /api/v1/inventory/balances/{id}/":
            return Call({"id": s.balance.pk})
        case "GET /api/v1/inventory/movements/":
            return Call(data={"location": s.storeroom.pk}, shows=listed(s.movement.pk))
        case "GET /api/v1/inventory/movements/{id}/":
            return Call({"id": s.movement.pk})
        case "GET /api/v1/inventory/counts/":
            return Call(shows=listed(s.count.pk))
        case "GET /api/v1/inventory/counts/{id}/":
            return Call({"id": s.count.pk})
        case "GET /api/v1/inventory/levels/":
            return Call(data={"location": s.storeroom.pk})
        case "GET /api/v1/inventory/stock-card/" | "GET /api/v1/inventory/trend/":
            return Call(data={"location": s.storeroom.pk, "item": w.syringe.pk})
        case "GET /api/v1/inventory/alerts/":
            return Call(shows=listed(s.alert.pk))
        case "GET /api/v1/inventory/alerts/{id}/":
            return Call({"id": s.alert.pk})
        case "GET /api/v1/reports/":
            return Call(shows=listed(s.snapshot.pk))
        case "GET /api/v1/reports/{id}/" | "GET /api/v1/reports/{id}/progress/":
            return Call({"id": s.snapshot.pk})
        case "GET /api/v1/reports/{id}/files/{fmt}/":
            return Call({"id": s.snapshot.pk, "fmt": "csv"})
        case "GET /api/v1/reports/trends/":
            return Call(data={"site": s.site.pk})
        case "GET /api/v1/tokens/" | "GET /api/v1/account/" | "GET /api/v1/audit/":
            return Call()
    raise LookupError(op)


def call_for(op: str, w, s, caller=None) -> Call:
    return read_for(op, w, s) if op.startswith("GET ") else write_for(op, w, s, caller)


# --- The checks -------------------------------------------------------------------------


def test_policy_names_every_operation():
    """The table and the schema list the same operations: none unstated, none stale."""
    operations = schema_operations()
    assert sorted(POLICY) == operations
    assert len(operations) >= 60


# API addresses that are not operations of the schema: the browsable roots of the
# routers, the schema itself and its docs page. Signed-in staff only, like the rest.
OUTSIDE_SCHEMA = {
    "/api/v1/": "api-root",
    "/api/v1/inventory/": "api-root",
    "/api/schema/": "schema",
    "/api/docs/": "api-docs",
}
SAMPLE_PATH_VALUES = {"id": "1", "uuid": str(uuid.UUID(int=1)), "code": "ABC1", "fmt": "csv"}


def api_url_names(patterns=None, prefix="") -> set[str]:
    names = set()
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            names |= api_url_names(pattern.url_patterns, route)
        elif route.startswith("api/"):
            names.add(pattern.name)
    return names


def test_every_api_address_is_in_the_schema_or_listed_here():
    """So no endpoint escapes the matrix by being left out of the schema."""
    in_schema = {
        resolve(op.split(" ", 1)[1].format(**SAMPLE_PATH_VALUES)).url_name
        for op in schema_operations()
    }
    assert api_url_names() == in_schema | set(OUTSIDE_SCHEMA.values())


@pytest.mark.parametrize("path", sorted(OUTSIDE_SCHEMA))
def test_api_addresses_outside_the_schema_need_a_login(module_world, clients, path):
    assert clients[ANONYMOUS].get(path).status_code in (401, 403), path
    assert clients[FRONT_DESK].get(path).status_code == 200, path


def user_for(world, role):
    return None if role == ANONYMOUS else getattr(world.people, role)


def expectation(rule: Rule, role: str, site: str) -> str:
    if role not in rule.who:
        return "denied"
    if rule.scope != NO_SITE and site == "B" and role not in PROGRAM_WIDE:
        return "out of reach"
    return "allowed"


@pytest.fixture(scope="module")
def clients(module_world):
    """One API client per role for the whole module: a client loads the middleware
    (and WhiteNoise scans the static files) on its first request, which is slow."""
    made = {}
    for role in ROLES:
        made[role] = APIClient()
        if role != ANONYMOUS:
            made[role].force_authenticate(user_for(module_world, role))
    return made


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("op", sorted(POLICY))
def test_access(module_world, clients, op, role):
    rule = POLICY[op]
    client = clients[role]
    # Site B first: a refusal must leave the records untouched for the site A call.
    for site in ["B", "A"] if rule.scope != NO_SITE else ["A"]:
        call = call_for(op, module_world, getattr(module_world, site), user_for(module_world, role))
        expected = expectation(rule, role, site)
        where = f"{op} as {role} at site {site}: expected {expected}"
        before = rows_written()
        response = request(client, op, call)
        status = response.status_code
        body = (
            response.json()
            if response.get("Content-Type", "").startswith("application/json")
            else None
        )
        if expected == "denied":
            assert status in ((401, 403) if role == ANONYMOUS else (403,)), (where, status, body)
        elif expected == "out of reach" and rule.scope == OBJECT:
            assert status == 404, (where, status, body)
        elif expected == "out of reach" and rule.scope == NAMED:
            assert status in (400, 403, 404), (where, status, body)
        elif expected == "out of reach" and rule.scope == NAMED_PER_RECORD:
            assert status == 200, (where, status, body)
            assert {row["status"] for row in body["results"]} == {"refused"}, (where, body)
        elif expected == "out of reach":  # a list: answered, without site B's record
            assert status == 200, (where, status, body)
            assert not call.shows(body), (where, "site B's record is listed")
        else:
            assert 200 <= status < 300, (where, status, body)
            if rule.scope == LIST:
                assert call.shows(body), (where, "the site's record is missing", body)
            if rule.scope == NAMED_PER_RECORD:
                assert {row["status"] for row in body["results"]} == {"created"}, (where, body)
        if expected != "allowed":
            changed = tables_changed(before, rows_written())
            assert not changed, (where, "a refused call wrote to", changed)
