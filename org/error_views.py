"""Error pages that work when the database does not.

Django calls handler500 inside the `except` block of the failing request, so
`sys.exc_info()` tells a lost database connection (a clean, retryable 503) from
a bug (500). Neither page touches the database or the session.
"""

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

DATABASE_DOWN = (OperationalError, InterfaceError)


def _wants_json(request) -> bool:
    return request.path_info.startswith("/api/") or request.path_info == "/healthz"


def server_error(request):
    exc = sys.exc_info()[1]
    if isinstance(exc, DATABASE_DOWN):
        status, code = 503, "service_unavailable"
        detail = _("The database is unavailable for a moment. Nothing was saved; please try again.")
    else:
        status, code = 500, "server_error"
        detail = _("Something went wrong on our side. It has been logged.")
    if _wants_json(request):
        response = JsonResponse({"detail": detail, "code": code, "errors": {}}, status=status)
    else:
        html = render_to_string("error.html", {"status": status, "detail": detail})
        response = HttpResponse(html, status=status)
    if status == 503:
        response["Retry-After"] = "5"
    return response
