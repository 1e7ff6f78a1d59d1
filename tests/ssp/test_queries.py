"""The number of SQL queries to record a visit grows by at most a small constant per
supply line: the lines are validated, dispensed and stored in set-wise queries.

Measured on PostgreSQL when this test was written (a returning participant, after one
warm-up visit): 1 line → 16 queries, 6 lines → 16, 12 lines → 16 — flat, because
every per-line write is a bulk insert/update. The test allows 3 per line so that a
future per-line query is tolerated but an N+1 over lines and their lots is not.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ssp.services import visit_record

from ..factories import ItemFactory
from ..support.intake import item_line, kit_line, new_uuid, receive

pytestmark = pytest.mark.django_db

MAX_QUERIES_PER_LINE = 3


@pytest.fixture
def twelve_items(stocked, manager_sam):
    items = [ItemFactory(name=f"Supply {n}", code=f"supply-{n}") for n in range(12)]
    receive(stocked, dict.fromkeys(items, 100), manager_sam)
    return items


def queries_for_visit(*, by, site, lines) -> int:
    with CaptureQueriesContext(connection) as captured:
        visit_record(site=site, by=by, client_uuid=new_uuid(), code="MAKO1993F", lines=lines)
    return len(captured.captured_queries)


def test_queries_to_record_a_visit_grow_at_most_a_small_constant_per_line(
    front_desk_ana, site_a, twelve_items, injection_kit
):
    # Warm-up: the participant exists and per-process caches (content types) are filled.
    visit_record(
        site=site_a,
        by=front_desk_ana,
        client_uuid=new_uuid(),
        code="MAKO1993F",
        lines=[kit_line(injection_kit)],
    )
    counts = {
        n: queries_for_visit(
            by=front_desk_ana,
            site=site_a,
            lines=[item_line(item, 1) for item in twelve_items[:n]],
        )
        for n in (1, 6, 12)
    }
    print(f"queries per visit by number of lines: {counts}")
    assert counts[6] - counts[1] <= MAX_QUERIES_PER_LINE * 5, counts
    assert counts[12] - counts[1] <= MAX_QUERIES_PER_LINE * 11, counts
    # And not merely bounded: the cost of a line does not grow with the lines before it.
    assert counts[12] - counts[6] <= counts[6] - counts[1] + MAX_QUERIES_PER_LINE, counts


def test_kit_lines_cost_no_more_queries_per_line_than_item_lines(
    front_desk_ana, site_a, twelve_items, injection_kit
):
    visit_record(
        site=site_a,
        by=front_desk_ana,
        client_uuid=new_uuid(),
        code="MAKO1993F",
        lines=[kit_line(injection_kit)],
    )
    one_kit = queries_for_visit(by=front_desk_ana, site=site_a, lines=[kit_line(injection_kit)])
    kit_and_items = queries_for_visit(
        by=front_desk_ana,
        site=site_a,
        lines=[kit_line(injection_kit)] + [item_line(item, 1) for item in twelve_items[:11]],
    )
    assert kit_and_items - one_kit <= MAX_QUERIES_PER_LINE * 11, (one_kit, kit_and_items)
