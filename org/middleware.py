import time

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequired
from django.contrib.auth.views import redirect_to_login
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

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
                return JsonResponse(
                    {
                        "detail": "Your password was reset; choose a new one on your "
                        "account page first.",
                        "code": "password_change_required",
                        "errors": {},
                    },
                    status=403,
                )
            # Static files never get here: WhiteNoise answers them before this runs.
            if path not in allowed:
                return redirect("org:password-change")
        return self.get_response(request)
