"""Reads of the stock ledger: on-hand figures, consumption, levels, stock cards.

Everything here is set-based (a handful of aggregate queries however many items
and locations there are) so pages, the API and the alerts scan can share it.
"""

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import (
    Exists,
    F,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Window,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Category, FundingSource and NaloxoneFormulation are also re-exported: the reports label
# their figures with them without reading inventory's models.
from .models import (  # noqa: F401
    AdjustmentReason,
    Category,
    FundingSource,
    Item,
    Kit,
    KitComponent,
    Location,
    Lot,
    MovementKind,
    NaloxoneFormulation,
    StockBalance,
    StockCount,
    StockMovement,
)

# Average monthly consumption looks back this many days (three months).
CONSUMPTION_WINDOW_DAYS = 90
DAYS_PER_MONTH = CONSUMPTION_WINDOW_DAYS / 3


# --- Who may see and manage which location --------------------------------------
# A location with a site belongs to that site's staff. The central store (and any
# other location without a site) is shared by everyone who manages stock, because it
# supplies every site; program-wide roles see it too.


def locations_visible_to(user) -> QuerySet[Location]:
    """Locations whose stock this person may look at."""
    if not user.is_authenticated:
        return Location.objects.none()
    shared = user.has_perm("inventory.manage_stock") or user.is_program_wide
    condition = Q(site_id__in=user.accessible_site_ids())
    if shared:
        condition |= Q(site__isnull=True)
    return Location.objects.filter(condition)


def locations_managed_by(user) -> QuerySet[Location]:
    """Locations where this person may receive, transfer out, adjust and count."""
    if not user.is_authenticated or not user.has_perm("inventory.manage_stock"):
        return Location.objects.none()
    return Location.objects.filter(Q(site_id__in=user.accessible_site_ids()) | Q(site__isnull=True))


def can_manage_location(user, location: Location) -> bool:
    if not user.is_authenticated or not user.has_perm("inventory.manage_stock"):
        return False
    return location.site_id is None or user.can_access_site(location.site_id)


# --- Catalog ---------------------------------------------------------------------


def kit_components(kits: Iterable[Kit]) -> dict[int, list[KitComponent]]:
    """Components of each kit (item loaded), by kit id; a kit with none maps to []."""
    components: dict[int, list[KitComponent]] = defaultdict(list)
    kits = {kit.pk: kit for kit in kits}
    # Kept on each kit object (as a prefetch would), so checking the lines of a visit
    # and dispensing them read the components once.
    unread = [pk for pk, kit in kits.items() if not hasattr(kit, "_components")]
    if unread:
        read = defaultdict(list)
        for component in KitComponent.objects.filter(kit_id__in=unread).select_related("item"):
            read[component.kit_id].append(component)
        for pk in unread:
            kits[pk]._components = read[pk]
    for pk, kit in kits.items():
        components[pk] = kit._components
    return components


def lines_expand(lines, *, components: dict[int, list[KitComponent]] | None = None) -> dict:
    """Units per item of dispense-shaped lines (`quantity` and one of `item` / `kit`),
    kits unpacked, in the order items first appear. Pass `components` when already
    loaded by `kit_components`. No validation: the caller has checked the lines."""
    if components is None:
        components = kit_components(line.kit for line in lines if line.kit is not None)
    units: dict[Item, int] = {}
    for line in lines:
        if line.item is not None:
            units[line.item] = units.get(line.item, 0) + line.quantity
            continue
        for component in components.get(line.kit.pk, ()):
            units[component.item] = (
                units.get(component.item, 0) + component.quantity * line.quantity
            )
    return units


def supply_kits() -> list[Kit]:
    return list(Kit.objects.filter(is_active=True).order_by("name"))


def supply_items(*, ids=None, exclude=(), limit: int | None = None) -> list[Item]:
    """Active items, by category then name; only `ids` when given, never `exclude`."""
    items = Item.objects.filter(is_active=True).order_by("category", "name")
    if ids is not None:
        items = items.filter(pk__in=ids)
    if exclude:
        items = items.exclude(pk__in=exclude)
    return list(items[:limit] if limit is not None else items)


def supply_catalog() -> dict:
    """Everything that may be handed out: active kits and items."""
    return {"kits": supply_kits(), "items": supply_items()}


# --- On hand -------------------------------------------------------------------


def stock_on_hand(*, location: Location, item: Item) -> int:
    """Units of `item` at `location`, all lots (expired ones included: they are on the shelf)."""
    return StockBalance.objects.filter(location=location, item=item).aggregate(
        total=Coalesce(Sum("quantity"), 0)
    )["total"]


def balances_for(
    *, locations: QuerySet[Location], positive_only: bool = True
) -> QuerySet[StockBalance]:
    """Balance rows (location × lot) with lot, item, funding source and location loaded."""
    rows = StockBalance.objects.filter(location__in=locations).select_related(
        "lot__funding_source", "item", "location"
    )
    if positive_only:
        rows = rows.filter(quantity__gt=0)
    return rows.order_by("location__name", "item__name", F("lot__expires_on").asc(nulls_last=True))


# --- Levels: consumption, months of stock, status band, reorder point -----------


class Band:
    EMERGENCY = "emergency"
    UNDERSTOCK = "understock"
    OK = "ok"
    OVERSTOCK = "overstock"
    NO_USE = "no_use"

    LABELS = {
        EMERGENCY: _("Emergency"),
        UNDERSTOCK: _("Understock"),
        OK: _("OK"),
        OVERSTOCK: _("Overstock"),
        NO_USE: _("No use in 90 days"),
    }


STOCK_STATUS_CHOICES = list(Band.LABELS.items())


def status_band(*, on_hand: int, avg_monthly: float) -> str:
    """Months of stock against the configured bands (SSP_STOCK_*_MONTHS)."""
    if avg_monthly <= 0:
        return Band.NO_USE
    months = on_hand / avg_monthly
    if months < settings.SSP_STOCK_EMERGENCY_MONTHS:
        return Band.EMERGENCY
    if months < settings.SSP_STOCK_UNDERSTOCK_MONTHS:
        return Band.UNDERSTOCK
    if months > settings.SSP_STOCK_OVERSTOCK_MONTHS:
        return Band.OVERSTOCK
    return Band.OK


@dataclass(frozen=True)
class StockLevel:
    location: Location
    item: Item
    on_hand: int
    usable: int  # not expired today
    consumed_90d: int
    avg_monthly: float
    months_of_stock: float | None  # None when nothing was used in 90 days
    status: str
    reorder_point: int  # reorder when on hand falls to this (understock threshold)
    suggested_order: int  # units to bring stock up to the overstock threshold
    earliest_expiry: date | None

    @property
    def status_label(self) -> str:
        return Band.LABELS[self.status]

    @property
    def below_reorder_point(self) -> bool:
        """Usable stock (expired lots cannot be handed out) under the reorder point."""
        return bool(self.reorder_point) and self.usable < self.reorder_point


def found_at_dispense(*, reference: str) -> dict[Item, int]:
    """Units the books lacked when stock left under this reference and that were
    recorded as found (SHORTFALL), net of those withdrawn by a reversal: what the
    reference's current dispense found, per item. One query."""
    rows = (
        StockMovement.objects.filter(
            reference=reference, kind=MovementKind.ADJUSTMENT, reason=AdjustmentReason.SHORTFALL
        )
        .values("item_id")
        .annotate(units=Sum("quantity"))
        .order_by("item_id")
    )
    units = {row["item_id"]: row["units"] for row in rows if row["units"] > 0}
    return {item: units[item.pk] for item in Item.objects.filter(pk__in=units)} if units else {}


def consumption_by_pair(*, since: datetime, location_ids=None, item_ids=None) -> dict:
    """Units consumed since `since` per (location_id, item_id): dispenses, net of the
    reversals of dispenses (a corrected or voided visit gives its supplies back, so they
    were not used).

    One query, the two kinds aggregated apart and summed by UNION ALL: a reversal joins
    its dispense by the reference index, so the dispenses are read once, not probed per
    row by an EXISTS under an OR.
    """
    movements = StockMovement.objects.filter(occurred_at__gte=since)
    if location_ids is not None:
        movements = movements.filter(location_id__in=location_ids)
    if item_ids is not None:
        movements = movements.filter(item_id__in=item_ids)
    reverses_a_dispense = StockMovement.objects.filter(
        reference=OuterRef("reference"),
        location_id=OuterRef("location_id"),
        lot_id=OuterRef("lot_id"),
        kind=MovementKind.DISPENSE,
    )
    dispensed = movements.filter(kind=MovementKind.DISPENSE)
    given_back = movements.filter(
        Exists(reverses_a_dispense), kind=MovementKind.ADJUSTMENT, reason=AdjustmentReason.REVERSAL
    )
    used: dict[tuple[int, int], int] = {}
    parts = [
        part.values("location_id", "item_id").annotate(net=Sum("quantity")).order_by()
        for part in (dispensed, given_back)
    ]
    for row in parts[0].union(parts[1], all=True):
        key = (row["location_id"], row["item_id"])
        used[key] = used.get(key, 0) - row["net"]
    return used


def stock_levels(
    *,
    location_ids=None,
    item_ids=None,
    today: date | None = None,
) -> list[StockLevel]:
    """Levels for every location × item that has stock or was used in the last 90 days.

    Five queries whatever the number of rows: balances, consumption, locations, items.
    """
    today = today or timezone.localdate()
    start = timezone.make_aware(
        datetime.combine(today - timedelta(days=CONSUMPTION_WINDOW_DAYS - 1), datetime.min.time())
    )
    balances = StockBalance.objects.all()
    if location_ids is not None:
        balances = balances.filter(location_id__in=location_ids)
    if item_ids is not None:
        balances = balances.filter(item_id__in=item_ids)

    usable_filter = Q(lot__expires_on__isnull=True) | Q(lot__expires_on__gte=today)
    positive_expiry = Q(quantity__gt=0, lot__expires_on__isnull=False)
    on_hand = {
        (row["location_id"], row["item_id"]): row
        for row in balances.values("location_id", "item_id").annotate(
            total=Sum("quantity"),
            usable=Coalesce(Sum("quantity", filter=usable_filter), 0),
            earliest=Min("lot__expires_on", filter=positive_expiry),
        )
    }
    used = consumption_by_pair(since=start, location_ids=location_ids, item_ids=item_ids)
    keys = [k for k in set(on_hand) | set(used) if on_hand.get(k, {}).get("total") or used.get(k)]
    locations = Location.objects.in_bulk({k[0] for k in keys})
    items = Item.objects.in_bulk({k[1] for k in keys})

    levels = []
    for key in keys:
        row = on_hand.get(key, {})
        total = row.get("total") or 0
        consumed = max(used.get(key, 0), 0)
        avg = consumed / (CONSUMPTION_WINDOW_DAYS / DAYS_PER_MONTH)
        levels.append(
            StockLevel(
                location=locations[key[0]],
                item=items[key[1]],
                on_hand=total,
                usable=row.get("usable") or 0,
                consumed_90d=consumed,
                avg_monthly=round(avg, 1),
                months_of_stock=round(total / avg, 1) if avg > 0 else None,
                status=status_band(on_hand=total, avg_monthly=avg),
                reorder_point=math.ceil(avg * settings.SSP_STOCK_UNDERSTOCK_MONTHS),
                suggested_order=max(
                    math.ceil(avg * settings.SSP_STOCK_OVERSTOCK_MONTHS) - total, 0
                ),
                earliest_expiry=row.get("earliest"),
            )
        )
    levels.sort(key=lambda lv: (lv.location.name, lv.item.category, lv.item.name))
    return levels


# --- Ledger views ----------------------------------------------------------------


def stock_card(*, location: Location, item: Item) -> QuerySet[StockMovement]:
    """The ledger of one item at one location, newest first, each row with the
    balance after it (a window sum computed by the database)."""
    return (
        StockMovement.objects.filter(location=location, item=item)
        .select_related("lot__funding_source", "recorded_by")
        .annotate(
            running_balance=Window(
                Sum("quantity"),
                order_by=[F("occurred_at").asc(), F("pk").asc()],
            )
        )
        .order_by("-occurred_at", "-pk")
    )


def movements_visible_to(user) -> QuerySet[StockMovement]:
    return StockMovement.objects.filter(location__in=locations_visible_to(user)).select_related(
        "item", "lot__funding_source", "location", "recorded_by"
    )


def stock_trend(
    *, item: Item, locations: QuerySet[Location], days: int = 90, today: date | None = None
) -> list[dict]:
    """End-of-day on-hand of `item` over the last `days` days, summed over `locations`.

    Walks back from today's balance subtracting each day's net movement, so the
    figure for a day includes every movement dated that day.
    """
    today = today or timezone.localdate()
    first_day = today - timedelta(days=days - 1)
    start = timezone.make_aware(datetime.combine(first_day, datetime.min.time()))
    current = StockBalance.objects.filter(location__in=locations, item=item).aggregate(
        total=Coalesce(Sum("quantity"), 0)
    )["total"]
    per_day = defaultdict(int)
    rows = (
        StockMovement.objects.filter(location__in=locations, item=item, occurred_at__gte=start)
        .annotate(day=TruncDate("occurred_at"))
        .values("day")
        .annotate(net=Sum("quantity"), out=Sum("quantity", filter=Q(kind=MovementKind.DISPENSE)))
    )
    dispensed = defaultdict(int)
    for row in rows:
        per_day[row["day"]] += row["net"]
        dispensed[row["day"]] += -(row["out"] or 0)
    series = []
    balance = current
    # Movements dated after today (clock skew) are already in the balance.
    for offset in range(days):
        day = today - timedelta(days=offset)
        series.append({"date": day, "on_hand": balance, "dispensed": dispensed.get(day, 0)})
        balance -= per_day.get(day, 0)
    series.reverse()
    return series


def lots_on_hand_at(location) -> QuerySet[Lot]:
    """Lots with units at `location` now, first expiry first, each with `on_hand`: the
    lots a transfer from there can send (none until a source is chosen)."""
    if location is None:
        return Lot.objects.none()
    return (
        Lot.objects.filter(balances__location=location, balances__quantity__gt=0)
        .annotate(on_hand=Sum("balances__quantity", filter=Q(balances__location=location)))
        .select_related("item", "funding_source")
        .order_by("item__name", F("expires_on").asc(nulls_last=True), "pk")
    )


def lots_for_item(*, item: Item, locations: QuerySet[Location]) -> list[Lot]:
    """Each lot of the item with its funding source, the units at the given locations
    and the units ever received (subqueries, so the two sums do not multiply)."""
    on_hand = (
        StockBalance.objects.filter(lot=OuterRef("pk"), location__in=locations)
        .values("lot")
        .annotate(total=Sum("quantity"))
        .values("total")
    )
    received = (
        StockMovement.objects.filter(lot=OuterRef("pk"), kind=MovementKind.RECEIPT)
        .values("lot")
        .annotate(total=Sum("quantity"))
        .values("total")
    )
    return list(
        Lot.objects.filter(item=item)
        .select_related("funding_source")
        .annotate(
            on_hand=Coalesce(Subquery(on_hand, output_field=IntegerField()), 0),
            received=Coalesce(Subquery(received, output_field=IntegerField()), 0),
        )
        .order_by(F("expires_on").asc(nulls_last=True), "pk")
    )


# --- Integrity ---------------------------------------------------------------------


@dataclass(frozen=True)
class Drift:
    location_id: int
    lot_id: int
    location_name: str
    lot_label: str
    balance: int
    ledger: int


def balance_drift() -> list[Drift]:
    """Every location × lot whose cached balance differs from the sum of its movements
    (including a balance row missing for movements, or a balance with none)."""
    ledger = {
        (row["location_id"], row["lot_id"]): row["total"]
        for row in StockMovement.objects.values("location_id", "lot_id").annotate(
            total=Sum("quantity")
        )
    }
    cached = {
        (row["location_id"], row["lot_id"]): row["quantity"]
        for row in StockBalance.objects.values("location_id", "lot_id", "quantity")
    }
    keys = sorted(
        key for key in set(ledger) | set(cached) if ledger.get(key, 0) != cached.get(key, 0)
    )
    if not keys:
        return []
    locations = Location.objects.in_bulk({k[0] for k in keys})
    lots = Lot.objects.select_related("item").in_bulk({k[1] for k in keys})
    return [
        Drift(
            location_id=location_id,
            lot_id=lot_id,
            location_name=locations[location_id].name,
            lot_label=str(lots[lot_id]),
            balance=cached.get((location_id, lot_id), 0),
            ledger=ledger.get((location_id, lot_id), 0),
        )
        for location_id, lot_id in keys
    ]


# --- Manager pages -------------------------------------------------------------------


def stock_levels_for(
    *,
    locations: QuerySet[Location],
    category: str = "",
    status: str = "",
    search: str = "",
    today: date | None = None,
) -> list[StockLevel]:
    """`stock_levels` at the given locations, narrowed to one item category, one
    status band and items whose name or code contains `search` when given (the stock
    page, its CSV and any filter share this)."""
    item_ids = None
    if category or search:
        items = Item.objects.all()
        if category:
            items = items.filter(category=category)
        if search:
            items = items.filter(Q(name__icontains=search) | Q(code__icontains=search))
        item_ids = list(items.values_list("pk", flat=True))
    levels = stock_levels(
        location_ids=list(locations.values_list("pk", flat=True)), item_ids=item_ids, today=today
    )
    if status:
        levels = [level for level in levels if level.status == status]
    return levels


# --- Home page figures (inventory/home.py) ----------------------------------------------

LOW_STOCK = (Band.EMERGENCY, Band.UNDERSTOCK)


def low_stock_at_sites(*, site_ids, today: date | None = None) -> list[StockLevel]:
    """Items in emergency or understock at the sites' own locations (not the central
    store): what the front desk may run short of today."""
    locations = Location.objects.filter(site_id__in=list(site_ids), is_active=True)
    levels = stock_levels(location_ids=list(locations.values_list("pk", flat=True)), today=today)
    return [level for level in levels if level.status in LOW_STOCK and level.item.is_active]


def below_reorder_point(*, locations: QuerySet[Location], today: date | None = None) -> list:
    """Location × item pairs whose usable stock is under the reorder point."""
    levels = stock_levels(location_ids=list(locations.values_list("pk", flat=True)), today=today)
    return [
        level
        for level in levels
        if level.below_reorder_point and level.item.is_active and level.location.is_active
    ]


def counts_due(*, locations: QuerySet[Location], now: datetime | None = None) -> list[Location]:
    """Active locations holding stock whose last physical count is older than
    SSP_COUNT_DUE_DAYS (or that were never counted), longest-waiting first."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.SSP_COUNT_DUE_DAYS)
    last_count = (
        StockCount.objects.filter(location=OuterRef("pk"))
        .order_by("-occurred_at")
        .values("occurred_at")[:1]
    )
    holding = StockBalance.objects.filter(location=OuterRef("pk"), quantity__gt=0)
    due = (
        locations.filter(is_active=True)
        .annotate(last_counted=Subquery(last_count))
        .filter(Exists(holding))
        .filter(Q(last_counted__isnull=True) | Q(last_counted__lt=cutoff))
    )
    return list(due.order_by(F("last_counted").asc(nulls_first=True), "name"))


def count_sheet(*, location: Location) -> list[StockBalance]:
    """What the books say is on the shelf at `location`: every lot with units, in the
    order a person walks the shelf (item, then earliest expiry)."""
    return list(balances_for(locations=Location.objects.filter(pk=location.pk)))


@dataclass(frozen=True)
class CountDifference:
    lot: Lot
    booked: int
    counted: int

    @property
    def difference(self) -> int:
        return self.counted - self.booked


def count_differences(*, location: Location, counted: dict[int, int]) -> list[CountDifference]:
    """Counted figures (lot id → units) against the books as they stand now, for the
    preview a manager checks before the count is recorded. Writes nothing."""
    booked = dict(
        StockBalance.objects.filter(location=location, lot_id__in=counted).values_list(
            "lot_id", "quantity"
        )
    )
    lots = Lot.objects.select_related("item", "funding_source").in_bulk(list(counted))
    rows = [
        CountDifference(lot=lots[lot_id], booked=booked.get(lot_id, 0), counted=units)
        for lot_id, units in counted.items()
    ]
    return sorted(
        rows,
        key=lambda row: (row.lot.item.name, row.lot.expires_on or date.max, row.lot.pk),
    )


# --- Figures for funder reports (read by reports/) ---


def items_by_id() -> dict[int, Item]:
    """Every item (category, strip code and name, naloxone formulation and doses), one query."""
    return {item.pk: item for item in Item.objects.all()}


@dataclass(frozen=True)
class FundedDispense:
    site_id: int | None  # the site of the location the units left from
    source: FundingSource  # who paid for the lot they came from
    category: str
    units: int  # handed out, net of reversals


def funded_dispense_by_source(*, references) -> list[FundedDispense]:
    """Units that left stock under these references, per site, funding source and item
    category. `references` is any iterable or subquery of free references (e.g. a
    visit's "visit:<uuid>"); a reversal carries the same reference, so a corrected or
    voided hand-out nets out; units the books lacked count under the "unrecorded" source.
    Two queries: the ledger aggregate and the sources."""
    rows = (
        StockMovement.objects.filter(reference__in=references)
        # Stock found at a dispense is not handed out; the dispense of it is, from the
        # placeholder lot of the "unrecorded" source (services/dispense.py).
        .exclude(kind=MovementKind.ADJUSTMENT, reason=AdjustmentReason.SHORTFALL)
        .values("location__site_id", "lot__funding_source_id", "item__category")
        .annotate(units=Sum("quantity"))
        .order_by()
    )
    sources = {source.pk: source for source in FundingSource.objects.all()}
    return [
        # Units leaving stock are negative in the ledger; a funder counts units handed out.
        FundedDispense(
            site_id=row["location__site_id"],
            source=sources[row["lot__funding_source_id"]],
            category=row["item__category"],
            units=-row["units"],
        )
        for row in rows
        if row["units"]
    ]
