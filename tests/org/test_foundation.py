"""The foundation's promises: login everywhere, site scoping, deploy checks, time-outs."""

import os
import subprocess
import sys
import time

import pytest
from rest_framework.authtoken.models import Token

from org.middleware import SESSION_STARTED_KEY

from ..support.routes import all_paths

# Reachable without logging in: the login pages, the health check, static files, and
# the installable app's service worker and manifest (the same for everyone, no data).
PUBLIC = {"/login/", "/admin/login/", "/healthz", "/sw.js", "/manifest.webmanifest"}


@pytest.mark.django_db
def test_every_page_and_api_route_refuses_anonymous_requests(client):
    checked = 0
    for path in all_paths():
        if path in PUBLIC or path.startswith("/static/"):
            continue
        response = client.get(path)
        checked += 1
        if path.startswith("/api/"):
            assert response.status_code in (401, 403), (path, response.status_code)
        else:
            assert response.status_code == 302, (path, response.status_code)
            assert (
                response["Location"].startswith("/login/")
                or "/admin/login/" in response["Location"]
            ), path
    assert checked > 15  # the walk really found the app's routes


@pytest.mark.django_db
def test_api_refuses_anonymous_writes(client):
    for path in all_paths():
        if path.startswith("/api/v1/"):
            response = client.post(path, {}, content_type="application/json")
            assert response.status_code in (401, 403, 405), (path, response.status_code)


@pytest.mark.django_db
def test_login_page_and_healthz_are_public(client):
    assert client.get("/login/").status_code == 200
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok"
    assert "password" not in response.content.decode().lower()


def test_error_body_is_consistent(api_as, front_desk_ana):
    response = api_as(front_desk_ana).get("/api/v1/sites/999999/")
    assert response.status_code == 404
    assert set(response.json()) == {"detail", "code", "errors"}


def test_front_desk_sees_only_own_sites_in_api_and_pages(
    api_as, client, front_desk_ana, site_a, site_b
):
    api = api_as(front_desk_ana)
    listed = [s["code"] for s in api.get("/api/v1/sites/").json()["results"]]
    assert listed == ["DTWN"]
    assert api.get(f"/api/v1/sites/{site_b.pk}/").status_code == 404
    assert api.get(f"/api/v1/sites/{site_a.pk}/").status_code == 200

    client.force_login(front_desk_ana)
    assert client.get(f"/sites/{site_b.pk}/").status_code == 404
    page = client.get("/sites/").content.decode()
    assert "Downtown drop-in" in page and "Eastside clinic" not in page


def test_coordinator_sees_every_site(api_as, coordinator_cleo, site_a, site_b):
    listed = {s["code"] for s in api_as(coordinator_cleo).get("/api/v1/sites/").json()["results"]}
    assert listed == {"DTWN", "EAST"}


def test_token_authentication_works_for_the_api(api_client, front_desk_ana, site_a):
    token = Token.objects.create(user=front_desk_ana)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api_client.get("/api/v1/sites/").status_code == 200


def test_audit_trail_only_for_admins(client, front_desk_ana, admin_ada):
    client.force_login(front_desk_ana)
    assert client.get("/audit/").status_code == 403
    client.force_login(admin_ada)
    assert client.get("/audit/").status_code == 200


def test_site_changes_are_attributed_in_the_audit_trail(admin_ada, client, site_a):
    from auditlog.models import LogEntry

    client.force_login(admin_ada)
    response = client.post(
        f"/admin/org/site/{site_a.pk}/change/",
        {"name": "Downtown hub", "code": "DTWN", "service_model": "fixed", "is_active": "on"},
    )
    assert response.status_code == 302
    entry = LogEntry.objects.get_for_object(site_a).latest("timestamp")
    assert entry.actor == admin_ada
    assert entry.changes_dict["name"] == ["Downtown drop-in", "Downtown hub"]


def test_deploy_check_is_clean_under_production_settings():
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DJANGO_SETTINGS_MODULE": "config.settings_production",
        "SECRET_KEY": "a-long-random-production-secret-" + "x9Q2" * 10,
        "ALLOWED_HOSTS": "ssp.example.org",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNINGS" not in result.stderr
    assert "no issues" in result.stdout


def test_idle_session_times_out(client, front_desk_ana, settings):
    client.force_login(front_desk_ana)
    assert client.get("/").status_code == 200
    session = client.session
    session.set_expiry(-1)  # as if 30 idle minutes had passed
    session.save()
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_idle_timeout_is_thirty_minutes_renewed_on_each_request(settings):
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST is True


def test_session_ends_after_twelve_hours_however_active(client, front_desk_ana):
    client.force_login(front_desk_ana)
    client.get("/")
    session = client.session
    session[SESSION_STARTED_KEY] = time.time() - 12 * 60 * 60 - 1
    session.save()
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert client.get("/").status_code == 302  # really logged out


def test_repeated_failed_logins_lock_the_account_out(client, front_desk_ana, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/login/", {"username": "ana", "password": "wrong-password"})
    response = client.post("/login/", {"username": "ana", "password": "correct-horse-battery"})
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()


def test_a_successful_login_works_before_the_limit(client, front_desk_ana):
    client.post("/login/", {"username": "ana", "password": "wrong-password"})
    response = client.post("/login/", {"username": "ana", "password": "correct-horse-battery"})
    assert response.status_code == 302


def test_schema_and_docs_are_served_to_staff(client, front_desk_ana):
    client.force_login(front_desk_ana)
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/sites/" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"cdn" not in docs.content.lower()


def test_openapi_schema_generates_without_warnings():
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "spectacular",
            "--fail-on-warn",
            "--validate",
            "--file",
            "/dev/null",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
