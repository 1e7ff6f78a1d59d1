"""Funder reports end to end with a real Celery worker consuming from Redis.

The worker is celery's test worker, a thread of this process with its own database
connection, so it sees only committed data, and time_machine's travel (which patches
the clock process-wide) reaches it too: the monthly job runs "on the 1st" without a
date argument, exactly as beat sends it. Nothing here calls the report services.
"""

import csv
import io
import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone
from openpyxl import load_workbook

from config.celery import app as celery_app
from outbox.models import OutboxJob
from reports import tasks
from reports.funder_templates import TEMPLATES
from reports.models import ReportSnapshot, ReportStatus, ReportTrigger
from ssp.models import VisitSupply

from ..factories import ItemFactory, ParticipantFactory, VisitFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.celery_worker]

PROGRAM = ZoneInfo("America/New_York")
WAIT = 60  # seconds; a small report is built in well under one
# 02:00 on the 1st in the program time zone, when beat sends the monthly job.
FIRST_OF_FEBRUARY = datetime(2026, 2, 1, 2, 0, tzinfo=PROGRAM)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def eventually(predicate, what: str):
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    pytest.fail(f"the worker did not get there in {WAIT}s: {what}")


def january(site_a, site_b):
    """17 visits in January 2026 (14 at A, 3 at B), 12 syringes each, and one in
    February that last month's report must leave out."""
    item = ItemFactory(code="syr-1ml", name="Syringe 1 mL", category="syringe")
    people = [
        ParticipantFactory(code=f"JAN{n:02d}F", first_seen_on=date(2026, 1, 1)) for n in range(9)
    ]
    visits = [
        VisitFactory(
            site=site_a,
            occurred_at=datetime(2026, 1, 2 + n, 10, tzinfo=PROGRAM),
            participant=people[n % 9] if n % 5 else None,
            syringes_collected=10,
        )
        for n in range(14)
    ]
    visits += [
        VisitFactory(
            site=site_b,
            occurred_at=datetime(2026, 1, 20 + n, 11, tzinfo=PROGRAM),
            participant=people[n],
        )
        for n in range(3)
    ]
    visits.append(
        VisitFactory(site=site_a, occurred_at=datetime(2026, 2, 1, 0, 30, tzinfo=PROGRAM))
    )
    for v in visits:
        VisitSupply.objects.create(visit=v, item=item, quantity=12)


def figure_cells(rows) -> list:
    """The cells of the figure tables (not the header's "Version 1"): every row after a
    "Figure" heading up to the blank row that ends its section."""
    cells, inside = [], False
    for row in rows:
        row = list(row)
        if row and row[0] == "Figure":
            inside = True
        elif not any(c not in (None, "") for c in row):
            inside = False
        elif inside and not str(row[0]).startswith("Note:"):
            cells += row[1:]
    return cells


def published_numbers(csv_bytes: bytes) -> list[int]:
    rows = csv.reader(io.StringIO(csv_bytes.decode("utf-8-sig")))
    return [int(cell) for cell in figure_cells(rows) if cell.isdigit()]


def xlsx_cells(workbook) -> list:
    return figure_cells(workbook["Report"].iter_rows(values_only=True))


def test_beat_entry_fires_at_two_on_the_first_in_the_program_time_zone():
    schedule = celery_app.conf.beat_schedule["monthly-funder-reports"]
    assert schedule["task"] == "reports.tasks.build_monthly_reports"
    # Every night at 02:00 (a run lost with Redis's data is made good the next night).
    last_run = datetime(2026, 1, 31, 2, 0, tzinfo=PROGRAM)
    with time_machine.travel(datetime(2026, 1, 31, 23, 0, tzinfo=PROGRAM), tick=False):
        assert schedule["schedule"].remaining_estimate(last_run) == timedelta(hours=3)
    with time_machine.travel(FIRST_OF_FEBRUARY + timedelta(seconds=1), tick=False):
        assert schedule["schedule"].is_due(last_run).is_due


def test_the_worker_runs_the_monthly_job_on_the_first_and_a_second_run_adds_nothing(
    celery_worker, mailoutbox, media, coordinator_cleo, site_a, site_b
):
    coordinator_cleo.email = "cleo@example.org"
    coordinator_cleo.save()
    january(site_a, site_b)

    # tick=True: the clock keeps running from 02:00, so the worker's timers still work.
    with time_machine.travel(FIRST_OF_FEBRUARY, tick=True):
        first = tasks.build_monthly_reports.delay().get(timeout=WAIT)
        again = tasks.build_monthly_reports.delay().get(timeout=WAIT)

    monthly = sorted(key for key, template in TEMPLATES.items() if template.schedule == "month")
    assert len(first) == len(monthly) and again == []
    snapshots = ReportSnapshot.objects.order_by("template")
    assert [s.template for s in snapshots] == monthly
    assert sorted(first) == sorted(s.pk for s in snapshots)
    for snapshot in snapshots:
        assert (snapshot.period_start, snapshot.period_end) == (date(2026, 1, 1), date(2026, 1, 31))
        assert snapshot.trigger == ReportTrigger.SCHEDULED and snapshot.site_key == "all"
        assert snapshot.status == ReportStatus.READY and snapshot.version == 1
        assert len(snapshot.content_hash) == 64
        # Built in the worker under the travelled clock, not today's.
        assert timezone.localdate(snapshot.generated_at) == date(2026, 2, 1)
        assert snapshot.figures["values"]["TOTAL"]["visits"] == 17
        assert snapshot.figures["values"]["TOTAL"]["supplies.syringe"] == 17 * 12
        csv_bytes = (media / snapshot.csv_file.name).read_bytes()
        assert not [n for n in published_numbers(csv_bytes) if 0 < n < 11]
        cells = xlsx_cells(load_workbook(media / snapshot.xlsx_file.name, read_only=True))
        assert "<11" in cells  # Eastside's 3 visits
        assert not [c for c in cells if isinstance(c, int) and 0 < c < 11]
    assert len(list(media.rglob("*.csv"))) == len(monthly)
    assert len(list(media.rglob("*.xlsx"))) == len(monthly)
    (email,) = mailoutbox  # one email for both reports, none for the second run
    assert email.to == ["cleo@example.org"] and "January 2026" in email.subject


def test_an_on_demand_request_through_the_api_is_built_by_the_worker(
    celery_worker, api_as, coordinator_cleo, site_a, site_b
):
    january(site_a, site_b)
    api = api_as(coordinator_cleo)

    response = api.post(
        "/api/v1/reports/",
        {"template": "state_ssp", "period": "2026-01", "site_ids": [site_a.pk, site_b.pk]},
        format="json",
    )
    assert response.status_code == 202, response.content
    snapshot_id = response.data["id"]
    progress_url = response["Location"]
    assert progress_url == f"/api/v1/reports/{snapshot_id}/progress/"
    # The job went through the outbox and was handed to the broker after commit.
    eventually(
        lambda: not OutboxJob.objects.filter(dispatched_at__isnull=True).exists(),
        "build job sent to the broker",
    )

    seen = []

    def ready():
        body = api.get(progress_url).data
        seen.append(body["progress"])
        return body["status"] in (ReportStatus.READY, ReportStatus.FAILED)

    eventually(ready, "report built")
    body = api.get(progress_url).data
    assert body["status"] == ReportStatus.READY, body
    assert body["progress"] == 100
    assert seen == sorted(seen)  # progress only goes forward

    snapshot = api.get(f"/api/v1/reports/{snapshot_id}/").data
    assert snapshot["files"] == {
        "csv": f"/api/v1/reports/{snapshot_id}/files/csv/",
        "xlsx": f"/api/v1/reports/{snapshot_id}/files/xlsx/",
    }
    csv_response = api.get(snapshot["files"]["csv"])
    assert csv_response.status_code == 200
    csv_bytes = b"".join(csv_response.streaming_content)
    assert "attachment" in csv_response["Content-Disposition"]
    numbers = published_numbers(csv_bytes)
    assert 17 in numbers and not [n for n in numbers if 0 < n < 11]

    xlsx_response = api.get(snapshot["files"]["xlsx"])
    assert xlsx_response.status_code == 200
    workbook = load_workbook(io.BytesIO(b"".join(xlsx_response.streaming_content)))
    cells = xlsx_cells(workbook)
    assert 17 in cells and "<11" in cells
    assert not [c for c in cells if isinstance(c, int) and 0 < c < 11]
