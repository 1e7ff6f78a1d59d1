"""API tokens expire, die with a password change or a closed account, and are listed and
revoked by their owner and by admins, never by anyone else."""

from datetime import timedelta

import pytest
import time_machine
from auditlog.models import LogEntry
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from org.services import password_change, staff_deactivate, token_create, token_revoke

from ..factories import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "violet-harbour-lantern"


def with_token(key) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def signed_in(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def assert_refused(response, code):
    assert response.status_code == 401, response.content
    body = response.json()
    assert set(body) == {"detail", "code", "errors"}
    assert body["code"] == code, body
    assert body["detail"]
    return body


# --- Expiry -----------------------------------------------------------------------------


def test_a_token_works_until_its_hours_are_up_then_answers_401(front_desk_ana, settings):
    settings.SSP_TOKEN_HOURS = 12
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        key = token_create(user=front_desk_ana, by=front_desk_ana).key
    with time_machine.travel(start + timedelta(hours=11, minutes=59), tick=False):
        assert with_token(key).get("/api/v1/sites/").status_code == 200
    with time_machine.travel(start + timedelta(hours=12), tick=False):
        body = assert_refused(with_token(key).get("/api/v1/sites/"), "token_expired")
    assert "expired" in body["detail"] and "account page" in body["detail"]


def test_token_hours_is_a_setting(front_desk_ana, settings):
    settings.SSP_TOKEN_HOURS = 1
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        key = token_create(user=front_desk_ana, by=front_desk_ana).key
    with time_machine.travel(start + timedelta(minutes=61), tick=False):
        assert_refused(with_token(key).get("/api/v1/sites/"), "token_expired")


def test_tokens_made_in_the_admin_or_by_command_expire_too(front_desk_ana):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        key = Token.objects.create(user=front_desk_ana).key  # what drf_create_token does
    with time_machine.travel(start + timedelta(hours=13), tick=False):
        assert_refused(with_token(key).get("/api/v1/sites/"), "token_expired")


def test_an_unknown_token_gets_the_api_error_body(db):
    assert_refused(with_token("0" * 40).get("/api/v1/sites/"), "token_invalid")


# --- Revocation -------------------------------------------------------------------------


def test_changing_the_password_revokes_the_token(front_desk_ana):
    key = token_create(user=front_desk_ana, by=front_desk_ana).key
    password_change(user=front_desk_ana, password=NEW_PASSWORD, by=front_desk_ana)
    assert not Token.objects.filter(user=front_desk_ana).exists()
    assert_refused(with_token(key).get("/api/v1/sites/"), "token_invalid")


def test_a_password_changed_on_the_account_page_revokes_the_token(client, front_desk_ana):
    key = token_create(user=front_desk_ana, by=front_desk_ana).key
    client.force_login(front_desk_ana)
    response = client.post(
        "/account/password/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302 and response["Location"] == "/account/"
    assert_refused(with_token(key).get("/api/v1/sites/"), "token_invalid")
    assert client.get("/account/").status_code == 200  # still signed in


def test_a_password_changed_in_the_django_admin_refuses_older_tokens(
    client, admin_ada, front_desk_ana
):
    # The Django admin's form knows nothing of tokens: the authentication check does.
    key = Token.objects.create(user=front_desk_ana).key
    client.force_login(admin_ada)
    response = client.post(
        f"/admin/org/user/{front_desk_ana.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    front_desk_ana.refresh_from_db()
    assert front_desk_ana.password_changed_at is not None
    body = assert_refused(with_token(key).get("/api/v1/sites/"), "token_revoked")
    assert "password changed" in body["detail"]
    # ...and the change names the admin who made it.
    entry = LogEntry.objects.get_for_object(front_desk_ana).latest("pk")
    assert entry.actor == admin_ada and "password_changed_at" in entry.changes_dict


def test_a_token_made_after_the_password_change_works(front_desk_ana):
    password_change(user=front_desk_ana, password=NEW_PASSWORD, by=front_desk_ana)
    key = token_create(user=front_desk_ana, by=front_desk_ana).key
    assert with_token(key).get("/api/v1/sites/").status_code == 200


def test_deactivating_an_account_revokes_its_token(front_desk_ana, admin_ada):
    key = token_create(user=front_desk_ana, by=front_desk_ana).key
    staff_deactivate(user=front_desk_ana, by=admin_ada)
    assert not Token.objects.filter(user=front_desk_ana).exists()
    assert_refused(with_token(key).get("/api/v1/sites/"), "token_invalid")


def test_an_account_deactivated_in_the_django_admin_has_its_token_refused(
    client, admin_ada, front_desk_ana
):
    key = Token.objects.create(user=front_desk_ana).key
    front_desk_ana.is_active = False  # what the admin's "Active" box does
    front_desk_ana.save()
    assert_refused(with_token(key).get("/api/v1/sites/"), "user_inactive")


def test_deactivating_oneself_is_refused(admin_ada):
    from org.services import AccountError

    with pytest.raises(AccountError):
        staff_deactivate(user=admin_ada, by=admin_ada)


# --- The API: list, create, revoke --------------------------------------------------------


def test_creating_a_token_shows_its_key_once(front_desk_ana):
    client = signed_in(front_desk_ana)
    response = client.post("/api/v1/tokens/")
    assert response.status_code == 201, response.json()
    created = response.json()
    assert created["id"] == front_desk_ana.pk and len(created["key"]) == 40
    assert created["expired"] is False
    listed = client.get("/api/v1/tokens/").json()["results"]
    assert [row["id"] for row in listed] == [front_desk_ana.pk]
    assert "key" not in listed[0]
    assert with_token(created["key"]).get("/api/v1/sites/").status_code == 200


def test_a_new_token_replaces_the_old_one(front_desk_ana):
    client = signed_in(front_desk_ana)
    first = client.post("/api/v1/tokens/").json()["key"]
    second = client.post("/api/v1/tokens/").json()["key"]
    assert first != second
    assert_refused(with_token(first).get("/api/v1/sites/"), "token_invalid")
    assert with_token(second).get("/api/v1/sites/").status_code == 200


def test_a_token_cannot_make_its_own_successor(front_desk_ana):
    # Otherwise a script could renew its token for ever and expiry would mean nothing.
    key = token_create(user=front_desk_ana, by=front_desk_ana).key
    response = with_token(key).post("/api/v1/tokens/")
    assert response.status_code == 403
    assert response.json()["code"] == "token_cannot_create_token"
    assert Token.objects.get(user=front_desk_ana).key == key


def test_front_desk_lists_and_revokes_only_their_own_token(front_desk_ana, front_desk_ben):
    token_create(user=front_desk_ana, by=front_desk_ana)
    bens = token_create(user=front_desk_ben, by=front_desk_ben).key
    client = signed_in(front_desk_ana)
    listed = client.get("/api/v1/tokens/").json()["results"]
    assert [row["username"] for row in listed] == ["ana"]
    response = client.delete(f"/api/v1/tokens/{front_desk_ben.pk}/")
    assert response.status_code == 404
    assert set(response.json()) == {"detail", "code", "errors"}
    assert Token.objects.get(user=front_desk_ben).key == bens
    assert client.delete(f"/api/v1/tokens/{front_desk_ana.pk}/").status_code == 204
    assert not Token.objects.filter(user=front_desk_ana).exists()


def test_a_token_can_revoke_itself(front_desk_ana):
    key = token_create(user=front_desk_ana, by=front_desk_ana).key
    assert with_token(key).delete(f"/api/v1/tokens/{front_desk_ana.pk}/").status_code == 204
    assert_refused(with_token(key).get("/api/v1/sites/"), "token_invalid")


def test_an_admin_lists_and_revokes_anyones_token(admin_ada, front_desk_ana, front_desk_ben):
    token_create(user=front_desk_ana, by=front_desk_ana)
    token_create(user=front_desk_ben, by=front_desk_ben)
    client = signed_in(admin_ada)
    listed = {row["username"] for row in client.get("/api/v1/tokens/").json()["results"]}
    assert listed == {"ana", "ben"}
    assert client.delete(f"/api/v1/tokens/{front_desk_ben.pk}/").status_code == 204
    assert not Token.objects.filter(user=front_desk_ben).exists()


def test_a_manager_or_coordinator_sees_only_their_own(
    manager_sam, coordinator_cleo, front_desk_ana
):
    token_create(user=front_desk_ana, by=front_desk_ana)
    for person in (manager_sam, coordinator_cleo):
        assert signed_in(person).get("/api/v1/tokens/").json()["results"] == []
        assert signed_in(person).delete(f"/api/v1/tokens/{front_desk_ana.pk}/").status_code == 404


def test_token_creation_and_revocation_name_who_did_it(admin_ada, front_desk_ana):
    signed_in(front_desk_ana).post("/api/v1/tokens/")
    signed_in(admin_ada).delete(f"/api/v1/tokens/{front_desk_ana.pk}/")
    entries = LogEntry.objects.get_for_object(front_desk_ana).order_by("pk")
    changes = [
        (e.actor, e.changes_dict["api_token"][1]) for e in entries if "api_token" in e.changes_dict
    ]
    assert changes[0][0] == front_desk_ana and changes[0][1].startswith("created")
    assert changes[-1] == (admin_ada, "revoked (by ada)")
    # The key itself is never written to the audit trail.
    key_free = LogEntry.objects.values_list("changes", "object_repr")
    assert not any(Token.objects.filter(key__in=[str(c), r]).exists() for c, r in key_free)


def test_revoking_a_missing_token_says_so(front_desk_ana):
    assert token_revoke(user=front_desk_ana, by=front_desk_ana) is False
    response = signed_in(front_desk_ana).delete(f"/api/v1/tokens/{front_desk_ana.pk}/")
    assert response.status_code == 404


def test_the_token_api_needs_a_login(db):
    assert APIClient().get("/api/v1/tokens/").status_code in (401, 403)
    assert APIClient().post("/api/v1/tokens/").status_code in (401, 403)


def test_an_id_past_the_databases_range_is_a_404(admin_ada):
    response = signed_in(admin_ada).delete("/api/v1/tokens/264814552941709971546/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
