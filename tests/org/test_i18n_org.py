"""Spanish on the ground floor's own pages and messages: sites, staff accounts, password
and token pages, login, the pager, and the refusals every form and the API share."""

import pytest
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from rest_framework.authtoken.models import Token

from org.error_views import server_error
from org.privacy import refuse_personal_details
from org.validators import printable_text

pytestmark = pytest.mark.django_db


def _in_spanish(client, person):
    person.language = "es"
    person.save(update_fields=["language"])
    client.force_login(person)


def _page(client, url, **kwargs) -> str:
    response = client.get(url, **kwargs)
    assert response.status_code == 200, url
    return response.content.decode()


def test_sites_pages_are_in_spanish_with_the_service_model_translated(
    client, front_desk_ana, site_a
):
    _in_spanish(client, front_desk_ana)
    listing = _page(client, reverse("org:site-list"))
    for word in ("Sitios", "Código", "Modalidad de servicio", "Estado", "Activo", "Sitio fijo"):
        assert word in listing, word
    for english in ("Service model", "Fixed site", "Status"):
        assert english not in listing, english
    detail = _page(client, reverse("org:site-detail", args=[site_a.pk]))
    assert "Lugares de inventario" in detail and "Stock locations" not in detail


def test_staff_page_and_its_messages_follow_the_admins_language(client, admin_ada, front_desk_ana):
    Token.objects.create(user=front_desk_ana)
    _in_spanish(client, admin_ada)
    page = _page(client, reverse("org:staff-list"))
    for word in ("Cuentas del personal", "Restablecer contraseña", "Revocar token", "Vence el"):
        assert word in page, word
    assert f"Desactivar a {front_desk_ana.username}" in page
    for english in ("Reset password", "Revoke token", "Password changed"):
        assert english not in page, english
    # Role names stay English in the database and are shown translated.
    assert "Recepción" in page
    after = client.post(
        reverse("org:staff-token-revoke", args=[front_desk_ana.pk]), follow=True
    ).content.decode()
    assert f"El token de la API de {front_desk_ana.username} quedó revocado." in after


def test_a_password_reset_is_explained_in_spanish(client, admin_ada, front_desk_ana):
    _in_spanish(client, admin_ada)
    ask = _page(client, reverse("org:staff-reset", args=[front_desk_ana.pk]))
    assert f"Restablecer la contraseña de {front_desk_ana.username}" in ask
    assert "Cancelar" in ask and "Cancel<" not in ask
    done = client.post(reverse("org:staff-reset", args=[front_desk_ana.pk])).content.decode()
    assert "Entréguela en persona" in done and "Hand this over" not in done


def test_a_new_token_page_is_in_spanish(client, front_desk_ana):
    _in_spanish(client, front_desk_ana)
    page = client.post(reverse("org:token-create")).content.decode()
    for word in ("Token nuevo de la API", "Copie la clave ahora", "Volver a mi cuenta"):
        assert word in page, word
    assert "Copy the key now" not in page


def test_the_login_page_follows_the_browsers_language(client):
    page = _page(client, reverse("login"), headers={"accept-language": "es"})
    assert '<html lang="es">' in page
    for word in ("Iniciar sesión", "Usuario", "Contraseña"):
        assert word in page, word
    assert "Staff sign-in" not in page


def test_the_pager_speaks_spanish(rf):
    page = Paginator(list(range(30)), 10).get_page(2)
    request = rf.get("/", {"page": 2})
    with translation.override("es"):
        html = render_to_string("org/_pager.html", {"page": page}, request=request)
    assert "Página 2 de 3" in html and "Más recientes" in html and "Más antiguas" in html
    assert "Page 2" not in html


def test_shared_refusals_follow_the_active_language():
    with translation.override("es"), pytest.raises(ValidationError) as refused:
        refuse_personal_details("call (555) 867-5309")
    assert refused.value.messages == [
        "Esto parece un número de teléfono; nunca registre datos personales."
    ]
    with translation.override("es"), pytest.raises(ValidationError) as unprintable:
        printable_text("a\x00b")
    assert "caracteres de control" in unprintable.value.messages[0]
    # English stays as it was for everyone else.
    with translation.override("en"), pytest.raises(ValidationError) as english:
        refuse_personal_details("call (555) 867-5309")
    assert english.value.messages == [
        "This looks like a phone number; never record personal details."
    ]


def test_api_errors_follow_the_persons_language(api_client, front_desk_ana, site_a):
    front_desk_ana.language = "es"
    front_desk_ana.save(update_fields=["language"])
    api_client.force_login(front_desk_ana)
    other = api_client.post("/api/v1/tokens/", headers={"authorization": "Token nope"})
    assert other.status_code == 401
    assert other.json()["detail"].startswith("Token de la API no válido")
    assert other.json()["code"] == "token_invalid"  # codes stay English
    # The query check runs before anyone is signed in: it follows the browser.
    unknown = api_client.get("/api/v1/sites/?stie=2", headers={"accept-language": "es"})
    assert unknown.status_code == 400
    assert "no acepta este parámetro" in unknown.json()["detail"]
    assert unknown.json()["code"] == "invalid"


def test_the_error_page_speaks_the_requests_language(rf):
    with translation.override("es"):
        response = server_error(rf.get("/intake/"))
    page = response.content.decode()
    assert response.status_code == 500 and '<html lang="es">' in page
    assert "Algo falló" in page and "Volver a cargar" in page
    assert "Something went wrong" not in page
