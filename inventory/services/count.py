"""Physical counts: the count becomes the balance; each difference is a movement."""

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext

from ..models import (
    COUNT_REASONS,
    Location,
    MovementKind,
    StockBalance,
    StockCount,
    StockCountLine,
    StockMovement,
)
from .common import (
    CountLine,
    Errors,
    check_manages,
    ensure_balances,
    fefo_key,
    is_count,
    lock_balances,
    movements_recorded,
    save,
    take_fefo,
    when,
)


def stock_count(
    *,
    location: Location,
    counts: Sequence[CountLine],
    by,
    occurred_at: datetime | None = None,
) -> list[StockMovement]:
    """Record a physical count; returns the movements of its differences (see below)."""
    return stock_count_record(location=location, counts=counts, by=by, occurred_at=occurred_at)[1]


@transaction.atomic(durable=True)
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
    every line (booked and counted) and its reference is the movements' reference.
    Each line that differs needs a reason (COUNT_REASONS), kept on the line and on its
    movements."""
    errors = Errors()
    occurred_at = when(errors, occurred_at)
    check_manages(errors, by, location)
    if not counts:
        errors.add("lines", gettext("Count at least one line."))
    seen_lots, seen_items = set(), set()
    for index, line in enumerate(counts):
        if not is_count(line.counted):
            errors.line(index, "counted", gettext("Enter a whole number."))
        elif line.counted < 0:
            errors.line(index, "counted", gettext("A count cannot be negative."))
        if (line.lot is None) == (line.item is None):
            errors.line(index, "lot", gettext("Count a lot, or an item not tracked by lot."))
            continue
        item = line.item or line.lot.item
        if line.item is not None and item.is_lot_tracked:
            errors.line(
                index,
                "item",
                gettext("%(item)s is tracked by lot: count each lot.") % {"item": item.name},
            )
        key = line.lot.pk if line.lot else None
        if (key in seen_lots) if key else (item.pk in seen_items):
            errors.line(index, "lot", gettext("This line is counted twice."))
        if key:
            seen_lots.add(key)
        else:
            seen_items.add(item.pk)
    overlap = {line.lot.item_id for line in counts if line.lot} & seen_items
    if overlap:
        errors.add("lines", gettext("Count an item either as a whole or by lot, not both."))
    errors.raise_if_any()

    lot_lines = [line for line in counts if line.lot is not None]
    item_lines = [line for line in counts if line.item is not None]
    ensure_balances(
        {(location.pk, line.lot.pk, line.lot.item_id) for line in lot_lines if line.counted > 0}
    )
    rows = lock_balances(
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

    def reason_for(line: CountLine, difference: int) -> str:
        # The books are read under the lock, so only here is it known which lines differ.
        if not difference:
            return ""
        if line.reason not in COUNT_REASONS:
            errors.line(
                list(counts).index(line),
                "reason",
                gettext("Choose why the shelf differs from the books (%(difference)s).")
                % {"difference": f"{difference:+d}"},
            )
        return line.reason

    changed: dict[int, StockBalance] = {}
    deltas: list[tuple[StockBalance, int, str]] = []
    count_lines: list[StockCountLine] = []
    for line in lot_lines:
        balance = by_lot.get(line.lot.pk)
        booked = balance.quantity if balance else 0
        reason = reason_for(line, line.counted - booked)
        count_lines.append(
            StockCountLine(
                item_id=line.lot.item_id,
                lot=line.lot,
                expected=booked,
                counted=line.counted,
                reason=reason,
            )
        )
        if balance is not None and line.counted != booked:
            deltas.append((balance, line.counted - booked, reason))
            balance.quantity = line.counted
            changed[balance.pk] = balance
    for line in item_lines:
        held = sorted(by_item.get(line.item.pk, []), key=fefo_key)
        booked = sum(b.quantity for b in held)
        difference = line.counted - booked
        reason = reason_for(line, difference)
        count_lines.append(
            StockCountLine(item=line.item, expected=booked, counted=line.counted, reason=reason)
        )
        if difference > 0:
            if not held:
                errors.line(
                    list(counts).index(line),
                    "item",
                    gettext("No %(item)s was ever received here: record a receipt first.")
                    % {"item": line.item.name},
                )
                continue
            newest = max(held, key=lambda b: b.lot_id)
            newest.quantity += difference
            changed[newest.pk] = newest
            deltas.append((newest, difference, reason))
        elif difference < 0:
            for balance, take in take_fefo(usable=held, quantity=-difference, changed=changed):
                deltas.append((balance, -take, reason))
    errors.raise_if_any()

    count = StockCount.objects.create(location=location, occurred_at=occurred_at, recorded_by=by)
    for count_line in count_lines:
        count_line.count = count
    StockCountLine.objects.bulk_create(count_lines)
    movements = [
        StockMovement(
            kind=MovementKind.COUNT,
            item_id=balance.item_id,
            lot_id=balance.lot_id,
            location=location,
            quantity=delta,
            reason=reason,
            reference=count.reference,
            occurred_at=occurred_at,
            recorded_by=by,
        )
        for balance, delta, reason in deltas
    ]
    created = save(changed, movements)
    movements_recorded(
        pairs={(location.pk, line.lot.item_id) for line in lot_lines}
        | {(location.pk, line.item.pk) for line in item_lines}
    )
    return count, created
