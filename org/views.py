"""Pages of the ground floor: home, sites, the audit trail, the health check, and
accounts (the person's own page, password change, API tokens, the admins' staff page)."""

import redis
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_not_required, permission_required
from django.contrib.auth.views import PasswordChangeView
from django.core.paginator import Paginator
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from .audit_trail import CSV_COLUMNS, AuditFilter, audit_entries, audit_lines, csv_rows
from .csv_download import csv_download
from .home import home_sections
from .models import User
from .offline import OFFLINE_HEADER, OFFLINE_USER_HEADER, available_offline
from .selectors import (
    sites_for_user,
    staff_accounts,
    token_expires_at,
    token_is_expired,
    tokens_visible_to,
)
from .services import (
    AccountError,
    language_set,
    password_change,
    password_reset,
    staff_deactivate,
    token_create,
    token_revoke,
)


@available_offline
def home(request):
    """Each role's numbers for today (every app's home.py), then links to its pages."""
    return render(
        request,
        "org/home.html",
        {
            "sites": sites_for_user(request.user),
            "sections": home_sections(request),
            "now": timezone.localtime(),
        },
    )


def site_list(request):
    return render(request, "org/site_list.html", {"sites": sites_for_user(request.user)})


def site_detail(request, pk):
    site = get_object_or_404(sites_for_user(request.user), pk=pk)
    return render(request, "org/site_detail.html", {"site": site})


@permission_required("org.view_audit", raise_exception=True)
def audit_list(request):
    """The audit trail in words, filtered by who, site, kind of record and dates."""
    filters = AuditFilter(request.GET or None, queryset=audit_entries())
    entries = filters.qs if filters.is_bound and filters.is_valid() else audit_entries()
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "org/audit_list.html",
        {
            "page": page,
            "lines": audit_lines(page.object_list),
            "filters": filters,
            "query": query.urlencode(),
        },
    )


@permission_required("org.view_audit", raise_exception=True)
def audit_csv(request):
    """The filtered audit trail as CSV (formula-escaped), newest first."""
    filters = AuditFilter(request.GET or None, queryset=audit_entries())
    entries = filters.qs if filters.is_bound and filters.is_valid() else audit_entries()

    def rows():
        # In pages, so a long trail is streamed without loading it whole.
        paginator = Paginator(entries, 500)
        for number in paginator.page_range:
            yield from csv_rows(audit_lines(paginator.page(number).object_list))

    return csv_download(name="audit-trail", columns=CSV_COLUMNS, rows=rows())


def _redis_state() -> str:
    if not settings.USE_CELERY_WORKER:
        return "not configured (jobs run in-process)"
    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_timeout=0.5).ping()
    except redis.RedisError:
        return "down"
    return "ok"


@login_not_required
@never_cache
@require_GET
def healthz(request):
    """Liveness for load balancers and compose: database and Redis state, no secrets."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        database = "ok"
    except Exception:
        database = "down"
    redis_state = _redis_state()
    healthy = database == "ok" and redis_state != "down"
    return JsonResponse(
        {"status": "ok" if healthy else "degraded", "database": database, "redis": redis_state},
        status=200 if healthy else 503,
    )


# --- The installable app -----------------------------------------------------------


@login_not_required
@require_GET
def service_worker(request):
    """The offline app's service worker, served from the root so that its scope is the
    whole app (one served from /static/ could only control /static/). No secrets in it:
    it is the same for everyone, and loads before login too."""
    response = render(
        request,
        "org/sw.js",
        {
            "offline_header": OFFLINE_HEADER,
            "offline_user_header": OFFLINE_USER_HEADER,
        },
        content_type="text/javascript; charset=utf-8",
    )
    # A new deployment's worker is picked up at the next page load, not in a day.
    response["Cache-Control"] = "no-cache"
    return response


@login_not_required
@require_GET
def web_manifest(request):
    """The web app manifest: what a phone needs to install the app on its home screen."""
    icon = "org/icons/icon-{}.png"
    manifest = {
        "name": "SSP intake",
        "short_name": "SSP",
        "description": "Front desk, street shifts and follow-ups of the syringe services "
        "program; keeps working without a connection.",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#0b5d66",
        "icons": [
            {"src": static(icon.format(192)), "sizes": "192x192", "type": "image/png"},
            {"src": static(icon.format(512)), "sizes": "512x512", "type": "image/png"},
            {
                "src": static(icon.format("maskable-512")),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
        ],
    }
    return JsonResponse(manifest, content_type="application/manifest+json")


# --- Accounts ---------------------------------------------------------------------------


def _token_facts(token) -> dict | None:
    if token is None:
        return None
    return {
        "created": token.created,
        "expires_at": token_expires_at(token),
        "expired": token_is_expired(token),
    }


@never_cache
def account(request):
    token = tokens_visible_to(request.user).filter(user=request.user).first()
    return render(
        request,
        "org/account.html",
        {"token": _token_facts(token), "token_hours": settings.SSP_TOKEN_HOURS},
    )


def help_page(request):
    """One section per role ("your day in this app") and one per screen, in the
    person's language; the `?` in the top bar of each screen links to its section."""
    return render(request, "org/help.html")


@require_POST
def account_language(request):
    """The menu's switch and the account page's choice: saved on the account, so every
    device the person signs in on follows it. Back to the page they were on."""
    try:
        language_set(user=request.user, language=request.POST.get("language", ""), by=request.user)
    except AccountError as exc:
        messages.error(request, str(exc))
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        back = reverse_lazy("org:account")
    return redirect(back)


@never_cache
@require_POST
def account_token_create(request):
    token = token_create(user=request.user, by=request.user)
    # Rendered, not redirected: the key is on this one answer and stored nowhere else
    # the person can read it again.
    return render(
        request,
        "org/token_created.html",
        {"key": token.key, "token": _token_facts(token), "owner": request.user},
    )


@require_POST
def account_token_revoke(request):
    if token_revoke(user=request.user, by=request.user):
        messages.success(request, _("Your API token is revoked; scripts using it now get 401."))
    else:
        messages.info(request, _("You had no API token."))
    return redirect("org:account")


class AccountPasswordChangeView(PasswordChangeView):
    """Django's password change (old password, new twice, the project's validators),
    saved through the service so API tokens are revoked and the change is audited."""

    template_name = "org/password_change.html"
    success_url = reverse_lazy("org:account")

    def form_valid(self, form):
        user = self.request.user
        password_change(user=user, password=form.cleaned_data["new_password1"], by=user)
        update_session_auth_hash(self.request, user)
        messages.success(
            self.request, _("Your password is changed. Any API token you had was revoked.")
        )
        return redirect(self.get_success_url())


@permission_required("org.manage_staff", raise_exception=True)
@never_cache
def staff_list(request):
    people = []
    for person in staff_accounts():
        token = getattr(person, "auth_token", None)
        people.append({"user": person, "token": _token_facts(token)})
    return render(request, "org/staff_list.html", {"people": people})


@permission_required("org.manage_staff", raise_exception=True)
@never_cache
def staff_password_reset(request, pk):
    person = get_object_or_404(User, pk=pk, is_active=True)
    if request.method != "POST":
        return render(request, "org/staff_password_reset.html", {"person": person})
    temporary = password_reset(user=person, by=request.user)
    return render(
        request,
        "org/staff_password_reset_done.html",
        {"person": person, "temporary": temporary},
    )


@permission_required("org.manage_staff", raise_exception=True)
@require_POST
def staff_token_revoke(request, pk):
    person = get_object_or_404(User, pk=pk)
    if token_revoke(user=person, by=request.user):
        messages.success(
            request, _("%(username)s's API token is revoked.") % {"username": person.username}
        )
    else:
        messages.info(request, _("%(username)s had no API token.") % {"username": person.username})
    return redirect("org:staff-list")


@permission_required("org.manage_staff", raise_exception=True)
@require_POST
def staff_deactivate_view(request, pk):
    person = get_object_or_404(User, pk=pk, is_active=True)
    try:
        staff_deactivate(user=person, by=request.user)
    except AccountError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("%(username)s is deactivated: no more logins, API token revoked.")
            % {"username": person.username},
        )
    return redirect("org:staff-list")
