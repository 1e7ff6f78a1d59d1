"""Stock manager pages: stock on hand, item detail, stock card, and the receive,
transfer, adjust and count forms. Thin: forms parse, services write, selectors read.

Who sees what: stock managers (manage_stock) see and change the locations of their
sites and the shared central store; program-wide roles (coordinators) see every
location read-only. A location outside someone's reach is a 404, as if it did not exist.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from org.csv_download import csv_download

from . import selectors, services
from .forms import (
    AdjustForm,
    CountLineFormSet,
    ReceiptLineFormSet,
    ReceiveForm,
    StockCardForm,
    StockFilterForm,
    TransferForm,
    TransferLineFormSet,
    lots_at,
    sheet_lot_ids,
)
from .models import Item, Location, Lot

CARD_PAGE_SIZE = 50


def can_view_stock(user) -> bool:
    return user.has_perm("inventory.manage_stock") or user.is_program_wide


def _require_viewer(request) -> None:
    if not can_view_stock(request.user):
        raise PermissionDenied


def _visible(request):
    return selectors.locations_visible_to(request.user)


def _managed(request):
    return selectors.locations_managed_by(request.user)


def _show_stock_error(exc: services.StockError, form, line_forms=()) -> None:
    """Put a refused operation's messages next to the fields they are about."""
    placed = False
    for field, problems in exc.field_errors.items():
        if field == "lines" and isinstance(problems, dict):
            for index, line_problems in problems.items():
                target = line_forms[index] if index < len(line_forms) else form
                for line_field, texts in line_problems.items():
                    for text in texts:
                        target.add_error(line_field if line_field in target.fields else None, text)
                        placed = True
            continue
        for text in problems:
            form.add_error(field if field in form.fields else None, text)
            placed = True
    if not placed:
        # InsufficientStock and other whole-operation refusals name the item themselves.
        form.add_error(None, str(exc))


def _filled(formset) -> list:
    """The line forms someone typed into (empty extra lines are ignored)."""
    return [f for f in formset.forms if f.has_changed() and f.cleaned_data]


# --- Stock on hand -------------------------------------------------------------------


def _stock_filter(request):
    visible = _visible(request)
    form = StockFilterForm(request.GET or None, locations=visible)
    locations, category, status = visible, "", ""
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        if data["location"]:
            locations = visible.filter(pk=data["location"].pk)
        category, status = data["category"], data["status"]
    levels = selectors.stock_levels_for(locations=locations, category=category, status=status)
    return form, levels


@require_GET
def stock_list(request):
    _require_viewer(request)
    form, levels = _stock_filter(request)
    return render(
        request,
        "inventory/stock_list.html",
        {
            "form": form,
            "levels": levels,
            "query": request.GET.urlencode(),
            "may_manage": request.user.has_perm("inventory.manage_stock"),
            "bands": {
                "emergency": settings.SSP_STOCK_EMERGENCY_MONTHS,
                "understock": settings.SSP_STOCK_UNDERSTOCK_MONTHS,
                "overstock": settings.SSP_STOCK_OVERSTOCK_MONTHS,
            },
        },
    )


STOCK_CSV_COLUMNS = [
    "location",
    "item_code",
    "item",
    "category",
    "base_unit",
    "on_hand",
    "usable",
    "used_last_90_days",
    "avg_monthly",
    "months_of_stock",
    "status",
    "reorder_point",
    "suggested_order",
    "earliest_expiry",
]


@require_GET
def stock_csv(request):
    """The stock page's rows as CSV, same filters."""
    _require_viewer(request)
    _form, levels = _stock_filter(request)
    rows = (
        (
            level.location.name,
            level.item.code,
            level.item.name,
            level.item.category,
            level.item.base_unit,
            level.on_hand,
            level.usable,
            level.consumed_90d,
            level.avg_monthly,
            "" if level.months_of_stock is None else level.months_of_stock,
            level.status,
            level.reorder_point,
            level.suggested_order,
            level.earliest_expiry.isoformat() if level.earliest_expiry else "",
        )
        for level in levels
    )
    return csv_download(name="stock-on-hand", columns=STOCK_CSV_COLUMNS, rows=rows)


# --- Item detail and stock card ------------------------------------------------------


@require_GET
def item_detail(request, pk):
    _require_viewer(request)
    item = get_object_or_404(Item, pk=pk)
    visible = _visible(request)
    today = timezone.localdate()
    trend = selectors.stock_trend(item=item, locations=visible, today=today)
    return render(
        request,
        "inventory/item_detail.html",
        {
            "item": item,
            "lots": selectors.lots_for_item(item=item, locations=visible),
            "balances": selectors.balances_for(locations=visible).filter(item=item),
            "levels": selectors.stock_levels(
                location_ids=list(visible.values_list("pk", flat=True)),
                item_ids=[item.pk],
                today=today,
            ),
            "trend": {
                "labels": [point["date"].isoformat() for point in trend],
                "on_hand": [point["on_hand"] for point in trend],
                "dispensed": [point["dispensed"] for point in trend],
            },
            "trend_table": trend[-14:],
            "today": today,
            "may_manage": request.user.has_perm("inventory.manage_stock"),
        },
    )


@require_GET
def stock_card(request):
    _require_viewer(request)
    visible = _visible(request)
    form = StockCardForm(request.GET or None, locations=visible)
    context = {"form": form, "page": None}
    location_value = request.GET.get("location")
    if location_value and not visible.filter(pk=_int_or_none(location_value)).exists():
        # Someone else's location, or none at all: the same answer, so it says nothing.
        raise Http404("No such location.")
    if form.is_bound and form.is_valid():
        location, item = form.cleaned_data["location"], form.cleaned_data["item"]
        movements = selectors.stock_card(location=location, item=item)
        query = request.GET.copy()
        query.pop("page", None)
        context.update(
            location=location,
            item=item,
            on_hand=selectors.stock_on_hand(location=location, item=item),
            page=Paginator(movements, CARD_PAGE_SIZE).get_page(request.GET.get("page")),
            query=query.urlencode(),
            may_manage=selectors.can_manage_location(request.user, location),
        )
    return render(request, "inventory/stock_card.html", context)


# --- Receive -------------------------------------------------------------------------


@permission_required("inventory.manage_stock", raise_exception=True)
def receive(request):
    managed = _managed(request)
    initial = {"location": request.GET.get("location")}
    form = ReceiveForm(request.POST or None, managed=managed, initial=initial)
    lines = ReceiptLineFormSet(request.POST or None, prefix="lines")
    if request.method == "POST" and form.is_valid() and lines.is_valid():
        filled = _filled(lines)
        data = form.cleaned_data
        try:
            movements = services.stock_receive(
                location=data["location"],
                funding_source=data["funding_source"],
                lines=[
                    services.ReceiptLine(
                        item=line.cleaned_data["item"],
                        quantity=line.cleaned_data["quantity"],
                        pack_size=line.cleaned_data["pack_size"],
                        lot_number=line.cleaned_data["lot_number"].strip(),
                        expires_on=line.cleaned_data["expires_on"],
                        unit_cost=line.cleaned_data["unit_cost"],
                    )
                    for line in filled
                ],
                by=request.user,
                occurred_at=data["occurred_at"],
                reference=data["reference"],
            )
        except services.StockError as exc:
            _show_stock_error(exc, form, filled)
        else:
            units = sum(m.quantity for m in movements)
            messages.success(
                request,
                f"Received {units} units in {len(movements)} lot line"
                f"{'s' if len(movements) != 1 else ''} at {data['location'].name}.",
            )
            return redirect(f"{reverse('inventory:stock')}?location={data['location'].pk}")
    return render(request, "inventory/receive.html", {"form": form, "lines": lines})


# --- Transfer ------------------------------------------------------------------------


@permission_required("inventory.manage_stock", raise_exception=True)
def transfer(request):
    managed = _managed(request)
    initial = {"from_location": request.GET.get("from_location")}
    form = TransferForm(request.POST or None, managed=managed, initial=initial)
    lines = TransferLineFormSet(
        request.POST or None, prefix="lines", form_kwargs={"lots": lots_at(managed)}
    )
    if request.method == "POST" and form.is_valid() and lines.is_valid():
        filled = _filled(lines)
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
            _show_stock_error(exc, form, filled)
        else:
            units = sum(m.quantity for m in movements if m.quantity > 0)
            messages.success(
                request,
                f"Sent {units} units from {data['from_location'].name} "
                f"to {data['to_location'].name}.",
            )
            return redirect(f"{reverse('inventory:stock')}?location={data['from_location'].pk}")
    return render(request, "inventory/transfer.html", {"form": form, "lines": lines})


# --- Adjust --------------------------------------------------------------------------


@permission_required("inventory.manage_stock", raise_exception=True)
def adjust(request):
    managed = _managed(request)
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
            _show_stock_error(exc, form)
        else:
            messages.success(
                request,
                f"Recorded {movement.get_reason_display().lower()}: {movement.quantity:+d} "
                f"{movement.lot.item.name} at {movement.location.name}.",
            )
            return redirect(
                f"{reverse('inventory:card')}?location={movement.location_id}"
                f"&item={movement.item_id}"
            )
    return render(request, "inventory/adjust.html", {"form": form})


# --- Physical count ------------------------------------------------------------------


def _int_or_none(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _count_location(request, value) -> Location:
    """The location a count is for: one the person manages, else 404."""
    return get_object_or_404(_managed(request).filter(is_active=True), pk=_int_or_none(value))


@permission_required("inventory.manage_stock", raise_exception=True)
def count(request):
    location_value = request.POST.get("location") or request.GET.get("location")
    if not location_value:
        return render(
            request,
            "inventory/count_choose.html",
            {"locations": _managed(request).filter(is_active=True).order_by("name")},
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
    counted = {}
    if lines.is_valid():
        counted = {
            f.cleaned_data["lot"]: f.cleaned_data["counted"]
            for f in lines.forms
            if f.cleaned_data.get("counted") is not None
        }
        if not counted and lines.forms:
            lines.forms[0].add_error("counted", "Count at least one line.")
    if not counted:
        return _count_sheet(request, location, sheet, lines, status=400)

    if request.POST.get("action") == "edit":
        return _count_sheet(request, location, sheet, lines)
    if request.POST.get("action") != "commit":
        # Preview: nothing is written until the manager confirms the differences.
        differences = selectors.count_differences(location=location, counted=counted)
        return render(
            request,
            "inventory/count_preview.html",
            {
                "location": location,
                "lines": lines,
                "differences": differences,
                "changed": [row for row in differences if row.difference],
                "uncounted": len(sheet.keys() - counted.keys()),
            },
        )

    lots = Lot.objects.in_bulk(list(counted))
    try:
        _count, movements = services.stock_count_record(
            location=location,
            counts=[
                services.CountLine(lot=lots[lot_id], counted=units)
                for lot_id, units in counted.items()
            ],
            by=request.user,
        )
    except services.StockError as exc:
        messages.error(request, f"The count was not recorded: {exc}")
        return _count_sheet(request, location, sheet, lines, status=400)
    messages.success(
        request,
        f"Count recorded at {location.name}: {len(counted)} line"
        f"{'s' if len(counted) != 1 else ''} counted, {len(movements)} difference"
        f"{'s' if len(movements) != 1 else ''} written to the ledger.",
    )
    return redirect(f"{reverse('inventory:stock')}?location={location.pk}")


def _count_sheet(request, location, sheet, lines, status=200):
    """The sheet: each line form beside its lot and what the books say (0 for a lot
    that left the shelf since the sheet was printed)."""
    lot_ids = [_int_or_none(form["lot"].value()) for form in lines.forms]
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
        {"location": location, "lines": lines, "rows": rows, "today": timezone.localdate()},
        status=status,
    )
