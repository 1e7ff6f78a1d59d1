"""Headers and templates: a CSP without 'unsafe-inline', no inline script or style
anywhere, and transport security switched on in production settings."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ..support.routes import all_paths

ROOT = Path(__file__).resolve().parents[2]
CSP = "Content-Security-Policy"


def csp_directives(response) -> dict[str, list[str]]:
    assert CSP in response, f"no {CSP} header on {response.request['PATH_INFO']}"
    directives = {}
    for part in response[CSP].split(";"):
        if part.strip():
            name, *values = part.split()
            directives[name] = values
    return directives


def assert_strict_csp(response):
    directives = csp_directives(response)
    everything = " ".join(" ".join(v) for v in directives.values())
    assert "'unsafe-inline'" not in everything
    assert "'unsafe-eval'" not in everything
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["default-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    # Every asset is vendored: no other origin may serve script, style or fonts.
    assert "http" not in everything


@pytest.mark.django_db
def test_the_login_page_has_a_strict_content_security_policy(client):
    response = client.get("/login/")
    assert response.status_code == 200
    assert_strict_csp(response)
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.django_db
def test_every_page_a_signed_in_admin_opens_has_the_strict_policy(client, admin_ada, site_a):
    client.force_login(admin_ada)
    checked = 0
    for path in all_paths():
        if path.startswith(("/static/", "/logout")):
            continue
        response = client.get(path)
        if response.status_code >= 500:
            pytest.fail(f"{path} answered {response.status_code}")
        assert_strict_csp(response)
        checked += 1
    assert checked > 15


@pytest.mark.django_db
def test_error_pages_carry_the_policy_too(client, front_desk_ana):
    client.force_login(front_desk_ana)
    assert_strict_csp(client.get("/no-such-page/"))


def project_templates() -> list[Path]:
    found = []
    for app_dir in ROOT.iterdir():
        if (app_dir / "templates").is_dir() and app_dir.name not in (".venv", "var"):
            found += sorted((app_dir / "templates").rglob("*.html"))
    return found


# Inline code the CSP would block (and an XSS foothold if it were allowed).
FORBIDDEN_IN_TEMPLATES = {
    "inline <script>": re.compile(
        r"<script\b(?![^>]*\bsrc=)(?![^>]*type=[\"']application/(?:ld\+)?json)[^>]*>", re.I
    ),
    "style= attribute": re.compile(r"<[a-z][^>]*\sstyle\s*=", re.I),
    "<style> element": re.compile(r"<style\b", re.I),
    "inline event handler": re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I),
    "hx-on (needs eval)": re.compile(r"\shx-on[:\-]", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
}


def test_templates_have_no_inline_script_or_style():
    templates = project_templates()
    assert any(t.name == "base.html" for t in templates)
    offences = []
    for template in templates:
        text = template.read_text()
        for what, pattern in FORBIDDEN_IN_TEMPLATES.items():
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                offences.append(f"{template.relative_to(ROOT)}:{line}: {what}")
    assert not offences, "the CSP forbids these; use static JS/CSS files:\n" + "\n".join(offences)


@pytest.mark.parametrize(
    "snippet",
    [
        "<script>alert(1)</script>",
        '<div style="color:red">',
        "<style>p{}</style>",
        '<button onclick="go()">',
        '<form hx-on:submit="x()">',
    ],
)
def test_the_template_scan_catches_inline_code(snippet):
    assert any(p.search(snippet) for p in FORBIDDEN_IN_TEMPLATES.values())


@pytest.mark.parametrize(
    "snippet",
    [
        '<script src="/static/ssp/app.js" defer></script>',
        '<script id="data" type="application/json">{}</script>',
        '<a class="btn" href="/x/">',
    ],
)
def test_the_template_scan_allows_external_scripts_and_data(snippet):
    assert not any(p.search(snippet) for p in FORBIDDEN_IN_TEMPLATES.values())


def production_settings() -> dict:
    env = {
        **{k: v for k, v in os.environ.items() if k != "SECURE_SSL_REDIRECT"},
        "DJANGO_SETTINGS_MODULE": "config.settings_production",
        "SECRET_KEY": "a-long-random-production-secret-" + "k3Zp" * 10,
        "ALLOWED_HOSTS": "ssp.example.org",
    }
    names = [
        "DEBUG",
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SESSION_COOKIE_HTTPONLY",
        "SECURE_PROXY_SSL_HEADER",
        "SESSION_COOKIE_AGE",
        "SESSION_ABSOLUTE_SECONDS",
    ]
    script = (
        "import json, django; django.setup(); from django.conf import settings;"
        f"print(json.dumps({{n: getattr(settings, n) for n in {names!r}}}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_production_settings_switch_on_transport_security():
    settings = production_settings()
    assert settings["DEBUG"] is False
    assert settings["SECURE_SSL_REDIRECT"] is True
    assert settings["SECURE_HSTS_SECONDS"] >= 365 * 24 * 60 * 60
    assert settings["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert settings["SESSION_COOKIE_SECURE"] is True
    assert settings["CSRF_COOKIE_SECURE"] is True
    assert settings["SESSION_COOKIE_HTTPONLY"] is True
    assert settings["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    # Shared front-desk computers: the same time-outs as everywhere else.
    assert settings["SESSION_COOKIE_AGE"] == 30 * 60
    assert settings["SESSION_ABSOLUTE_SECONDS"] == 12 * 60 * 60


def use_production_transport(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True


@pytest.mark.django_db
def test_in_production_plain_http_is_redirected_and_https_gets_hsts(client, settings):
    use_production_transport(settings)
    plain = client.get("/login/")
    assert plain.status_code == 301
    assert plain["Location"].startswith("https://")
    secure = client.get("/login/", secure=True)
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "includeSubDomains" in secure["Strict-Transport-Security"]


@pytest.mark.django_db
def test_in_production_session_and_csrf_cookies_are_secure_and_http_only(
    client, settings, front_desk_ana
):
    use_production_transport(settings)
    page = client.get("/login/", secure=True)
    csrf = page.cookies["csrftoken"]
    assert csrf["secure"] and csrf["httponly"]
    response = client.post(
        "/login/",
        {"username": "ana", "password": "correct-horse-battery"},
        secure=True,
        headers={"X-CSRFToken": csrf.value, "Referer": "https://testserver/login/"},
    )
    assert response.status_code == 302
    session = response.cookies["sessionid"]
    assert session["secure"] and session["httponly"]
    assert session["samesite"] == "Lax"


def csp_violations(page) -> list[str]:
    """Console messages of the browser refusing something under the policy."""
    messages: list[str] = []
    page.on(
        "console",
        lambda m: messages.append(m.text) if "Content Security Policy" in m.text else None,
    )
    return messages


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_pages_run_under_the_policy_without_a_single_violation(page, browser_login, admin_ada):
    violations = csp_violations(page)
    browser_login(page, admin_ada)
    # Every page of the admin's menu, so each capability's pages are covered as they land.
    menu = page.locator("nav[aria-label=Main] a").evaluate_all("links => links.map(a => a.href)")
    assert len(menu) >= 3
    # One tab per page (the same session), each opened to its load event, then each waited
    # on until its network has been quiet for 500 ms: the waits overlap instead of adding
    # up, and each page still runs until it has nothing more to fetch.
    tabs = []
    for url in menu[:-1]:
        tab = page.context.new_page()
        tab_violations = csp_violations(tab)
        tab.goto(url)
        tabs.append((tab, tab_violations))
    page.goto(menu[-1])
    for tab, tab_violations in tabs:
        tab.wait_for_load_state("networkidle")
        violations += tab_violations
    page.wait_for_load_state("networkidle")
    assert violations == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_api_docs_render_under_the_policy(page, browser_login, front_desk_ana):
    violations = csp_violations(page)
    browser_login(page, front_desk_ana)
    page.goto("/api/docs/")
    # Swagger UI is script-built: its title appears only if its scripts were allowed. It
    # comes after /api/schema/ is generated, seconds on a loaded 2-core machine.
    title = page.locator(".swagger-ui .info .title")
    title.wait_for(timeout=30_000)
    assert "SSP intake and inventory API" in title.inner_text()
    assert not [v for v in violations if "script" in v.lower()]
