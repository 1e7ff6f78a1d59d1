"""Dispense (supplies handed out) and its reversal (a visit corrected or voided).

A dispense may be asked to record a shortfall instead of refusing it: supplies were
physically handed over although the books held fewer (a miscount, a delivery not yet
entered). The units missing from the books are then added as an explicit, attributed
adjustment with the reason "unrecorded stock found at dispense" (SHORTFALL), under the
dispense's own reference and on the item's placeholder lot `UNRECORDED` (funding
source "Unrecorded stock", no expiry), and the dispense takes them from there. So the
balance never goes negative, the ledger still sums, funders' lots are not credited
with units nobody knows they bought, and a count-discrepancy alert asks a manager to
count the item (inventory/alerts/conditions.py).

On PostgreSQL the lock, the first-expiry-first-out pick, the balance update and the
ledger insert are one statement (DISPENSE_SQL); SQLite takes the same steps through the
ORM (`_dispense_orm`). tests/inventory/test_dispense_sql.py holds the two to the same ledger.
"""

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from django.db import connection, transaction
from django.db.models import Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext

from org.lookups import prepared_cursor

from ..models import (
    AdjustmentReason,
    AlertRecheck,
    FundingSource,
    Item,
    Location,
    Lot,
    MovementKind,
    StockBalance,
    StockMovement,
)
from ..selectors import kit_components, lines_expand
from .common import (
    RECHECK_CONFLICT_LOCKING,
    DispenseLine,
    Errors,
    InsufficientStock,
    check_positive,
    check_reference,
    ensure_balances,
    fefo_key,
    is_expired,
    lock_balances,
    movements_recorded,
    rechecks_mark,
    rechecks_marked,
    require_transaction,
    save,
    take_fefo,
    when,
)

# The dispense as one statement (PostgreSQL): lock every balance of the asked items at
# the location in pk order (the same lock order as `lock_balances`), pick first-expiry-
# first-out with a running sum over the usable lots (not expired on the day, quantity
# > 0; the same order as `fefo_key`: expiry, no expiry last, then lot id), and — only
# if no item is short — take the units and log them. Short items come back with what
# was available instead, and nothing is written. The CHECK (quantity >= 0) and the
# append-only trigger still guard the tables underneath.
_BALANCE = StockBalance._meta.db_table
_LOT = Lot._meta.db_table
_MOVEMENT = StockMovement._meta.db_table
_RECHECK = AlertRecheck._meta.db_table
# The statement also marks each item's (location, item) pair due an alert re-check
# (see common.py, "The alerts hook"), after the balances, and returns the pairs it marked
# newly: only those queue a check job.
DISPENSE_SQL = f"""
WITH demand AS MATERIALIZED (
    SELECT d.item_id, d.wanted, d.position
    FROM unnest(%(items)s::bigint[], %(quantities)s::bigint[])
        WITH ORDINALITY AS d(item_id, wanted, position)
),
locked AS MATERIALIZED (
    SELECT b.id, b.item_id, b.lot_id, b.quantity, lot.expires_on
    FROM {_BALANCE} b JOIN {_LOT} lot ON lot.id = b.lot_id
    WHERE b.location_id = %(location)s AND b.item_id = ANY(%(items)s::bigint[])
    ORDER BY b.id
    FOR UPDATE OF b
),
usable AS MATERIALIZED (
    SELECT l.id, l.item_id, l.lot_id, l.quantity, l.expires_on, d.wanted, d.position,
        sum(l.quantity) OVER (
            PARTITION BY l.item_id ORDER BY l.expires_on NULLS LAST, l.lot_id
            ROWS UNBOUNDED PRECEDING
        ) - l.quantity AS before
    FROM locked l JOIN demand d ON d.item_id = l.item_id
    WHERE l.quantity > 0 AND (l.expires_on IS NULL OR l.expires_on >= %(on_day)s)
),
short AS MATERIALIZED (
    SELECT d.position, d.item_id, d.wanted, coalesce(sum(u.quantity), 0) AS available
    FROM demand d LEFT JOIN usable u ON u.item_id = d.item_id
    GROUP BY d.position, d.item_id, d.wanted
    HAVING coalesce(sum(u.quantity), 0) < d.wanted
),
taken AS MATERIALIZED (
    SELECT id, item_id, lot_id, position, expires_on, least(quantity, wanted - before) AS units
    FROM usable
    WHERE before < wanted AND NOT EXISTS (SELECT FROM short)
),
updated AS (
    UPDATE {_BALANCE} b SET quantity = b.quantity - t.units
    FROM taken t WHERE b.id = t.id
    RETURNING b.id
),
moved AS (
    INSERT INTO {_MOVEMENT} (kind, item_id, lot_id, location_id, quantity, reason,
        reference, occurred_at, recorded_at, recorded_by_id)
    SELECT %(kind)s, t.item_id, t.lot_id, %(location)s, -t.units, '',
        %(reference)s, %(occurred_at)s, %(recorded_at)s, %(by)s
    FROM taken t JOIN updated u ON u.id = t.id
    ORDER BY t.position, t.expires_on NULLS LAST, t.lot_id
    RETURNING id, item_id, lot_id, quantity
),
marked AS (
    INSERT INTO {_RECHECK} (location_id, item_id, marked_at)
    SELECT %(location)s, d.item_id, %(recorded_at)s
    FROM demand d
    WHERE NOT EXISTS (SELECT FROM short)
    ORDER BY d.item_id
    {RECHECK_CONFLICT_LOCKING}
    RETURNING item_id
)
SELECT 'moved', id, item_id, lot_id, quantity FROM moved
UNION ALL
SELECT 'short', position, item_id, available, wanted FROM short
UNION ALL
SELECT 'marked', NULL, item_id, NULL, NULL FROM marked
"""


def _expand_dispense_lines(errors: Errors, lines: Sequence[DispenseLine]) -> dict[Item, int]:
    """Merge lines per item (kits expanded), keeping the order items first appear in."""
    components = kit_components(line.kit for line in lines if line.kit is not None)
    for index, line in enumerate(lines):
        if (line.item is None) == (line.kit is None):
            errors.line(index, "item", gettext("Choose an item or a kit."))
            continue
        if not check_positive(errors, index, line.quantity):
            continue
        if line.item is not None:
            if not line.item.is_active:
                errors.line(
                    index,
                    "item",
                    gettext("%(item)s is no longer stocked.") % {"item": line.item.name},
                )
            continue
        if not line.kit.is_active or not components[line.kit.pk]:
            errors.line(index, "kit", gettext("%(kit)s is not available.") % {"kit": line.kit.name})
            continue
        for component in components[line.kit.pk]:
            if not component.item.is_active:
                errors.line(
                    index,
                    "kit",
                    gettext("%(kit)s contains %(item)s, not stocked.")
                    % {"kit": line.kit.name, "item": component.item.name},
                )
                break
    errors.raise_if_any()
    return lines_expand(lines, components=components)


SHORTFALL_LOT_NUMBER = "UNRECORDED"
SHORTFALL_FUNDING_CODE = "unrecorded"


def shortfall_lots(items: Sequence[Item]) -> dict[int, Lot]:
    """The placeholder lot of each item for stock found at a dispense, made on first need.

    Its funding source is inactive, so no receipt can name it. get_or_create in item
    order: two dispenses making the same lots at once insert them in the same order."""
    source, _ = FundingSource.objects.get_or_create(
        code=SHORTFALL_FUNDING_CODE,
        defaults={"name": "Unrecorded stock (found at dispense)", "is_active": False},
    )
    lots = {}
    for item in sorted(items, key=lambda item: item.pk):
        lots[item.pk], _ = Lot.objects.get_or_create(
            item=item, lot_number=SHORTFALL_LOT_NUMBER, funding_source=source
        )
    return lots


def _found_at_dispense(
    *,
    location: Location,
    shortfalls: dict[Item, int],
    locked: list[StockBalance],
    usable: dict[int, list[StockBalance]],
    changed: dict[int, StockBalance],
    movement,
) -> list[StockMovement]:
    """Add each short item's missing units to its placeholder lot at the location, as
    SHORTFALL adjustments, and make them usable by the dispense that follows."""
    lots = shortfall_lots(list(shortfalls))
    rows = {b.lot_id: b for b in locked if b.lot_id in {lot.pk for lot in lots.values()}}
    missing = {(location.pk, lot.pk, item_id) for item_id, lot in lots.items()} - {
        (location.pk, lot_id, row.item_id) for lot_id, row in rows.items()
    }
    if missing:
        # Rows new to this location. Every other row this dispense changes is already
        # locked; these are inserted sorted and locked in one more ordered statement.
        ensure_balances(missing)
        new = lock_balances(Q(location=location, lot_id__in=[lot for _, lot, _ in missing]))
        rows.update({b.lot_id: b for b in new})
    for item in shortfalls:
        row = rows[lots[item.pk].pk]
        if all(b.pk != row.pk for b in usable[item.pk]):
            usable[item.pk].append(row)
    return _found_units(shortfalls, rows=rows, lots=lots, changed=changed, movement=movement)


def _found_units(
    shortfalls: dict[Item, int],
    *,
    rows: dict[int, StockBalance],
    lots: dict[int, Lot],
    changed: dict[int, StockBalance],
    movement,
) -> list[StockMovement]:
    """Each short item's missing units onto its placeholder lot's row (by lot id in
    `rows`), as SHORTFALL adjustments; the rows go into `changed`."""
    movements = []
    for item, units in shortfalls.items():
        row = rows[lots[item.pk].pk]
        row.quantity += units
        changed[row.pk] = row
        movements.append(
            movement(
                kind=MovementKind.ADJUSTMENT,
                reason=AdjustmentReason.SHORTFALL,
                item=item,
                lot=row.lot,
                quantity=units,
            )
        )
    return movements


def _dispense(
    *,
    location: Location,
    lines: Sequence[DispenseLine],
    by,
    reference: str,
    occurred_at: datetime | None = None,
    by_owner: bool,
    record_shortfall: bool = False,
) -> list[StockMovement]:
    """Take stock out at `location`, first-expiry-first-out over lots not expired on the
    day it happened. All or nothing: raises InsufficientStock naming the first short
    item, unless `record_shortfall`, which records the missing units as found instead.
    """
    errors = Errors()
    occurred_at = when(errors, occurred_at)
    check_reference(errors, reference, by_owner=by_owner)
    if not lines:
        errors.add("lines", gettext("Add at least one line."))
    if not location.is_active:
        errors.add("location", gettext("%(location)s is closed.") % {"location": location.name})
    demand = _expand_dispense_lines(errors, lines)

    on_day = timezone.localdate(occurred_at)

    def movement(**fields) -> StockMovement:
        return StockMovement(
            location=location,
            reference=reference,
            occurred_at=occurred_at,
            recorded_by=by,
            **fields,
        )

    # PostgreSQL: one statement for the lock, the FEFO pick, the balances, the ledger and
    # the alert re-check marks. Elsewhere (SQLite, for development) the same steps
    # through the ORM.
    take = _dispense_sql if connection.vendor == "postgresql" else _dispense_orm
    created, marked = take(
        location=location,
        demand=demand,
        on_day=on_day,
        movement=movement,
        record_shortfall=record_shortfall,
    )
    rechecks_marked(pairs={(location.pk, item_id) for item_id in marked})
    return created


def _dispense_orm(
    *,
    location: Location,
    demand: dict[Item, int],
    on_day,
    movement,
    record_shortfall: bool,
) -> tuple[list[StockMovement], set[int]]:
    balances = lock_balances(Q(location=location, item_id__in=[item.pk for item in demand]))
    usable = defaultdict(list)
    for balance in balances:
        if balance.quantity > 0 and not is_expired(balance.lot, on_day):
            usable[balance.item_id].append(balance)

    shortfalls = {}
    for item, quantity in demand.items():
        available = sum(b.quantity for b in usable[item.pk])
        if available < quantity:
            if not record_shortfall:
                raise InsufficientStock(
                    item=item, location=location, requested=quantity, available=available
                )
            shortfalls[item] = quantity - available

    changed: dict[int, StockBalance] = {}
    movements = []
    if shortfalls:
        movements += _found_at_dispense(
            location=location,
            shortfalls=shortfalls,
            locked=balances,
            usable=usable,
            changed=changed,
            movement=movement,
        )
    for item, quantity in demand.items():
        rows = sorted(usable[item.pk], key=fefo_key)
        for balance, take in take_fefo(usable=rows, quantity=quantity, changed=changed):
            movements.append(
                movement(kind=MovementKind.DISPENSE, item=item, lot=balance.lot, quantity=-take)
            )
    created = save(changed, movements)
    marked = rechecks_mark({(location.pk, item.pk) for item in demand})
    return created, {item_id for _, item_id in marked}


def _dispense_sql(
    *,
    location: Location,
    demand: dict[Item, int],
    on_day,
    movement,
    record_shortfall: bool,
) -> tuple[list[StockMovement], set[int]]:
    """The movements written, and the items whose pairs the statement marked newly."""
    written, short, marked = _take_sql(
        location=location, demand=demand, on_day=on_day, movement=movement
    )
    if not short:
        return written, marked
    items = list(demand)
    if not record_shortfall:
        position, _item_id, available, wanted = short[0]
        raise InsufficientStock(
            item=items[position - 1], location=location, requested=wanted, available=available
        )
    # Rare: record what the books lack (the balances asked for stay locked by the
    # statement that found them short), then take again; now nothing is short.
    found = _found_sql(
        location=location,
        shortfalls={
            items[position - 1]: wanted - available for position, _, available, wanted in short
        },
        movement=movement,
    )
    written, short, marked = _take_sql(
        location=location, demand=demand, on_day=on_day, movement=movement
    )
    if short:
        raise RuntimeError(f"still short after recording the shortfall: {short}")
    return found + written, marked


def _found_sql(*, location: Location, shortfalls: dict[Item, int], movement) -> list[StockMovement]:
    """`_found_at_dispense` for the one-statement path: the missing units onto each
    item's placeholder lot, as SHORTFALL adjustments, before the dispense takes them."""
    lots = shortfall_lots(list(shortfalls))
    # Rows new to this location are inserted sorted, then locked in one more ordered
    # statement (the rows already there are locked by this transaction already).
    ensure_balances({(location.pk, lot.pk, item_id) for item_id, lot in lots.items()})
    rows = {
        b.lot_id: b
        for b in lock_balances(Q(location=location, lot_id__in=[lot.pk for lot in lots.values()]))
    }
    changed: dict[int, StockBalance] = {}
    movements = _found_units(shortfalls, rows=rows, lots=lots, changed=changed, movement=movement)
    return save(changed, movements)


def _take_sql(*, location: Location, demand: dict[Item, int], on_day, movement):
    """Run DISPENSE_SQL. Returns (the movements written, in ledger order; the short
    items as (position in demand from 1, item id, available, wanted), first first; the
    ids of the items whose pairs it marked newly), and when any item is short nothing
    was written."""
    template = movement(kind=MovementKind.DISPENSE, quantity=0)
    recorded_at = timezone.now()
    with prepared_cursor() as cursor:
        cursor.execute(
            DISPENSE_SQL,
            {
                "items": [item.pk for item in demand],
                "quantities": list(demand.values()),
                "location": location.pk,
                "on_day": on_day,
                "kind": MovementKind.DISPENSE.value,
                "reference": template.reference,
                "occurred_at": template.occurred_at,
                "recorded_at": recorded_at,
                "by": template.recorded_by_id,
            },
        )
        rows = cursor.fetchall()
    short = sorted(tuple(row[1:]) for row in rows if row[0] == "short")
    if short:
        return [], short, set()
    items = {item.pk: item for item in demand}
    written = []
    marked = set()
    taken: dict[int, int] = defaultdict(int)
    for kind, pk, item_id, lot_id, quantity in sorted(rows, key=lambda row: row[1] or 0):
        if kind == "marked":
            marked.add(item_id)
            continue
        done = movement(
            kind=MovementKind.DISPENSE, item=items[item_id], lot_id=lot_id, quantity=quantity
        )
        # As if read back: the row exists, with these values.
        done.pk = pk
        done.recorded_at = recorded_at
        done._state.adding = False
        done._state.db = connection.alias
        written.append(done)
        taken[item_id] -= quantity
    if taken != {item.pk: units for item, units in demand.items()}:
        # Cannot happen while the statement holds the locks; never commit it if it does.
        raise RuntimeError(f"dispense statement took {dict(taken)} for {demand}")
    return written, [], marked


def _reverse(
    *, reference: str, by, occurred_at: datetime | None = None, by_owner: bool
) -> list[StockMovement]:
    """Undo the net effect of every movement carrying `reference`, lot by lot, with
    reversal adjustments under the same reference. A second call writes nothing."""
    errors = Errors()
    occurred_at = when(errors, occurred_at)
    if not reference:
        errors.add("reference", gettext("Name the reference to reverse."))
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
    # Stock found at a dispense is withdrawn as such (a negative SHORTFALL), apart from
    # the dispense's own reversal: consumption, funders' figures and the "count this
    # item" alert read the two kinds apart.
    is_found = Q(kind=MovementKind.ADJUSTMENT, reason=AdjustmentReason.SHORTFALL)
    nets = (
        StockMovement.objects.filter(reference=reference)
        .values("location_id", "lot_id", "item_id")
        .annotate(
            net=Coalesce(Sum("quantity", filter=~is_found), 0),
            found=Coalesce(Sum("quantity", filter=is_found), 0),
        )
        .order_by("location_id", "lot_id")
    )
    changed: dict[int, StockBalance] = {}
    movements = []
    pairs = set()
    for row in nets:
        if not row["net"] and not row["found"]:
            continue
        balance = balances[(row["location_id"], row["lot_id"])]
        delta = -row["net"] - row["found"]
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
        for reason, quantity in (
            (AdjustmentReason.REVERSAL, -row["net"]),
            (AdjustmentReason.SHORTFALL, -row["found"]),
        ):
            if quantity:
                movements.append(
                    StockMovement(
                        kind=MovementKind.ADJUSTMENT,
                        reason=reason,
                        item_id=row["item_id"],
                        lot_id=row["lot_id"],
                        location_id=row["location_id"],
                        quantity=quantity,
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
    record_shortfall: bool = False,
    savepoint: bool = True,
) -> list[StockMovement]:
    """Dispense inside the caller's transaction. `record_shortfall`: supplies already
    handed over are never refused; what the books lack is recorded as found (SHORTFALL
    movements in the result) and the dispense goes ahead. `savepoint=False` for a caller
    that abandons its whole transaction on any error (a visit being recorded): two
    statements fewer."""
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
            record_shortfall=record_shortfall,
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
