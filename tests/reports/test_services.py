"""Report snapshots: request, build, versions, the monthly job, email, published files."""

import csv
import io
import re
from datetime import date, datetime

import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from openpyxl import load_workbook

from reports import services
from reports.funder_templates import TEMPLATES
from reports.metrics import TOTAL
from reports.models import ReportSnapshot, ReportStatus, ReportTrigger
from reports.periods import Period
from reports.services import (
    ReportRequestError,
    monthly_reports_build,
    report_build,
    report_regenerate,
    report_request,
)

from ..factories import VisitFactory
from ..support.reports import JANUARY, PROGRAM, january_visits

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def built(snapshot_id):
    report_build(snapshot_id=snapshot_id)
    return ReportSnapshot.objects.get(pk=snapshot_id)


def test_a_requested_report_is_built_after_commit_with_both_files(
    coordinator_cleo, site_a, site_b, django_capture_on_commit_callbacks, media
):
    january_visits(site_a, site_b)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        snapshot = report_request(template="program_monthly", period=JANUARY, by=coordinator_cleo)
    assert len(callbacks) == 1  # queued only once the request was committed
    snapshot.refresh_from_db()
    assert snapshot.status == ReportStatus.READY and snapshot.progress == 100
    assert snapshot.version == 1 and snapshot.trigger == ReportTrigger.ON_DEMAND
    assert snapshot.requested_by == coordinator_cleo and snapshot.generated_at
    assert len(snapshot.content_hash) == 64
    assert snapshot.figures["values"][TOTAL]["visits"] == 17
    assert (media / snapshot.csv_file.name).exists() and (media / snapshot.xlsx_file.name).exists()
    workbook = load_workbook(media / snapshot.xlsx_file.name, read_only=True)
    assert workbook.sheetnames == ["Report", "Definitions"]


def test_published_files_never_show_a_count_below_the_threshold(coordinator_cleo, site_a, site_b):
    january_visits(site_a, site_b)
    snapshot = report_request(
        template="program_monthly", period=JANUARY, by=coordinator_cleo, threshold=11
    )
    snapshot = built(snapshot.pk)
    figures = snapshot.figures["values"]
    assert figures["EAST"]["visits"] == 3  # a small count exists in the data …

    text = snapshot.csv_file.open("rb").read().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    header_end = next(i for i, row in enumerate(rows) if row == ["Reach"])
    published = [cell for row in rows[header_end:] for cell in row[1:]]
    numbers = [int(cell) for cell in published if cell.isdigit()]
    assert numbers and not [n for n in numbers if 0 < n < 11]  # … and never shows
    assert "<11" in published and "*" in published

    sheet = load_workbook(io.BytesIO(snapshot.xlsx_file.open("rb").read()), read_only=True)[
        "Report"
    ]
    cells = [c for row in sheet.iter_rows(values_only=True) for c in row[1:] if c is not None]
    assert not [c for c in cells if isinstance(c, int) and 0 < c < 11]
    assert "<11" in cells


def test_regenerating_makes_a_new_version_and_leaves_the_old_one_alone(
    coordinator_cleo, site_a, site_b
):
    visits = january_visits(site_a, site_b)
    first = built(report_request(template="state_ssp", period=JANUARY, by=coordinator_cleo).pk)
    first_csv = first.csv_file.open("rb").read()

    same = built(report_regenerate(snapshot=first, by=coordinator_cleo).pk)
    assert same.version == 2 and same.content_hash == first.content_hash

    VisitFactory(site=site_a, occurred_at=visits[0].occurred_at)  # a late entry
    newer = built(report_regenerate(snapshot=same, by=coordinator_cleo).pk)
    assert newer.version == 3 and newer.content_hash != first.content_hash
    assert newer.figures["values"][TOTAL]["visits"] == 18

    first.refresh_from_db()
    assert first.figures["values"][TOTAL]["visits"] == 17
    assert first.csv_file.open("rb").read() == first_csv
    assert first.csv_file.name != newer.csv_file.name


def test_the_monthly_job_builds_last_month_once_per_template_and_emails_coordinators(
    coordinator_cleo, admin_ada, front_desk_ana, site_a, site_b, settings
):
    settings.SITE_BASE_URL = "https://ssp.example.org"
    for user, email in (
        (coordinator_cleo, "cleo@example.org"),
        (front_desk_ana, "ana@example.org"),
        (admin_ada, "ada@example.org"),
    ):
        user.email = email
        user.save()
    january_visits(site_a, site_b)

    with time_machine.travel(datetime(2026, 2, 1, 2, 0, tzinfo=PROGRAM), tick=False):
        built_now = monthly_reports_build()
        again = monthly_reports_build()

    monthly = {key for key, template in TEMPLATES.items() if template.schedule == "month"}
    assert {s.template for s in built_now} == monthly
    assert again == []
    snapshots = ReportSnapshot.objects.all()
    assert snapshots.count() == len(monthly)
    for s in snapshots:
        assert (s.period_start, s.period_end) == (date(2026, 1, 1), date(2026, 1, 31))
        assert s.trigger == ReportTrigger.SCHEDULED and s.site_key == "all" and s.is_ready
    assert sorted(m.to[0] for m in mail.outbox) == ["ada@example.org", "cleo@example.org"]
    body = mail.outbox[0].body
    assert "January 2026" in mail.outbox[0].subject
    assert f"https://ssp.example.org/reports/{snapshots[0].pk}/" in body
    # A link, never figures (the links' report numbers aside: one may well be 170).
    assert "17" not in re.sub(r"https://\S+", "", body)


def test_the_monthly_job_retries_a_report_that_failed(
    coordinator_cleo, site_a, site_b, monkeypatch
):
    january_visits(site_a, site_b)
    real = services.compute_figures

    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "compute_figures", broken)
    with pytest.raises(RuntimeError):
        monthly_reports_build(today=date(2026, 2, 1))
    failed = ReportSnapshot.objects.get()
    assert failed.status == ReportStatus.FAILED and "database went away" in failed.error

    monkeypatch.setattr(services, "compute_figures", real)
    rebuilt = monthly_reports_build(today=date(2026, 2, 1))
    monthly = [key for key, template in TEMPLATES.items() if template.schedule == "month"]
    assert len(rebuilt) == len(monthly) and rebuilt[0].pk == failed.pk  # the same row, ready
    assert ReportSnapshot.objects.count() == len(monthly)


def test_a_report_being_built_is_not_claimed_by_a_second_worker(coordinator_cleo, site_a):
    snapshot = report_request(template="state_ssp", period=JANUARY, by=coordinator_cleo)
    ReportSnapshot.objects.filter(pk=snapshot.pk).update(
        status=ReportStatus.RUNNING, started_at=timezone.now()
    )
    assert report_build(snapshot_id=snapshot.pk) is None
    ready = built(report_request(template="state_ssp", period=JANUARY, by=coordinator_cleo).pk)
    assert report_build(snapshot_id=ready.pk) is None  # a ready snapshot is never rebuilt


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"template": "nope"}, "template"),
        ({"period": Period.month(2099, 1)}, "period_start"),
        ({"period": Period.between(date(2020, 1, 1), date(2025, 12, 31))}, "period_end"),
        ({"threshold": 1}, "threshold"),
        ({"site_ids": [999999]}, "site_ids"),
    ],
)
def test_bad_requests_name_the_field_and_write_nothing(coordinator_cleo, site_a, changes, field):
    arguments = {"template": "program_monthly", "period": JANUARY, "by": coordinator_cleo}
    with pytest.raises(ReportRequestError) as error:
        report_request(**{**arguments, **changes})
    assert field in error.value.field_errors
    assert not ReportSnapshot.objects.exists()


def test_a_site_bound_reporter_only_reports_on_their_own_sites(manager_sam, site_a, site_b):
    from django.contrib.auth.models import Permission

    manager_sam.user_permissions.add(Permission.objects.get(codename="view_reports"))
    manager_sam = type(manager_sam).objects.get(pk=manager_sam.pk)
    with pytest.raises(ReportRequestError) as error:
        report_request(template="state_ssp", period=JANUARY, by=manager_sam, site_ids=[site_b.pk])
    assert "site_ids" in error.value.field_errors
    own = report_request(template="state_ssp", period=JANUARY, by=manager_sam)
    assert own.site_key == str(site_a.pk)  # "every site" means their own
