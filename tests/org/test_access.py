"""A person's capabilities and sites are read once per request, in one query, and never
kept from one request to the next: a role or a site taken away is refused at once."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from org import roles
from org.models import access_load
from org.services import token_create

pytestmark = pytest.mark.django_db


def with_token(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_create(user=user, by=user).key}")
    return client


def test_the_bare_site_list_reads_capabilities_and_sites_in_one_query(front_desk_ana):
    client = with_token(front_desk_ana)
    client.get("/api/v1/sites/")  # content types and other per-process caches
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/sites/")
    assert response.status_code == 200
    # The token with its user, then capabilities and sites together, then the page.
    statements = [q["sql"] for q in queries.captured_queries]
    assert len(statements) == 4, statements
    assert sum("auth_permission" in sql for sql in statements) == 1


def test_a_revoked_role_is_refused_at_the_next_request(manager_sam):
    client = with_token(manager_sam)
    assert client.get("/api/v1/inventory/alerts/").status_code == 200
    manager_sam.groups.remove(Group.objects.get(name=roles.MANAGER))
    response = client.get("/api/v1/inventory/alerts/")
    assert response.status_code == 403, response.content


def test_a_site_taken_away_is_out_of_sight_at_the_next_request(front_desk_ana, site_a, site_b):
    client = with_token(front_desk_ana)
    front_desk_ana.sites.add(site_b)
    seen = {row["code"] for row in client.get("/api/v1/sites/").json()["results"]}
    assert seen == {site_a.code, site_b.code}
    front_desk_ana.sites.remove(site_b)
    seen = {row["code"] for row in client.get("/api/v1/sites/").json()["results"]}
    assert seen == {site_a.code}


def test_a_program_wide_role_sees_every_site_and_a_site_role_only_its_own(
    coordinator_cleo, front_desk_ana, site_a, site_b
):
    access_load(coordinator_cleo)
    access_load(front_desk_ana)
    assert coordinator_cleo.accessible_site_ids() == {site_a.pk, site_b.pk}
    assert coordinator_cleo.has_perm("org.program_wide")
    assert front_desk_ana.accessible_site_ids() == {site_a.pk}
    assert front_desk_ana.has_perm("ssp.log_visit")
    assert not front_desk_ana.has_perm("org.program_wide")


def test_a_deactivated_person_holds_no_capability(front_desk_ana):
    front_desk_ana.is_active = False
    assert not front_desk_ana.has_perm("ssp.log_visit")
    assert front_desk_ana.get_all_permissions() == set()
