"""The account page, password change for every role, and an admin's password reset."""

import re

import pytest
from auditlog.models import LogEntry
from rest_framework.authtoken.models import Token

from org.services import password_reset, token_create

from ..factories import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "violet-harbour-lantern"


def change(client, old, new1, new2=None):
    return client.post(
        "/account/password/",
        {"old_password": old, "new_password1": new1, "new_password2": new2 or new1},
    )


@pytest.mark.parametrize(
    "persona", ["front_desk_ana", "manager_sam", "coordinator_cleo", "admin_ada"]
)
def test_every_role_has_my_account_in_the_menu_and_can_change_password(client, request, persona):
    person = request.getfixturevalue(persona)
    client.force_login(person)
    page = client.get("/").content.decode()
    assert 'href="/account/"' in page and "My account" in page
    assert client.get("/account/").status_code == 200
    response = change(client, PASSWORD, NEW_PASSWORD)
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.check_password(NEW_PASSWORD)
    messages = client.get("/account/").content.decode()
    assert "Your password is changed" in messages


@pytest.mark.parametrize(
    ("old", "new1", "new2", "message"),
    [
        ("wrong-password-here", NEW_PASSWORD, NEW_PASSWORD, "old password was entered incorrectly"),
        (PASSWORD, "short1", "short1", "This password is too short"),
        (PASSWORD, "password123", "password123", "This password is too common"),
        (PASSWORD, "48205730192", "48205730192", "This password is entirely numeric"),
        (PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x", "The two password fields didn"),
    ],
)
def test_password_change_explains_what_is_wrong(client, front_desk_ana, old, new1, new2, message):
    client.force_login(front_desk_ana)
    response = change(client, old, new1, new2)
    assert response.status_code == 200
    page = response.content.decode().replace("&#x27;", "'")
    assert message in page, page[:3000]
    front_desk_ana.refresh_from_db()
    assert front_desk_ana.check_password(PASSWORD)


def test_account_page_creates_a_token_shown_once(client, front_desk_ana):
    client.force_login(front_desk_ana)
    assert "You have no API token" in client.get("/account/").content.decode()
    response = client.post("/account/token/new/")
    assert response.status_code == 200
    key = Token.objects.get(user=front_desk_ana).key
    assert key in response.content.decode()
    assert "shown only once" in response.content.decode()
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    account = client.get("/account/").content.decode()
    assert key not in account and "Expires" in account
    response = client.post("/account/token/revoke/", follow=True)
    assert "revoked" in response.content.decode()
    assert not Token.objects.filter(user=front_desk_ana).exists()


def test_only_admins_reach_the_staff_page(client, front_desk_ana, manager_sam, coordinator_cleo):
    for person in (front_desk_ana, manager_sam, coordinator_cleo):
        client.force_login(person)
        assert client.get("/staff/").status_code == 403
        assert "Staff accounts" not in client.get("/").content.decode()
        assert client.post(f"/staff/{front_desk_ana.pk}/reset-password/").status_code == 403
        assert client.post(f"/staff/{front_desk_ana.pk}/revoke-token/").status_code == 403
        assert client.post(f"/staff/{front_desk_ana.pk}/deactivate/").status_code == 403
    front_desk_ana.refresh_from_db()
    assert front_desk_ana.is_active and not front_desk_ana.must_change_password


def test_front_desk_cannot_revoke_another_persons_token_on_any_page(
    client, front_desk_ana, front_desk_ben
):
    bens = token_create(user=front_desk_ben, by=front_desk_ben).key
    client.force_login(front_desk_ana)
    assert bens not in client.get("/account/").content.decode()
    client.post("/account/token/revoke/")  # revokes only her own (she has none)
    assert Token.objects.get(user=front_desk_ben).key == bens


def test_admin_reset_shows_a_temporary_password_once_and_forces_a_change(
    client, admin_ada, front_desk_ana, mailoutbox
):
    key = token_create(user=front_desk_ana, by=front_desk_ana).key
    client.force_login(admin_ada)
    staff = client.get("/staff/").content.decode()
    assert f"/staff/{front_desk_ana.pk}/reset-password/" in staff
    confirm = client.get(f"/staff/{front_desk_ana.pk}/reset-password/")
    assert confirm.status_code == 200 and "Reset ana" in confirm.content.decode()
    done = client.post(f"/staff/{front_desk_ana.pk}/reset-password/")
    assert done.status_code == 200
    temporary = re.search(r'id="temporary-password"[^>]*value="([^"]+)"', done.content.decode())[1]
    assert mailoutbox == []  # no secret by email
    front_desk_ana.refresh_from_db()
    assert front_desk_ana.check_password(temporary) and front_desk_ana.must_change_password
    assert not Token.objects.filter(key=key).exists()
    assert temporary not in client.get("/staff/").content.decode()
    entry = LogEntry.objects.get_for_object(front_desk_ana).filter(actor=admin_ada)
    assert entry.filter(changes__icontains="must_change_password").exists()

    # Ana signs in with it: every page leads to the password change until she picks one.
    client.logout()
    signed = client.post("/login/", {"username": "ana", "password": temporary})
    assert signed.status_code == 302
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/account/password/"
    api = client.get("/api/v1/sites/")
    assert api.status_code == 403 and api.json()["code"] == "password_change_required"
    page = client.get("/account/password/").content.decode()
    assert "Your password was reset by an admin" in page
    assert change(client, temporary, NEW_PASSWORD).status_code == 302
    assert client.get("/").status_code == 200
    front_desk_ana.refresh_from_db()
    assert not front_desk_ana.must_change_password


def test_a_reset_persons_token_is_refused_with_a_clear_code(admin_ada, front_desk_ana):
    from rest_framework.test import APIClient

    # A token slipped in after the reset (e.g. from the Django admin) is still refused.
    password_reset(user=front_desk_ana, by=admin_ada)
    key = Token.objects.create(user=front_desk_ana).key
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = client.get("/api/v1/sites/")
    assert response.status_code == 401
    assert response.json()["code"] == "password_change_required"


def test_admin_deactivates_and_revokes_from_the_staff_page(client, admin_ada, front_desk_ana):
    token_create(user=front_desk_ana, by=front_desk_ana)
    client.force_login(admin_ada)
    response = client.post(f"/staff/{front_desk_ana.pk}/revoke-token/", follow=True)
    assert "ana&#x27;s API token is revoked" in response.content.decode()
    response = client.post(f"/staff/{front_desk_ana.pk}/deactivate/", follow=True)
    assert "ana is deactivated" in response.content.decode()
    front_desk_ana.refresh_from_db()
    assert not front_desk_ana.is_active
    client.logout()
    refused = client.post("/login/", {"username": "ana", "password": PASSWORD})
    assert refused.status_code == 200 and not refused.wsgi_request.user.is_authenticated
