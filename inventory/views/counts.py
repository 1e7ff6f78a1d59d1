"""The physical count sheet: booked figures, counted figures, the differences."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from org.forms import form_errors_from

from .. import selectors, services
from ..forms import (
    CountLineFormSet,
    sheet_lot_ids,
)
from ..models import Location, Lot
from .common import int_or_none, managed_locations

# --- Physical count ------------------------------------------------------------------


def _count_location(request, value) -> Location:
    """The location a count is for: one the person manages, else 404."""
    return get_object_or_404(
        managed_locations(request).filter(is_active=True), pk=int_or_none(value)
    )


@permission_required("inventory.manage_stock", raise_exception=True)
def count(request):
    location_value = request.POST.get("location") or request.GET.get("location")
    if not location_value:
        return render(
            request,
            "inventory/count_choose.html",
            {"locations": managed_locations(request).filter(is_active=True).order_by("name")},
        )
    location = _count_location(request, location_value)
    sheet = {balance.lot_id: balance for balance in selectors.count_sheet(location=location)}
    form_kwargs = {"sheet_lots": sheet_lot_ids(location)}
    if request.method != "POST":
        lines = CountLineFormSet(
            prefix="lines",
            initial=[{"lot": lot_id} for lot_id in sheet],
            form_kwargs=form_kwargs,
        )
        return _count_sheet(request, location, sheet, lines)

    lines = CountLineFormSet(request.POST, prefix="lines", form_kwargs=form_kwargs)
    counted_forms = []
    if lines.is_valid():
        counted_forms = [f for f in lines.forms if f.cleaned_data.get("counted") is not None]
        if not counted_forms and lines.forms:
            lines.forms[0].add_error("counted", gettext("Count at least one line."))
    if not counted_forms:
        return _count_sheet(request, location, sheet, lines, status=400)
    counted = {f.cleaned_data["lot"]: f.cleaned_data["counted"] for f in counted_forms}

    if request.POST.get("action") == "edit":
        return _count_sheet(request, location, sheet, lines)
    if request.POST.get("action") != "commit":
        # Preview: nothing is written until the manager confirms the differences.
        return _count_preview(request, location, sheet, lines, counted)

    lots = Lot.objects.in_bulk(list(counted))
    try:
        _count, movements = services.stock_count_record(
            location=location,
            counts=[
                services.CountLine(
                    lot=lots[f.cleaned_data["lot"]],
                    counted=f.cleaned_data["counted"],
                    reason=f.cleaned_data["reason"],
                )
                for f in counted_forms
            ],
            by=request.user,
        )
    except services.StockError as exc:
        form_errors_from(lines.forms[0], exc, line_forms=counted_forms)
        # A missing reason is fixed on the preview, where the differences are shown.
        return _count_preview(request, location, sheet, lines, counted, status=400)
    messages.success(
        request,
        # Two plurals in one sentence: each half is its own entry.
        gettext("Count recorded at %(location)s: %(lines)s, %(differences)s.")
        % {
            "location": location.name,
            "lines": ngettext("%(n)s line counted", "%(n)s lines counted", len(counted))
            % {"n": len(counted)},
            "differences": ngettext(
                "%(n)s difference written to the ledger",
                "%(n)s differences written to the ledger",
                len(movements),
            )
            % {"n": len(movements)},
        },
    )
    return redirect(f"{reverse('inventory:stock')}?location={location.pk}")


def _count_preview(request, location, sheet, lines, counted, status=200):
    """The counted figures beside the books, each difference with its reason menu."""
    differences = selectors.count_differences(location=location, counted=counted)
    form_of = {f.cleaned_data["lot"]: f for f in lines.forms if f.cleaned_data}
    rows = [{"row": row, "form": form_of[row.lot.pk]} for row in differences]
    return render(
        request,
        "inventory/count_preview.html",
        {
            "location": location,
            "lines": lines,
            "rows": rows,
            "differences": differences,
            "changed": [row for row in differences if row.difference],
            "uncounted": len(sheet.keys() - counted.keys()),
        },
        status=status,
    )


def _count_sheet(request, location, sheet, lines, status=200):
    """The sheet: each line form beside its lot and what the books say (0 for a lot
    that left the shelf since the sheet was printed). In a blind count
    (SSP_BLIND_COUNT) the books are not on the page: they first show on the preview,
    once every figure is entered."""
    lot_ids = [int_or_none(form["lot"].value()) for form in lines.forms]
    lots = Lot.objects.select_related("item", "funding_source").in_bulk(
        [lot_id for lot_id in lot_ids if lot_id is not None]
    )
    rows = [
        {
            "form": form,
            "lot": lots.get(lot_id),
            "booked": sheet[lot_id].quantity if lot_id in sheet else 0,
        }
        for form, lot_id in zip(lines.forms, lot_ids, strict=True)
    ]
    return render(
        request,
        "inventory/count_sheet.html",
        {
            "location": location,
            "lines": lines,
            "rows": rows,
            "today": timezone.localdate(),
            "blind": settings.SSP_BLIND_COUNT,
        },
        status=status,
    )
