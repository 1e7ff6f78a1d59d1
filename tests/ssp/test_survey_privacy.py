"""Must-show: survey answers cannot be joined to a code, a visit or a person.

The test reads the answer tables as the database has them (introspection, not the
models): their columns, their foreign keys, their keys' defaults and the column types.
"""

import datetime as dt

import pytest
from auditlog.registry import auditlog
from django.db import connection

from ssp.models import SurveyAnswer, SurveyResponse
from ssp.survey_services import survey_offer_record, survey_save

from ..factories import ParticipantFactory, VisitFactory

pytestmark = pytest.mark.django_db

RESPONSES = SurveyResponse._meta.db_table
ANSWERS = SurveyAnswer._meta.db_table
# Types finer than a day, as each database names them.
TIME_TYPES = ("time", "timestamp", "datetime", "interval")


def columns(table):
    with connection.cursor() as cursor:
        return {c.name: c for c in connection.introspection.get_table_description(cursor, table)}


def foreign_keys(table):
    """column → referenced table, from the database's constraints."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return {
        column: found["foreign_key"][0]
        for found in constraints.values()
        if found["foreign_key"]
        for column in found["columns"]
    }


def column_types(table):
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT column_name, data_type, column_default FROM information_schema.columns "
                "WHERE table_name = %s",
                [table],
            )
            return {name: (kind, default) for name, kind, default in cursor.fetchall()}
    with connection.cursor() as cursor:
        cursor.execute(f'PRAGMA table_info("{table}")')
        return {row[1]: (row[2].lower(), row[4]) for row in cursor.fetchall()}


def test_a_response_holds_only_the_survey_the_site_and_the_period():
    assert set(columns(RESPONSES)) == {"id", "survey_id", "site_id", "period_start"}
    assert foreign_keys(RESPONSES) == {"survey_id": "ssp_survey", "site_id": "org_site"}


def test_an_answer_holds_only_its_response_question_and_answer():
    assert set(columns(ANSWERS)) == {"id", "response_id", "question", "answer"}
    assert foreign_keys(ANSWERS) == {"response_id": RESPONSES}


@pytest.mark.parametrize("table", [RESPONSES, ANSWERS])
def test_no_column_is_finer_than_the_period(table):
    types = column_types(table)
    finer = {name: kind for name, (kind, _default) in types.items() if kind.startswith(TIME_TYPES)}
    assert not finer
    if table == RESPONSES:
        assert types["period_start"][0] == "date"


@pytest.mark.parametrize("table", [RESPONSES, ANSWERS])
def test_keys_are_random_not_a_sequence(table):
    kind, default = column_types(table)["id"]
    assert kind in {"uuid", "char(32)"}  # PostgreSQL's uuid, SQLite's hex text
    # No sequence or identity hands out ids in insertion order.
    assert not default or "nextval" not in str(default)
    assert not (SurveyResponse._meta.ordering or SurveyAnswer._meta.ordering)


def test_nothing_references_the_answers():
    """No table points at a response or an answer (an offer row could otherwise name one)."""
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
    pointing = {
        (table, column)
        for table in tables
        for column, target in foreign_keys(table).items()
        if target in {RESPONSES, ANSWERS}
    }
    assert pointing == {(ANSWERS, "response_id")}


def test_the_audit_log_leaves_the_answers_out():
    assert not auditlog.contains(SurveyResponse)
    assert not auditlog.contains(SurveyAnswer)


def test_a_response_period_is_a_first_day(site_a, coordinator_cleo):
    """What the period column holds: the first day of the month or quarter, never the
    visit's day (checked on a stored row)."""
    survey = survey_save(
        name="Check-in", questions=["housing"], period="month",
        active_from=dt.date(2026, 1, 1), by=coordinator_cleo,
    )  # fmt: skip
    visit = VisitFactory(
        site=site_a,
        participant=ParticipantFactory(code="KAFA1991M"),
        occurred_at=dt.datetime(2026, 2, 17, 12, tzinfo=dt.UTC),
    )
    survey_offer_record(
        visit=visit, survey=survey, outcome="answered", answers={"housing": "shelter"},
        by=coordinator_cleo,
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT period_start FROM {RESPONSES}")
        (stored,) = cursor.fetchone()
    assert str(stored)[:10] == "2026-02-01"
