"""Reconciliation: the ledger is the record; balances are recomputed from it."""

from collections.abc import Sequence

from django.db import transaction
from django.db.models import Q, Sum

from ..models import Lot, StockMovement
from .common import ensure_balances, lock_balances, movements_recorded, save


@transaction.atomic(durable=True)
def balances_rebuild(*, keys: Sequence[tuple[int, int]]) -> int:
    """Set the cached balance of each (location_id, lot_id) to the sum of its movements.
    The ledger is the record; the balance is only a cache of it. Returns rows changed."""
    if not keys:
        return 0
    lots = Lot.objects.in_bulk({lot_id for _, lot_id in keys})
    ensure_balances({(location_id, lot_id, lots[lot_id].item_id) for location_id, lot_id in keys})
    condition = Q()
    for location_id, lot_id in sorted(keys):
        condition |= Q(location_id=location_id, lot_id=lot_id)
    balances = lock_balances(condition)
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
    save(changed, [])
    movements_recorded(pairs={(b.location_id, b.item_id) for b in changed.values()})
    return len(changed)
