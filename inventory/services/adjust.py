"""Adjusting one lot at a location, with a reason."""

from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext

from ..models import AdjustmentReason, Location, Lot, MovementKind, StockMovement
from .common import (
    Errors,
    InsufficientStock,
    check_manages,
    check_reference,
    ensure_balances,
    is_count,
    lock_balances,
    movements_recorded,
    save,
    when,
)

# Reasons that can only take stock away, or only add it. A correction goes either way.
REMOVING_REASONS = {AdjustmentReason.DAMAGED, AdjustmentReason.EXPIRED, AdjustmentReason.LOST}
ADDING_REASONS = {AdjustmentReason.FOUND}
# Written by the ledger itself (a reversal; stock found at a dispense), never by hand.
RESERVED_REASONS = {AdjustmentReason.REVERSAL, AdjustmentReason.SHORTFALL}


@transaction.atomic(durable=True)
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
    errors = Errors()
    occurred_at = when(errors, occurred_at)
    check_reference(errors, reference)
    check_manages(errors, by, location)
    if reason not in AdjustmentReason.values or reason in RESERVED_REASONS:
        errors.add("reason", gettext("Choose damaged, expired, lost, found or correction."))
    if not is_count(quantity):
        errors.add("quantity", gettext("Enter a whole number."))
    elif quantity == 0:
        errors.add("quantity", gettext("Enter a quantity other than 0."))
    elif reason in REMOVING_REASONS and quantity > 0:
        errors.add(
            "quantity",
            gettext("Damaged, expired or lost stock is removed: use a negative number."),
        )
    elif reason in ADDING_REASONS and quantity < 0:
        errors.add("quantity", gettext("Found stock is added: use a positive number."))
    errors.raise_if_any()

    if quantity > 0:
        ensure_balances({(location.pk, lot.pk, lot.item_id)})
    rows = lock_balances(Q(location=location, lot=lot))
    balance = rows[0] if rows else None
    current = balance.quantity if balance else 0
    if current + quantity < 0:
        raise InsufficientStock(
            item=lot.item, location=location, requested=-quantity, available=current
        )
    balance.quantity += quantity
    movement = StockMovement(
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
    (created,) = save({balance.pk: balance}, [movement])
    movements_recorded(pairs={(location.pk, lot.item_id)})
    return created
