"""Receiving a shipment into a location, lot by lot, with its funding source."""

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext

from org.privacy import personal_detail_error

from ..models import FundingSource, Location, Lot, MovementKind, StockBalance, StockMovement
from .common import (
    Errors,
    LargeQuantityNotConfirmed,
    ReceiptLine,
    check_manages,
    check_positive,
    check_reference,
    ensure_balances,
    lock_balances,
    movements_recorded,
    save,
    when,
)

# The documented maximums of a receipt, in base units. A balance is a 32-bit integer
# in the database, so no line, receipt or resulting balance may pass that limit.
MAX_RECEIPT_LINE_UNITS = 1_000_000
MAX_RECEIPT_UNITS = 10_000_000
MAX_BALANCE = 2_147_483_647


def grouped(number: int) -> str:
    """A count with thousands separators as the reader's language writes them."""
    return number_format(number, force_grouping=True)


def receipt_line_units(line: ReceiptLine) -> int:
    return line.quantity * (line.pack_size.units if line.pack_size is not None else 1)


def receipt_large_lines(lines: Sequence[ReceiptLine]) -> list[int]:
    """Indexes of the lines above SSP_LARGE_QUANTITY units, which staff confirm first
    (as at a visit): a misplaced zero in a receipt inflates the stock of a site."""
    return [
        index
        for index, line in enumerate(lines)
        if receipt_line_units(line) > settings.SSP_LARGE_QUANTITY
    ]


def receipt_check_confirmed(lines: Sequence[ReceiptLine], *, confirmed: bool) -> None:
    """Refuse a receipt with a line above SSP_LARGE_QUANTITY units that staff have not
    confirmed (the API's `confirm_large_quantity`, the receive page's tick box)."""
    large = receipt_large_lines(lines)
    if not large or confirmed:
        return
    line = lines[large[0]]
    message = gettext(
        "%(units)s units of %(item)s is unusually large: check the quantity and confirm to save."
    ) % {"units": grouped(receipt_line_units(line)), "item": line.item.name}
    raise LargeQuantityNotConfirmed(message, field_errors={"confirm_large_quantity": [message]})


def _receipt_lots(
    errors: Errors, lines: Sequence[ReceiptLine], funding_source: FundingSource
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
                gettext("Lot %(lot)s of %(item)s was recorded with expiry %(expiry)s.")
                % {
                    "lot": lot.lot_number,
                    "item": line.item.name,
                    "expiry": f"{lot.expires_on:%Y-%m-%d}",
                },
            )
    return existing


@transaction.atomic(durable=True)
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
    errors = Errors()
    occurred_at = when(errors, occurred_at)
    on_day = timezone.localdate(occurred_at)
    check_reference(errors, reference)
    check_manages(errors, by, location)
    if not location.is_active:
        errors.add("location", gettext("%(location)s is closed.") % {"location": location.name})
    if not funding_source.is_active:
        errors.add(
            "funding_source",
            gettext("%(source)s is no longer in use.") % {"source": funding_source.name},
        )
    if not lines:
        errors.add("lines", gettext("Add at least one line."))
    units = []
    for index, line in enumerate(lines):
        item = line.item
        units.append(0)
        if not item.is_active:
            errors.line(
                index, "item", gettext("%(item)s is no longer stocked.") % {"item": item.name}
            )
            continue
        if not funding_source.allows(item.category):
            errors.line(
                index,
                "item",
                gettext("%(source)s may not buy %(category)s items such as %(item)s.")
                % {
                    "source": funding_source.name,
                    # The label stays English in the model (for funders); shown translated.
                    "category": gettext(item.get_category_display()).lower(),
                    "item": item.name,
                },
            )
        if not check_positive(errors, index, line.quantity):
            continue
        multiplier = 1
        if line.pack_size is not None:
            if line.pack_size.item_id != item.pk:
                errors.line(
                    index,
                    "pack_size",
                    gettext("That pack size is not one of %(item)s's.") % {"item": item.name},
                )
                continue
            multiplier = line.pack_size.units
        units[index] = line.quantity * multiplier
        lot_message = personal_detail_error(line.lot_number)
        if lot_message:
            errors.line(index, "lot_number", lot_message)
        if units[index] > MAX_RECEIPT_LINE_UNITS:
            errors.line(
                index,
                "quantity",
                gettext(
                    "%(units)s units is more than one receipt line may hold (%(max)s); "
                    "check the quantity."
                )
                % {"units": grouped(units[index]), "max": grouped(MAX_RECEIPT_LINE_UNITS)},
            )
            continue
        if item.is_lot_tracked:
            if not line.lot_number.strip():
                errors.line(
                    index,
                    "lot_number",
                    gettext("%(item)s is tracked by lot: enter the lot.") % {"item": item.name},
                )
            if line.expires_on is None:
                errors.line(
                    index,
                    "expires_on",
                    gettext("%(item)s is tracked by lot: enter expiry.") % {"item": item.name},
                )
            elif line.expires_on < on_day:
                errors.line(
                    index, "expires_on", gettext("This lot has expired; do not receive it.")
                )
        elif line.lot_number.strip() or line.expires_on:
            errors.line(
                index,
                "lot_number",
                gettext("%(item)s is not tracked by lot: leave lot and expiry.")
                % {"item": item.name},
            )
        if line.unit_cost is not None and line.unit_cost < 0:
            errors.line(index, "unit_cost", gettext("A cost cannot be negative."))
    if sum(units) > MAX_RECEIPT_UNITS:
        errors.add(
            "lines",
            gettext(
                "This receipt totals %(units)s units, more than one receipt may hold "
                "(%(max)s); split it or check the quantities."
            )
            % {"units": grouped(sum(units)), "max": grouped(MAX_RECEIPT_UNITS)},
        )
    errors.raise_if_any()

    lots = _receipt_lots(errors, lines, funding_source)
    errors.raise_if_any()

    per_lot: dict[Lot, int] = defaultdict(int)
    for index, line in enumerate(lines):
        per_lot[lots[(line.item.pk, line.lot_number.strip())]] += units[index]
    ensure_balances({(location.pk, lot.pk, lot.item_id) for lot in per_lot})
    balances = {
        b.lot_id: b
        for b in lock_balances(Q(location=location, lot_id__in=[lot.pk for lot in per_lot]))
    }
    changed: dict[int, StockBalance] = {}
    movements = []
    for lot, quantity in per_lot.items():
        balance = balances[lot.pk]
        if balance.quantity + quantity > MAX_BALANCE:
            errors.add(
                "lines",
                gettext(
                    "%(location)s would hold more than %(max)s units of lot %(lot)s: "
                    "the stock cannot be recorded."
                )
                % {
                    "location": location.name,
                    "max": grouped(MAX_BALANCE),
                    "lot": lot.lot_number or lot.item,
                },
            )
            continue
        balance.quantity += quantity
        changed[balance.pk] = balance
        movements.append(
            StockMovement(
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
    errors.raise_if_any()
    created = save(changed, movements)
    movements_recorded(pairs={(location.pk, lot.item_id) for lot in per_lot})
    return created
