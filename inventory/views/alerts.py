"""The stock alerts page: filter, read, acknowledge. Thin: inventory/alerts/ does the work."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from ..alerts import AlertError, alert_acknowledge, alerts_visible_to
from ..filters import AlertFilter, AlertStatus
from ..models import AlertSeverity


def _alerts(user):
    return alerts_visible_to(user).select_related(
        "location__site", "item", "lot", "acknowledged_by"
    )


@permission_required("inventory.manage_stock", raise_exception=True)
def alert_list(request):
    data = request.GET.copy()
    data.setdefault("status", AlertStatus.CURRENT)
    alert_filter = AlertFilter(data, queryset=_alerts(request.user), request=request)
    alerts = alert_filter.qs if alert_filter.is_valid() else _alerts(request.user).none()
    current = dict(
        alerts_visible_to(request.user)
        .filter(resolved_at__isnull=True)
        .values_list("severity")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return render(
        request,
        "inventory/alert_list.html",
        {
            "filter": alert_filter,
            "page": Paginator(alerts, 50).get_page(request.GET.get("page")),
            "severity_counts": [
                (value, label, current.get(value, 0)) for value, label in AlertSeverity.choices
            ],
        },
    )


@require_POST
@permission_required("inventory.manage_stock", raise_exception=True)
def alert_acknowledge_view(request, pk):
    alert = get_object_or_404(_alerts(request.user), pk=pk)
    error = ""
    try:
        alert = alert_acknowledge(alert=alert, by=request.user)
    except AlertError as exc:
        error = str(exc)
    if request.htmx:
        # The page swaps just this row.
        return render(request, "inventory/alert_row.html", {"alert": alert, "error": error})
    if error:
        messages.error(request, error)
    else:
        messages.success(request, gettext("Acknowledged: %(alert)s.") % {"alert": alert})
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "inventory:alerts"
    return redirect(target)
