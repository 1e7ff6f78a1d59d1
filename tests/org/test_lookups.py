"""AnyOf: many values as one array parameter on PostgreSQL, an IN list elsewhere; the
prepared cursor for hot statements."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.db.models.functions import JSONObject
from django.test.utils import CaptureQueriesContext

from org.lookups import AnyOf, CompiledRead, prepared_cursor
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


def test_any_of_a_lone_empty_string_matches_the_empty_value(db):
    SiteFactory(code="E1", name="")
    SiteFactory(code="E2", name="Downtown")
    found = Site.objects.filter(AnyOf(F("name"), [""])).values_list("code", flat=True)
    assert list(found) == ["E1"]


def test_any_of_strings_with_commas_are_still_whole_values(db):
    # Strings go as one comma-joined text where none has a comma; these cannot.
    SiteFactory(code="A,B")
    SiteFactory(code="A")
    found = Site.objects.filter(AnyOf(F("code"), ["A,B", "C"])).values_list("code", flat=True)
    assert list(found) == ["A,B"]


def test_any_of_an_empty_list_matches_nothing(db):
    SiteFactory(code="S1")
    assert not Site.objects.filter(AnyOf(F("code"), [])).exists()


HOT = "SELECT count(*) FROM org_site WHERE code = %(code)s OR code = %(code)s || 'x'"


@pytest.mark.postgres
def test_the_prepared_cursor_prepares_a_statement_once_and_logs_it(db):
    SiteFactory(code="HOT1")
    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            with prepared_cursor() as cursor:
                cursor.execute(HOT, {"code": "HOT1"})
                assert cursor.fetchone() == (1,)
    # Django's query log (and the query-count tests) see each run, with its text.
    assert [query["sql"] for query in queries.captured_queries] == [
        "SELECT count(*) FROM org_site WHERE code = $1 OR code = $1 || 'x'"
    ] * 3
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            ["SELECT count(*) FROM org_site WHERE code = $1%"],
        )
        assert cursor.fetchone() == (1,)


@pytest.mark.postgres
def test_the_prepared_cursor_raises_django_errors(db):
    site = SiteFactory(code="HOT2")
    with pytest.raises(IntegrityError), transaction.atomic(), prepared_cursor() as cursor:
        cursor.execute(
            "INSERT INTO org_site (code, name, service_model, is_active) "
            "SELECT code, name, service_model, is_active FROM org_site WHERE id = %(id)s",
            {"id": site.pk},
        )


def test_the_prepared_cursor_is_a_cursor_on_any_database(db):
    with prepared_cursor() as cursor:
        cursor.execute("SELECT 1 + %s", [1])
        assert cursor.fetchone() == (2,)


def _sites_named(codes, pk):
    # Two stand-ins, a JSON column (converted as the ORM converts it) and an int.
    return (
        Site.objects.filter(AnyOf(F("code"), codes), pk__gt=pk)
        .annotate(facts=JSONObject(code="code"))
        .order_by("code")
        .values_list("code", "facts")
    )


SITES_NAMED = CompiledRead(_sites_named, codes=["CODESMARK"], pk=-77_777)


@pytest.mark.parametrize("codes", [["R1", "R3", "NOPE"], ["R2"], ["A,B", "R1"], [""], []], ids=repr)
def test_a_compiled_read_gives_the_rows_of_the_orm(db, codes):
    for code in ("R1", "R2", "R3", "A,B", ""):
        SiteFactory(code=code)
    assert SITES_NAMED.rows(codes=codes, pk=0) == list(_sites_named(codes, 0))
    assert SITES_NAMED.rows(codes=["R1", "R2"], pk=0) == [
        ("R1", {"code": "R1"}),
        ("R2", {"code": "R2"}),
    ]


@pytest.mark.postgres
def test_a_compiled_read_is_one_prepared_statement_whatever_the_values(db):
    SiteFactory(code="R1")
    with CaptureQueriesContext(connection) as queries:
        SITES_NAMED.rows(codes=["R1"], pk=0)
        SITES_NAMED.rows(codes=[f"X{n}" for n in range(300)], pk=5)
        # A value the compiled text cannot take goes through the ORM.
        SITES_NAMED.rows(codes=["A,B"], pk=0)
    texts = [query["sql"] for query in queries.captured_queries]
    assert texts[0] == texts[1] and "$1" in texts[0]
    assert texts[2] != texts[0] and "$1" not in texts[2]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement = %s", [texts[0]]
        )
        assert cursor.fetchone() == (1,)


def test_a_compiled_read_refuses_a_stand_in_it_cannot_find(db):
    read = CompiledRead(lambda pk: Site.objects.filter(pk=pk + 1).values_list("code"), pk=-5)
    with pytest.raises(ValueError, match="stand-in"):
        read.rows(pk=1) if connection.vendor == "postgresql" else read._compiled


def _sites_starting(start, pks):
    # A stand-in inside a parameter (the LIKE pattern) and a list of ints (an array).
    return (
        Site.objects.filter(AnyOf(F("pk"), pks), code__startswith=start)
        .order_by("code")
        .values_list("code", flat=True)
    )


SITES_STARTING = CompiledRead(_sites_starting, start="STARTMARK", pks=[-1])


@pytest.mark.parametrize("start", ["RA", "R", "R_", "R%", "ra"])
def test_a_compiled_read_fills_a_pattern_and_a_list_of_ids(db, start):
    sites = [SiteFactory(code=code) for code in ("RA1", "RA2", "RB1", "R_1", "R%1")]
    pks = [site.pk for site in sites[1:]]
    # Letters and digits go into the compiled pattern; a sign goes through the ORM,
    # which escapes it.
    assert SITES_STARTING.rows(start=start, pks=pks) == list(_sites_starting(start, pks))
    assert SITES_STARTING.rows(start="RA", pks=pks) == ["RA2"]
