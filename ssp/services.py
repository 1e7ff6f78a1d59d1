"""Writes of the ssp app: visits and participants."""

import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta

from auditlog.models import LogEntry
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Min, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from inventory.models import AdjustmentReason, Item, Location
from inventory.selectors import found_at_dispense, lines_expand
from inventory.services import (
    DispenseLine,
    StockError,
    stock_dispense_in_transaction,
    stock_reverse_in_transaction,
)
from org.audit import attributed
from org.models import ServiceModel, Site, User
from org.privacy import choice_value, personal_detail_error
from org.time import is_in_future

from .codes import current_recipe, normalise, validate_code
from .intake_catalog import default_location_of
from .models import (
    VISIT_NOTES_MAX,
    CollectionMethod,
    MergeReason,
    Participant,
    ParticipantMerge,
    Visit,
    VisitService,
    VisitSupply,
    VoidReason,
)
from .selectors import (
    near_matches,
    participant_by_code,
    participant_visible_to,
    visit_edit_refusal,
)
from .visit_extras import nothing_described, visit_extra
from .visit_insert import visit_insert
from .visit_services import visit_service_labels


class VisitError(Exception):
    """Bad input for a visit: nothing was saved. `field_errors` names the fields."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field_errors = {field or "non_field_errors": [message]}


class VisitNotAllowed(VisitError):
    """The person may not record or change this visit."""


class VisitConflict(VisitError):
    """The submission id was already used for another person's visit."""


class LargeQuantityNotConfirmed(VisitError):
    """Staff must confirm an unusually large quantity (SSP_LARGE_QUANTITY)."""


class NewPersonNotConfirmed(VisitError):
    """A new code one edit from an existing one: saving it may split one person in two."""


class MergeError(VisitError):
    """Two participant codes that cannot be merged."""


class ParticipantMergedMeanwhile(VisitError):
    """The code was merged into another between reading it and locking it for the visit."""


# --- Visits ----------------------------------------------------------------------------

UNDO_REASON = VoidReason.UNDONE


def _checked_notes(notes: str) -> str:
    """Visit notes as stored: short, and without a person's details."""
    notes = (notes or "").strip()
    if len(notes) > VISIT_NOTES_MAX:
        raise VisitError(
            _("Keep the notes to %(limit)s characters.") % {"limit": VISIT_NOTES_MAX}, "notes"
        )
    message = personal_detail_error(notes)
    if message:
        raise VisitError(message, "notes")
    return notes


def _check_can_record(*, site: Site, by: User) -> None:
    if not by.has_perm("ssp.log_visit"):
        raise VisitNotAllowed(_("Your role does not allow logging visits."))
    if not by.can_access_site(site.pk):
        raise VisitNotAllowed(
            _("You do not work at %(site)s: choose one of your sites.") % {"site": site.name},
            "site",
        )
    if not site.is_active:
        raise VisitError(
            _("%(site)s is closed: choose an active site.") % {"site": site.name}, "site"
        )


def _location_for(*, site: Site, location: Location | None) -> Location:
    if location is not None:
        if location.site_id != site.pk or not location.is_active:
            raise VisitError(
                _("%(location)s is not a stock location of %(site)s.")
                % {"location": location.name, "site": site.name},
                "location",
            )
        return location
    # Read with the site when the API loaded it (sites_with_default_location): once a
    # request, and once a sync batch for all its records.
    default = default_location_of(site)
    if default is None:
        raise VisitError(
            _("%(site)s has no stock location yet: ask a manager to add one.")
            % {"site": site.name},
            "location",
        )
    return default


def _check_occurred_at(occurred_at: datetime, *, now: datetime) -> None:
    if is_in_future(occurred_at, now=now):
        raise VisitError(_("A visit cannot be dated in the future."), "occurred_at")
    days = settings.SSP_VISIT_BACKDATE_DAYS
    if occurred_at < now - timedelta(days=days):
        raise VisitError(
            _(
                "A visit can be backdated by %(days)s days at most; ask a manager for older "
                "paper records."
            )
            % {"days": days},
            "occurred_at",
        )


def _check_lines(lines: Sequence[DispenseLine], *, contacts: int, confirmed: bool) -> None:
    for line in lines:
        thing = line.kit or line.item
        if (line.kit is None) == (line.item is None):
            raise VisitError(_("Each supply line is one item or one kit."), "supplies")
        if not isinstance(line.quantity, int) or line.quantity <= 0:
            raise VisitError(
                _("Quantity of %(supply)s must be at least 1.") % {"supply": thing}, "supplies"
            )
        if not thing.is_active:
            raise VisitError(
                _("%(supply)s is no longer handed out.") % {"supply": thing}, "supplies"
            )
    if confirmed:
        return
    # Units per item, kits unpacked; a bulk shift's totals are judged per contact.
    units = lines_expand(lines)
    limit = settings.SSP_LARGE_QUANTITY * max(contacts, 1)
    for item, total in units.items():
        if total > limit:
            raise LargeQuantityNotConfirmed(
                _(
                    "%(total)s × %(item)s is unusually large (more than %(limit)s): "
                    "check the quantity and confirm to save."
                )
                % {"total": total, "item": item, "limit": limit},
                "confirm_large_quantity",
            )


# Above this a service count is a typing slip, even for a long street shift.
SERVICE_COUNT_MAX = 10_000


def _checked_services(services, *, contacts: int) -> list[tuple[str, int]]:
    """Services given at the visit as (code, count): codes of SSP_VISIT_SERVICES, each
    once; a single contact gets each service once, a street shift a count."""
    labels = visit_service_labels()
    checked: dict[str, int] = {}
    for code, count in services:
        if code not in labels:
            raise VisitError(
                _("Unknown service “%(code)s”: choose one of %(known)s.")
                % {"code": code, "known": ", ".join(labels)},
                "services",
            )
        # The default labels are in the catalogue (visit_services.DEFAULT_LABELS).
        said = {"service": _(labels[code]), "most": SERVICE_COUNT_MAX}
        if code in checked:
            raise VisitError(_("%(service)s is listed twice.") % said, "services")
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise VisitError(_("The count of %(service)s must be at least 1.") % said, "services")
        if contacts == 1 and count != 1:
            raise VisitError(
                _(
                    "A visit of one person gets %(service)s once: a count above 1 is for "
                    "a street shift."
                )
                % said,
                "services",
            )
        if count > SERVICE_COUNT_MAX:
            raise VisitError(_("The count of %(service)s is at most %(most)s.") % said, "services")
        checked[code] = count
    return list(checked.items())


def _checked_extras(extras) -> list:
    """The upper apps' parts of the visit, each with the module that records it."""
    found = []
    for name, value in (extras or {}).items():
        module = visit_extra(name)
        if module is None:
            raise VisitError(
                _("Nothing records “%(name)s” with a visit here.") % {"name": name}, name
            )
        if value:
            found.append((module, value))
    return found


def _check_new_person(code: str, *, by) -> None:
    if not code or participant_by_code(code) is not None:
        return
    near = near_matches(code, user=by, limit=3)
    if near:
        closest = near[0]
        raise NewPersonNotConfirmed(
            _(
                "New person? %(code)s is not known, but %(closest)s is (%(reason)s). "
                'Use %(closest)s if it is the same person; tick "New person" to create '
                "%(code)s."
            )
            % {"code": code, "closest": closest.code, "reason": closest.reason},
            "confirm_new_person",
        )


def _participant_for(
    *,
    code: str,
    occurred_on: date,
    age_band: str = "",
    zip3: str = "",
    participants: Mapping[str, Participant] | None = None,
) -> Participant | None:
    if not code:
        return None
    # A sync batch read its codes at once (participants_by_code); checked again when the
    # visit locks the code (participant_first_seen_refresh), a merge since then retried.
    existing = participants.get(code) if participants else None
    if existing is None:
        existing = participant_by_code(code)
    if existing is not None:
        return existing  # its first-seen date follows the visit (participant_first_seen_refresh)
    normal = validate_code(code)
    recipe = current_recipe()
    match = recipe.regex.fullmatch(normal)
    gender = ""
    for index, part in enumerate(recipe.parts, start=1):
        if part.kind == "gender":
            gender = match.group(index)
    # get_or_create: a concurrent first visit with the same new code lands on one row.
    participant, _created = Participant.objects.get_or_create(
        code=normal,
        defaults={
            "first_seen_on": occurred_on,
            "gender": gender,
            "age_band": age_band,
            "zip3": zip3,
        },
    )
    return participant


def _records_shortfall() -> bool:
    """SSP_STOCK_SHORTFALL: supplies handed over are never refused for the books' sake
    ("record", the default) unless the program chose "refuse"."""
    return settings.SSP_STOCK_SHORTFALL == "record"


def _dispensed(*, visit: Visit, lines: Sequence[DispenseLine], by: User) -> None:
    """Dispense the visit's supplies in its transaction; note what the books lacked."""
    movements = stock_dispense_in_transaction(
        location=visit.location,
        lines=lines,
        by=by,
        reference=visit.stock_reference,
        occurred_at=visit.occurred_at,
        record_shortfall=_records_shortfall(),
        # No savepoint: any error abandons the visit's whole transaction.
        savepoint=False,
    )
    found: dict[Item, int] = {}
    for movement in movements:
        if movement.reason == AdjustmentReason.SHORTFALL:
            found[movement.item] = found.get(movement.item, 0) + movement.quantity
    visit.stock_notice = shortfall_notice(found, location=visit.location)


def shortfall_notice(found: dict[Item, int], *, location: Location) -> str | None:
    """The words staff see after saving a visit whose supplies the books did not hold."""
    if not found:
        return None
    what = ", ".join(f"{units} × {item.name}" for item, units in found.items())
    return _(
        "Saved. The books at %(location)s held fewer than were handed out (%(what)s "
        "missing): recorded as stock found at dispense, and a manager is asked to count "
        "these items."
    ) % {"location": location.name, "what": what}


def _with_notice(visit: Visit) -> Visit:
    """A visit already recorded, with the notice its first save gave."""
    found = found_at_dispense(reference=visit.stock_reference)
    # Only then is the location read (a query): most replays found nothing missing.
    visit.stock_notice = shortfall_notice(found, location=visit.location) if found else None
    return visit


def visit_replay(
    visit: Visit,
    *,
    by: User,
    site: Site,
    code: str = "",
    lines: Sequence[DispenseLine] = (),
    contacts: int = 1,
    syringes_collected: int = 0,
    occurred_at: datetime | None = None,
    services: Sequence[tuple[str, int]] = (),
    **unchecked,
) -> Visit:
    """The visit a retried submission (same client UUID) already recorded, with the
    notice its first save gave; VisitConflict if it is another person's or another
    visit. Takes `visit_record`'s arguments; those a retry may not change are checked,
    the rest (`unchecked`: notes, extras, confirmations…) are the first save's."""
    if visit.recorded_by_id != by.pk:
        raise VisitConflict(
            _("This submission id was already used for another person's visit; reload the form."),
            "client_uuid",
        )
    submitted = {"site": site, "code": code, "lines": lines, "contacts": contacts}
    submitted.update(syringes_collected=syringes_collected, occurred_at=occurred_at)
    submitted["services"] = [(code, count) for code, count in services]
    return _with_notice(_same_submission(visit, **submitted))


def _same_submission(
    visit: Visit, *, site, code, lines, contacts, syringes_collected, occurred_at, services
) -> Visit:
    """The first visit when a retry repeats it; VisitConflict when the same submission
    id comes with a different visit (a client bug, or two forms sharing an id), which
    must not pass for a success while the second visit is lost."""
    normal = normalise(code)
    person = participant_by_code(normal) if normal else None
    same_code = (visit.participant_id is None and not normal) or (
        person is not None and person.pk == visit.participant_id
    )
    given = sorted(
        (line.item.pk if line.item else 0, line.kit.pk if line.kit else 0, line.quantity)
        for line in lines
    )
    # .all(): a batch's replays read every visit's lines and services at once (prefetch).
    stored = sorted(
        (supply.item_id or 0, supply.kit_id or 0, supply.quantity)
        for supply in visit.supplies.all()
    )
    if occurred_at is not None and timezone.is_naive(occurred_at):
        occurred_at = timezone.make_aware(occurred_at)
    differs = (
        visit.site_id != site.pk
        or not same_code
        or visit.contacts != contacts
        or visit.syringes_collected != syringes_collected
        or (occurred_at is not None and visit.occurred_at != occurred_at)
        or given != stored
        or sorted(services) != sorted((row.service, row.count) for row in visit.services.all())
    )
    if differs:
        raise VisitConflict(
            _(
                "This submission id was already used for a different visit: nothing was saved. "
                "Give the new visit its own client_uuid."
            ),
            "client_uuid",
        )
    return visit


def visit_record(
    *,
    site: Site,
    by: User,
    client_uuid: uuid.UUID | str,
    lines: Sequence[DispenseLine] = (),
    code: str = "",
    location: Location | None = None,
    occurred_at: datetime | None = None,
    service_model: str = "",
    contacts: int = 1,
    syringes_collected: int = 0,
    collection_method: str = CollectionMethod.COUNTED,
    secondary_people: int = 0,
    naloxone_refill_reason: str = "",
    overdose_reversals: int = 0,
    notes: str = "",
    age_band: str = "",
    zip3: str = "",
    confirm_large_quantity: bool = False,
    confirm_new_person: bool = True,
    services: Sequence[tuple[str, int]] = (),
    extras: dict | None = None,
    participants: Mapping[str, Participant] | None = None,
) -> tuple[Visit, bool]:
    """Log a visit (or a street shift, contacts > 1) and dispense its supplies, all or
    nothing. Returns (visit, created): a retried submission with the same client_uuid
    returns the first visit and moves no stock.

    `confirm_new_person=False` (the front desk until staff answer) refuses a new code
    one edit from an existing one with NewPersonNotConfirmed: "new person?" is asked
    explicitly. Offline sync keeps the default: a contact that happened is never lost,
    and a split found later is merged (participant_merge).

    `services` are (code, count) pairs of SSP_VISIT_SERVICES. `extras` are the parts of
    the visit upper apps record with it ({"referrals": [...]}, ssp/visit_extras.py),
    written in the same transaction: a refused part refuses the visit.

    `participants`: codes already resolved for many visits at once (a sync batch:
    `participants_by_code`), keyed by normalised code; a code not in it is looked up."""
    try:
        client_uuid = uuid.UUID(str(client_uuid))
    except ValueError:
        raise VisitError(_("The submission id is not a UUID."), "client_uuid") from None
    try:
        visit = _visit_created(
            participants=participants,
            site=site,
            by=by,
            client_uuid=client_uuid,
            lines=list(lines),
            code=normalise(code),
            location=location,
            occurred_at=occurred_at,
            service_model=service_model,
            contacts=contacts,
            syringes_collected=syringes_collected,
            collection_method=collection_method,
            secondary_people=secondary_people,
            naloxone_refill_reason=naloxone_refill_reason,
            overdose_reversals=overdose_reversals,
            notes=notes,
            age_band=age_band,
            zip3=zip3,
            confirm_large_quantity=confirm_large_quantity,
            confirm_new_person=confirm_new_person,
            services=list(services),
            extras=extras,
        )
    except (IntegrityError, VisitError, StockError):
        # Idempotency by the unique uuid, with no read before the insert: a retry's
        # insert fails on the first visit's key (a concurrent one waits for it to commit
        # first), so nothing of the retry is kept and no stock moved twice. A retry
        # refused for another reason (the stock ran out since) still answers with the
        # first visit.
        existing = Visit.objects.filter(uuid=client_uuid).first()
        if existing is None:
            raise
        replayed = visit_replay(
            existing,
            by=by,
            site=site,
            code=code,
            lines=lines,
            contacts=contacts,
            syringes_collected=syringes_collected,
            occurred_at=occurred_at,
            services=services,
        )
        return replayed, False
    return visit, True


def _visit_created(*, participants, **arguments) -> Visit:
    """_visit_create; once more, with the code read again, if the participant it was
    read as was merged into another code before the visit locked it."""
    try:
        return _visit_create(participants=participants, **arguments)
    except ParticipantMergedMeanwhile:
        return _visit_create(participants=None, **arguments)


@transaction.atomic(durable=True)
def _visit_create(
    *,
    participants,
    site,
    by,
    client_uuid,
    lines,
    code,
    location,
    occurred_at,
    service_model,
    contacts,
    syringes_collected,
    collection_method,
    secondary_people,
    naloxone_refill_reason,
    overdose_reversals,
    notes,
    age_band,
    zip3,
    confirm_large_quantity,
    confirm_new_person,
    services,
    extras,
) -> Visit:
    now = timezone.now()
    occurred_at = occurred_at or now
    if timezone.is_naive(occurred_at):
        occurred_at = timezone.make_aware(occurred_at)
    _check_can_record(site=site, by=by)
    location = _location_for(site=site, location=location)
    _check_occurred_at(occurred_at, now=now)
    if contacts < 1:
        raise VisitError(_("A visit reaches at least one person."), "contacts")
    if contacts > 1 and code:
        raise VisitError(
            _("A street shift logged in bulk is anonymous: leave the code empty."), "code"
        )
    services = _checked_services(services, contacts=contacts)
    extras = _checked_extras(extras)
    if not lines and not syringes_collected and contacts == 1 and not code and not services:
        raise VisitError(
            _("Add supplies, collected syringes, a service or a participant code before saving."),
            "supplies",
        )
    _check_lines(lines, contacts=contacts, confirmed=confirm_large_quantity)
    notes = _checked_notes(notes)
    if not confirm_new_person:
        _check_new_person(code, by=by)
    with attributed(by):
        participant = _participant_for(
            code=code,
            occurred_on=timezone.localdate(occurred_at),
            age_band=age_band,
            zip3=zip3,
            participants=participants,
        )
        # The visit row goes in before any stock moves: a retry with the same uuid
        # fails on this unique key (waiting for a concurrent first to commit), without
        # dispensing. No savepoints: any error abandons the whole transaction.
        visit = Visit(
            uuid=client_uuid,
            site=site,
            location=location,
            occurred_at=occurred_at,
            recorded_by=by,
            participant=participant,
            service_model=service_model or _default_service_model(site, contacts),
            contacts=contacts,
            syringes_collected=syringes_collected,
            collection_method=collection_method,
            secondary_people=secondary_people,
            naloxone_refill_reason=naloxone_refill_reason,
            overdose_reversals=overdose_reversals,
            notes=notes,
        )
        supplies = visit_insert(visit, lines)
        if lines:
            _dispensed(visit=visit, lines=lines, by=by)
        given = []
        if services:
            given = VisitService.objects.bulk_create(
                VisitService(visit=visit, service=code, count=count) for code, count in services
            )
            # Written in bulk (no per-row signal): the visit's audit trail names them.
            LogEntry.objects.log_create(
                visit,
                action=LogEntry.Action.UPDATE,
                changes={"services": ["none", _services_summary(given)]},
                actor=by,
            )
        if participant_first_seen_refresh(participants=[participant]):
            # Merged into another code since it was read: this transaction is undone
            # (nothing of it kept, no stock moved) and the visit recorded on that code.
            raise ParticipantMergedMeanwhile(
                _("%(code)s was just merged into another code: save the visit again.")
                % {"code": code},
                "code",
            )
        # What was written is what the answer shows: no read back.
        _supplies_known(visit, supplies)
        _known(visit, "services", VisitService, given)
        # Upper apps' parts (a referral made at the visit) last: they see the visit whole.
        for module, value in extras:
            module.record_with_visit(visit=visit, value=value, by=by)
        if not extras:
            # The answer shows the visit as written; with parts, the answer reads them.
            nothing_described(visit)
    return visit


def _corrected_services(
    services, *, old: list[VisitService], contacts: int, old_contacts: int
) -> list[tuple[str, int]] | None:
    """The services a correction writes, checked as at record time; None when they stay
    as they were. A street shift corrected to one person must not keep its counts."""
    stored = sorted((row.service, row.count) for row in old)
    if services is None:
        if contacts != old_contacts:
            _checked_services(stored, contacts=contacts)
        return None
    checked = _checked_services(services, contacts=contacts)
    return None if sorted(checked) == stored else checked


def _services_summary(services) -> str:
    return ", ".join(f"{s.count} × {s.service}" for s in services) or "none"


def _known(visit: Visit, name: str, model, rows: list) -> None:
    """Give `visit.<name>.all()` the rows just written, as a prefetch would."""
    known = model.objects.filter(visit=visit)
    known._result_cache = rows
    known._prefetch_done = True
    visit._prefetched_objects_cache[name] = known


def _supplies_known(visit: Visit, supplies: list[VisitSupply]) -> None:
    """Give `visit.supplies.all()` the rows just written, as a prefetch would."""
    rows = VisitSupply.objects.filter(visit=visit)
    rows._result_cache = supplies
    rows._prefetch_done = True
    visit._prefetched_objects_cache = {"supplies": rows}


def _default_service_model(site: Site, contacts: int) -> str:
    return ServiceModel.OUTREACH if contacts > 1 else site.service_model


def _locked(visit: Visit, by: User) -> Visit:
    locked = Visit.objects.select_for_update().select_related("site").get(pk=visit.pk)
    refusal = visit_edit_refusal(visit=locked, by=by)
    if refusal:
        error = VisitConflict if locked.is_void else VisitNotAllowed
        raise error(refusal)
    return locked


def _supplies_summary(supplies) -> str:
    return ", ".join(f"{s.quantity} × {s.kit or s.item}" for s in supplies) or "none"


@transaction.atomic(durable=True)
def visit_correct(
    *,
    visit: Visit,
    by: User,
    lines: Sequence[DispenseLine] | None = None,
    code: str | None = None,
    location: Location | None = None,
    occurred_at: datetime | None = None,
    service_model: str | None = None,
    contacts: int | None = None,
    syringes_collected: int | None = None,
    collection_method: str | None = None,
    secondary_people: int | None = None,
    naloxone_refill_reason: str | None = None,
    overdose_reversals: int | None = None,
    notes: str | None = None,
    confirm_large_quantity: bool = False,
    services: Sequence[tuple[str, int]] | None = None,
) -> Visit:
    """Correct a visit: None leaves a field as it was; code "" makes it anonymous.
    Changed supplies reverse the visit's stock through the ledger and dispense anew;
    `services`, (code, count) pairs as at record time, replace the services given."""
    visit = _locked(visit, by)
    old_participant = visit.participant
    old_supplies = list(visit.supplies.select_related("item", "kit").order_by("pk"))
    old_services = list(visit.services.order_by("pk"))
    old_contacts = visit.contacts
    old_occurred_at, old_location_id = visit.occurred_at, visit.location_id

    if occurred_at is not None and occurred_at != visit.occurred_at:
        if timezone.is_naive(occurred_at):
            occurred_at = timezone.make_aware(occurred_at)
        if by.has_perm("ssp.correct_any_visit"):
            if is_in_future(occurred_at, now=timezone.now()):
                raise VisitError(_("A visit cannot be dated in the future."), "occurred_at")
        else:
            _check_occurred_at(occurred_at, now=timezone.now())
        visit.occurred_at = occurred_at
    if location is not None:
        visit.location = _location_for(site=visit.site, location=location)
    if contacts is not None:
        if contacts < 1:
            raise VisitError(_("A visit reaches at least one person."), "contacts")
        visit.contacts = contacts
    for name, value in (
        ("service_model", service_model),
        ("syringes_collected", syringes_collected),
        ("collection_method", collection_method),
        ("secondary_people", secondary_people),
        ("naloxone_refill_reason", naloxone_refill_reason),
        ("overdose_reversals", overdose_reversals),
    ):
        if value is not None:
            setattr(visit, name, value)
    if notes is not None:
        visit.notes = _checked_notes(notes)

    new_lines = list(lines) if lines is not None else None
    if new_lines is not None:
        _check_lines(new_lines, contacts=visit.contacts, confirmed=confirm_large_quantity)
    new_services = _corrected_services(
        services, old=old_services, contacts=visit.contacts, old_contacts=old_contacts
    )

    with attributed(by):
        if code is not None:
            normal = normalise(code)
            if normal and visit.contacts > 1:
                raise VisitError(
                    _("A street shift logged in bulk is anonymous: leave the code empty."), "code"
                )
            visit.participant = _participant_for(
                code=normal, occurred_on=timezone.localdate(visit.occurred_at)
            )
        visit.updated_by = by
        visit.full_clean(exclude=["uuid", "recorded_by", "site", "location", "participant"])
        visit.save()

        old_signature = sorted((s.item_id or 0, s.kit_id or 0, s.quantity) for s in old_supplies)
        if new_lines is not None:
            new_signature = sorted(
                (ln.item.pk if ln.item else 0, ln.kit.pk if ln.kit else 0, ln.quantity)
                for ln in new_lines
            )
        else:
            new_signature = old_signature
            new_lines = [
                DispenseLine(quantity=s.quantity, item=s.item, kit=s.kit) for s in old_supplies
            ]
        stock_changes = (
            new_signature != old_signature
            or visit.location_id != old_location_id
            or visit.occurred_at != old_occurred_at
        )
        if stock_changes:
            stock_reverse_in_transaction(reference=visit.stock_reference, by=by)
            if new_lines:
                _dispensed(visit=visit, lines=new_lines, by=by)
        if new_signature != old_signature:
            VisitSupply.objects.filter(visit=visit).delete()
            VisitSupply.objects.bulk_create(
                VisitSupply(visit=visit, item=ln.item, kit=ln.kit, quantity=ln.quantity)
                for ln in new_lines
            )
            new_summary = ", ".join(f"{ln.quantity} × {ln.kit or ln.item}" for ln in new_lines)
            LogEntry.objects.log_create(
                visit,
                action=LogEntry.Action.UPDATE,
                changes={"supplies": [_supplies_summary(old_supplies), new_summary or "none"]},
                actor=by,
            )
        if new_services is not None:
            VisitService.objects.filter(visit=visit).delete()
            given = VisitService.objects.bulk_create(
                VisitService(visit=visit, service=code, count=count) for code, count in new_services
            )
            # Written in bulk (no per-row signal): the visit's audit trail names them.
            LogEntry.objects.log_create(
                visit,
                action=LogEntry.Action.UPDATE,
                changes={"services": [_services_summary(old_services), _services_summary(given)]},
                actor=by,
            )
        # A new time or code can move the first visit of the code it left and of its new one.
        participant_first_seen_refresh(participants=[old_participant, visit.participant])
    return visit


@transaction.atomic(durable=True)
def visit_void(*, visit: Visit, by: User, reason: str) -> Visit:
    """Void a visit: the record stays (with who, when, why) and its stock goes back."""
    if not (reason or "").strip():
        raise VisitError(_("Say why the visit is voided."), "reason")
    visit = _locked(visit, by)
    choice = choice_value(reason, VoidReason)
    if choice is None:
        labels = ", ".join(f"{value} ({_(label)})" for value, label in VoidReason.choices)
        raise VisitError(_("Choose one of the reasons: %(labels)s.") % {"labels": labels}, "reason")
    with attributed(by):
        stock_reverse_in_transaction(reference=visit.stock_reference, by=by)
        visit.voided_at = timezone.now()
        visit.voided_by = by
        visit.void_reason = choice
        visit.save(update_fields=["voided_at", "voided_by", "void_reason", "updated_at"])
        participant_first_seen_refresh(participants=[visit.participant])
    return visit


# --- Participants ----------------------------------------------------------------------


def participant_first_seen_refresh(*, participants) -> set[int]:
    """Set each code's first-seen date to the day (program time) of its first standing
    visit, voided visits left out: "new participant" in the reports and "first seen" at
    the desk read it. Called by every write that can move it (record, time or code
    correction, void, merge), in the write's transaction. A code with no standing visit
    keeps the date it has: it is counted nowhere until its next visit sets it again.

    One round trip: on PostgreSQL the codes' rows are locked and then, in a statement of
    its own sent with it, their first standing visits read and the changed dates written.

    Returns the pks of those found merged into another code once locked: a visit being
    recorded on a code read before the lock must not stay on a merged one."""
    given = {p.pk: p for p in participants if p is not None}
    if not given:
        return set()
    days, merged = _first_seen_days(sorted(given))
    for pk, day in days:
        given[pk].first_seen_on = day
    return merged


def _first_seen_days(pks: list[int]) -> tuple[list[tuple[int, date]], set[int]]:
    """(pk, first standing visit's day) of each code that has one, the stored dates
    corrected on the way; and the pks merged into another code, as locked."""
    if connection.vendor != "postgresql":
        return _first_seen_days_locked_database(pks)
    participant, visit = Participant._meta.db_table, Visit._meta.db_table
    ids = ", ".join(str(int(pk)) for pk in pks)
    # Locked first (in id order), then read in a statement of its own: a concurrent visit
    # of the same code waits at the lock and the read that follows gets a fresh snapshot
    # (READ COMMITTED) that sees it, instead of writing back a date computed from half
    # the visits. Both statements go in one round trip (no parameters: ids are integers,
    # the time zone a quoted literal).
    sql = f"""
        SELECT id, merged_into_id FROM {participant} WHERE id IN ({ids}) ORDER BY id FOR UPDATE;
        WITH first AS (
            SELECT p.id, p.first_seen_on AS stored, (
                SELECT (MIN(v.occurred_at) AT TIME ZONE %s)::date FROM {visit} v
                 WHERE v.participant_id = p.id AND v.voided_at IS NULL
            ) AS day
              FROM {participant} p WHERE p.id IN ({ids})
        ), written AS (
            UPDATE {participant} p SET first_seen_on = first.day FROM first
             WHERE p.id = first.id AND first.day IS NOT NULL AND first.day <> first.stored
        )
        SELECT id, day FROM first WHERE day IS NOT NULL
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [timezone.get_current_timezone_name()])
        # The rows as locked: a merge that committed meanwhile is seen (READ COMMITTED).
        merged = {pk for pk, into in cursor.fetchall() if into is not None}
        cursor.nextset()
        return list(cursor.fetchall()), merged


def _first_seen_days_locked_database(
    pks: list[int],
) -> tuple[list[tuple[int, date]], set[int]]:
    # SQLite takes the database's write lock at BEGIN (transaction_mode IMMEDIATE): no
    # concurrent visit can land between this read and the write that follows it.
    first = (
        Visit.objects.filter(participant_id=OuterRef("pk"), voided_at__isnull=True)
        .order_by()
        .values("participant_id")
        .annotate(first=Min("occurred_at"))
        .values("first")
    )
    rows = Participant.objects.filter(pk__in=pks).annotate(first=Subquery(first))
    days, merged = [], set()
    for pk, stored, first_at, into in rows.values_list(
        "pk", "first_seen_on", "first", "merged_into_id"
    ):
        if into is not None:
            merged.add(pk)
        if first_at is None:
            continue
        day = timezone.localdate(first_at)
        if day != stored:
            Participant.objects.filter(pk=pk).update(first_seen_on=day)
        days.append((pk, day))
    return days, merged


@transaction.atomic(durable=True)
def participant_merge(
    *, merged: Participant, kept: Participant, by: User, reason: str = ""
) -> ParticipantMerge:
    """Merge two codes of one person: visits (and referrals) move to `kept`; the merged
    code keeps resolving to it. Recorded as a ParticipantMerge and in the audit log."""
    if not by.has_perm("ssp.merge_participants"):
        raise VisitNotAllowed(_("Your role does not allow merging participant codes."))
    if merged.pk == kept.pk:
        raise MergeError(_("Choose two different codes."), "merged")
    if (reason or "").strip():
        reason = choice_value(reason, MergeReason)
        if reason is None:
            labels = ", ".join(f"{value} ({_(label)})" for value, label in MergeReason.choices)
            raise MergeError(
                _("Choose one of the reasons, or none: %(labels)s.") % {"labels": labels}, "reason"
            )
    else:
        reason = ""
    # Both rows are locked in a fixed order so two managers merging crosswise cannot deadlock.
    rows = Participant.objects.select_for_update().filter(pk__in=[merged.pk, kept.pk])
    locked = {p.pk: p for p in rows.order_by("pk")}
    merged, kept = locked[merged.pk], locked[kept.pk]
    if merged.merged_into_id:
        raise MergeError(
            _("%(code)s was already merged into another code.") % {"code": merged.code}, "merged"
        )
    if kept.merged_into_id:
        raise MergeError(
            _("%(code)s was merged into another code; merge into that one.") % {"code": kept.code},
            "kept",
        )
    for participant, field in ((merged, "merged"), (kept, "kept")):
        if not participant_visible_to(participant, by):
            # Not named: it may be the code a typed one was merged into, seen elsewhere only.
            raise VisitNotAllowed(_("This code has no visits at your sites."), field)
    with attributed(by):
        visits_moved = Visit.objects.filter(participant=merged).update(participant=kept)
        referrals_moved = 0
        # The referrals app, when installed, points its records at participants too.
        if hasattr(merged, "referrals"):
            referrals_moved = merged.referrals.update(participant=kept)
        # Codes merged into this one earlier now point straight at the kept code.
        Participant.objects.filter(merged_into=merged).update(merged_into=kept)
        merged.merged_into = kept
        merged.save(update_fields=["merged_into"])
        if merged.first_seen_on < kept.first_seen_on:
            # Codes without a standing visit keep the earlier date; visits decide otherwise.
            kept.first_seen_on = merged.first_seen_on
            kept.save(update_fields=["first_seen_on"])
        participant_first_seen_refresh(participants=[kept])
        return ParticipantMerge.objects.create(
            merged=merged,
            kept=kept,
            merged_by=by,
            reason=reason,
            visits_moved=visits_moved,
            referrals_moved=referrals_moved,
        )
