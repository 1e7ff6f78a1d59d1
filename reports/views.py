"""Staff pages of funder reports: list + request form, a report, its progress, its
files, and the trends dashboard. Thin: forms validate, services write, selectors read."""

from pathlib import Path

from auditlog.signals import accessed
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from org.models import Site

from .forms import ReportRequestForm
from .funder_templates import TEMPLATES
from .models import ReportStatus
from .periods import PeriodError
from .selectors import (
    may_view_unsuppressed,
    monthly_trends,
    snapshot_changed_since,
    snapshot_rendered,
    snapshot_versions,
    snapshots_for_user,
    trend_table,
)
from .services import ReportRequestError, report_regenerate, report_request

reports_permission = permission_required("reports.view_reports", raise_exception=True)

FORM_FIELDS = {"period_start": "month", "period_end": "end", "site_ids": "sites"}


@reports_permission
def report_list(request):
    form = ReportRequestForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            snapshot = report_request(
                template=data["template"],
                period=data["period"],
                by=request.user,
                site_ids=[site.pk for site in data["sites"]] or None,
                threshold=data["threshold"],
            )
        except (ReportRequestError, PeriodError) as exc:
            for field, errors in exc.field_errors.items():
                target = FORM_FIELDS.get(field, field)
                for error in errors:
                    form.add_error(target if target in form.fields else None, error)
        else:
            messages.success(request, gettext("Report requested. It is being built now."))
            return redirect("reports:detail", snapshot.pk)
    snapshots = snapshots_for_user(request.user).prefetch_related("sites")
    template = request.GET.get("template")
    if template in TEMPLATES:
        snapshots = snapshots.filter(template=template)
    page = Paginator(snapshots, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "reports/list.html",
        {"form": form, "page": page, "templates": TEMPLATES, "chosen_template": template},
        status=400 if request.method == "POST" else 200,
    )


def _snapshot_for(request, pk):
    return get_object_or_404(snapshots_for_user(request.user), pk=pk)


@reports_permission
@require_GET
def report_detail(request, pk):
    snapshot = _snapshot_for(request, pk)
    unsuppressed = request.GET.get("view") == "unsuppressed"
    if unsuppressed and not may_view_unsuppressed(request.user):
        raise PermissionDenied(gettext("Your role does not allow unsuppressed figures."))
    accessed.send(snapshot.__class__, instance=snapshot)
    versions = list(snapshot_versions(snapshot))
    previous = next((v for v in versions if v.version < snapshot.version and v.is_ready), None)
    return render(
        request,
        "reports/detail.html",
        {
            "snapshot": snapshot,
            "template": TEMPLATES.get(snapshot.template),
            "rendered": snapshot_rendered(snapshot, unsuppressed=unsuppressed),
            "unsuppressed": unsuppressed,
            "may_unsuppress": may_view_unsuppressed(request.user),
            "versions": versions,
            "same_as_previous": previous is not None
            and snapshot.is_ready
            and previous.content_hash == snapshot.content_hash,
            "previous": previous,
            "cells_changed": snapshot_changed_since(snapshot),
        },
    )


@reports_permission
@require_GET
def report_print(request, pk):
    """The published (suppressed) report on a page made for paper: no menu, no buttons,
    one table per page, the legend and the definitions printed with it."""
    snapshot = _snapshot_for(request, pk)
    rendered = snapshot_rendered(snapshot)
    if rendered is None:
        raise Http404(gettext("This report has no figures yet."))
    accessed.send(snapshot.__class__, instance=snapshot)
    return render(request, "reports/print.html", {"snapshot": snapshot, "rendered": rendered})


@reports_permission
@require_GET
def report_progress(request, pk):
    """The htmx fragment polled while a report is built; asks for a reload when done."""
    snapshot = _snapshot_for(request, pk)
    response = render(request, "reports/_progress.html", {"snapshot": snapshot})
    if snapshot.status == ReportStatus.READY and request.htmx:
        response["HX-Refresh"] = "true"
    return response


@reports_permission
@require_GET
def report_download(request, pk, fmt):
    """The suppressed CSV or XLSX, only through this login-checked view."""
    snapshot = _snapshot_for(request, pk)
    field = {"csv": snapshot.csv_file, "xlsx": snapshot.xlsx_file}.get(fmt)
    if field is None or not snapshot.is_ready or not field:
        raise Http404(gettext("No such file."))
    accessed.send(snapshot.__class__, instance=snapshot)
    return FileResponse(field.open("rb"), as_attachment=True, filename=Path(field.name).name)


@reports_permission
@require_POST
def report_regenerate_view(request, pk):
    snapshot = _snapshot_for(request, pk)
    try:
        new = report_regenerate(snapshot=snapshot, by=request.user)
    except ReportRequestError as exc:
        messages.error(request, str(exc))
        return redirect("reports:detail", snapshot.pk)
    messages.success(
        request,
        gettext("Version %(new)s requested; version %(old)s stays.")
        % {"new": new.version, "old": snapshot.version},
    )
    return redirect("reports:detail", new.pk)


@reports_permission
@require_GET
def dashboard(request):
    sites = list(Site.objects.filter(pk__in=request.user.accessible_site_ids()).order_by("name"))
    try:
        months = min(max(int(request.GET.get("months", 12)), 3), 36)
    except ValueError:
        months = 12
    chosen = [s for s in sites if str(s.pk) in request.GET.getlist("site")] or sites
    unsuppressed = request.GET.get("view") == "unsuppressed" and may_view_unsuppressed(request.user)
    trends = monthly_trends(
        site_ids=[s.pk for s in chosen], months=months, suppressed=not unsuppressed
    )
    return render(
        request,
        "reports/dashboard.html",
        {
            "trends": trends,
            "table_rows": trend_table(trends),
            "sites": sites,
            "chosen": {s.pk for s in chosen} if len(chosen) < len(sites) else set(),
            "months": months,
            "unsuppressed": unsuppressed,
            "may_unsuppress": may_view_unsuppressed(request.user),
        },
    )
