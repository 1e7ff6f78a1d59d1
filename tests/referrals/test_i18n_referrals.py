"""Referrals in Spanish: the pages, the follow-up prompt, form labels and the services'
messages follow the person's language; the CSV keeps its English codes."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from referrals import services
from referrals.models import ReferralType

from ..factories import ParticipantFactory

NY = ZoneInfo("America/New_York")

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fixed_today():
    with time_machine.travel(datetime(2026, 6, 15, 10, 0, tzinfo=NY), tick=False):
        yield


@pytest.fixture
def overdue(site_a, front_desk_ana):
    """MAKO1993F, referred to hepatitis C testing on 1 May; its follow-up has come."""
    mako = ParticipantFactory(code="MAKO1993F")
    with time_machine.travel(datetime(2026, 5, 1, 12, tzinfo=NY), tick=False):
        return services.referral_create(
            referral_type=ReferralType.objects.get(code="hcv-testing"),
            participant=mako,
            site=site_a,
            by=front_desk_ana,
        )


def spanish(user):
    user.language = "es"
    user.save()
    return user


def test_the_referral_pages_follow_the_persons_language(client, coordinator_cleo, overdue):
    client.force_login(spanish(coordinator_cleo))
    pages = {
        "/referrals/": ("Filtrar referidos", "Todos los referidos", "Cualquier estado", "Referido"),
        "/referrals/overdue/": ("Seguimientos pendientes", "Días de espera", "Anotar resultado"),
        "/referrals/linkage/": ("Vinculación de los referidos", "Tasa de vinculación", "Por tipo"),
        "/referrals/partners/": ("Organizaciones aliadas", "Cualquier tipo", "Horario"),
        f"/referrals/{overdue.pk}/": ("Anotar qué pasó", "Nuevo estado", "Historial"),
    }
    english = (
        "Filter referrals",
        "All referrals",
        "Follow-ups due",
        "Record what happened",
        "Referral partners",
        "By type",
    )
    for path, words in pages.items():
        page = client.get(path).content.decode()
        assert '<html lang="es">' in page, path
        for word in words:
            assert word in page, (path, word)
        for word in english:
            assert word not in page, (path, word)


def test_the_follow_up_prompt_speaks_spanish_and_names_the_month(client, front_desk_ana, overdue):
    client.force_login(spanish(front_desk_ana))
    prompt = client.get("/referrals/follow-ups/", {"code": "MAKO1993F"}).content.decode()
    for word in ("Preguntar por 1 referido", "Vinculado", "Todavía no", "Rechazado", "1 de mayo"):
        assert word in prompt, word
    assert "Not yet" not in prompt and "Ask about" not in prompt
    answered = client.post(
        f"/referrals/follow-ups/{overdue.pk}/not-yet/",
        {"code": "MAKO1993F"},
        headers={"HX-Request": "true"},
    ).content.decode()
    # Not the English "Jun 29": the month in the person's language and order.
    assert "todavía no; volveremos a preguntar el 29 de junio" in answered


def test_a_services_refusal_reaches_the_page_in_spanish(client, front_desk_ana, site_a):
    client.force_login(spanish(front_desk_ana))
    hcv = ReferralType.objects.get(code="hcv-testing")
    response = client.post(
        "/referrals/new/", {"code": "NOSUCH00X", "site": site_a.pk, "referral_type": hcv.pk}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Todavía no hay visitas con este código en sus sitios" in page
    assert "Código del participante" in page and "Referido a" in page
    assert "No visit with this code" not in page


def test_the_api_answers_in_the_requests_language_with_english_codes(
    api_as, front_desk_ana, overdue
):
    api = api_as(front_desk_ana)
    refused = api.post(
        f"/api/v1/referrals/{overdue.pk}/status-changes/",
        {"to_status": "referred", "follow_up_on": "2026-06-01"},
        format="json",
        headers={"Accept-Language": "es"},
    )
    assert refused.status_code == 400
    body = refused.json()
    assert body["code"] == "invalid_referral"
    assert body["errors"]["follow_up_on"] == [
        "La próxima fecha de seguimiento debe ser posterior a hoy."
    ]
    answer = api.get(f"/api/v1/referrals/{overdue.pk}/", headers={"Accept-Language": "es"})
    assert answer.json()["status"] == "referred"


def test_the_csv_keeps_its_english_codes_on_a_spanish_page(client, coordinator_cleo, overdue):
    client.force_login(spanish(coordinator_cleo))
    body = b"".join(client.get("/referrals/export.csv").streaming_content).decode()
    header, row = body.splitlines()[:2]
    assert header.startswith("id,code,site,type_code")
    assert ",referred," in row and "Referido" not in body
