"""The funder report mails are written in each coordinator's language; the reports'
names and periods (and the files behind the links) keep the funder's language."""

from datetime import datetime

import pytest
import time_machine
from django.core import mail

from reports.services import monthly_reports_build, snapshots_recheck

from ..factories import VisitFactory
from ..support.reports import PROGRAM, january_visits

pytestmark = pytest.mark.django_db


@pytest.fixture
def cleo_in_spanish_ada_in_english(coordinator_cleo, admin_ada, settings):
    settings.SITE_BASE_URL = "https://ssp.example.org"
    coordinator_cleo.email, coordinator_cleo.language = "cleo@example.org", "es"
    coordinator_cleo.save()
    admin_ada.email = "ada@example.org"
    admin_ada.save()


def by_recipient():
    return {email.to[0]: email for email in mail.outbox}


def test_the_monthly_mail_follows_each_recipients_language(
    cleo_in_spanish_ada_in_english, site_a, site_b
):
    january_visits(site_a, site_b)
    with time_machine.travel(datetime(2026, 2, 1, 2, tzinfo=PROGRAM), tick=False):
        built = monthly_reports_build()
    assert built

    spanish = by_recipient()["cleo@example.org"]
    assert spanish.subject == "Los informes para los financiadores de January 2026 están listos"
    assert "Se prepararon los informes programados para los financiadores de" in spanish.body
    assert "(versión 1): https://ssp.example.org/reports/" in spanish.body
    assert "Inicie sesión para verlos" in spanish.body
    assert "Sign in" not in spanish.body
    # The funders' own words stay: the report's name as its template writes it.
    name = built[0].parameters["template_name"]
    assert name in spanish.body

    english = by_recipient()["ada@example.org"]
    assert english.subject == "Funder reports for January 2026 are ready"
    assert "Sign in to view them" in english.body


def test_the_changed_figures_mail_follows_each_recipients_language(
    cleo_in_spanish_ada_in_english, site_a, site_b
):
    january_visits(site_a, site_b)
    with time_machine.travel(datetime(2026, 2, 1, 2, tzinfo=PROGRAM), tick=False):
        monthly_reports_build()
    mail.outbox.clear()
    VisitFactory(site=site_a, occurred_at=datetime(2026, 1, 20, tzinfo=PROGRAM), participant=None)
    with time_machine.travel(datetime(2026, 2, 3, 4, 30, tzinfo=PROGRAM), tick=False):
        assert snapshots_recheck()

    spanish = by_recipient()["cleo@example.org"]
    assert "las cifras cambiaron después de prepararlos" in spanish.subject
    assert "6 celdas son distintas" in spanish.body
    assert "Las versiones ya enviadas se quedan como estaban." in spanish.body
    assert "cells differ" not in spanish.body
    english = by_recipient()["ada@example.org"]
    assert "figures changed since — 6 cells differ" in english.body
