import time

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequired
from django.contrib.auth.views import redirect_to_login
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from rest_framework import exceptions

from . import api_errors, api_query, parsers

SESSION_STARTED_KEY = "ssp_session_started"


class LoginRequiredMiddleware(DjangoLoginRequired):
    """Every page needs a login, except those marked @login_not_required.

    The API answers for itself (401/403 from DRF's IsAuthenticated) instead of
    redirecting a machine client to an HTML login form.
    """

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith("/api/"):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


class StaffLanguageMiddleware:
    """Pages in the signed-in person's own language (org.User.language), once chosen;
    before that, LocaleMiddleware's pick from the browser stands."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = getattr(request.user, "language", "") if request.user.is_authenticated else ""
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)


class AbsoluteSessionTimeoutMiddleware:
    """Ends a session 12 hours (SESSION_ABSOLUTE_SECONDS) after login, however active.

    The idle time-out is Django's own: SESSION_COOKIE_AGE renewed on every request.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            started = request.session.setdefault(SESSION_STARTED_KEY, time.time())
            if time.time() - started > settings.SESSION_ABSOLUTE_SECONDS:
                logout(request)
                if not request.path_info.startswith("/api/"):
                    return redirect_to_login(request.get_full_path())
        return self.get_response(request)


class PasswordChangeRequiredMiddleware:
    """After an admin's reset, every page leads to the password change until the person
    has chosen their own password (User.must_change_password).

    The API answers 403 with the API's error body instead of a redirect.
    """

    ALLOWED = ("org:password-change", "logout")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated and user.must_change_password:
            allowed = {reverse(name) for name in self.ALLOWED}
            path = request.path_info
            if path.startswith("/api/"):
                return _error(
                    403,
                    _("Your password was reset; choose a new one on your account page first."),
                    "password_change_required",
                )
            # Static files never get here: WhiteNoise answers them before this runs.
            if path not in allowed:
                return redirect("org:password-change")
        return self.get_response(request)


class ApiBodyGuardMiddleware:
    """Under /api/: a body over DATA_UPLOAD_MAX_MEMORY_SIZE is a 413, and a JSON body
    that cannot be parsed safely a 400, both with the API's error body, whatever the
    view does with the body (some actions ignore it, which must not make them accept
    any bytes at all)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/"):
            # Before LocaleMiddleware: a refusal here speaks the browser's language.
            with translation.override(translation.get_language_from_request(request)):
                refused = self._refusal(request)
            if refused is not None:
                return refused
            response = self.get_response(request)
            # A URL no API route matches gets Django's HTML page; the API answers JSON.
            if response.status_code == 404 and "json" not in response.get("Content-Type", ""):
                return _error(404, _("No such address in the API."), "not_found")
            return response
        return self.get_response(request)

    def _refusal(self, request):
        limit = parsers.body_limit()
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _error(400, _("The Content-Length header is not a number."), "parse_error")
        if limit is not None and length > limit:
            return _error(413, parsers.too_large_detail(), "too_large")
        try:
            parsers.check_query(request.GET)
            errors = api_query.query_errors(request.path, request.method, request.GET)
            if errors:
                raise exceptions.ValidationError(errors)
        except exceptions.APIException as exc:
            response = api_errors.exception_handler(exc, {})
            return JsonResponse(response.data, status=response.status_code)
        if request.method not in ("POST", "PUT", "PATCH", "DELETE") or not length:
            return None
        if request.content_type != "application/json":
            return None
        try:
            parsers.parse_json_text(request.body.decode(request.encoding or "utf-8"))
        except UnicodeDecodeError as exc:
            return _error(400, f"JSON parse error - {exc}", "parse_error")
        except exceptions.APIException as exc:
            response = api_errors.exception_handler(exc, {})
            return JsonResponse(response.data, status=response.status_code)
        return None


def _error(status: int, detail: str, code: str) -> JsonResponse:
    return JsonResponse(api_errors.error_body(detail, code), status=status)
