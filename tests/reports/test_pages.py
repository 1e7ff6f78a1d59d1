"""Report pages and API: who may see what, suppressed by default, files behind the login."""

import pytest
from auditlog.models import LogEntry
from django.contrib.auth.models import Permission

from reports.funder_templates import TEMPLATES
from reports.metrics import TOTAL
from reports.models import ReportSnapshot, ReportStatus
from reports.services import report_build, report_request

from ..support.reports import JANUARY, january_visits

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def january_report(coordinator_cleo, site_a, site_b):
    january_visits(site_a, site_b)
    snapshot = report_request(template="program_monthly", period=JANUARY, by=coordinator_cleo)
    report_build(snapshot_id=snapshot.pk)
    snapshot.refresh_from_db()
    return snapshot


def test_front_desk_cannot_reach_reports(client, api_as, front_desk_ana, january_report):
    client.force_login(front_desk_ana)
    for path in ("/reports/", "/reports/dashboard/", f"/reports/{january_report.pk}/"):
        assert client.get(path).status_code == 403
    assert client.get(f"/reports/{january_report.pk}/download/csv/").status_code == 403
    assert "Reports" not in client.get("/").content.decode()
    api = api_as(front_desk_ana)
    assert api.get("/api/v1/reports/").status_code == 403
    assert api.get(f"/api/v1/reports/{january_report.pk}/files/csv/").status_code == 403


def test_coordinator_menu_has_reports_and_dashboard(client, coordinator_cleo):
    client.force_login(coordinator_cleo)
    page = client.get("/").content.decode()
    assert 'href="/reports/"' in page and 'href="/reports/dashboard/"' in page


def test_report_page_is_suppressed_unless_asked_by_someone_allowed(
    client, coordinator_cleo, reporter_rita, january_report
):
    url = f"/reports/{january_report.pk}/"
    client.force_login(reporter_rita)
    page = client.get(url).content.decode()
    assert "&lt;11" in page and "Show unsuppressed" not in page
    assert client.get(url + "?view=unsuppressed").status_code == 403

    client.force_login(coordinator_cleo)
    page = client.get(url + "?view=unsuppressed").content.decode()
    assert "for internal use only" in page and "&lt;11" not in page
    assert 'class="num would-hide">3</td>' in page  # Eastside's 3 visits, flagged


def test_files_download_only_through_the_checked_view(client, reporter_rita, january_report):
    assert client.get(f"/reports/{january_report.pk}/download/csv/").status_code == 302
    assert client.get("/media/" + january_report.csv_file.name).status_code in (302, 404)
    client.force_login(reporter_rita)
    response = client.get(f"/reports/{january_report.pk}/download/xlsx/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["Content-Disposition"].endswith('.xlsx"')
    assert client.get(f"/reports/{january_report.pk}/download/pdf/").status_code == 404
    access = LogEntry.objects.get_for_object(january_report).filter(action=LogEntry.Action.ACCESS)
    assert access.filter(actor=reporter_rita).exists()  # who downloaded it is recorded


def test_a_report_of_other_sites_is_not_found_for_a_site_bound_reporter(
    client, manager_sam, january_report, site_a
):
    manager_sam.user_permissions.add(Permission.objects.get(codename="view_reports"))
    client.force_login(manager_sam)
    assert client.get(f"/reports/{january_report.pk}/").status_code == 404  # all sites
    own = report_request(
        template="state_ssp", period=JANUARY, by=type(manager_sam).objects.get(pk=manager_sam.pk)
    )
    assert client.get(f"/reports/{own.pk}/").status_code == 200
    listed = client.get("/reports/").context["page"].object_list
    assert [s.pk for s in listed] == [own.pk]


def test_requesting_from_the_page(
    client, coordinator_cleo, site_a, site_b, django_capture_on_commit_callbacks
):
    january_visits(site_a, site_b)
    client.force_login(coordinator_cleo)
    bad = client.post(
        "/reports/", {"template": "state_ssp", "period_kind": "custom", "start": "2026-01-01"}
    )
    assert bad.status_code == 400
    assert "Give both dates." in bad.content.decode()
    assert not ReportSnapshot.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/reports/",
            {
                "template": "state_ssp",
                "period_kind": "quarter",
                "quarter": "2026-Q1",
                "sites": [site_a.pk],
                "threshold": "5",
            },
        )
    snapshot = ReportSnapshot.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/reports/{snapshot.pk}/"
    assert (snapshot.period_start.isoformat(), snapshot.period_end.isoformat()) == (
        "2026-01-01",
        "2026-03-31",
    )
    assert snapshot.suppression_threshold == 5 and snapshot.site_key == str(site_a.pk)
    page = client.get(response["Location"]).content.decode()
    assert "Download CSV" in page and "Unduplicated persons served" in page


def test_progress_fragment_polls_until_ready(client, coordinator_cleo, site_a):
    snapshot = report_request(template="state_ssp", period=JANUARY, by=coordinator_cleo)
    client.force_login(coordinator_cleo)
    fragment = client.get(f"/reports/{snapshot.pk}/progress/").content.decode()
    assert 'hx-trigger="every 1s"' in fragment and "<progress" in fragment
    report_build(snapshot_id=snapshot.pk)
    response = client.get(f"/reports/{snapshot.pk}/progress/", HTTP_HX_REQUEST="true")
    assert response["HX-Refresh"] == "true"
    assert "hx-trigger" not in response.content.decode()
    assert "Download XLSX" in response.content.decode()


# --- API ------------------------------------------------------------------------------


def test_api_lists_reads_and_downloads(api_as, reporter_rita, january_report):
    api = api_as(reporter_rita)
    listed = api.get("/api/v1/reports/").json()
    assert [r["id"] for r in listed["results"]] == [january_report.pk]
    detail = api.get(f"/api/v1/reports/{january_report.pk}/").json()
    assert detail["status"] == "ready" and detail["unsuppressed"] is False
    reach = detail["tables"][0]
    assert reach["columns"] == ["Downtown drop-in", "Eastside clinic", "Total"]
    visits = next(r for r in reach["rows"] if r["key"] == "visits")
    # Eastside's 3 is "<11", so Downtown's 14 is hidden too (else 17 − 14 = 3).
    assert [c["text"] for c in visits["cells"]] == ["*", "<11", "17"]
    assert visits["cells"][1]["value"] is None and visits["cells"][1]["suppressed"]
    assert api.get(f"/api/v1/reports/{january_report.pk}/?unsuppressed=true").status_code == 403

    response = api.get(detail["files"]["csv"], HTTP_ACCEPT="text/csv")
    assert response.status_code == 200
    assert (
        b"".join(response.streaming_content)
        .decode("utf-8-sig")
        .startswith("Program monthly summary")
    )
    assert api.get(detail["files"]["xlsx"]).status_code == 200


def test_api_unsuppressed_for_coordinators(api_as, coordinator_cleo, january_report):
    detail = (
        api_as(coordinator_cleo)
        .get(f"/api/v1/reports/{january_report.pk}/?unsuppressed=true")
        .json()
    )
    visits = next(r for r in detail["tables"][0]["rows"] if r["key"] == "visits")
    assert [c["value"] for c in visits["cells"]] == [14, 3, 17]
    assert visits["cells"][1]["suppressed"] is True  # still flagged as hidden-when-published


def test_api_request_and_progress(
    api_as, coordinator_cleo, site_a, site_b, django_capture_on_commit_callbacks
):
    january_visits(site_a, site_b)
    api = api_as(coordinator_cleo)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/v1/reports/",
            {"template": "program_monthly", "period": "2026-01", "site_ids": [site_b.pk]},
        )
    assert response.status_code == 202
    progress = api.get(response["Location"]).json()
    assert progress["status"] == "ready" and progress["progress"] == 100
    assert progress["files"]["csv"].endswith("/files/csv/")
    snapshot = ReportSnapshot.objects.get(pk=response.json()["id"])
    assert [s["key"] for s in snapshot.figures["scopes"]] == ["EAST", TOTAL]

    again = api.post(f"/api/v1/reports/{snapshot.pk}/regenerate/")
    assert again.status_code == 202 and again.json()["version"] == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"template": "program_monthly"}, "period"),
        ({"template": "program_monthly", "period": "2026-13"}, "period"),
        ({"template": "who-knows", "period": "2026-01"}, "template"),
        (
            {"template": "state_ssp", "period_start": "2026-02-01", "period_end": "2026-01-01"},
            "period_end",
        ),
        ({"template": "state_ssp", "period": "2026-01", "threshold": 1}, "threshold"),
        ({"template": "state_ssp", "period": "2026-01", "site_ids": [987654]}, "site_ids"),
        ({"template": "state_ssp", "period": "2099-01"}, "period_start"),
    ],
)
def test_api_bad_requests_get_field_messages(api_as, coordinator_cleo, body, field):
    response = api_as(coordinator_cleo).post("/api/v1/reports/", body, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"]
    assert not ReportSnapshot.objects.exists()


def test_api_templates(api_as, coordinator_cleo):
    templates = api_as(coordinator_cleo).get("/api/v1/reports/templates/").json()
    assert [t["key"] for t in templates] == list(TEMPLATES)


def test_a_pending_report_has_no_files_yet(api_as, coordinator_cleo, site_a):
    snapshot = report_request(template="state_ssp", period=JANUARY, by=coordinator_cleo)
    api = api_as(coordinator_cleo)
    body = api.get(f"/api/v1/reports/{snapshot.pk}/progress/").json()
    assert body["status"] == ReportStatus.QUEUED and body["files"] == {"csv": None, "xlsx": None}
    assert api.get(f"/api/v1/reports/{snapshot.pk}/files/csv/").status_code == 404


# --- Dashboard --------------------------------------------------------------------------


def test_dashboard_page_embeds_its_data_without_inline_script(
    client, coordinator_cleo, site_a, site_b
):
    january_visits(site_a, site_b)
    client.force_login(coordinator_cleo)
    page = client.get("/reports/dashboard/?months=6").content.decode()
    assert '<script id="trends-data" type="application/json">' in page
    assert "vendor/chart-4.6.1.umd.min.js" in page and "reports/dashboard.js" in page
    assert 'data-series="linkage_rate"' in page
    assert "<script>" not in page and "style=" not in page


def test_trends_count_by_month_and_hide_small_cells(
    api_as, coordinator_cleo, reporter_rita, site_a, site_b, settings
):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    import time_machine

    january_visits(site_a, site_b)
    with time_machine.travel(datetime(2026, 3, 15, tzinfo=ZoneInfo("America/New_York"))):
        raw = (
            api_as(coordinator_cleo)
            .get("/api/v1/reports/trends/?months=3&unsuppressed=true")
            .json()
        )
        published = api_as(reporter_rita).get("/api/v1/reports/trends/?months=3").json()
    assert raw["months"] == ["2026-01", "2026-02", "2026-03"]
    assert raw["series"]["visits"]["DTWN"] == [14, 0, 0]
    assert raw["series"]["visits"]["EAST"] == [3, 0, 0]
    assert raw["series"]["visits"]["TOTAL"] == [17, 0, 0]
    # Downtown sees people 0-4 and 6-8 (every fifth visit is anonymous), Eastside 0-2.
    assert raw["series"]["unique_participants"]["TOTAL"][0] == 8
    assert raw["series"]["syringes_distributed"]["TOTAL"] == [17 * 12, 0, 0]
    assert raw["series"]["syringes_collected"]["DTWN"][0] == 140
    # Published: Eastside's 3 is hidden, and so is Downtown's 14 (else 17 − 14 = 3).
    # (Suppressed figures stop at the last whole month, February.)
    assert published["months"] == ["2025-12", "2026-01", "2026-02"]
    assert published["series"]["visits"]["EAST"][1] is None
    assert published["series"]["visits"]["DTWN"][1] is None
    assert published["suppressed"] is True and raw["suppressed"] is False


@pytest.mark.parametrize(
    ("moment", "days"),
    [((2026, 3, 1, 0, 30), 1), ((2026, 3, 1, 23, 59), 1), ((2026, 3, 31, 23, 59), 31)],
)
def test_the_running_month_is_marked_so_far_not_drawn_as_a_drop(
    api_as, client, coordinator_cleo, site_a, site_b, moment, days
):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    import time_machine

    january_visits(site_a, site_b)
    with time_machine.travel(datetime(*moment, tzinfo=ZoneInfo("America/New_York")), tick=False):
        api = api_as(coordinator_cleo)
        trends = api.get("/api/v1/reports/trends/?months=3&unsuppressed=true").json()
        published = api.get("/api/v1/reports/trends/?months=3").json()
        client.force_login(coordinator_cleo)
        page = client.get("/reports/dashboard/?months=3&view=unsuppressed")
        published_page = client.get("/reports/dashboard/?months=3")
    # Only March runs: January and February are whole months.
    assert trends["months"] == ["2026-01", "2026-02", "2026-03"]
    assert trends["partial"] == [False, False, True]
    assert trends["days_so_far"] == days and trends["withheld"] is None
    html = page.content.decode()
    assert f"Mar 2026 (so far, {days} day" in html
    assert 'id="so-far-note"' in html and "not a drop" in html
    # Suppressed figures stop at the last whole month: March is left out until it ends.
    assert published["months"] == ["2025-12", "2026-01", "2026-02"]
    assert published["partial"] == [False, False, False] and published["days_so_far"] is None
    assert published["withheld"] == "March 2026"
    html = published_page.content.decode()
    assert 'id="so-far-note"' not in html and "(so far," not in html
    assert 'id="withheld-note"' in html and "March 2026 appears here once it has ended" in html


def test_a_running_month_is_never_released_day_by_day(api_as, coordinator_cleo, site_a, site_b):
    """Published day after day, a running month's figures would give one day's counts by
    subtraction (12 visits at a site on the 15th, 13 on the 16th: one visit that day).
    Suppressed, the dashboard leaves the month out, and its linked set is not touched."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    import time_machine

    from reports.models import PeriodSuppression

    january_visits(site_a, site_b)
    api = api_as(coordinator_cleo)
    for day in (15, 16, 31):
        moment = datetime(2026, 1, day, 23, 59, tzinfo=ZoneInfo("America/New_York"))
        with time_machine.travel(moment, tick=False):
            published = api.get("/api/v1/reports/trends/?months=3").json()
        assert published["months"] == ["2025-10", "2025-11", "2025-12"]
        assert published["withheld"] == "January 2026"
        assert sum(v or 0 for v in published["series"]["visits"]["TOTAL"]) == 0
    assert not PeriodSuppression.objects.filter(period_start__gte="2026-01-01").exists()
    with time_machine.travel(datetime(2026, 2, 1, 0, 30, tzinfo=ZoneInfo("America/New_York"))):
        published = api.get("/api/v1/reports/trends/?months=3").json()
    assert published["months"][-1] == "2026-01" and published["withheld"] == "February 2026"
    assert PeriodSuppression.objects.filter(period_start="2026-01-01").count() == 1
