"""Writes of program events: record, correct, void. Nothing here moves stock: syringes
collected at a clean-up or emptied from a kiosk are sharps waste, not supplies."""

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from org.audit import attributed
from org.models import Site, User
from org.privacy import choice_value
from org.validators import EARLIEST_DATE

from .models import (
    KG_IN_POUNDS,
    MAX_STAFF_HOURS,
    MAX_SYRINGES_COLLECTED,
    MAX_WEIGHT,
    EventKind,
    EventVoidReason,
    PersonStuck,
    ProgramEvent,
    SharpsContainer,
    WeightUnit,
)
from .selectors import event_edit_refusal

# The fields each kind takes; any other kind-specific field must be left out.
KIND_FIELDS = {
    EventKind.CLEANUP: ("syringes_collected", "staff_hours"),
    EventKind.NEEDLE_STICK: ("person_stuck",),
    EventKind.SHARPS_EMPTIED: ("container", "weight", "weight_unit"),
}
ALL_KIND_FIELDS = tuple(name for names in KIND_FIELDS.values() for name in names)


class EventError(Exception):
    """Bad input for a program event: nothing was saved. `field_errors` names the fields."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field_errors = {field or "non_field_errors": [message]}


class EventNotAllowed(EventError):
    """The person may not record or change this event."""


def syringes_from_weight(*, weight: Decimal, unit: str, per_pound: int) -> int:
    """Syringes in a weighed kiosk or bin: pounds × syringes per pound, rounded."""
    pounds = weight if unit == WeightUnit.LB else weight * KG_IN_POUNDS
    return int((pounds * per_pound).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def _check_can_record(*, site: Site, by: User) -> None:
    if not by.has_perm("events.record_events"):
        raise EventNotAllowed("Your role does not allow recording program events.")
    if not by.can_access_site(site.pk):
        raise EventNotAllowed(f"You do not work at {site.name}: choose one of your sites.", "site")
    if not site.is_active:
        raise EventError(f"{site.name} is closed: choose an active site.", "site")


def _check_date(occurred_on: date, *, backdating_limited: bool) -> None:
    today = timezone.localdate()
    if occurred_on > today:
        raise EventError("An event cannot be dated in the future.", "occurred_on")
    if occurred_on < EARLIEST_DATE:
        raise EventError(f"Enter a date from {EARLIEST_DATE:%Y-%m-%d} on.", "occurred_on")
    days = settings.SSP_EVENT_BACKDATE_DAYS
    if backdating_limited and occurred_on < today - timedelta(days=days):
        raise EventError(
            f"An event can be backdated by {days} days at most; ask a manager for older "
            "paper records.",
            "occurred_on",
        )


def _whole(value, field: str, *, low: int, high: int, what: str) -> int:
    if value is None or value == "":
        raise EventError(f"Enter the number of {what}.", field)
    if isinstance(value, bool) or not isinstance(value, int):
        raise EventError(f"Enter the number of {what} as a whole number.", field)
    if not low <= value <= high:
        raise EventError(f"Enter between {low} and {high} {what}.", field)
    return value


def _amount(value, field: str, *, high: Decimal, what: str) -> Decimal:
    if value is None or value == "":
        raise EventError(f"Enter the {what}.", field)
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise EventError(f"Enter the {what} as a number.", field) from None
    if not amount.is_finite() or not (0 < amount <= high):
        raise EventError(f"Enter the {what}: more than 0 and at most {high}.", field)
    if amount != amount.quantize(Decimal("0.01")):
        raise EventError(f"Enter the {what} with at most two decimals.", field)
    return amount


def _choice(value, field: str, choices, what: str) -> str:
    chosen = choice_value(str(value or ""), choices)
    if chosen is None:
        labels = ", ".join(f"{v} ({label})" for v, label in choices.choices)
        raise EventError(f"Choose {what}: {labels}.", field)
    return chosen


def _kind_values(kind: str, fields: dict) -> dict:
    """The kind's own fields, checked and bounded; refuses another kind's fields."""
    for name in ALL_KIND_FIELDS:
        if name not in KIND_FIELDS[kind] and fields.get(name) not in (None, ""):
            raise EventError(
                f"A {EventKind(kind).label.lower()} has no {name}: leave it out.", name
            )
    if kind == EventKind.CLEANUP:
        return {
            "syringes_collected": _whole(
                fields.get("syringes_collected"),
                "syringes_collected",
                low=0,
                high=MAX_SYRINGES_COLLECTED,
                what="syringes collected",
            ),
            "staff_hours": _amount(
                fields.get("staff_hours"), "staff_hours", high=MAX_STAFF_HOURS, what="staff hours"
            ),
        }
    if kind == EventKind.NEEDLE_STICK:
        return {
            "person_stuck": _choice(
                fields.get("person_stuck"), "person_stuck", PersonStuck, "who was stuck"
            )
        }
    return {
        "container": _choice(
            fields.get("container"), "container", SharpsContainer, "the kiosk or bin"
        ),
        "weight": _amount(fields.get("weight"), "weight", high=MAX_WEIGHT, what="weight"),
        "weight_unit": _choice(fields.get("weight_unit"), "weight_unit", WeightUnit, "kg or lb"),
    }


def _estimate(event: ProgramEvent) -> None:
    if event.kind == EventKind.SHARPS_EMPTIED:
        event.syringes_estimated = syringes_from_weight(
            weight=event.weight, unit=event.weight_unit, per_pound=event.syringes_per_pound
        )


@transaction.atomic(durable=True)
def event_record(*, kind: str, site: Site, occurred_on: date, by: User, **fields) -> ProgramEvent:
    """Record a program event of `kind` with that kind's fields (see KIND_FIELDS).

    A sharps kiosk or bin is weighed: its syringes are estimated with
    SSP_SYRINGES_PER_POUND, and the rate used is kept on the record.
    """
    kind = _choice(kind, "kind", EventKind, "the kind of event")
    _check_can_record(site=site, by=by)
    if occurred_on is None:
        raise EventError("Enter the date of the event.", "occurred_on")
    _check_date(occurred_on, backdating_limited=True)
    event = ProgramEvent(
        kind=kind, site=site, occurred_on=occurred_on, recorded_by=by, **_kind_values(kind, fields)
    )
    if kind == EventKind.SHARPS_EMPTIED:
        event.syringes_per_pound = settings.SSP_SYRINGES_PER_POUND
        _estimate(event)
    with attributed(by):
        event.full_clean(exclude=["uuid", "recorded_by", "site"])
        event.save()
    return event


def _locked(event: ProgramEvent, by: User) -> ProgramEvent:
    locked = ProgramEvent.objects.select_for_update().select_related("site").get(pk=event.pk)
    refusal = event_edit_refusal(event=locked, by=by)
    if refusal:
        raise EventNotAllowed(refusal)
    return locked


@transaction.atomic(durable=True)
def event_correct(
    *, event: ProgramEvent, by: User, occurred_on: date | None = None, **fields
) -> ProgramEvent:
    """Correct an event's date or its kind's fields (None leaves a field as it was).
    Its kind and site stay: void it and record it again instead. The estimate of a
    weighed bin is recomputed with the rate it was first recorded with."""
    event = _locked(event, by)
    if occurred_on is not None and occurred_on != event.occurred_on:
        # Managers may move an event further back, as they do visits (paper records).
        _check_date(occurred_on, backdating_limited=not by.has_perm("events.correct_any_event"))
        event.occurred_on = occurred_on
    given = {name: value for name, value in fields.items() if value is not None}
    unknown = set(given) - set(ALL_KIND_FIELDS)
    if unknown:
        raise EventError(f"Unknown field: {sorted(unknown)[0]}.", sorted(unknown)[0])
    current = {name: getattr(event, name) for name in KIND_FIELDS[event.kind]}
    for name, value in _kind_values(event.kind, {**current, **given}).items():
        setattr(event, name, value)
    _estimate(event)
    event.updated_by = by
    with attributed(by):
        event.full_clean(exclude=["uuid", "recorded_by", "site"])
        event.save()
    return event


@transaction.atomic(durable=True)
def event_void(*, event: ProgramEvent, by: User, reason: str) -> ProgramEvent:
    """Void an event: the record stays (with who, when, why) and leaves the figures."""
    if not (reason or "").strip():
        raise EventError("Say why the event is voided.", "reason")
    event = _locked(event, by)
    choice = _choice(reason, "reason", EventVoidReason, "one of the reasons")
    with attributed(by):
        event.voided_at = timezone.now()
        event.voided_by = by
        event.void_reason = choice
        event.save(update_fields=["voided_at", "voided_by", "void_reason", "updated_at"])
    return event
