"""Reports in Spanish: the pages around the funder reports, the dashboard's charts and
the coordinators' emails follow the person's language; the reports themselves (their
files, tables and figure names) keep the funder's English."""

import json
from datetime import datetime

import pytest
import time_machine
from django.core import mail

from reports.services import monthly_reports_build

from ..support.reports import PROGRAM, built_report, january_visits

pytestmark = pytest.mark.django_db


def spanish(user):
    user.language = "es"
    user.save()
    return user


def test_the_report_list_and_its_form_speak_spanish(client, coordinator_cleo, site_a, site_b):
    january_visits(site_a, site_b)
    built_report(coordinator_cleo)
    client.force_login(spanish(coordinator_cleo))
    page = client.get("/reports/").content.decode()
    for word in (
        "Informes para los financiadores",
        "Preparar informe",
        "Umbral de ocultamiento",
        "Un trimestre",
        "Cómo se preparan los informes",
        "Listo",
        "Todos los sitios",
    ):
        assert word in page, word
    for word in ("Build report", "How reports are made", "Suppression threshold", "All sites"):
        assert word not in page, word
    # The funder template keeps its name.
    assert "Program monthly summary" in page


def test_a_refused_request_says_why_in_spanish(client, coordinator_cleo):
    client.force_login(spanish(coordinator_cleo))
    response = client.post(
        "/reports/",
        {"template": "program_monthly", "period_kind": "custom", "start": "2026-01-01"},
    )
    assert response.status_code == 400
    assert "Indique las dos fechas." in response.content.decode()


def test_the_report_page_is_spanish_around_the_funders_english(
    client, coordinator_cleo, site_a, site_b
):
    january_visits(site_a, site_b)
    report = built_report(coordinator_cleo)
    client.force_login(spanish(coordinator_cleo))
    page = client.get(f"/reports/{report.pk}/").content.decode()
    for word in ("Definiciones", "Vista para imprimir", "Descargar CSV", "Cifra", "Ocultamiento"):
        assert word in page, word
    assert "Print view" not in page and "Regenerate as a new version" not in page
    # The report's own tables and figure names are the funder's: English, marked as such.
    assert '<h2 lang="en">Syringes</h2>' in page
    assert "Used syringes collected" in page

    printed = client.get(f"/reports/{report.pk}/print/").content.decode()
    assert ">Imprimir</button>" in printed and "← Volver al informe" in printed
    paper = printed[printed.index('<article class="print-report" lang="en">') :]
    assert "Definitions" in paper and "Suppression and notes" in paper
    assert "Definiciones" not in paper


def test_the_downloaded_files_stay_in_english(client, coordinator_cleo, site_a, site_b):
    january_visits(site_a, site_b)
    report = built_report(coordinator_cleo)
    english = report.csv_file.open("rb").read()
    client.force_login(spanish(coordinator_cleo))
    response = client.get(f"/reports/{report.pk}/download/csv/")
    assert b"".join(response.streaming_content) == english
    assert b"Used syringes collected" in english


def test_the_dashboard_draws_in_the_persons_language(client, coordinator_cleo, site_a, site_b):
    january_visits(site_a, site_b)
    client.force_login(spanish(coordinator_cleo))
    with time_machine.travel(datetime(2026, 2, 10, 12, tzinfo=PROGRAM), tick=False):
        page = client.get("/reports/dashboard/?months=3").content.decode()
    start = page.index('<script id="trends-data" type="application/json">')
    data = json.loads(page[page.index(">", start) + 1 : page.index("</script>", start)])
    assert data["series_labels"]["syringes_distributed"] == "Jeringas distribuidas"
    assert data["series_labels"]["linkage_rate"] == "Tasa de vinculación"
    assert data["scopes"][-1]["label"] == "Todos los sitios elegidos"
    # Suppressed figures stop at the last whole month; the running one is named.
    assert data["month_labels"] == ["Nov 2025", "Dic 2025", "Ene 2026"]
    assert "febrero de 2026 aparece aquí cuando termine" in page
    assert 'data-suppressed="oculta"' in page and 'data-so-far="hasta hoy"' in page
    assert "Tendencias mensuales" in page and "Monthly trends" not in page
    assert "Syringes distributed" not in page


def test_each_coordinator_gets_the_email_in_their_language(
    coordinator_cleo, admin_ada, site_a, site_b, settings
):
    settings.SITE_BASE_URL = "https://ssp.example.org"
    coordinator_cleo.email, admin_ada.email = "cleo@example.org", "ada@example.org"
    spanish(coordinator_cleo)
    admin_ada.save()
    january_visits(site_a, site_b)
    with time_machine.travel(datetime(2026, 2, 1, 2, 0, tzinfo=PROGRAM), tick=False):
        monthly_reports_build()
    by_person = {m.to[0]: m for m in mail.outbox}
    cleo, ada = by_person["cleo@example.org"], by_person["ada@example.org"]
    # The period is the funder report's own label, in English in both.
    assert cleo.subject == "Los informes para los financiadores de January 2026 están listos"
    assert "Inicie sesión para verlos" in cleo.body and "Sign in" not in cleo.body
    assert ada.subject == "Funder reports for January 2026 are ready"
    assert "Sign in to view them" in ada.body
