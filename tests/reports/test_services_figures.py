"""Services given at visits in the funder figures (issue 14): per site and month, each
equal to a count over the raw rows made here in plain Python, voided visits left out and
a street shift's counts included; the Ontario-style monthly shows them with definitions.
Runs on SQLite and PostgreSQL (the `figures` mark, tests/reports/test_both_databases.py)."""

import random
from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from org import roles
from reports.funder_templates import TEMPLATES
from reports.metrics import TOTAL, compute_figures, definition_of
from reports.periods import Period
from reports.rendering import render
from ssp.services import visit_record, visit_void
from ssp.visit_services import visit_service_codes

from ..factories import LocationFactory, SiteFactory, make_staff
from ..support.intake import new_uuid

pytestmark = [pytest.mark.django_db, pytest.mark.figures]

PROGRAM = ZoneInfo("America/New_York")
JANUARY = Period.month(2026, 1)


def _dataset():
    """Two sites, visits from late December to early February with random services,
    some voided, and one street shift with counts."""
    rng = random.Random(14)
    sites = [
        SiteFactory(name="Downtown drop-in", code="DTWN"),
        SiteFactory(name="Van", code="VAN1"),
    ]
    for site in sites:
        LocationFactory(name=f"{site.code} shelf", site=site)
    staff = make_staff("recorder", roles.FRONT_DESK, sites)
    codes = visit_service_codes()
    expected = {site.code: Counter() for site in sites}
    days = [(2025, 12, 31), *[(2026, 1, d) for d in range(1, 32)], (2026, 2, 1)]
    for _ in range(80):
        site = rng.choice(sites)
        year, month, day = rng.choice(days)
        # 23:30 local on the 31st is still January in the program's time zone.
        at = datetime(year, month, day, rng.choice([0, 9, 23]), 30, tzinfo=PROGRAM)
        given = rng.sample(codes, rng.randint(0, 3))
        with time_machine.travel(at, tick=False):
            visit, _ = visit_record(
                site=site,
                by=staff,
                client_uuid=new_uuid(),
                syringes_collected=1,
                services=[(code, 1) for code in given],
            )
            voided = rng.random() < 0.15
            if voided:
                visit_void(visit=visit, by=staff, reason="twice")
        if (year, month) == (2026, 1) and not voided:
            expected[site.code].update(given)
    with time_machine.travel(datetime(2026, 1, 20, 16, tzinfo=PROGRAM), tick=False):
        visit_record(
            site=sites[1],
            by=staff,
            client_uuid=new_uuid(),
            contacts=40,
            syringes_collected=300,
            services=[("naloxone_training", 12), ("education", 40)],
        )
    expected["VAN1"].update({"naloxone_training": 12, "education": 40})
    return sites, expected


def test_services_given_equal_a_count_over_the_rows():
    sites, expected = _dataset()
    figures = compute_figures(period=JANUARY, site_ids=[s.pk for s in sites])
    values = figures["values"]
    total = Counter()
    for site in sites:
        total.update(expected[site.code])
        for code in visit_service_codes():
            assert values[site.code][f"services.{code}"] == expected[site.code][code], code
        assert values[site.code]["services"] == sum(expected[site.code].values())
    for code in visit_service_codes():
        assert values[TOTAL][f"services.{code}"] == total[code]
    assert values[TOTAL]["services"] == sum(total.values()) > 0
    # The total is the sum of its parts for the suppression too.
    assert {"total": "services", "parts": [f"services.{c}" for c in visit_service_codes()]} in (
        figures["relations"]
    )


def test_the_ontario_monthly_shows_services_with_definitions_and_suppression():
    sites, expected = _dataset()
    figures = compute_figures(period=JANUARY, site_ids=[s.pk for s in sites])
    rendered = render(figures, TEMPLATES["ontario_monthly"], threshold=11)
    table = next(t for t in rendered.tables if t.title == "Services given")
    by_key = {row.key: row for row in table.rows}
    assert "services" in by_key and "services.education" in by_key
    columns = [s.code for s in sorted(sites, key=lambda s: s.name)] + [TOTAL]
    education_van = by_key["services.education"].cells[columns.index("VAN1")]
    assert education_van.value == expected["VAN1"]["education"] >= 40
    # Every published count of 1–10 is hidden.
    for row in table.rows:
        for cell in row.cells:
            if 1 <= (cell.value or 0) < 11:
                assert cell.is_hidden and cell.text in ("<11", "*")
    definitions = dict(rendered.definitions)
    assert any("Services given" in line for line in definitions)
    assert definition_of("services") and definition_of("services.hiv_test")
