"""Pages of the ground floor: home, sites, the audit trail and the health check."""

import redis
from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.auth.decorators import login_not_required, permission_required
from django.core.paginator import Paginator
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .selectors import sites_for_user


def home(request):
    return render(request, "org/home.html", {"sites": sites_for_user(request.user)})


def site_list(request):
    return render(request, "org/site_list.html", {"sites": sites_for_user(request.user)})


def site_detail(request, pk):
    site = get_object_or_404(sites_for_user(request.user), pk=pk)
    return render(request, "org/site_detail.html", {"site": site})


@permission_required("org.view_audit", raise_exception=True)
def audit_list(request):
    entries = LogEntry.objects.select_related("actor", "content_type").order_by("-timestamp")
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    for entry in page:
        # LogEntry.changes_str breaks on JSON-stored non-string values; format here.
        entry.change_summary = "; ".join(
            f"{field}: {values[0]} → {values[1]}"
            if isinstance(values, list | tuple) and len(values) == 2
            else f"{field}: {values}"
            for field, values in entry.changes_dict.items()
        )
    return render(request, "org/audit_list.html", {"page": page})


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
