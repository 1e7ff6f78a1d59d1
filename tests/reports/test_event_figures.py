"""Program-event figures (clean-ups, kiosks and bins, needle-stick injuries): each equals
a count made here from the events as they were written, per site and in total, on
SQLite and PostgreSQL (the `figures` marker: tests/reports/test_both_databases.py), and
each goes through the templates' suppression."""

import random
from collections import Counter
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from events.services import event_correct, event_record, event_void
from org import roles
from reports.funder_templates import TEMPLATES
from reports.metrics import TOTAL, compute_figures
from reports.periods import Period
from reports.rendering import render

from ..factories import SiteFactory, make_staff

pytestmark = [pytest.mark.django_db, pytest.mark.figures]

NY = ZoneInfo("America/New_York")
JANUARY = Period.month(2026, 1)
PER_POUND = 280
EVENT_KEYS = (
    "cleanup_events",
    "cleanup_syringes",
    "kiosk_syringes",
    "needle_sticks",
    "needle_sticks.staff",
    "needle_sticks.community",
)


def on(day: date):
    """The clock at noon the day after `day`: within the backdating limit."""
    return time_machine.travel(datetime.combine(day + timedelta(days=1), time(12), NY), tick=False)


def estimate(weight: Decimal, unit: str) -> int:
    pounds = weight if unit == "lb" else weight * Decimal("2.20462")
    return int((pounds * PER_POUND).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def build_events(seed: int) -> tuple[list, list[dict]]:
    """Events at three sites from 20 December to 10 February, some voided, some
    corrected; returns the sites and, for each event, what it finally says."""
    rng = random.Random(seed)
    sites = [
        SiteFactory(name="Downtown drop-in", code="DTWN"),
        SiteFactory(name="Eastside clinic", code="EAST"),
        SiteFactory(name="Northside van", code="VAN1"),
    ]
    staff = {site.code: make_staff(f"staff-{site.code}", roles.MANAGER, [site]) for site in sites}
    rows = []
    for _ in range(160):
        site = rng.choice(sites)
        day = date(2025, 12, 20) + timedelta(days=rng.randrange(53))
        kind = rng.choice(["cleanup", "needle_stick", "sharps_emptied"])
        if kind == "cleanup":
            fields = {"syringes_collected": rng.randrange(0, 300), "staff_hours": Decimal("3")}
        elif kind == "needle_stick":
            fields = {"person_stuck": rng.choice(["staff", "community"])}
        else:
            fields = {
                "container": rng.choice(["kiosk", "site_bin", "drop_box"]),
                "weight": Decimal(rng.randrange(5, 900)) / 10,
                "weight_unit": rng.choice(["kg", "lb"]),
            }
        by = staff[site.code]
        with on(day):
            event = event_record(kind=kind, site=site, occurred_on=day, by=by, **fields)
            row = {"site": site.code, "day": day, "kind": kind, "void": False, **fields}
            chance = rng.random()
            if chance < 0.1:
                event_void(event=event, by=by, reason="twice")
                row["void"] = True
            elif chance < 0.2 and kind == "cleanup":
                row["syringes_collected"] += 7
                event_correct(event=event, by=by, syringes_collected=row["syringes_collected"])
            elif chance < 0.2 and kind == "sharps_emptied":
                row["weight_unit"] = "lb" if row["weight_unit"] == "kg" else "kg"
                event_correct(event=event, by=by, weight_unit=row["weight_unit"])
        rows.append(row)
    return sites, rows


def expected_counts(rows: list[dict], period: Period, site_codes: list[str]) -> dict:
    """The figures by hand, over the rows as written."""
    expected = {code: Counter() for code in [*site_codes, TOTAL]}
    for row in rows:
        if row["void"] or not (period.start <= row["day"] <= period.end):
            continue
        if row["site"] not in site_codes:
            continue
        for scope in (row["site"], TOTAL):
            counts = expected[scope]
            if row["kind"] == "cleanup":
                counts["cleanup_events"] += 1
                counts["cleanup_syringes"] += row["syringes_collected"]
            elif row["kind"] == "needle_stick":
                counts["needle_sticks"] += 1
                counts[f"needle_sticks.{row['person_stuck']}"] += 1
            else:
                counts["kiosk_syringes"] += estimate(row["weight"], row["weight_unit"])
    return expected


@pytest.fixture(autouse=True)
def _rate(settings):
    settings.SSP_SYRINGES_PER_POUND = PER_POUND


def test_every_event_figure_equals_a_count_over_the_events_written():
    sites, rows = build_events(seed=5)
    figures = compute_figures(period=JANUARY)
    expected = expected_counts(rows, JANUARY, [s.code for s in sites])
    for scope, counts in expected.items():
        for key in EVENT_KEYS:
            assert figures["values"][scope][key] == counts[key], (scope, key)
    total = figures["values"][TOTAL]
    # Not a vacuous match: every figure is filled, and some events fell outside January.
    assert all(total[key] > 0 for key in EVENT_KEYS)
    assert sum(1 for row in rows if row["day"].month != 1) > 20
    assert {
        "total": "needle_sticks",
        "parts": ["needle_sticks.staff", "needle_sticks.community"],
    } in figures["relations"]


def test_some_sites_and_a_quarter_match_too():
    sites, rows = build_events(seed=9)
    chosen = [sites[0], sites[2]]
    quarter = Period.quarter(2026, 1)
    figures = compute_figures(period=quarter, site_ids=[s.pk for s in chosen])
    expected = expected_counts(rows, quarter, [s.code for s in chosen])
    for scope, counts in expected.items():
        for key in EVENT_KEYS:
            assert figures["values"][scope][key] == counts[key], (scope, key)


def test_the_ontario_and_program_monthlies_show_the_event_figures_suppressed(site_a):
    manager = make_staff("sam", roles.MANAGER, [site_a])
    day = date(2026, 1, 14)
    with on(day):
        for _ in range(3):
            event_record(
                kind="needle_stick", site=site_a, occurred_on=day, by=manager, person_stuck="staff"
            )
        event_record(
            kind="cleanup", site=site_a, occurred_on=day, by=manager, syringes_collected=140,
            staff_hours=Decimal("6"),
        )  # fmt: skip
        event_record(
            kind="sharps_emptied", site=site_a, occurred_on=day, by=manager, container="kiosk",
            weight=Decimal("2"), weight_unit="lb",
        )  # fmt: skip
    figures = compute_figures(period=JANUARY, site_ids=[site_a.pk])
    for key in ("ontario_monthly", "program_monthly"):
        rendered = render(figures, TEMPLATES[key], threshold=11)
        rows = {row.key: row for table in rendered.tables for row in table.rows}
        assert rows["cleanup_syringes"].cells[-1].text == "140"
        assert rows["kiosk_syringes"].cells[-1].text == str(2 * PER_POUND)
        # Three injuries are a small cell: hidden, and so is the part that gives it away.
        assert rows["needle_sticks"].cells[-1].text == "<11"
        assert rows["needle_sticks.staff"].cells[-1].text == "<11"
        assert rows["needle_sticks.staff"].cells[-1].mark
        assert rows["cleanup_events"].cells[-1].text == "<11"
        defined = dict(rendered.definitions)
        lines = ["cleanup_events", "cleanup_syringes", "kiosk_syringes", "needle_sticks"]
        assert all(defined.get(rows[k].label) for k in lines)
        assert (
            defined["Needle-stick injuries: each line"] == "Needle-stick injuries by who was stuck."
        )
