"""Writes of referrals: one function per operation, each writing its history row.

Every function checks the rules that make a referral true (site access, allowed
transitions, dates, partner offering the type) and raises ReferralError, which the
API turns into a 400 with field errors and the pages show next to the field. Nothing
is written when an error is raised.
"""

from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from org.models import Site, User
from org.privacy import personal_detail_error
from ssp.models import Participant, Visit
from ssp.selectors import participant_surviving

from .models import (
    TRANSITIONS,
    Partner,
    Referral,
    ReferralStatus,
    ReferralStatusChange,
    ReferralType,
)


class ReferralError(ValueError):
    """Bad input for a referral; `field_errors` says which field is wrong."""

    def __init__(self, message: str, *, field: str = "non_field_errors"):
        super().__init__(message)
        self.field = field
        self.field_errors = {field: [message]}


class ReferralGone(ReferralError):
    """The referral is not at a site this person may record at."""


def default_follow_up_on(referred_on: date) -> date:
    return referred_on + timedelta(days=settings.SSP_REFERRAL_FOLLOW_UP_DAYS)


def can_record_at(user: User, site_id: int) -> bool:
    """May this person make and update referrals at this site?"""
    return user.can_access_site(site_id) and (
        user.has_perm("ssp.log_visit") or user.has_perm("referrals.manage_referrals")
    )


def _check_partner(partner: Partner | None, referral_type: ReferralType) -> None:
    if partner is None:
        return
    if not partner.is_active:
        raise ReferralError(
            gettext("%(partner)s is no longer an active partner.") % {"partner": partner},
            field="partner",
        )
    if not partner.types.filter(pk=referral_type.pk).exists():
        raise ReferralError(
            gettext("%(partner)s does not offer %(type)s.")
            % {"partner": partner, "type": referral_type},
            field="partner",
        )


def _checked_note(note: str) -> str:
    """A history note as stored: short, and without a person's details."""
    note = (note or "").strip()
    limit = ReferralStatusChange._meta.get_field("note").max_length
    if len(note) > limit:
        raise ReferralError(
            gettext("Keep the note to %(limit)s characters.") % {"limit": limit}, field="note"
        )
    message = personal_detail_error(note)
    if message:
        raise ReferralError(message, field="note")
    return note


def _history(referral, *, from_status, by, now, note="", follow_up_on=None, linked_on=None):
    return ReferralStatusChange.objects.create(
        referral=referral,
        from_status=from_status,
        to_status=referral.status,
        linked_on=linked_on,
        follow_up_on=follow_up_on,
        note=note,
        changed_at=now,
        changed_by=by,
    )


@transaction.atomic(durable=True)
def referral_create(**kwargs) -> Referral:
    """A referral made at a visit (site, person and date come from the visit), or for
    a person's code between visits at one of the user's sites. Arguments: those of
    referral_write, in a transaction of its own."""
    return referral_write(**kwargs)


def referral_write(
    *,
    referral_type: ReferralType,
    by: User,
    visit: Visit | None = None,
    participant: Participant | None = None,
    site: Site | None = None,
    partner: Partner | None = None,
    referred_on: date | None = None,
    follow_up_on: date | None = None,
    note: str = "",
) -> Referral:
    """referral_create's work in the caller's transaction, not a durable one of its own,
    so that a visit and its referrals are saved together (referrals/with_visit.py)."""
    note = _checked_note(note)
    today = timezone.localdate()
    if visit is not None:
        if not can_record_at(by, visit.site_id):
            raise ReferralError(
                gettext("This visit is at a site you do not record at."), field="visit"
            )
        if visit.voided_at is not None:
            raise ReferralError(gettext("This visit was voided."), field="visit")
        if visit.participant_id is None:
            raise ReferralError(
                gettext(
                    "This visit is anonymous: a referral needs the person's code so staff "
                    "can ask about it later."
                ),
                field="visit",
            )
        if participant is not None and participant.pk != visit.participant_id:
            raise ReferralError(gettext("The code does not match the visit's code."), field="code")
        participant = visit.participant
        if site is not None and site.pk != visit.site_id:
            raise ReferralError(gettext("The site does not match the visit's site."), field="site")
        site = visit.site
        visit_day = timezone.localdate(visit.occurred_at)
        if referred_on is not None and referred_on != visit_day:
            raise ReferralError(
                gettext("A referral made at a visit is dated on the day of the visit."),
                field="referred_on",
            )
        referred_on = visit_day
    else:
        if participant is None:
            raise ReferralError(gettext("Enter the person's code."), field="code")
        if site is None:
            raise ReferralError(gettext("Choose the site making the referral."), field="site")
        if not can_record_at(by, site.pk):
            raise ReferralError(gettext("You do not record at this site."), field="site")
        referred_on = referred_on or today
        if referred_on > today:
            raise ReferralError(
                gettext("The referral date cannot be in the future."), field="referred_on"
            )
    # A merged code lives on as its surviving code: refer that one.
    participant = participant_surviving(participant)
    if not referral_type.is_active:
        raise ReferralError(
            gettext("%(type)s is no longer offered.") % {"type": referral_type}, field="type"
        )
    _check_partner(partner, referral_type)
    follow_up_on = follow_up_on or default_follow_up_on(referred_on)
    if follow_up_on < referred_on:
        raise ReferralError(
            gettext("The follow-up date cannot be before the referral date."),
            field="follow_up_on",
        )
    now = timezone.now()
    referral = Referral.objects.create(
        participant=participant,
        visit=visit,
        site=site,
        type=referral_type,
        partner=partner,
        referred_on=referred_on,
        follow_up_on=follow_up_on,
        status=ReferralStatus.REFERRED,
        status_changed_at=now,
        created_by=by,
    )
    _history(referral, from_status="", by=by, now=now, note=note, follow_up_on=follow_up_on)
    return referral


def _lock(referral: Referral, by: User) -> Referral:
    """Reload the referral under a row lock, so two desks answering at once serialise."""
    locked = Referral.objects.select_for_update().select_related("type").get(pk=referral.pk)
    if not can_record_at(by, locked.site_id):
        raise ReferralGone(gettext("No such referral at your sites."))
    return locked


def _transition(
    *,
    referral: Referral,
    to_status: str,
    by: User,
    note: str = "",
    linked_on: date | None = None,
    follow_up_on: date | None = None,
) -> Referral:
    note = _checked_note(note)
    locked = _lock(referral, by)
    from_status = locked.status
    if to_status not in TRANSITIONS[from_status]:
        raise ReferralError(
            gettext("A referral that is %(status)s cannot become %(next)s.")
            % {
                "status": gettext(locked.get_status_display()).lower(),
                "next": gettext(ReferralStatus(to_status).label).lower(),
            },
            field="to_status",
        )
    now = timezone.now()
    locked.status = to_status
    locked.linked_on = linked_on
    if follow_up_on is not None:
        locked.follow_up_on = follow_up_on
    locked.status_changed_at = now
    locked.save(update_fields=["status", "linked_on", "follow_up_on", "status_changed_at"])
    _history(
        locked,
        from_status=from_status,
        by=by,
        now=now,
        note=note,
        linked_on=linked_on,
        follow_up_on=follow_up_on,
    )
    return locked


@transaction.atomic(durable=True)
def referral_mark_linked(
    *, referral: Referral, by: User, linked_on: date | None = None, note: str = ""
) -> Referral:
    """The person started the service (on `linked_on`, today unless they say otherwise)."""
    today = timezone.localdate()
    linked_on = linked_on or today
    if linked_on > today:
        raise ReferralError(gettext("The linked date cannot be in the future."), field="linked_on")
    if linked_on < referral.referred_on:
        raise ReferralError(
            gettext("The linked date cannot be before the referral date (%(day)s).")
            % {"day": referral.referred_on},
            field="linked_on",
        )
    return _transition(
        referral=referral,
        to_status=ReferralStatus.LINKED,
        by=by,
        note=note,
        linked_on=linked_on,
    )


@transaction.atomic(durable=True)
def referral_mark_declined(*, referral: Referral, by: User, note: str = "") -> Referral:
    """The person does not want the service."""
    return _transition(referral=referral, to_status=ReferralStatus.DECLINED, by=by, note=note)


@transaction.atomic(durable=True)
def referral_mark_lost(*, referral: Referral, by: User, note: str = "") -> Referral:
    """Staff could not learn the outcome and stopped asking."""
    return _transition(referral=referral, to_status=ReferralStatus.LOST, by=by, note=note)


@transaction.atomic(durable=True)
def referral_mark_not_needed(*, referral: Referral, by: User, note: str = "") -> Referral:
    """The need went away (e.g. housed, treated elsewhere)."""
    return _transition(referral=referral, to_status=ReferralStatus.NOT_NEEDED, by=by, note=note)


def _next_ask(follow_up_on: date | None, *, days: int, field: str) -> date:
    today = timezone.localdate()
    follow_up_on = follow_up_on or today + timedelta(days=days)
    if follow_up_on <= today:
        raise ReferralError(gettext("The next follow-up date must be after today."), field=field)
    return follow_up_on


@transaction.atomic(durable=True)
def referral_reopen(
    *, referral: Referral, by: User, follow_up_on: date | None = None, note: str = ""
) -> Referral:
    """A declined or lost referral is open again (the person changed their mind or came back)."""
    follow_up_on = _next_ask(
        follow_up_on, days=settings.SSP_REFERRAL_FOLLOW_UP_DAYS, field="follow_up_on"
    )
    return _transition(
        referral=referral,
        to_status=ReferralStatus.REFERRED,
        by=by,
        note=note,
        follow_up_on=follow_up_on,
    )


@transaction.atomic(durable=True)
def referral_not_yet(
    *, referral: Referral, by: User, follow_up_on: date | None = None, note: str = ""
) -> Referral:
    """Asked at the desk: not started yet. The referral stays open and the next ask is
    pushed out (SSP_REFERRAL_NOT_YET_DAYS unless a date is given)."""
    follow_up_on = _next_ask(
        follow_up_on, days=settings.SSP_REFERRAL_NOT_YET_DAYS, field="follow_up_on"
    )
    note = _checked_note(note)
    locked = _lock(referral, by)
    if locked.status != ReferralStatus.REFERRED:
        raise ReferralError(
            gettext("This referral is already %(status)s.")
            % {"status": gettext(locked.get_status_display()).lower()},
            field="to_status",
        )
    now = timezone.now()
    locked.follow_up_on = follow_up_on
    locked.save(update_fields=["follow_up_on"])
    _history(
        locked,
        from_status=ReferralStatus.REFERRED,
        by=by,
        now=now,
        note=note,
        follow_up_on=follow_up_on,
    )
    return locked


@transaction.atomic(durable=True)
def referral_set_partner(*, referral: Referral, by: User, partner: Partner | None) -> Referral:
    """Name (or change) the partner once staff know where the person was sent."""
    locked = _lock(referral, by)
    _check_partner(partner, locked.type)
    locked.partner = partner
    locked.save(update_fields=["partner"])
    return locked


@transaction.atomic(durable=True)
def partner_save(*, types, partner: Partner | None = None, **fields) -> Partner:
    """Create a partner, or change one; `types` are the referral types it accepts.
    Who changed it is recorded by the audit trail (auditlog's request actor)."""
    types = list(types)
    if not types:
        raise ReferralError(
            gettext("Choose at least one referral type this partner accepts."), field="types"
        )
    partner = partner or Partner()
    for name, value in fields.items():
        setattr(partner, name, value)
    partner.full_clean(exclude=["types"])
    partner.save()
    partner.types.set(types)
    return partner


@transaction.atomic(durable=True)
def referral_type_save(*, referral_type: ReferralType | None = None, **fields) -> ReferralType:
    """Create a referral type, or change one. Codes in use are never changed."""
    # Compare with the stored code: a ModelForm may already have changed the instance.
    stored_code = (
        ReferralType.objects.filter(pk=referral_type.pk).values_list("code", flat=True).first()
        if referral_type is not None and referral_type.pk
        else None
    )
    if (
        stored_code is not None
        and fields.get("code", stored_code) != stored_code
        and referral_type.referrals.exists()
    ):
        raise ReferralError(
            gettext("This code is used by existing referrals and reports; it cannot change."),
            field="code",
        )
    referral_type = referral_type or ReferralType()
    for name, value in fields.items():
        setattr(referral_type, name, value)
    referral_type.full_clean()
    referral_type.save()
    return referral_type


def referral_change_status(
    *,
    referral: Referral,
    to_status: str,
    by: User,
    linked_on: date | None = None,
    follow_up_on: date | None = None,
    note: str = "",
) -> Referral:
    """One entry point for "set the status to X" (API, status form): picks the operation.
    `referred` on an open referral is "not yet"; on a declined or lost one, a reopening."""
    if to_status == ReferralStatus.LINKED:
        return referral_mark_linked(referral=referral, by=by, linked_on=linked_on, note=note)
    if to_status == ReferralStatus.REFERRED:
        operation = referral_not_yet if referral.is_open else referral_reopen
        return operation(referral=referral, by=by, follow_up_on=follow_up_on, note=note)
    operations = {
        ReferralStatus.DECLINED: referral_mark_declined,
        ReferralStatus.LOST: referral_mark_lost,
        ReferralStatus.NOT_NEEDED: referral_mark_not_needed,
    }
    if to_status not in operations:
        raise ReferralError(gettext("Unknown status."), field="to_status")
    return operations[to_status](referral=referral, by=by, note=note)
