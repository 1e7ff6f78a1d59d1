"""What a coordinator reads beside the figures: definitions on the page, the versions
table's threshold and trigger, "figures changed since" after late corrections (page and
email), the print view, and the dashboard's linkage counted as the report counts it."""

from datetime import date, datetime
from pathlib import Path

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from referrals.models import Referral, ReferralType
from reports.funder_templates import TEMPLATES
from reports.metrics import DEFINITIONS, TOTAL, compute_figures
from reports.models import ReportSnapshot, SnapshotCheck
from reports.rendering import render
from reports.selectors import monthly_trends
from reports.services import monthly_reports_build, report_request, snapshots_recheck

from ..factories import VisitFactory
from ..support.reports import JANUARY, PROGRAM, built_report, january_visits

pytestmark = [pytest.mark.django_db, pytest.mark.figures]

PRINT_CSS = Path(__file__).parents[2] / "reports" / "static" / "reports" / "print.css"


@pytest.fixture
def coordinators_with_email(coordinator_cleo, admin_ada, settings):
    settings.SITE_BASE_URL = "https://ssp.example.org"
    for user, email in ((coordinator_cleo, "cleo@example.org"), (admin_ada, "ada@example.org")):
        user.email = email
        user.save()


def test_every_line_of_every_template_has_a_definition(site_a, site_b):
    january_visits(site_a, site_b)
    figures = compute_figures(period=JANUARY)
    for template in TEMPLATES.values():
        rendered = render(figures, template, threshold=11)
        defined = dict(rendered.definitions)
        lines = {row.label for table in rendered.tables for row in table.rows}
        undefined = [
            label
            for label in lines
            if label not in defined and not any(key.endswith(": each line") for key in defined)
        ]
        assert not undefined, (template.key, undefined)
        assert all(defined.values())


def test_the_report_page_shows_definitions_and_a_print_link(
    client, coordinator_cleo, site_a, site_b
):
    january_visits(site_a, site_b)
    snapshot = built_report(coordinator_cleo)
    client.force_login(coordinator_cleo)
    page = client.get(f"/reports/{snapshot.pk}/").content.decode()
    assert 'id="definitions"' in page
    assert DEFINITIONS["new_participants"] in page
    assert "not kits" in page and "Loose needles are not included" in page
    assert f'href="/reports/{snapshot.pk}/print/"' in page


def test_the_print_view_prints_tables_legend_and_definitions_without_menu_or_buttons(
    client, coordinator_cleo, site_a, site_b
):
    january_visits(site_a, site_b)
    snapshot = built_report(coordinator_cleo)
    client.force_login(coordinator_cleo)
    response = client.get(f"/reports/{snapshot.pk}/print/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "reports/print.css" in page
    sections = page.count('class="print-section"')
    assert sections == len(TEMPLATES["program_monthly"].sections)
    assert "&lt;11: a count from 1 to 10, suppressed" in page  # the legend
    assert 'class="print-definitions"' in page and DEFINITIONS["visits"] in page
    assert "&lt;11" in page and 'class="num suppressed"' in page  # published figures only
    assert '<p class="no-print">' in page  # the only button sits in what print hides
    css = PRINT_CSS.read_text()
    printed = css[css.index("@media print") :]
    assert ".topbar" in printed and "button" in printed and ".no-print" in printed
    assert ".print-section { break-before: page; }" in printed


def test_the_print_view_is_for_people_who_may_see_the_report(client, front_desk_ana, site_a):
    snapshot = report_request(template="state_ssp", period=JANUARY, by=front_desk_ana)
    client.force_login(front_desk_ana)
    assert client.get(f"/reports/{snapshot.pk}/print/").status_code == 403


def test_the_versions_table_shows_threshold_and_trigger(client, coordinator_cleo, site_a, site_b):
    january_visits(site_a, site_b)
    first = built_report(coordinator_cleo, threshold=11)
    second = built_report(coordinator_cleo, threshold=5)
    client.force_login(coordinator_cleo)
    page = client.get(f"/reports/{second.pk}/").content.decode()
    table = page[page.index("<h2>Versions</h2>") :]
    assert "Threshold" in table and "Trigger" in table
    assert '<td class="num">&lt;11</td><td>On demand</td>' in table
    assert '<td class="num">&lt;5</td><td>On demand</td>' in table
    assert (first.version, second.version) == (1, 2)


def test_late_corrections_are_flagged_on_the_page_and_emailed_once(
    client, coordinator_cleo, coordinators_with_email, site_a, site_b
):
    january_visits(site_a, site_b)
    with time_machine.travel(datetime(2026, 2, 1, 2, tzinfo=PROGRAM), tick=False):
        built = monthly_reports_build()
    report = next(s for s in built if s.template == "program_monthly")
    mail.outbox.clear()

    with time_machine.travel(datetime(2026, 2, 2, 4, 30, tzinfo=PROGRAM), tick=False):
        assert snapshots_recheck() == []  # nothing changed yet
    assert not mail.outbox

    # A late entry for January: one anonymous visit at Downtown.
    VisitFactory(site=site_a, occurred_at=datetime(2026, 1, 20, tzinfo=PROGRAM), participant=None)
    with time_machine.travel(datetime(2026, 2, 3, 4, 30, tzinfo=PROGRAM), tick=False):
        changed = snapshots_recheck()
        again = snapshots_recheck()
    # visits, anonymous visits and fixed-site visits, each at Downtown and in the total
    found = {c.snapshot.template: c.cells_differ for c in changed}
    assert set(found) == {t.key for t in TEMPLATES.values() if t.schedule == "month"}
    assert (found["program_monthly"], found["state_ssp"]) == (6, 4)
    assert again == []
    assert SnapshotCheck.objects.filter(cells_differ__gt=0).count() == 2 * len(found)
    assert len(mail.outbox) == 2  # one message to each coordinator, once
    body = mail.outbox[0].body
    assert "figures changed since — 6 cells differ" in body
    assert f"https://ssp.example.org/reports/{report.pk}/" in body

    client.force_login(coordinator_cleo)
    page = client.get(f"/reports/{report.pk}/").content.decode()
    assert "Figures changed since — 6 cells differ" in page
    assert f'action="/reports/{report.pk}/regenerate/"' in page[page.index('id="changed-since"') :]
    api = client.get(f"/api/v1/reports/{report.pk}/").json()
    assert api["cells_changed"] == 6 and api["definitions"]


def test_the_next_monthly_email_lists_the_earlier_month_that_changed(
    coordinator_cleo, coordinators_with_email, site_a, site_b
):
    january_visits(site_a, site_b)
    with time_machine.travel(datetime(2026, 2, 1, 2, tzinfo=PROGRAM), tick=False):
        monthly_reports_build()
    VisitFactory(site=site_a, occurred_at=datetime(2026, 1, 20, tzinfo=PROGRAM), participant=None)
    with time_machine.travel(datetime(2026, 2, 10, 4, 30, tzinfo=PROGRAM), tick=False):
        snapshots_recheck()
    mail.outbox.clear()
    with time_machine.travel(datetime(2026, 3, 1, 2, tzinfo=PROGRAM), tick=False):
        monthly_reports_build()
    body = mail.outbox[0].body
    assert "February 2026" in mail.outbox[0].subject
    assert "Earlier reports whose figures changed since they were built" in body
    assert "6 cells differ" in body and "4 cells differ" in body


def test_a_rebuilt_version_has_nothing_to_flag(coordinator_cleo, site_a, site_b):
    january_visits(site_a, site_b)
    first = built_report(coordinator_cleo)
    VisitFactory(site=site_a, occurred_at=datetime(2026, 1, 20, tzinfo=PROGRAM), participant=None)
    with time_machine.travel(datetime(2026, 2, 3, tzinfo=PROGRAM), tick=False):
        assert [c.snapshot_id for c in snapshots_recheck()] == [first.pk]
        second = built_report(coordinator_cleo)
        assert snapshots_recheck() == []
    assert second.checks.get().cells_differ == 0
    assert ReportSnapshot.objects.count() == 2


def test_the_dashboard_counts_linkage_as_the_report_does(coordinator_cleo, site_a):
    """Linked = started the service during the month, whenever referred."""
    kind = ReferralType.objects.order_by("pk").first()
    visit = VisitFactory(site=site_a, occurred_at=datetime(2025, 12, 20, tzinfo=PROGRAM))
    made = [(date(2025, 12, 20), date(2026, 1, 10))] * 12 + [(date(2026, 1, 5), None)] * 15
    made += [(date(2026, 1, 6), date(2026, 1, 25))] * 11
    for referred_on, linked_on in made:
        Referral.objects.create(
            participant=visit.participant,
            visit=visit,
            site=site_a,
            type=kind,
            status="linked" if linked_on else "referred",
            referred_on=referred_on,
            follow_up_on=referred_on,
            linked_on=linked_on,
            status_changed_at=timezone.now(),
            created_by=coordinator_cleo,
        )
    linked_in_january = sum(1 for _r, linked in made if linked and linked.month == 1)
    referred_in_january = sum(1 for referred, _l in made if referred.month == 1)

    trends = monthly_trends(
        site_ids=[site_a.pk], months=2, today=date(2026, 1, 31), suppressed=False
    )
    january = trends["months"].index("2026-01")
    assert trends["series"]["linked"][TOTAL][january] == linked_in_january == 23
    assert trends["series"]["referred"][TOTAL][january] == referred_in_january == 26
    assert trends["series"]["linked"][TOTAL][trends["months"].index("2025-12")] == 0
    report = compute_figures(period=JANUARY, site_ids=[site_a.pk])["values"][TOTAL]
    assert (report["linked"], report["referred"]) == (linked_in_january, referred_in_january)
    assert trends["series"]["linkage_rate"][TOTAL][january] == round(23 / 26, 4)


def test_docs_list_every_definition():
    docs = (Path(__file__).parents[2] / "docs" / "reports.md").read_text()
    missing = [key for key, text in DEFINITIONS.items() if f"| `{key}` | {text} |" not in docs]
    assert not missing
