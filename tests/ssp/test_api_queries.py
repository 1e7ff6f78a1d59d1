"""POST /api/v1/visits/ takes the same, small number of SQL round trips whatever the
number of supply lines: line codes resolved in one query per kind, no savepoints, the
response built from what was written, the outbox relayed after the response.

Counted on a real token request, for a returning participant after one warm-up visit
(per-process caches such as content types are filled).
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from org.services import token_create

from ..support.intake import new_uuid

pytestmark = pytest.mark.django_db

# The token with its user; capabilities and sites; the site with its default stock
# location; the lines' items and kits (with their components) by code, one query; BEGIN;
# the participant; the visit with its supply lines (one statement on PostgreSQL, two
# elsewhere: ssp/visit_insert.py); its audit entry; the dispense (on PostgreSQL one
# statement locks the balances, updates them, writes the movements and marks the pairs
# due an alert re-check; the ORM path elsewhere takes four); the code's first-seen
# date kept true (its row locked, then its first standing visit read, in one round trip);
# COMMIT. No outbox job: the pairs are marked already, their check queued and not run
# here (a visit newly marking one adds the job: tests/ssp/test_queries.py).
# (Inside a test's transaction BEGIN and COMMIT are a savepoint and its release.)
QUERIES_PER_VISIT_POST = 11 if connection.vendor == "postgresql" else 15


def _token_client(user) -> APIClient:
    """An API client with the user's token, as a device sends it."""
    client = APIClient()
    token = token_create(user=user, by=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def _post(client, site, items, code="MAKO1993F", kits=()):
    return client.post(
        "/api/v1/visits/",
        {
            "client_uuid": new_uuid(),
            "site": site.pk,
            "code": code,
            "supplies": [{"kit": kit.code, "quantity": 1} for kit in kits]
            + [{"item": item.code, "quantity": 1} for item in items],
        },
        format="json",
    )


def test_a_visit_post_takes_the_same_queries_at_1_6_and_12_lines(
    front_desk_ana, site_a, twelve_items
):
    client = _token_client(front_desk_ana)
    assert _post(client, site_a, twelve_items[:1]).status_code == 201
    counts = {}
    for n in (1, 6, 12):
        with CaptureQueriesContext(connection) as queries:
            response = _post(client, site_a, twelve_items[:n])
        assert response.status_code == 201, response.content
        counts[n] = [q["sql"] for q in queries.captured_queries]
    assert len(counts[1]) == len(counts[6]) == len(counts[12]) == QUERIES_PER_VISIT_POST, {
        n: len(q) for n, q in counts.items()
    }


def test_a_visit_post_with_a_kit_takes_the_same_queries_at_1_6_and_12_lines(
    front_desk_ana, site_a, twelve_items, injection_kit
):
    client = _token_client(front_desk_ana)
    # The warm-up hands out the kit too: its components' check is then queued, as the
    # twelve items' is by their receipt, so no visit below queues one (counted apart).
    assert _post(client, site_a, twelve_items[:1], kits=[injection_kit]).status_code == 201
    counts = {}
    for n in (1, 6, 12):
        with CaptureQueriesContext(connection) as queries:
            response = _post(client, site_a, twelve_items[: n - 1], kits=[injection_kit])
        assert response.status_code == 201, response.content
        assert len(response.json()["supplies"]) == n
        counts[n] = len(queries.captured_queries)
    # The items and the kits with their components are read in one query, whatever the
    # kinds of line: dispensing reads the components from it, not the database.
    assert counts == dict.fromkeys((1, 6, 12), QUERIES_PER_VISIT_POST)


def test_the_answer_is_the_visit_as_written(front_desk_ana, site_a, twelve_items):
    client = _token_client(front_desk_ana)
    created = _post(client, site_a, twelve_items[:3])
    assert created.status_code == 201
    read = client.get(f"/api/v1/visits/{created.json()['uuid']}/")
    # The create answer adds only `notice` (a stock shortfall at save, or null).
    answer = created.json()
    assert answer.pop("notice") is None
    assert answer == read.json()


def test_the_visit_list_takes_the_same_queries_for_a_page_of_1_or_12_visits(
    front_desk_ana, site_a, twelve_items
):
    # Supplies, services and what upper apps made with each visit (referrals) are read
    # once for the page, never once per visit.
    client = _token_client(front_desk_ana)

    def listing() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/api/v1/visits/")
        assert response.status_code == 200
        return len(queries.captured_queries)

    assert _post(client, site_a, twelve_items[:2]).status_code == 201
    one = listing()
    for n in range(11):
        assert _post(client, site_a, twelve_items[: n + 1]).status_code == 201
    assert listing() == one
