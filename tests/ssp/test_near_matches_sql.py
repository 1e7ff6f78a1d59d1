"""The near-code look-up sends its several hundred variants as one array parameter on
PostgreSQL (`code = ANY(%s)`), not as an `IN` list with a placeholder per variant."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ssp.codes import near_variants
from ssp.models import Participant
from ssp.selectors import near_matches

from ..factories import ParticipantFactory, VisitFactory

pytestmark = pytest.mark.django_db


def test_near_variants_go_to_the_database_as_one_parameter(site_a, front_desk_ana):
    VisitFactory(
        site=site_a,
        recorded_by=front_desk_ana,
        participant=ParticipantFactory(code="MAKO1993F"),
    )
    typed = "MAKO1994F"  # a year off
    assert len(near_variants(typed)) > 100
    # Read once per request, before any view runs (the permission check); the look-up
    # now keeps only the codes this person may see in the same query, so it needs them.
    front_desk_ana.accessible_site_ids()
    with CaptureQueriesContext(connection) as queries:
        offered = near_matches(typed, user=front_desk_ana)
    assert [s.code for s in offered] == ["MAKO1993F"]
    # The first query is the variants' look-up on the unique index.
    variants_query = queries.captured_queries[0]["sql"]
    assert f'FROM "{Participant._meta.db_table}"' in variants_query
    if connection.vendor == "postgresql":
        assert '"code" = ANY(' in variants_query
        assert " IN (" not in variants_query
    else:
        assert " IN (" in variants_query
