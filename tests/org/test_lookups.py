"""AnyOf: many values as one array parameter on PostgreSQL, an IN list elsewhere."""

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from org.lookups import AnyOf
from org.models import Site

from ..factories import SiteFactory

pytestmark = pytest.mark.django_db


def test_any_of_finds_exactly_the_listed_values(db):
    sites = [SiteFactory(code=f"S{n}") for n in range(5)]
    wanted = ["S1", "S3", "NOPE"] + [f"X{n}" for n in range(700)]
    with CaptureQueriesContext(connection) as queries:
        found = set(Site.objects.filter(AnyOf(F("code"), wanted)).values_list("code", flat=True))
    assert found == {sites[1].code, sites[3].code}
    sql = queries.captured_queries[0]["sql"]
    if connection.vendor == "postgresql":
        assert "= ANY(" in sql
        assert "IN (" not in sql
    else:
        assert "IN (" in sql


def test_any_of_an_empty_list_matches_nothing(db):
    SiteFactory(code="S1")
    assert not Site.objects.filter(AnyOf(F("code"), [])).exists()
