"""Recording a visit takes the same number of SQL queries whatever its number of supply
lines: the lines are validated, dispensed and stored in set-wise queries (every per-line
write is a bulk insert or update), so a query per line, or per line and lot, fails here.

Counted for a returning participant, after one warm-up visit (the participant exists and
per-process caches such as content types are filled). The count is the same on SQLite
and PostgreSQL; it includes the savepoint statements of the service's transaction.
"""

import pytest

from ssp.services import visit_record

from ..factories import ItemFactory
from ..support.intake import item_line, kit_line, new_uuid, receive

pytestmark = pytest.mark.django_db

# Two of them keep the code's first-seen date true (participant_first_seen_refresh: the
# code's row locked, its first standing visit read), whatever the number of lines.
QUERIES_PER_VISIT = 18
# A kit line adds two reads of the kit's components, whatever the number of kits: one
# when intake checks the lines, one when the stock dispense expands them.
QUERIES_PER_VISIT_WITH_KITS = 20


@pytest.fixture
def twelve_items(stocked, manager_sam):
    items = [ItemFactory(name=f"Supply {n}", code=f"supply-{n}") for n in range(12)]
    receive(stocked, dict.fromkeys(items, 100), manager_sam)
    return items


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
    with django_assert_num_queries(QUERIES_PER_VISIT_WITH_KITS):
        record_visit(
            by=front_desk_ana,
            site=site_a,
            code=returning_participant,
            lines=[kit_line(injection_kit)],
        )
    with django_assert_num_queries(QUERIES_PER_VISIT_WITH_KITS):
        record_visit(
            by=front_desk_ana,
            site=site_a,
            code=returning_participant,
            lines=[kit_line(injection_kit)] + [item_line(item, 1) for item in twelve_items[:11]],
        )
