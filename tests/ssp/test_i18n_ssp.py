"""Spanish on the intake pages beyond the front desk: visits, a visit's record and its
correction, participant codes and merges, with the services' refusals and the reasons
a near code is offered in the person's language."""

import html
import re

import pytest
from django.utils import translation

from ssp.codes import CodeError, validate_code
from ssp.selectors import near_matches
from ssp.services import VisitError, visit_record

from ..support.intake import item_line, new_uuid

pytestmark = pytest.mark.django_db


def _in_spanish(client, person):
    person.language = "es"
    person.save(update_fields=["language"])
    client.force_login(person)


def _page(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


@pytest.fixture
def a_visit(site_a, front_desk_ana, stocked, supplies):
    visit, _ = visit_record(
        site=site_a, by=front_desk_ana, client_uuid=new_uuid(), code="MAKO1993F",
        lines=[item_line(supplies["pad"], 2)],
    )  # fmt: skip
    return visit


def test_visit_list_and_record_are_in_spanish(client, front_desk_ana, a_visit):
    _in_spanish(client, front_desk_ana)
    listing = _page(client, "/intake/visits/")
    for word in ("Visitas", "Cuándo", "Suministros", "Recogidas", "Filtrar"):
        assert word in listing, word
    assert ">Filter<" not in listing and "No visits match" not in listing
    detail = _page(client, f"/intake/visits/{a_visit.uuid}/")
    for word in ("Jeringas recogidas", "Corregir esta visita", "Anular visita", "Sitio fijo"):
        assert word in detail, word
    assert "¿Anular esta visita?" in detail  # the confirmation, in data-confirm
    for english in ("Correct this visit", "Void visit", "Syringes collected", "Fixed site"):
        assert english not in detail, english


def test_correcting_and_voiding_speak_spanish(client, front_desk_ana, a_visit, stocked):
    _in_spanish(client, front_desk_ana)
    edit = _page(client, f"/intake/visits/{a_visit.uuid}/edit/")
    assert "Guardar corrección" in edit and "Save correction" not in edit
    voided = client.post(
        f"/intake/visits/{a_visit.uuid}/void/", {"reason": "twice"}, follow=True
    ).content.decode()
    assert "Visita anulada: Registrada dos veces" in voided
    assert "Visit voided" not in voided


def test_a_near_code_is_offered_with_its_reason_in_spanish(client, front_desk_ana, a_visit):
    _in_spanish(client, front_desk_ana)
    search = _page(client, "/intake/participants/?code=MAOK1993F")
    assert "Ningún participante tiene el código" in search
    assert "Códigos a un cambio de distancia" in search
    assert "letras cambiadas de lugar" in search and "letters swapped" not in search
    detail = _page(client, "/intake/participants/MAKO1993F/")
    for word in ("Participante", "Visto por primera vez", "Visitas en sus sitios"):
        assert word in detail, word
    assert "First seen" not in detail


def test_the_merge_preview_and_its_result_are_in_spanish(
    client, manager_sam, site_a, stocked, supplies
):
    for code in ("MAKO1993F", "MAKO1939F"):
        visit_record(
            site=site_a, by=manager_sam, client_uuid=new_uuid(), code=code,
            lines=[item_line(supplies["pad"], 1)],
        )  # fmt: skip
    _in_spanish(client, manager_sam)
    preview = client.post(
        "/intake/participants/merge/", {"merged": "MAKO1939F", "kept": "MAKO1993F"}
    ).content.decode()
    assert "1 visita" in preview and "se unirá a" in preview
    assert "Unir MAKO1939F a MAKO1993F" in preview and "will be merged" not in preview
    confirm = re.search(r'name="confirm" value="([^"]+)"', preview).group(1)
    done = client.post(
        "/intake/participants/merge/",
        {"merged": "MAKO1939F", "kept": "MAKO1993F", "confirm": confirm.replace("&gt;", ">")},
        follow=True,
    ).content.decode()
    assert "MAKO1939F unido a MAKO1993F: 1 visita trasladada." in done


def test_a_refused_visit_is_explained_in_the_persons_language(
    client, front_desk_ana, site_a, stocked, supplies
):
    _in_spanish(client, front_desk_ana)
    page = client.post(
        "/intake/",
        {
            "client_uuid": new_uuid(),
            "site": site_a.pk,
            "code": "MAKO1993F",
            "line": [f"item:{supplies['pad'].pk}"],
            "qty": ["0"],
        },
    ).content.decode()
    assert "debe ser al menos 1" in page and "must be at least 1" not in page


def test_services_refuse_in_the_active_language(site_a, front_desk_ana, stocked):
    with translation.override("es"), pytest.raises(VisitError) as refused:
        visit_record(site=site_a, by=front_desk_ana, client_uuid=new_uuid(), code="", lines=[])
    assert str(refused.value) == (
        "Agregue suministros, jeringas recogidas, un servicio o un código de participante "
        "antes de guardar."
    )
    with pytest.raises(VisitError) as english:
        visit_record(site=site_a, by=front_desk_ana, client_uuid=new_uuid(), code="", lines=[])
    assert str(english.value).startswith("Add supplies")


def test_the_reason_a_near_code_is_offered_follows_the_language(front_desk_ana, a_visit):
    with translation.override("es"):
        reasons = [s.reason for s in near_matches("MAKO1994F", user=front_desk_ana)]
    assert reasons == ["año de nacimiento ±1"]
    assert [s.reason for s in near_matches("MAKO1994F", user=front_desk_ana)] == ["birth year ±1"]


def test_the_code_recipe_and_its_refusals_are_in_spanish(client, front_desk_ana, site_a):
    _in_spanish(client, front_desk_ana)
    intake = html.unescape(_page(client, "/intake/"))
    assert "primeras 2 letras del nombre de la madre" in intake
    assert "mother's first name" not in intake
    with translation.override("es"), pytest.raises(CodeError) as refused:
        validate_code("MAKO2099F")
    assert "El año de nacimiento 2099" in str(refused.value)
