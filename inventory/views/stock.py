"""Stock on hand (page and CSV), an item's detail and the stock card."""

from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_GET

from org.csv_download import csv_download

from .. import selectors
from ..forms import (
    StockCardForm,
    StockFilterForm,
)
from ..models import Item
from .common import int_or_none, require_viewer, visible_locations

CARD_PAGE_SIZE = 50


# --- Stock on hand -------------------------------------------------------------------


def _stock_filter(request):
    visible = visible_locations(request)
    form = StockFilterForm(request.GET or None, locations=visible)
    locations, category, status, search = visible, "", "", ""
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        if data["location"]:
            locations = visible.filter(pk=data["location"].pk)
        category, status, search = data["category"], data["status"], data["search"].strip()
    levels = selectors.stock_levels_for(
        locations=locations, category=category, status=status, search=search
    )
    return form, levels


ATTENTION = {selectors.Band.EMERGENCY, selectors.Band.UNDERSTOCK}


def _by_location(levels, *, narrowed: bool) -> list[dict]:
    """The rows in one group per location (levels come sorted by location). Groups are
    folded (<details>) except those needing attention; a filtered page, a single
    location or a page where nothing needs attention opens its first group at least."""
    groups: list[dict] = []
    for level in levels:
        if not groups or groups[-1]["location"] != level.location:
            groups.append({"location": level.location, "levels": [], "attention": 0})
        groups[-1]["levels"].append(level)
        groups[-1]["attention"] += level.status in ATTENTION
    for group in groups:
        group["open"] = narrowed or len(groups) == 1 or bool(group["attention"])
    if groups and not any(group["open"] for group in groups):
        groups[0]["open"] = True
    return groups


@require_GET
def stock_list(request):
    require_viewer(request)
    form, levels = _stock_filter(request)
    return render(
        request,
        "inventory/stock_list.html",
        {
            "form": form,
            "levels": levels,
            "groups": _by_location(levels, narrowed=form.is_bound and form.has_changed()),
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
    require_viewer(request)
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
    require_viewer(request)
    item = get_object_or_404(Item, pk=pk)
    visible = visible_locations(request)
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
                "legend": {"on_hand": gettext("On hand"), "dispensed": gettext("Dispensed")},
            },
            "trend_table": trend[-14:],
            "today": today,
            "may_manage": request.user.has_perm("inventory.manage_stock"),
        },
    )


@require_GET
def stock_card(request):
    require_viewer(request)
    visible = visible_locations(request)
    form = StockCardForm(request.GET or None, locations=visible)
    context = {"form": form, "page": None}
    location_value = request.GET.get("location")
    if location_value and not visible.filter(pk=int_or_none(location_value)).exists():
        # Someone else's location, or none at all: the same answer, so it says nothing.
        raise Http404(gettext("No such location."))
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
