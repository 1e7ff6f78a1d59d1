"""The receive, transfer and adjust forms."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext, ngettext

from org.forms import form_errors_from

from .. import services
from ..forms import (
    AdjustForm,
    ReceiptLineFormSet,
    ReceiveForm,
    TransferForm,
    TransferLineFormSet,
)
from ..selectors import lots_on_hand_at
from .common import filled_forms, int_or_none, managed_locations

# --- Receive -------------------------------------------------------------------------


@permission_required("inventory.manage_stock", raise_exception=True)
def receive(request):
    managed = managed_locations(request)
    initial = {"location": request.GET.get("location")}
    form = ReceiveForm(request.POST or None, managed=managed, initial=initial)
    lines = ReceiptLineFormSet(request.POST or None, prefix="lines")
    ask_confirm_large = False
    if request.method == "POST" and form.is_valid() and lines.is_valid():
        filled = filled_forms(lines)
        data = form.cleaned_data
        receipt_lines = [
            services.ReceiptLine(
                item=line.cleaned_data["item"],
                quantity=line.cleaned_data["quantity"],
                pack_size=line.cleaned_data["pack_size"],
                lot_number=line.cleaned_data["lot_number"].strip(),
                expires_on=line.cleaned_data["expires_on"],
                unit_cost=line.cleaned_data["unit_cost"],
            )
            for line in filled
        ]
        try:
            services.receipt_check_confirmed(
                receipt_lines, confirmed=data["confirm_large_quantity"]
            )
            movements = services.stock_receive(
                location=data["location"],
                funding_source=data["funding_source"],
                lines=receipt_lines,
                by=request.user,
                occurred_at=data["occurred_at"],
                reference=data["reference"],
            )
        except services.StockError as exc:
            ask_confirm_large = isinstance(exc, services.LargeQuantityNotConfirmed)
            form_errors_from(form, exc, line_forms=filled)
        else:
            units = sum(m.quantity for m in movements)
            messages.success(
                request,
                ngettext(
                    "Received %(units)s units in %(lines)s lot line at %(location)s.",
                    "Received %(units)s units in %(lines)s lot lines at %(location)s.",
                    len(movements),
                )
                % {"units": units, "lines": len(movements), "location": data["location"].name},
            )
            return redirect(f"{reverse('inventory:stock')}?location={data['location'].pk}")
    # Once asked, the tick box stays until the receipt is saved.
    ask_confirm_large = ask_confirm_large or bool(request.POST.get("confirm_large_quantity"))
    return render(
        request,
        "inventory/receive.html",
        {"form": form, "lines": lines, "ask_confirm_large": ask_confirm_large},
    )


# --- Transfer ------------------------------------------------------------------------


def _transfer_source(request, managed):
    """The sending location named by the form (posted or in the query), if managed."""
    value = request.POST.get("from_location") or request.GET.get("from_location")
    pk = int_or_none(value)
    return managed.filter(is_active=True, pk=pk).first() if pk else None


def _lines_kept(request, lots) -> list[dict]:
    """What was typed in the lines before the source changed (an htmx refresh), each
    lot kept only if it is still on hand at the new source."""
    prefix = "lines"
    total = min(int_or_none(request.GET.get(f"{prefix}-TOTAL_FORMS")) or 0, 50)
    lot_ids = set(lots.values_list("pk", flat=True))
    kept = []
    for index in range(total):
        lot = int_or_none(request.GET.get(f"{prefix}-{index}-lot"))
        kept.append(
            {
                "item": int_or_none(request.GET.get(f"{prefix}-{index}-item")),
                "quantity": int_or_none(request.GET.get(f"{prefix}-{index}-quantity")),
                "lot": lot if lot in lot_ids else None,
            }
        )
    return kept


@permission_required("inventory.manage_stock", raise_exception=True)
def transfer(request):
    managed = managed_locations(request)
    source = _transfer_source(request, managed)
    lots = lots_on_hand_at(source)
    form = TransferForm(request.POST or None, managed=managed, initial={"from_location": source})
    if request.headers.get("HX-Request") and request.method == "GET":
        # The source changed: the lines again, each lot menu now that source's lots.
        kept = _lines_kept(request, lots)
        lines = TransferLineFormSet(
            prefix="lines", initial=kept or None, form_kwargs={"lots": lots}
        )
        lines.extra = 0 if kept else lines.extra
        return render(request, "inventory/_transfer_lines.html", {"lines": lines})
    lines = TransferLineFormSet(request.POST or None, prefix="lines", form_kwargs={"lots": lots})
    if request.method == "POST" and form.is_valid() and lines.is_valid():
        filled = filled_forms(lines)
        data = form.cleaned_data
        try:
            movements = services.stock_transfer(
                from_location=data["from_location"],
                to_location=data["to_location"],
                lines=[
                    services.TransferLine(
                        item=line.cleaned_data["item"],
                        quantity=line.cleaned_data["quantity"],
                        lot=line.cleaned_data["lot"],
                    )
                    for line in filled
                ],
                by=request.user,
                occurred_at=data["occurred_at"],
                reference=data["reference"],
            )
        except services.StockError as exc:
            form_errors_from(form, exc, line_forms=filled)
        else:
            units = sum(m.quantity for m in movements if m.quantity > 0)
            messages.success(
                request,
                gettext("Sent %(units)s units from %(source)s to %(destination)s.")
                % {
                    "units": units,
                    "source": data["from_location"].name,
                    "destination": data["to_location"].name,
                },
            )
            return redirect(f"{reverse('inventory:stock')}?location={data['from_location'].pk}")
    return render(request, "inventory/transfer.html", {"form": form, "lines": lines})


# --- Adjust --------------------------------------------------------------------------


@permission_required("inventory.manage_stock", raise_exception=True)
def adjust(request):
    managed = managed_locations(request)
    initial = {key: request.GET.get(key) for key in ("location", "lot", "reason")}
    form = AdjustForm(request.POST or None, managed=managed, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            movement = services.stock_adjust(
                location=data["location"],
                lot=data["lot"],
                quantity=data["quantity"],
                reason=data["reason"],
                by=request.user,
                occurred_at=data["occurred_at"],
                reference=data["reference"],
            )
        except services.StockError as exc:
            form_errors_from(form, exc)
        else:
            messages.success(
                request,
                gettext("Recorded %(reason)s: %(quantity)s %(item)s at %(location)s.")
                % {
                    "reason": movement.get_reason_display().lower(),
                    "quantity": f"{movement.quantity:+d}",
                    "item": movement.lot.item.name,
                    "location": movement.location.name,
                },
            )
            return redirect(
                f"{reverse('inventory:card')}?location={movement.location_id}"
                f"&item={movement.item_id}"
            )
    return render(request, "inventory/adjust.html", {"form": form})
