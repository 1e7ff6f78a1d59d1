"""Writes of the stock ledger. Every function here is the one way to move stock.

Each write appends `StockMovement` rows and changes the cached `StockBalance` rows
in the same transaction. Balances are locked with one
`SELECT … FOR UPDATE … ORDER BY pk` per operation, so two operations touching the
same rows always take the locks in the same order and cannot deadlock; rows that
must exist first are inserted beforehand with `ON CONFLICT DO NOTHING`, sorted.
Validation happens before any write: a refused operation writes nothing.
"""

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from .models import (
    AdjustmentReason,
    FundingSource,
    Item,
    Kit,
    KitComponent,
    Location,
    Lot,
    MovementKind,
    PackSize,
    StockBalance,
    StockCount,
    StockCountLine,
    StockMovement,
)
from .selectors import can_manage_location

# A movement dated a little ahead is clock skew between devices; more is a mistake.
FUTURE_TOLERANCE = timedelta(minutes=5)
REFERENCE_MAX = StockMovement._meta.get_field("reference").max_length


# --- Errors ------------------------------------------------------------------------


class StockError(Exception):
    """A refused stock operation. The API turns it into one error body (ssp.api_errors)."""

    api_status = 400
    api_code = "stock_error"

    def __init__(self, message: str, *, field_errors: dict | None = None):
        super().__init__(message)
        self.field_errors = field_errors or {}


class InsufficientStock(StockError):
    api_status = 409
    api_code = "insufficient_stock"

    def __init__(self, *, item: Item, location: Location, requested: int, available: int):
        self.item = item
        self.location = location
        self.requested = requested
        self.available = available
        super().__init__(
            f"Not enough {item.name} at {location.name}: "
            f"{requested} requested, {available} available."
        )


# --- Line shapes -------------------------------------------------------------------


@dataclass(frozen=True)
class DispenseLine:
    """Exactly one of item / kit; a kit moves quantity × each component."""

    quantity: int
    item: Item | None = None
    kit: Kit | None = None


@dataclass(frozen=True)
class ReceiptLine:
    """`quantity` is in packs when `pack_size` is given (box of 100 × 3 = 300 units),
    otherwise in base units. Lot-tracked items need `lot_number` and `expires_on`;
    untracked items leave both empty (one untracked lot per item and funding source).
    `unit_cost` is per base unit and is kept on the lot when the lot is first received."""

    item: Item
    quantity: int
    pack_size: PackSize | None = None
    lot_number: str = ""
    expires_on: date | None = None
    unit_cost: Decimal | None = None


@dataclass(frozen=True)
class TransferLine:
    """Base units of an item; from the given lot, or first-expiry-first-out when lot is None."""

    item: Item
    quantity: int
    lot: Lot | None = None


@dataclass(frozen=True)
class CountLine:
    """Units physically counted (0 allowed). Count a lot, or — for items not tracked by
    lot — the item as a whole: a shortfall then leaves the lots first-expiry-first-out,
    a surplus goes to the newest lot at the location."""

    counted: int
    lot: Lot | None = None
    item: Item | None = None


# --- The alerts hook ---------------------------------------------------------------


def _movements_recorded(*, pairs: set[tuple[int, int]]) -> None:
    """Called once at the end of every write with the (location_id, item_id) it touched."""
    # Stock alerts (inventory/alerts.py) hook in here: re-check just these pairs. The
    # outbox row commits with the movements and the job is sent only after commit.
    if pairs:
        from outbox.services import job_enqueue

        job_enqueue(
            task_name="inventory.tasks.alerts_check",
            kwargs={"pairs": [list(pair) for pair in sorted(pairs)]},
        )


# --- Validation helpers ------------------------------------------------------------


class _Errors:
    """Collects field errors and raises once. Line errors are keyed by line index,
    only for the lines at fault — the shape DRF gives nested list errors."""

    def __init__(self):
        self.fields: dict[str, list[str]] = {}
        self.lines: dict[int, dict[str, list[str]]] = {}
        self.first = ""

    def add(self, field: str, message: str) -> None:
        self.fields.setdefault(field, []).append(message)
        self.first = self.first or message

    def line(self, index: int, field: str, message: str) -> None:
        self.lines.setdefault(index, {}).setdefault(field, []).append(message)
        self.first = self.first or f"Line {index + 1}: {message}"

    def raise_if_any(self) -> None:
        if not self.first:
            return
        errors = dict(self.fields)
        if self.lines:
            errors["lines"] = dict(sorted(self.lines.items()))
        raise StockError(self.first, field_errors=errors)


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_positive(errors: _Errors, index: int, quantity, field: str = "quantity") -> bool:
    if not _is_count(quantity):
        errors.line(index, field, "Enter a whole number.")
        return False
    if quantity < 1:
        errors.line(index, field, "Enter a quantity of at least 1.")
        return False
    return True


def _when(errors: _Errors, occurred_at: datetime | None) -> datetime:
    now = timezone.now()
    if occurred_at is None:
        return now
    if timezone.is_naive(occurred_at):
        occurred_at = timezone.make_aware(occurred_at)
    if occurred_at > now + FUTURE_TOLERANCE:
        errors.add("occurred_at", "This date is in the future.")
    return occurred_at


def _check_reference(errors: _Errors, reference: str) -> None:
    if len(reference or "") > REFERENCE_MAX:
        errors.add("reference", f"Keep the reference to {REFERENCE_MAX} characters.")


def _check_manages(errors: _Errors, by, location: Location, field: str = "location") -> None:
    if not can_manage_location(by, location):
        errors.add(field, f"You do not manage stock at {location.name}.")


def _is_expired(lot: Lot, on_day: date) -> bool:
    return lot.expires_on is not None and lot.expires_on < on_day


def _fefo_key(balance: StockBalance):
    lot = balance.lot
    return (lot.expires_on is None, lot.expires_on or date.max, lot.pk)


# --- Locking and writing -----------------------------------------------------------


def _ensure_balances(keys: set[tuple[int, int, int]]) -> None:
    """Make sure a balance row exists for each (location_id, lot_id, item_id).

    Sorted and ON CONFLICT DO NOTHING: two receipts creating the same rows insert
    them in the same order and the second simply finds them.
    """
    if keys:
        StockBalance.objects.bulk_create(
            [
                StockBalance(location_id=loc, lot_id=lot, item_id=item, quantity=0)
                for loc, lot, item in sorted(keys)
            ],
            ignore_conflicts=True,
        )


def _lock_balances(condition: Q) -> list[StockBalance]:
    """The one lock statement of an operation: every row it may change, in pk order."""
    return list(
        StockBalance.objects.select_for_update(of=("self",))
        .select_related("lot")
        .filter(condition)
        .order_by("pk")
    )


def _save(changed: dict[int, StockBalance], movements: list[StockMovement]) -> list[StockMovement]:
    if changed:
        StockBalance.objects.bulk_update(list(changed.values()), ["quantity"])
    return StockMovement.objects.bulk_create(movements)


def _movement(**fields) -> StockMovement:
    return StockMovement(**fields)


def _take_fefo(
    *,
    usable: list[StockBalance],
    quantity: int,
    changed: dict[int, StockBalance],
):
    """Yield (balance, units) taking `quantity` from `usable` in the given order."""
    remaining = quantity
    for balance in usable:
        if remaining == 0:
            break
        take = min(balance.quantity, remaining)
        if take <= 0:
            continue
        balance.quantity -= take
        changed[balance.pk] = balance
        remaining -= take
        yield balance, take


# --- Dispense and reverse ----------------------------------------------------------


def _expand_dispense_lines(errors: _Errors, lines: Sequence[DispenseLine]) -> dict[Item, int]:
    """Merge lines per item (kits expanded), keeping the order items first appear in."""
    kit_ids = {line.kit.pk for line in lines if line.kit is not None}
    components = defaultdict(list)
    if kit_ids:
        for component in KitComponent.objects.filter(kit_id__in=kit_ids).select_related("item"):
            components[component.kit_id].append(component)
    demand: dict[Item, int] = {}
    for index, line in enumerate(lines):
        if (line.item is None) == (line.kit is None):
            errors.line(index, "item", "Choose an item or a kit.")
            continue
        if not _check_positive(errors, index, line.quantity):
            continue
        if line.item is not None:
            if not line.item.is_active:
                errors.line(index, "item", f"{line.item.name} is no longer stocked.")
                continue
            demand[line.item] = demand.get(line.item, 0) + line.quantity
            continue
        if not line.kit.is_active or not components[line.kit.pk]:
            errors.line(index, "kit", f"{line.kit.name} is not available.")
            continue
        for component in components[line.kit.pk]:
            if not component.item.is_active:
                errors.line(
                    index, "kit", f"{line.kit.name} contains {component.item.name}, not stocked."
                )
                break
            demand[component.item] = (
                demand.get(component.item, 0) + component.quantity * line.quantity
            )
    return demand


@transaction.atomic
def stock_dispense(
    *,
    location: Location,
    lines: Sequence[DispenseLine],
    by,
    reference: str,
    occurred_at: datetime | None = None,
) -> list[StockMovement]:
    """Take stock out at `location`, first-expiry-first-out over lots not expired on the
    day it happened. All or nothing: raises InsufficientStock naming the first short item.

    Not durable on purpose: a visit records its supplies inside its own transaction.
    """
    errors = _Errors()
    occurred_at = _when(errors, occurred_at)
    _check_reference(errors, reference)
    if not lines:
        errors.add("lines", "Add at least one line.")
    if not location.is_active:
        errors.add("location", f"{location.name} is closed.")
    demand = _expand_dispense_lines(errors, lines)
    errors.raise_if_any()

    on_day = timezone.localdate(occurred_at)
    balances = _lock_balances(Q(location=location, item_id__in=[item.pk for item in demand]))
    usable = defaultdict(list)
    for balance in balances:
        if balance.quantity > 0 and not _is_expired(balance.lot, on_day):
            usable[balance.item_id].append(balance)

    changed: dict[int, StockBalance] = {}
    movements = []
    for item, quantity in demand.items():
        rows = sorted(usable[item.pk], key=_fefo_key)
        available = sum(b.quantity for b in rows)
        if available < quantity:
            raise InsufficientStock(
                item=item, location=location, requested=quantity, available=available
            )
        for balance, take in _take_fefo(usable=rows, quantity=quantity, changed=changed):
            movements.append(
                _movement(
                    kind=MovementKind.DISPENSE,
                    item=item,
                    lot=balance.lot,
                    location=location,
                    quantity=-take,
                    reference=reference,
                    occurred_at=occurred_at,
                    recorded_by=by,
                )
            )
    created = _save(changed, movements)
    _movements_recorded(pairs={(location.pk, item.pk) for item in demand})
    return created


@transaction.atomic
def stock_reverse(
    *, reference: str, by, occurred_at: datetime | None = None
) -> list[StockMovement]:
    """Undo the net effect of every movement carrying `reference`, lot by lot, with
    reversal adjustments under the same reference. A second call writes nothing."""
    errors = _Errors()
    occurred_at = _when(errors, occurred_at)
    if not reference:
        errors.add("reference", "Name the reference to reverse.")
    _check_reference(errors, reference)
    errors.raise_if_any()

    keys = set(
        StockMovement.objects.filter(reference=reference)
        .values_list("location_id", "lot_id")
        .distinct()
    )
    if not keys:
        return []
    condition = Q()
    for location_id, lot_id in sorted(keys):
        condition |= Q(location_id=location_id, lot_id=lot_id)
    balances = {(b.location_id, b.lot_id): b for b in _lock_balances(condition)}
    # Summed only now, under the locks: a concurrent reversal of the same reference
    # has committed by the time we hold them, and (READ COMMITTED) this statement sees it.
    nets = (
        StockMovement.objects.filter(reference=reference)
        .values("location_id", "lot_id", "item_id")
        .annotate(net=Sum("quantity"))
        .order_by("location_id", "lot_id")
    )
    changed: dict[int, StockBalance] = {}
    movements = []
    pairs = set()
    for row in nets:
        if not row["net"]:
            continue
        balance = balances[(row["location_id"], row["lot_id"])]
        delta = -row["net"]
        if balance.quantity + delta < 0:
            raise InsufficientStock(
                item=Item.objects.get(pk=row["item_id"]),
                location=Location.objects.get(pk=row["location_id"]),
                requested=-delta,
                available=balance.quantity,
            )
        balance.quantity += delta
        changed[balance.pk] = balance
        pairs.add((row["location_id"], row["item_id"]))
        movements.append(
            _movement(
                kind=MovementKind.ADJUSTMENT,
                reason=AdjustmentReason.REVERSAL,
                item_id=row["item_id"],
                lot_id=row["lot_id"],
                location_id=row["location_id"],
                quantity=delta,
                reference=reference,
                occurred_at=occurred_at,
                recorded_by=by,
            )
        )
    if not movements:
        return []
    created = _save(changed, movements)
    _movements_recorded(pairs=pairs)
    return created


# --- Receive -----------------------------------------------------------------------


def _receipt_lots(
    errors: _Errors, lines: Sequence[ReceiptLine], funding_source: FundingSource
) -> dict[tuple[int, str], Lot]:
    """Find or create the lot of every line; a known lot number must keep its expiry."""
    wanted = {(line.item.pk, line.lot_number.strip()): line for line in lines}
    existing = {
        (lot.item_id, lot.lot_number): lot
        for lot in Lot.objects.filter(
            funding_source=funding_source,
            item_id__in={key[0] for key in wanted},
            lot_number__in={key[1] for key in wanted},
        )
    }
    missing = [key for key in sorted(wanted) if key not in existing]
    if missing:
        Lot.objects.bulk_create(
            [
                Lot(
                    item_id=item_id,
                    lot_number=lot_number,
                    expires_on=wanted[(item_id, lot_number)].expires_on,
                    funding_source=funding_source,
                    unit_cost=wanted[(item_id, lot_number)].unit_cost,
                )
                for item_id, lot_number in missing
            ],
            ignore_conflicts=True,
        )
        # Re-read: a concurrent receipt may have created some of them first.
        for lot in Lot.objects.filter(
            funding_source=funding_source,
            item_id__in={key[0] for key in missing},
            lot_number__in={key[1] for key in missing},
        ):
            existing[(lot.item_id, lot.lot_number)] = lot
    for index, line in enumerate(lines):
        lot = existing[(line.item.pk, line.lot_number.strip())]
        if line.item.is_lot_tracked and lot.expires_on != line.expires_on:
            errors.line(
                index,
                "expires_on",
                f"Lot {lot.lot_number} of {line.item.name} was recorded with expiry "
                f"{lot.expires_on:%Y-%m-%d}.",
            )
    return existing


@transaction.atomic
def stock_receive(
    *,
    location: Location,
    lines: Sequence[ReceiptLine],
    funding_source: FundingSource,
    by,
    occurred_at: datetime | None = None,
    reference: str = "",
) -> list[StockMovement]:
    """Receive a shipment bought with `funding_source` into `location`.

    Refused when the funding source may not buy an item's category, when a tracked
    item has no lot number or expiry, or when a lot has already expired."""
    errors = _Errors()
    occurred_at = _when(errors, occurred_at)
    on_day = timezone.localdate(occurred_at)
    _check_reference(errors, reference)
    _check_manages(errors, by, location)
    if not location.is_active:
        errors.add("location", f"{location.name} is closed.")
    if not funding_source.is_active:
        errors.add("funding_source", f"{funding_source.name} is no longer in use.")
    if not lines:
        errors.add("lines", "Add at least one line.")
    units = []
    for index, line in enumerate(lines):
        item = line.item
        units.append(0)
        if not item.is_active:
            errors.line(index, "item", f"{item.name} is no longer stocked.")
            continue
        if not funding_source.allows(item.category):
            errors.line(
                index,
                "item",
                f"{funding_source.name} may not buy {item.get_category_display().lower()} "
                f"items such as {item.name}.",
            )
        if not _check_positive(errors, index, line.quantity):
            continue
        multiplier = 1
        if line.pack_size is not None:
            if line.pack_size.item_id != item.pk:
                errors.line(index, "pack_size", f"That pack size is not one of {item.name}'s.")
                continue
            multiplier = line.pack_size.units
        units[index] = line.quantity * multiplier
        if item.is_lot_tracked:
            if not line.lot_number.strip():
                errors.line(index, "lot_number", f"{item.name} is tracked by lot: enter the lot.")
            if line.expires_on is None:
                errors.line(index, "expires_on", f"{item.name} is tracked by lot: enter expiry.")
            elif line.expires_on < on_day:
                errors.line(index, "expires_on", "This lot has expired; do not receive it.")
        elif line.lot_number.strip() or line.expires_on:
            errors.line(
                index, "lot_number", f"{item.name} is not tracked by lot: leave lot and expiry."
            )
        if line.unit_cost is not None and line.unit_cost < 0:
            errors.line(index, "unit_cost", "A cost cannot be negative.")
    errors.raise_if_any()

    lots = _receipt_lots(errors, lines, funding_source)
    errors.raise_if_any()

    per_lot: dict[Lot, int] = defaultdict(int)
    for index, line in enumerate(lines):
        per_lot[lots[(line.item.pk, line.lot_number.strip())]] += units[index]
    _ensure_balances({(location.pk, lot.pk, lot.item_id) for lot in per_lot})
    balances = {
        b.lot_id: b
        for b in _lock_balances(Q(location=location, lot_id__in=[lot.pk for lot in per_lot]))
    }
    changed: dict[int, StockBalance] = {}
    movements = []
    for lot, quantity in per_lot.items():
        balance = balances[lot.pk]
        balance.quantity += quantity
        changed[balance.pk] = balance
        movements.append(
            _movement(
                kind=MovementKind.RECEIPT,
                item_id=lot.item_id,
                lot=lot,
                location=location,
                quantity=quantity,
                reference=reference,
                occurred_at=occurred_at,
                recorded_by=by,
            )
        )
    created = _save(changed, movements)
    _movements_recorded(pairs={(location.pk, lot.item_id) for lot in per_lot})
    return created


# --- Transfer ----------------------------------------------------------------------


@transaction.atomic
def stock_transfer(
    *,
    from_location: Location,
    to_location: Location,
    lines: Sequence[TransferLine],
    by,
    occurred_at: datetime | None = None,
    reference: str = "",
) -> list[StockMovement]:
    """Move stock between locations, lot by lot (the lot keeps its funding source).

    Whoever manages the sending location may send anywhere active; nobody pulls
    stock out of a location they do not manage. Both legs share one reference
    (generated when none is given) so the pair can be found again."""
    errors = _Errors()
    occurred_at = _when(errors, occurred_at)
    on_day = timezone.localdate(occurred_at)
    _check_reference(errors, reference)
    _check_manages(errors, by, from_location, field="from_location")
    if from_location.pk == to_location.pk:
        errors.add("to_location", "Choose a different location to send to.")
    if not to_location.is_active:
        errors.add("to_location", f"{to_location.name} is closed.")
    if not lines:
        errors.add("lines", "Add at least one line.")
    for index, line in enumerate(lines):
        if not line.item.is_active:
            errors.line(index, "item", f"{line.item.name} is no longer stocked.")
        _check_positive(errors, index, line.quantity)
        if line.lot is not None:
            if line.lot.item_id != line.item.pk:
                errors.line(index, "lot", f"That lot is not a lot of {line.item.name}.")
            elif _is_expired(line.lot, on_day):
                errors.line(
                    index,
                    "lot",
                    f"Lot {line.lot.lot_number} expired on {line.lot.expires_on:%Y-%m-%d}; "
                    "write it off with an adjustment instead.",
                )
    errors.raise_if_any()
    reference = reference or f"transfer:{uuid.uuid4().hex[:12]}"

    item_ids = sorted({line.item.pk for line in lines})
    candidate = set(
        StockBalance.objects.filter(
            location=from_location, item_id__in=item_ids, quantity__gt=0
        ).values_list("lot_id", "item_id")
    )
    _ensure_balances({(to_location.pk, lot_id, item_id) for lot_id, item_id in candidate})
    rows = _lock_balances(
        Q(location=from_location, item_id__in=item_ids)
        | Q(location=to_location, lot_id__in=[lot_id for lot_id, _ in candidate])
    )
    source = {b.lot_id: b for b in rows if b.location_id == from_location.pk}
    target = {b.lot_id: b for b in rows if b.location_id == to_location.pk}

    changed: dict[int, StockBalance] = {}
    moves: list[tuple[StockBalance, int]] = []
    # Named lots first, so first-expiry-first-out lines do not take them.
    for line in sorted(lines, key=lambda ln: ln.lot is None):
        if line.lot is not None:
            rows_for_line = [source[line.lot.pk]] if line.lot.pk in source else []
        else:
            rows_for_line = sorted(
                (
                    b
                    for b in source.values()
                    if b.item_id == line.item.pk and not _is_expired(b.lot, on_day)
                ),
                key=_fefo_key,
            )
        available = sum(max(b.quantity, 0) for b in rows_for_line)
        if available < line.quantity:
            raise InsufficientStock(
                item=line.item,
                location=from_location,
                requested=line.quantity,
                available=available,
            )
        moves.extend(_take_fefo(usable=rows_for_line, quantity=line.quantity, changed=changed))

    # A lot received at the source between the first read and the lock has no row at
    # the destination yet: create and lock those now (rare; nobody else holds them).
    late = {(to_location.pk, b.lot_id, b.item_id) for b, _ in moves if b.lot_id not in target}
    if late:
        _ensure_balances(late)
        for b in _lock_balances(
            Q(location=to_location, lot_id__in=[lot_id for _, lot_id, _ in late])
        ):
            target[b.lot_id] = b

    movements = []
    for balance, take in moves:
        incoming = target[balance.lot_id]
        incoming.quantity += take
        changed[incoming.pk] = incoming
        common = {
            "item_id": balance.item_id,
            "lot": balance.lot,
            "reference": reference,
            "occurred_at": occurred_at,
            "recorded_by": by,
        }
        movements.append(
            _movement(
                kind=MovementKind.TRANSFER_OUT, location=from_location, quantity=-take, **common
            )
        )
        movements.append(
            _movement(kind=MovementKind.TRANSFER_IN, location=to_location, quantity=take, **common)
        )
    created = _save(changed, movements)
    _movements_recorded(
        pairs={(loc.pk, item_id) for loc in (from_location, to_location) for item_id in item_ids}
    )
    return created


# --- Adjust ------------------------------------------------------------------------

# Reasons that can only take stock away, or only add it. A correction goes either way.
REMOVING_REASONS = {AdjustmentReason.DAMAGED, AdjustmentReason.EXPIRED, AdjustmentReason.LOST}
ADDING_REASONS = {AdjustmentReason.FOUND}


@transaction.atomic
def stock_adjust(
    *,
    location: Location,
    lot: Lot,
    quantity: int,
    reason: str,
    by,
    occurred_at: datetime | None = None,
    reference: str = "",
) -> StockMovement:
    """Add (+) or remove (−) units of one lot at a location, with a reason."""
    errors = _Errors()
    occurred_at = _when(errors, occurred_at)
    _check_reference(errors, reference)
    _check_manages(errors, by, location)
    if reason not in AdjustmentReason.values or reason == AdjustmentReason.REVERSAL:
        errors.add("reason", "Choose damaged, expired, lost, found or correction.")
    if not _is_count(quantity):
        errors.add("quantity", "Enter a whole number.")
    elif quantity == 0:
        errors.add("quantity", "Enter a quantity other than 0.")
    elif reason in REMOVING_REASONS and quantity > 0:
        errors.add("quantity", "Damaged, expired or lost stock is removed: use a negative number.")
    elif reason in ADDING_REASONS and quantity < 0:
        errors.add("quantity", "Found stock is added: use a positive number.")
    errors.raise_if_any()

    if quantity > 0:
        _ensure_balances({(location.pk, lot.pk, lot.item_id)})
    rows = _lock_balances(Q(location=location, lot=lot))
    balance = rows[0] if rows else None
    current = balance.quantity if balance else 0
    if current + quantity < 0:
        raise InsufficientStock(
            item=lot.item, location=location, requested=-quantity, available=current
        )
    balance.quantity += quantity
    movement = _movement(
        kind=MovementKind.ADJUSTMENT,
        reason=reason,
        item_id=lot.item_id,
        lot=lot,
        location=location,
        quantity=quantity,
        reference=reference,
        occurred_at=occurred_at,
        recorded_by=by,
    )
    (created,) = _save({balance.pk: balance}, [movement])
    _movements_recorded(pairs={(location.pk, lot.item_id)})
    return created


# --- Count -------------------------------------------------------------------------


def stock_count(
    *,
    location: Location,
    counts: Sequence[CountLine],
    by,
    occurred_at: datetime | None = None,
) -> list[StockMovement]:
    """Record a physical count; returns the movements of its differences (see below)."""
    return stock_count_record(location=location, counts=counts, by=by, occurred_at=occurred_at)[1]


@transaction.atomic
def stock_count_record(
    *,
    location: Location,
    counts: Sequence[CountLine],
    by,
    occurred_at: datetime | None = None,
) -> tuple[StockCount, list[StockMovement]]:
    """Record a physical count: each counted figure becomes the balance, and each
    difference is a count movement, so the ledger still sums to the balance.
    Lines counted exactly as booked write no movement; the StockCount record keeps
    every line (booked and counted) and its reference is the movements' reference."""
    errors = _Errors()
    occurred_at = _when(errors, occurred_at)
    _check_manages(errors, by, location)
    if not counts:
        errors.add("lines", "Count at least one line.")
    seen_lots, seen_items = set(), set()
    for index, line in enumerate(counts):
        if not _is_count(line.counted):
            errors.line(index, "counted", "Enter a whole number.")
        elif line.counted < 0:
            errors.line(index, "counted", "A count cannot be negative.")
        if (line.lot is None) == (line.item is None):
            errors.line(index, "lot", "Count a lot, or an item not tracked by lot.")
            continue
        item = line.item or line.lot.item
        if line.item is not None and item.is_lot_tracked:
            errors.line(index, "item", f"{item.name} is tracked by lot: count each lot.")
        key = line.lot.pk if line.lot else None
        if (key in seen_lots) if key else (item.pk in seen_items):
            errors.line(index, "lot", "This line is counted twice.")
        if key:
            seen_lots.add(key)
        else:
            seen_items.add(item.pk)
    overlap = {line.lot.item_id for line in counts if line.lot} & seen_items
    if overlap:
        errors.add("lines", "Count an item either as a whole or by lot, not both.")
    errors.raise_if_any()

    lot_lines = [line for line in counts if line.lot is not None]
    item_lines = [line for line in counts if line.item is not None]
    _ensure_balances(
        {(location.pk, line.lot.pk, line.lot.item_id) for line in lot_lines if line.counted > 0}
    )
    rows = _lock_balances(
        Q(location=location)
        & (
            Q(lot_id__in=[line.lot.pk for line in lot_lines])
            | Q(item_id__in=[line.item.pk for line in item_lines])
        )
    )
    by_lot = {b.lot_id: b for b in rows}
    by_item = defaultdict(list)
    for b in rows:
        by_item[b.item_id].append(b)

    changed: dict[int, StockBalance] = {}
    deltas: list[tuple[StockBalance, int]] = []
    count_lines: list[StockCountLine] = []
    for line in lot_lines:
        balance = by_lot.get(line.lot.pk)
        booked = balance.quantity if balance else 0
        count_lines.append(
            StockCountLine(
                item_id=line.lot.item_id, lot=line.lot, expected=booked, counted=line.counted
            )
        )
        if balance is not None and line.counted != booked:
            deltas.append((balance, line.counted - booked))
            balance.quantity = line.counted
            changed[balance.pk] = balance
    for line in item_lines:
        held = sorted(by_item.get(line.item.pk, []), key=_fefo_key)
        booked = sum(b.quantity for b in held)
        count_lines.append(StockCountLine(item=line.item, expected=booked, counted=line.counted))
        difference = line.counted - booked
        if difference > 0:
            if not held:
                errors.line(
                    list(counts).index(line),
                    "item",
                    f"No {line.item.name} was ever received here: record a receipt first.",
                )
                continue
            newest = max(held, key=lambda b: b.lot_id)
            newest.quantity += difference
            changed[newest.pk] = newest
            deltas.append((newest, difference))
        elif difference < 0:
            for balance, take in _take_fefo(usable=held, quantity=-difference, changed=changed):
                deltas.append((balance, -take))
    errors.raise_if_any()

    count = StockCount.objects.create(location=location, occurred_at=occurred_at, recorded_by=by)
    for count_line in count_lines:
        count_line.count = count
    StockCountLine.objects.bulk_create(count_lines)
    movements = [
        _movement(
            kind=MovementKind.COUNT,
            item_id=balance.item_id,
            lot_id=balance.lot_id,
            location=location,
            quantity=delta,
            reference=count.reference,
            occurred_at=occurred_at,
            recorded_by=by,
        )
        for balance, delta in deltas
    ]
    created = _save(changed, movements)
    _movements_recorded(
        pairs={(location.pk, line.lot.item_id) for line in lot_lines}
        | {(location.pk, line.item.pk) for line in item_lines}
    )
    return count, created


# --- Integrity ---------------------------------------------------------------------


@transaction.atomic
def balances_rebuild(*, keys: Sequence[tuple[int, int]]) -> int:
    """Set the cached balance of each (location_id, lot_id) to the sum of its movements.
    The ledger is the record; the balance is only a cache of it. Returns rows changed."""
    if not keys:
        return 0
    lots = Lot.objects.in_bulk({lot_id for _, lot_id in keys})
    _ensure_balances({(location_id, lot_id, lots[lot_id].item_id) for location_id, lot_id in keys})
    condition = Q()
    for location_id, lot_id in sorted(keys):
        condition |= Q(location_id=location_id, lot_id=lot_id)
    balances = _lock_balances(condition)
    ledger = {
        (row["location_id"], row["lot_id"]): row["total"]
        for row in StockMovement.objects.filter(condition)
        .values("location_id", "lot_id")
        .annotate(total=Sum("quantity"))
    }
    changed = {}
    for balance in balances:
        total = ledger.get((balance.location_id, balance.lot_id), 0)
        if balance.quantity != total:
            balance.quantity = total
            changed[balance.pk] = balance
    _save(changed, [])
    _movements_recorded(pairs={(b.location_id, b.item_id) for b in changed.values()})
    return len(changed)
