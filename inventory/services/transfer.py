"""Moving stock between locations; both legs share one reference."""

import uuid
from collections.abc import Sequence
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from ..models import Location, MovementKind, StockBalance, StockMovement
from .common import (
    Errors,
    InsufficientStock,
    TransferLine,
    check_manages,
    check_positive,
    check_reference,
    ensure_balances,
    fefo_key,
    is_expired,
    lock_balances,
    movements_recorded,
    save,
    take_fefo,
    when,
)


@transaction.atomic(durable=True)
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
    errors = Errors()
    occurred_at = when(errors, occurred_at)
    on_day = timezone.localdate(occurred_at)
    check_reference(errors, reference)
    check_manages(errors, by, from_location, field="from_location")
    if from_location.pk == to_location.pk:
        errors.add("to_location", gettext("Choose a different location to send to."))
    if not to_location.is_active:
        errors.add(
            "to_location", gettext("%(location)s is closed.") % {"location": to_location.name}
        )
    if not lines:
        errors.add("lines", gettext("Add at least one line."))
    for index, line in enumerate(lines):
        if not line.item.is_active:
            errors.line(
                index, "item", gettext("%(item)s is no longer stocked.") % {"item": line.item.name}
            )
        check_positive(errors, index, line.quantity)
        if line.lot is not None:
            if line.lot.item_id != line.item.pk:
                errors.line(
                    index,
                    "lot",
                    gettext("That lot is not a lot of %(item)s.") % {"item": line.item.name},
                )
            elif is_expired(line.lot, on_day):
                errors.line(
                    index,
                    "lot",
                    gettext(
                        "Lot %(lot)s expired on %(expiry)s; write it off with an adjustment "
                        "instead."
                    )
                    % {"lot": line.lot.lot_number, "expiry": f"{line.lot.expires_on:%Y-%m-%d}"},
                )
    errors.raise_if_any()
    reference = reference or f"transfer:{uuid.uuid4().hex[:12]}"

    item_ids = sorted({line.item.pk for line in lines})
    candidate = set(
        StockBalance.objects.filter(
            location=from_location, item_id__in=item_ids, quantity__gt=0
        ).values_list("lot_id", "item_id")
    )
    ensure_balances({(to_location.pk, lot_id, item_id) for lot_id, item_id in candidate})
    rows = lock_balances(
        Q(location=from_location, item_id__in=item_ids)
        | Q(location=to_location, lot_id__in=[lot_id for lot_id, _ in candidate])
    )
    source = {b.lot_id: b for b in rows if b.location_id == from_location.pk}
    target = {b.lot_id: b for b in rows if b.location_id == to_location.pk}
    for index, line in enumerate(lines):
        if line.lot is not None and not (line.lot.pk in source and source[line.lot.pk].quantity):
            errors.line(
                index,
                "lot",
                gettext("Lot %(lot)s is not on hand at %(location)s.")
                % {
                    "lot": line.lot.lot_number or gettext("untracked"),
                    "location": from_location.name,
                },
            )
    errors.raise_if_any()

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
                    if b.item_id == line.item.pk and not is_expired(b.lot, on_day)
                ),
                key=fefo_key,
            )
        available = sum(max(b.quantity, 0) for b in rows_for_line)
        if available < line.quantity:
            raise InsufficientStock(
                item=line.item,
                location=from_location,
                requested=line.quantity,
                available=available,
            )
        moves.extend(take_fefo(usable=rows_for_line, quantity=line.quantity, changed=changed))

    # A lot received at the source between the first read and the lock has no row at
    # the destination yet: create and lock those now (rare; nobody else holds them).
    late = {(to_location.pk, b.lot_id, b.item_id) for b, _ in moves if b.lot_id not in target}
    if late:
        ensure_balances(late)
        for b in lock_balances(
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
            StockMovement(
                kind=MovementKind.TRANSFER_OUT, location=from_location, quantity=-take, **common
            )
        )
        movements.append(
            StockMovement(
                kind=MovementKind.TRANSFER_IN, location=to_location, quantity=take, **common
            )
        )
    created = save(changed, movements)
    movements_recorded(
        pairs={(loc.pk, item_id) for loc in (from_location, to_location) for item_id in item_ids}
    )
    return created
