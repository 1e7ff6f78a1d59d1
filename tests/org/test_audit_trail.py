"""The audit trail in words: each entry says who did what to which record, where and
what changed, never a raw model name or `None → …`; filters by user, site, kind of
record and dates; a formula-safe CSV; the same entries in the API, for admins only."""

import csv
import io
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.contenttypes.models import ContentType

from org.audit import attributed
from org.audit_trail import audit_entries, audit_lines
from ssp.models import Visit
from ssp.services import visit_correct, visit_record

pytestmark = pytest.mark.django_db

ZONE = ZoneInfo(settings.TIME_ZONE)
RAW = ("None", "ssp.", "referrals.", "inventory.", "org.")


def record_visit(site, by, **fields):
    with attributed(by):
        visit, _ = visit_record(site=site, by=by, client_uuid=uuid.uuid4(), **fields)
    return visit


@pytest.fixture
def corrected_visit(site_a, front_desk_ana, manager_sam, stocked):
    visit = record_visit(site_a, front_desk_ana, syringes_collected=10)
    with attributed(manager_sam):
        visit_correct(visit=visit, by=manager_sam, syringes_collected=20)
    return visit


def line_of(entry_filter) -> str:
    entry = audit_entries().filter(**entry_filter).first()
    return audit_lines([entry])[0].sentence


def test_a_correction_reads_as_a_sentence(corrected_visit, manager_sam):
    visit_type = ContentType.objects.get_for_model(Visit)
    sentence = line_of({"content_type": visit_type, "object_id": corrected_visit.pk, "action": 1})
    when = corrected_visit.occurred_at.astimezone(ZONE)
    assert sentence.startswith("sam corrected visit ")
    assert f"{when:%H:%M}" in sentence
    assert "at Downtown drop-in" in sentence
    assert sentence.endswith("syringes collected: 10 → 20")
    assert not any(raw in sentence for raw in RAW)


def test_a_new_record_lists_its_values_without_none(corrected_visit, front_desk_ana):
    visit_type = ContentType.objects.get_for_model(Visit)
    sentence = line_of({"content_type": visit_type, "object_id": corrected_visit.pk, "action": 0})
    assert sentence.startswith("ana logged visit ")
    assert "syringes collected 10" in sentence
    assert not any(raw in sentence for raw in RAW)
    assert "→" not in sentence


def test_no_entry_on_the_page_shows_raw_names(client, admin_ada, corrected_visit):
    client.force_login(admin_ada)
    visit_kind = ContentType.objects.get_for_model(Visit).pk
    html = client.get(f"/audit/?kind={visit_kind}").content.decode()
    assert "<strong>sam</strong> corrected visit" in html
    assert "<li>syringes collected: 10 → 20</li>" in html
    table = html[html.index("<tbody>") : html.index("</tbody>")]
    assert not any(raw in table for raw in RAW)


def test_filters_by_user_site_kind_and_date(
    client, admin_ada, site_a, site_b, front_desk_ana, front_desk_ben, stocked, eastside_storeroom
):
    day = datetime(2026, 11, 30, 12, tzinfo=ZONE)
    made = []  # (who, site, day) of each visit logged
    for offset, (who, site) in enumerate(
        [(front_desk_ana, site_a), (front_desk_ben, site_b), (front_desk_ana, site_a)]
    ):
        when = day + timedelta(days=offset)
        with time_machine.travel(when, tick=False):
            record_visit(site, who, syringes_collected=offset + 1)
        made.append((who, site, when.date()))
    client.force_login(admin_ada)
    visit_kind = ContentType.objects.get_for_model(Visit).pk

    def visits_shown(query: str) -> int:
        page = client.get(f"/audit/?kind={visit_kind}&{query}")
        assert page.status_code == 200
        return sum(1 for line in page.context["lines"] if line.kind == "visit")

    assert visits_shown(f"user={front_desk_ana.pk}") == sum(
        1 for m in made if m[0] == front_desk_ana
    )
    assert visits_shown(f"site={site_b.pk}") == sum(1 for m in made if m[1] == site_b)
    assert visits_shown("start=2026-12-01&end=2026-12-01") == sum(
        1 for m in made if m[2] == day.date() + timedelta(days=1)
    )
    # Every line the site filter shows is at that site.
    page = client.get(f"/audit/?site={site_a.pk}")
    assert {line.site for line in page.context["lines"]} <= {"DTWN", ""}
    assert all(line.site == "DTWN" for line in page.context["lines"] if line.kind == "visit")
    # A kind filter shows only that kind.
    assert {line.kind for line in client.get(f"/audit/?kind={visit_kind}").context["lines"]} == {
        "visit"
    }


def test_filter_menus_say_all_rather_than_dashes(client, admin_ada):
    client.force_login(admin_ada)
    html = client.get("/audit/").content.decode()
    assert "---------" not in html
    assert ">All staff<" in html and ">All sites<" in html and ">All kinds<" in html


def test_the_csv_has_the_filtered_entries_in_words_and_escapes_formulas(
    client, admin_ada, site_a, manager_sam
):
    with attributed(manager_sam):
        site_a.name = "=HYPERLINK(1)"
        site_a.save()
    client.force_login(admin_ada)
    response = client.get(f"/audit.csv?user={manager_sam.pk}")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    expected = LogEntry.objects.filter(actor=manager_sam).count()
    assert len(rows) == expected >= 1
    assert {row["who"] for row in rows} == {"sam"}
    renamed = next(row for row in rows if row["kind"] == "site" and row["what"] == "changed")
    assert renamed["record"] == "'=HYPERLINK(1)"
    assert "name: Downtown drop-in → =HYPERLINK(1)" in renamed["changes"]


def test_only_those_who_may_see_the_audit_trail_get_it(
    client, api_as, front_desk_ana, manager_sam, coordinator_cleo
):
    for user in (front_desk_ana, manager_sam, coordinator_cleo):
        client.force_login(user)
        assert client.get("/audit/").status_code == 403
        assert client.get("/audit.csv").status_code == 403
        assert api_as(user).get("/api/v1/audit/").status_code == 403


def test_the_api_gives_the_same_words_paginated(api_as, admin_ada, corrected_visit):
    response = api_as(admin_ada).get("/api/v1/audit/", {"action": "update"})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert set(body) >= {"count", "results"}
    assert body["count"] == LogEntry.objects.filter(action=LogEntry.Action.UPDATE).count()
    correction = next(r for r in body["results"] if r["verb"] == "corrected")
    assert correction["who"] == "sam" and correction["kind"] == "visit"
    assert correction["site"] == "DTWN"
    assert {
        "field": "syringes_collected",
        "label": "syringes collected",
        "before": "10",
        "after": "20",
    } in correction["changes"]
    assert correction["sentence"].endswith("syringes collected: 10 → 20")
    refused = api_as(admin_ada).get("/api/v1/audit/", {"site": "999999"})
    assert refused.status_code == 400
