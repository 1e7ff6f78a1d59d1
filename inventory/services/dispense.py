"""Dispense (supplies handed out) and its reversal (a visit corrected or voided)."""

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from ..models import AdjustmentReason, Item, Location, MovementKind, StockBalance, StockMovement
from ..selectors import kit_components, lines_expand
from .common import (
    DispenseLine,
    Errors,
    InsufficientStock,
    check_positive,
    check_reference,
    fefo_key,
    is_expired,
    lock_balances,
    movements_recorded,
    require_transaction,
    save,
    take_fefo,
    when,
)


def _expand_dispense_lines(errors: Errors, lines: Sequence[DispenseLine]) -> dict[Item, int]:
    """Merge lines per item (kits expanded), keeping the order items first appear in."""
    components = kit_components(line.kit for line in lines if line.kit is not None)
    for index, line in enumerate(lines):
        if (line.item is None) == (line.kit is None):
            errors.line(index, "item", "Choose an item or a kit.")
            continue
        if not check_positive(errors, index, line.quantity):
            continue
        if line.item is not None:
            if not line.item.is_active:
                errors.line(index, "item", f"{line.item.name} is no longer stocked.")
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
    errors.raise_if_any()
    return lines_expand(lines, components=components)


def _dispense(
    *,
    location: Location,
    lines: Sequence[DispenseLine],
    by,
    reference: str,
    occurred_at: datetime | None = None,
    by_owner: bool,
) -> list[StockMovement]:
    """Take stock out at `location`, first-expiry-first-out over lots not expired on the
    day it happened. All or nothing: raises InsufficientStock naming the first short item.
    """
    errors = Errors()
    occurred_at = when(errors, occurred_at)
    check_reference(errors, reference, by_owner=by_owner)
    if not lines:
        errors.add("lines", "Add at least one line.")
    if not location.is_active:
        errors.add("location", f"{location.name} is closed.")
    demand = _expand_dispense_lines(errors, lines)

    on_day = timezone.localdate(occurred_at)
    balances = lock_balances(Q(location=location, item_id__in=[item.pk for item in demand]))
    usable = defaultdict(list)
    for balance in balances:
        if balance.quantity > 0 and not is_expired(balance.lot, on_day):
            usable[balance.item_id].append(balance)

    changed: dict[int, StockBalance] = {}
    movements = []
    for item, quantity in demand.items():
        rows = sorted(usable[item.pk], key=fefo_key)
        available = sum(b.quantity for b in rows)
        if available < quantity:
            raise InsufficientStock(
                item=item, location=location, requested=quantity, available=available
            )
        for balance, take in take_fefo(usable=rows, quantity=quantity, changed=changed):
            movements.append(
                StockMovement(
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
    created = save(changed, movements)
    movements_recorded(pairs={(location.pk, item.pk) for item in demand})
    return created


def _reverse(
    *, reference: str, by, occurred_at: datetime | None = None, by_owner: bool
) -> list[StockMovement]:
    """Undo the net effect of every movement carrying `reference`, lot by lot, with
    reversal adjustments under the same reference. A second call writes nothing."""
    errors = Errors()
    occurred_at = when(errors, occurred_at)
    if not reference:
        errors.add("reference", "Name the reference to reverse.")
    check_reference(errors, reference, by_owner=by_owner)
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
    balances = {(b.location_id, b.lot_id): b for b in lock_balances(condition)}
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
            StockMovement(
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
    created = save(changed, movements)
    movements_recorded(pairs=pairs)
    return created


# Each operation in two forms: stand-alone (its own durable transaction: the API, the
# pages), which refuses a reference another app registered (reference_owner_register),
# and as part of a caller's transaction: the owner recording, correcting or undoing
# its own record's supplies under its own reference.


@transaction.atomic(durable=True)
def stock_dispense(
    *,
    location: Location,
    lines: Sequence[DispenseLine],
    by,
    reference: str,
    occurred_at: datetime | None = None,
) -> list[StockMovement]:
    return _dispense(
        location=location,
        lines=lines,
        by=by,
        reference=reference,
        occurred_at=occurred_at,
        by_owner=False,
    )


def stock_dispense_in_transaction(
    *,
    location: Location,
    lines: Sequence[DispenseLine],
    by,
    reference: str,
    occurred_at: datetime | None = None,
    savepoint: bool = True,
) -> list[StockMovement]:
    """`savepoint=False` for a caller that abandons its whole transaction on any error
    (a visit being recorded): two statements fewer."""
    require_transaction("stock_dispense_in_transaction")
    # A savepoint: a refused dispense leaves the caller's transaction usable.
    with transaction.atomic(savepoint=savepoint):
        return _dispense(
            location=location,
            lines=lines,
            by=by,
            reference=reference,
            occurred_at=occurred_at,
            by_owner=True,
        )


@transaction.atomic(durable=True)
def stock_reverse(
    *, reference: str, by, occurred_at: datetime | None = None
) -> list[StockMovement]:
    return _reverse(reference=reference, by=by, occurred_at=occurred_at, by_owner=False)


def stock_reverse_in_transaction(
    *, reference: str, by, occurred_at: datetime | None = None
) -> list[StockMovement]:
    require_transaction("stock_reverse_in_transaction")
    with transaction.atomic():
        return _reverse(reference=reference, by=by, occurred_at=occurred_at, by_owner=True)
