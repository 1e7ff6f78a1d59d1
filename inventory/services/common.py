"""What every stock write shares: errors, line shapes, validation, locking, the alerts hook.

Balances are locked with one `SELECT … FOR UPDATE … ORDER BY pk` per operation, so two
operations touching the same rows always take the locks in the same order and cannot
deadlock; rows that must exist first are inserted beforehand with
`ON CONFLICT DO NOTHING`, sorted.
"""

import contextlib
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from org.privacy import personal_detail_error
from org.time import is_in_future
from outbox.services import job_enqueue

from ..models import AlertRecheck, Item, Kit, Location, Lot, PackSize, StockBalance, StockMovement
from ..selectors import can_manage_location

# A movement dated a little ahead is clock skew between devices; more is a mistake.
REFERENCE_MAX = StockMovement._meta.get_field("reference").max_length


# --- Errors ------------------------------------------------------------------------


class StockError(Exception):
    """A refused stock operation. The API turns it into one error body (org.api_errors)."""

    def __init__(self, message: str, *, field_errors: dict | None = None):
        super().__init__(message)
        self.field_errors = field_errors or {}


class LargeQuantityNotConfirmed(StockError):
    """Staff must confirm an unusually large receipt line (SSP_LARGE_QUANTITY)."""


class InsufficientStock(StockError):
    def __init__(self, *, item: Item, location: Location, requested: int, available: int):
        self.item = item
        self.location = location
        self.requested = requested
        self.available = available
        super().__init__(
            gettext(
                "Not enough %(item)s at %(location)s: %(requested)s requested, "
                "%(available)s available."
            )
            % {
                "item": item.name,
                "location": location.name,
                "requested": requested,
                "available": available,
            }
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
    # Why the shelf differs from the books (one of COUNT_REASONS); needed only when it does.
    reason: str = ""


# --- The alerts hook ---------------------------------------------------------------

# A write marks the (location, item) pairs it touched as due a re-check (AlertRecheck)
# and queues a check job only for the pairs it marked newly: while a check is queued and
# has not started, further writes on the pair add nothing. The check removes the marks
# before it reads the stock (`alert_rechecks_claim`), so a write committed after that
# marks the pair anew and queues another check. Marking locks the pair's existing mark
# (ON CONFLICT … DO UPDATE … WHERE false writes nothing but locks the row), so a check's
# removal waits for the writes that found the mark there to commit and then sees them;
# a write that marks while the removal is under way waits for it and inserts a new mark.
# Locks are taken after the balances' and in (location, item) order.

_RECHECK = AlertRecheck._meta.db_table
RECHECK_TASK = "inventory.tasks.alerts_check"


# PostgreSQL's: the existing mark is locked, not written (see above).
RECHECK_CONFLICT_LOCKING = (
    "ON CONFLICT (location_id, item_id) DO UPDATE SET marked_at = EXCLUDED.marked_at WHERE false"
)


def recheck_conflict_sql() -> str:
    """The ON CONFLICT clause of a marking INSERT into AlertRecheck."""
    if connection.vendor == "postgresql":
        return RECHECK_CONFLICT_LOCKING
    return "ON CONFLICT (location_id, item_id) DO NOTHING"  # SQLite: writers are serialised


def rechecks_mark(pairs: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """Mark the pairs due a re-check; return those that were not marked yet."""
    ordered = sorted(pairs)
    values = ", ".join(["(%s, %s, %s)"] * len(ordered))
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_RECHECK} (location_id, item_id, marked_at) VALUES {values} "
            f"{recheck_conflict_sql()} RETURNING location_id, item_id",
            [value for pair in ordered for value in (*pair, now)],
        )
        return {tuple(row) for row in cursor.fetchall()}


# Set by `alert_checks_coalesced()`: the pairs its writes newly marked, queued at its end.
_coalesced: ContextVar[set | None] = ContextVar("alert_checks_coalesced", default=None)


@contextlib.contextmanager
def alert_checks_coalesced():
    """Many small stock writes in a row (a batch of synced visits, each in its own
    transaction): one alert re-check job for every pair they newly marked, queued when
    the block ends, instead of one job per transaction. Should the process die before
    the end, the hourly full scan re-checks everything and clears the marks."""
    pairs: set[tuple[int, int]] = set()
    token = _coalesced.set(pairs)
    try:
        yield
    finally:
        _coalesced.reset(token)
        if pairs:
            with transaction.atomic():
                _recheck_enqueue(pairs)


def _recheck_enqueue(pairs: set[tuple[int, int]]) -> None:
    # The outbox row commits with the marks and the job is sent only after commit.
    job_enqueue(task_name=RECHECK_TASK, kwargs={"pairs": [list(pair) for pair in sorted(pairs)]})


def rechecks_marked(*, pairs: set[tuple[int, int]]) -> None:
    """The caller's own statement marked its pairs; `pairs` are those it marked newly."""
    if not pairs:
        return
    collecting = _coalesced.get()
    if collecting is not None:
        collecting |= pairs
        return
    _recheck_enqueue(pairs)


def movements_recorded(*, pairs: set[tuple[int, int]]) -> None:
    """Called once at the end of every write with the (location_id, item_id) it touched:
    stock alerts (inventory/alerts/) re-check just these pairs."""
    if pairs:
        rechecks_marked(pairs=rechecks_mark(pairs))


def alert_rechecks_claim(*, pairs: Iterable[tuple[int, int]] | None = None) -> int:
    """Remove the re-check marks of these pairs (all of them when None), before their
    check or a full scan reads the stock, in its own transaction; returns how many.

    Committed first, so the check that follows sees every write that found a mark here,
    and a write after it marks the pair anew (and queues a new check)."""
    marks = AlertRecheck.objects.all()
    if pairs is not None:
        condition = Q()
        for location_id, item_id in sorted(set(pairs)):
            condition |= Q(location_id=location_id, item_id=item_id)
        if not condition:
            return 0
        marks = marks.filter(condition)
    with transaction.atomic():
        # Locked in the writers' order first: no deadlock with a write marking two pairs.
        ids = list(
            marks.select_for_update()
            .order_by("location_id", "item_id")
            .values_list("pk", flat=True)
        )
        if ids:
            AlertRecheck.objects.filter(pk__in=ids).delete()
    return len(ids)


# --- Validation helpers ------------------------------------------------------------


class Errors:
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
        self.first = self.first or gettext("Line %(number)s: %(message)s") % {
            "number": index + 1,
            "message": message,
        }

    def raise_if_any(self) -> None:
        if not self.first:
            return
        errors = dict(self.fields)
        if self.lines:
            errors["lines"] = dict(sorted(self.lines.items()))
        raise StockError(self.first, field_errors=errors)


def require_transaction(operation: str) -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError(f"{operation} runs inside the caller's transaction; none is open.")


def is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_positive(errors: Errors, index: int, quantity, field: str = "quantity") -> bool:
    if not is_count(quantity):
        errors.line(index, field, gettext("Enter a whole number."))
        return False
    if quantity < 1:
        errors.line(index, field, gettext("Enter a quantity of at least 1."))
        return False
    return True


def when(errors: Errors, occurred_at: datetime | None) -> datetime:
    now = timezone.now()
    if occurred_at is None:
        return now
    if timezone.is_naive(occurred_at):
        occurred_at = timezone.make_aware(occurred_at)
    if is_in_future(occurred_at, now=now):
        errors.add("occurred_at", gettext("This date is in the future."))
    return occurred_at


def check_reference(errors: Errors, reference: str, *, by_owner: bool = False) -> None:
    """`by_owner`: the write comes from the in-transaction form its owner calls (a
    registered prefix is then the caller's own); every other write refuses one."""
    if len(reference or "") > REFERENCE_MAX:
        errors.add(
            "reference",
            gettext("Keep the reference to %(max)s characters.") % {"max": REFERENCE_MAX},
        )
    message = personal_detail_error(reference)
    if message:
        errors.add("reference", message)
    owned = reference_owned(reference)
    if owned is not None and not by_owner:
        prefix, owner = owned
        errors.add(
            "reference",
            gettext("References starting with “%(prefix)s” belong to %(owner)s.")
            % {"prefix": prefix, "owner": owner},
        )


# --- References owned by other records ---------------------------------------------

# prefix -> who owns the references and what to do instead. The ledger keeps a free
# reference; an app whose records carry stock movements registers its prefix once (at
# ready()), so that reversals, adjustments and other writes under such a reference go
# through that app's own services, which keep the record and the ledger in agreement.
_REFERENCE_OWNERS: dict[str, str] = {}


def reference_owner_register(*, prefix: str, owner: str) -> None:
    """`owner` completes "References starting with <prefix> belong to …", e.g.
    "stock counts: record a new count instead"."""
    if not prefix or not owner:
        raise ValueError("Name the prefix and its owner.")
    registered = _REFERENCE_OWNERS.setdefault(prefix.casefold(), owner)
    if registered != owner:
        raise ValueError(f"{prefix!r} is already owned by {registered}.")


def reference_owned(reference: str) -> tuple[str, str] | None:
    """(prefix, owner) of a registered prefix the reference starts with, else None.
    Case and surrounding spaces do not matter: "VISIT:…" is refused like "visit:…"."""
    folded = (reference or "").strip().casefold()
    for prefix, owner in _REFERENCE_OWNERS.items():
        if folded.startswith(prefix):
            return prefix, owner
    return None


# The ledger's own records: a count's movements are what the count found.
# Lazy: the owner is named in the language of whoever is refused.
reference_owner_register(
    prefix="count:", owner=gettext_lazy("stock counts: record a new count instead")
)


def check_manages(errors: Errors, by, location: Location, field: str = "location") -> None:
    if not can_manage_location(by, location):
        errors.add(
            field, gettext("You do not manage stock at %(location)s.") % {"location": location.name}
        )


def is_expired(lot: Lot, on_day: date) -> bool:
    return lot.expires_on is not None and lot.expires_on < on_day


def fefo_key(balance: StockBalance):
    lot = balance.lot
    return (lot.expires_on is None, lot.expires_on or date.max, lot.pk)


# --- Locking and writing -----------------------------------------------------------


def ensure_balances(keys: set[tuple[int, int, int]]) -> None:
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


def lock_balances(condition: Q) -> list[StockBalance]:
    """The one lock statement of an operation: every row it may change, in pk order."""
    return list(
        StockBalance.objects.select_for_update(of=("self",))
        .select_related("lot")
        .filter(condition)
        .order_by("pk")
    )


def save(changed: dict[int, StockBalance], movements: list[StockMovement]) -> list[StockMovement]:
    if changed:
        StockBalance.objects.bulk_update(list(changed.values()), ["quantity"])
    return StockMovement.objects.bulk_create(movements)


def take_fefo(
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
