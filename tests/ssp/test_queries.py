"""Recording a visit takes the same number of SQL queries whatever its number of supply
lines: the lines are validated, dispensed and stored in set-wise queries (every per-line
write is a bulk insert or update), so a query per line, or per line and lot, fails here.

Counted for a returning participant, after one warm-up visit (the participant exists and
per-process caches such as content types are filled). It includes BEGIN and COMMIT of
the service's transaction (a savepoint and its release inside the test's), and no other
savepoint. PostgreSQL dispenses in one statement (lock, balances, movements) where the
ORM path SQLite takes needs three.
"""

import pytest
from django.db import connection

from inventory.models import Kit
from inventory.services import alert_rechecks_claim
from outbox.models import OutboxJob
from ssp.services import visit_record

from ..support.intake import item_line, kit_line, new_uuid

pytestmark = pytest.mark.django_db

# BEGIN; the participant (the site's default location was read once for the site object,
# at the warm-up visit, and is kept on it as the API's site query brings it along); the
# visit with its supply lines (one statement on PostgreSQL, two elsewhere:
# ssp/visit_insert.py); its audit entry; the dispense (on PostgreSQL one statement locks
# the balances, updates them, writes the movements and marks the pairs due an alert
# re-check; the ORM path elsewhere takes four); the code's first-seen date kept true (its
# row locked, then its first standing visit read, in one round trip); COMMIT. No outbox
# job: every pair is marked already (the stock's receipt marked them and its check has
# not run here), so the check already queued covers this visit too.
QUERIES_PER_VISIT = 7 if connection.vendor == "postgresql" else 11
# A visit that newly marks any pair queues one outbox job for all of them.
QUERIES_PER_VISIT_QUEUING_A_CHECK = QUERIES_PER_VISIT + 1
# A kit line adds one read of the kit's components, whatever the number of kits: intake
# checks the lines and the stock dispense expands them from the same read. (The API reads
# a kit with its components in one query: tests/ssp/test_api_queries.py.)
QUERIES_PER_VISIT_WITH_KITS = QUERIES_PER_VISIT + 1


@pytest.fixture
def returning_participant(front_desk_ana, site_a, injection_kit):
    visit_record(
        site=site_a,
        by=front_desk_ana,
        client_uuid=new_uuid(),
        code="MAKO1993F",
        lines=[kit_line(injection_kit)],
    )
    return "MAKO1993F"


def record_visit(*, by, site, code, lines):
    visit_record(site=site, by=by, client_uuid=new_uuid(), code=code, lines=lines)


def test_a_visit_takes_the_same_number_of_queries_at_1_6_and_12_lines(
    front_desk_ana, site_a, twelve_items, returning_participant, django_assert_num_queries
):
    for n in (1, 6, 12):
        with django_assert_num_queries(QUERIES_PER_VISIT):
            record_visit(
                by=front_desk_ana,
                site=site_a,
                code=returning_participant,
                lines=[item_line(item, 1) for item in twelve_items[:n]],
            )


def test_a_visit_with_a_kit_takes_the_same_number_of_queries_with_11_more_lines(
    front_desk_ana,
    site_a,
    twelve_items,
    injection_kit,
    returning_participant,
    django_assert_num_queries,
):
    # The kit as a request loads it: its components not read yet.
    kit = Kit.objects.get(pk=injection_kit.pk)
    with django_assert_num_queries(QUERIES_PER_VISIT_WITH_KITS):
        record_visit(
            by=front_desk_ana, site=site_a, code=returning_participant, lines=[kit_line(kit)]
        )
    kit = Kit.objects.get(pk=injection_kit.pk)
    with django_assert_num_queries(QUERIES_PER_VISIT_WITH_KITS):
        record_visit(
            by=front_desk_ana,
            site=site_a,
            code=returning_participant,
            lines=[kit_line(kit)] + [item_line(item, 1) for item in twelve_items[:11]],
        )


def test_a_visit_that_newly_marks_pairs_due_a_recheck_queues_one_outbox_job(
    front_desk_ana, site_a, twelve_items, returning_participant, django_assert_num_queries
):
    for n in (1, 6, 12):
        alert_rechecks_claim()  # the checks queued so far have run
        with django_assert_num_queries(QUERIES_PER_VISIT_QUEUING_A_CHECK):
            record_visit(
                by=front_desk_ana,
                site=site_a,
                code=returning_participant,
                lines=[item_line(item, 1) for item in twelve_items[:n]],
            )
        (job,) = OutboxJob.objects.order_by("-pk")[:1]
        assert len(job.kwargs["pairs"]) == n
