"""Demo data for referrals: partners, and referrals on the demo visits with a realistic
spread of outcomes. Run through `manage.py seed_demo` after the visits step."""

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from org.models import User
from ssp.models import Visit

from . import services
from .defaults import default_types_ensure
from .models import Partner, Referral, ReferralStatusChange, ReferralType

# name, address, phone, hours, accepted type codes — fictional organisations.
DEMO_PARTNERS = [
    (
        "Riverside Opioid Treatment Program",
        "210 River St",
        "555-0110",
        "Mon–Sat 6–14, same-day intake until 11",
        ["moud-methadone", "moud-buprenorphine", "withdrawal-management"],
    ),
    (
        "Bridge Clinic (low-barrier buprenorphine)",
        "48 Market Ave",
        "555-0121",
        "Mon–Fri 9–17, walk-in",
        ["moud-buprenorphine", "moud-naltrexone", "primary-care", "hcv-treatment"],
    ),
    (
        "Harbor Recovery Center",
        "1200 Harbor Rd",
        "555-0132",
        "24/7 admissions line",
        ["withdrawal-management", "residential-treatment", "outpatient-treatment"],
    ),
    (
        "Community Health Center — Eastside",
        "77 East 5th St",
        "555-0143",
        "Mon–Fri 8–19, Sat 9–13",
        [
            "primary-care",
            "hiv-testing",
            "hcv-testing",
            "hepatitis-vaccination",
            "prep",
            "sexual-reproductive-health",
            "wound-care",
        ],
    ),
    (
        "Infectious Disease Clinic, County Hospital",
        "1 Hospital Way, Building C",
        "555-0154",
        "Tue and Thu 13–17",
        ["hiv-care", "hcv-treatment", "prep"],
    ),
    (
        "Street Medicine Team",
        "Mobile — see schedule",
        "555-0165",
        "Mon, Wed, Fri evenings",
        ["wound-care", "primary-care", "hepatitis-vaccination"],
    ),
    (
        "Northside Mental Health Services",
        "19 Elm St",
        "555-0176",
        "Mon–Fri 9–17, crisis line 24/7",
        ["mental-health", "outpatient-treatment"],
    ),
    (
        "Coordinated Entry — Housing Access Point",
        "300 Main St, 2nd floor",
        "555-0187",
        "Mon–Fri 8:30–16:30",
        ["housing"],
    ),
    (
        "Neighbors Food Pantry",
        "5 Church Ln",
        "555-0198",
        "Tue, Thu, Sat 10–14",
        ["food"],
    ),
    (
        "Legal Aid Society — Benefits and ID desk",
        "88 Court St",
        "555-0109",
        "Wed 10–15 walk-in",
        ["legal-aid", "id-benefits"],
    ),
]

# How often each type is chosen at a visit (relative weights).
TYPE_WEIGHTS = {
    "moud-buprenorphine": 14,
    "moud-methadone": 8,
    "moud-naltrexone": 1,
    "withdrawal-management": 5,
    "residential-treatment": 3,
    "outpatient-treatment": 3,
    "hcv-testing": 10,
    "hiv-testing": 8,
    "hcv-treatment": 3,
    "prep": 3,
    "hiv-care": 1,
    "hepatitis-vaccination": 4,
    "wound-care": 10,
    "primary-care": 6,
    "mental-health": 5,
    "sexual-reproductive-health": 2,
    "housing": 9,
    "food": 5,
    "id-benefits": 5,
    "legal-aid": 2,
}

# Linkage differs by type: testing and wound care link often, housing rarely.
LINK_CHANCE = {"testing": 0.6, "care": 0.5, "treatment": 0.4, "social": 0.3}


def _at(day, hour: int, now: datetime) -> datetime:
    return min(timezone.make_aware(datetime.combine(day, time(hour))), now)


@dataclass
class Outcome:
    """What staff later learned about one referral, and when (never after now)."""

    action: str  # "" (nothing yet), linked, declined, lost, not_needed, not_yet
    referred_at: datetime  # the first status change: the referral itself
    linked_on: date | None = None
    changed_at: datetime | None = None


def outcome_plan(rng, *, referred_on: date, follow_up_on: date, group: str, now: datetime):
    """A pure function of its arguments (tests call it for any hour of any day)."""
    today = timezone.localdate(now)
    age = (today - referred_on).days
    if age < 7:  # too recent to know anything
        return None
    roll = rng.random()
    link_chance = LINK_CHANCE[group]
    action, change_day, linked_on = "", None, None
    if roll < link_chance:
        linked_on = referred_on + timedelta(days=rng.randint(0, min(age, 35)))
        change_day = min(today, linked_on + timedelta(days=rng.randint(0, 20)))
        action = "linked"
    elif roll < link_chance + 0.1:
        change_day = referred_on + timedelta(days=rng.randint(1, min(age, 30)))
        action = "declined"
    elif age > 90 and roll < link_chance + 0.35:
        change_day = referred_on + timedelta(days=90)
        action = "lost"
    elif roll < link_chance + 0.4:
        change_day = referred_on + timedelta(days=rng.randint(1, min(age, 60)))
        action = "not_needed"
    elif follow_up_on < today and rng.random() < 0.5:
        change_day = today
        action = "not_yet"
    changed_at = None
    if change_day is not None:
        changed_at = _at(min(change_day, today), rng.randint(9, 17), now)
    referred_at = _at(referred_on, rng.randint(9, 17), now)
    if changed_at is not None:  # a same-day outcome comes after the referral itself
        changed_at = max(changed_at, referred_at)
    return Outcome(action, referred_at, linked_on, changed_at)


def seed_referrals(*, log) -> None:
    rng = random.Random(5)
    types = {t.code: t for t in ReferralType.objects.all()}
    for name, address, phone, hours, codes in DEMO_PARTNERS:
        if not Partner.objects.filter(name=name).exists():
            services.partner_save(
                name=name,
                address=address,
                phone=phone,
                hours=hours,
                types=[types[c] for c in codes if c in types],
            )
    if Referral.objects.exists():
        log(f"Referrals already present ({Referral.objects.count()}); partners checked.")
        return
    partners_by_type: dict[int, list[Partner]] = {}
    for partner in Partner.objects.filter(is_active=True).prefetch_related("types"):
        for t in partner.types.all():
            partners_by_type.setdefault(t.pk, []).append(partner)

    visits = (
        Visit.objects.filter(participant__isnull=False, voided_at__isnull=True)
        .select_related("site", "recorded_by", "participant")
        .order_by("occurred_at")
    )
    if not visits.exists():
        log("No demo visits with a code yet: only partners were created.")
        return
    # Referrals are made by whoever recorded the visit; where that person may no longer
    # record at the site (moved, role changed), by a program-wide colleague instead.
    recorders: dict[int, User] = {}
    program_wide = [
        u for u in User.objects.filter(is_active=True).order_by("pk") if u.is_program_wide
    ]
    now = timezone.now()  # read once: every date below is at or before it
    codes, weights = zip(*[(c, w) for c, w in TYPE_WEIGHTS.items() if c in types], strict=True)
    made = 0
    for visit in visits.iterator():
        if rng.random() > 0.09:  # about one visit in eleven ends with a referral
            continue
        referral_type = types[rng.choices(codes, weights)[0]]
        offered = partners_by_type.get(referral_type.pk, [])
        partner = rng.choice(offered) if offered and rng.random() < 0.8 else None
        by = _recorder(visit, recorders, program_wide)
        if by is None:
            continue
        referral = services.referral_create(
            referral_type=referral_type, visit=visit, partner=partner, by=by
        )
        made += 1
        _play_outcome(rng, referral, by=by, now=now)
    log(
        f"Partners: {Partner.objects.count()}. Referrals: {made} on "
        f"{visits.count()} coded visits, "
        f"{Referral.objects.filter(status='linked').count()} linked, "
        f"{Referral.objects.filter(status='lost').count()} lost to follow-up, "
        f"{Referral.objects.filter(status='referred').count()} open."
    )


def _recorder(visit: Visit, recorders: dict[int, User], program_wide: list[User]):
    # One instance per user, so its sites and permissions are read once, not per visit.
    user = recorders.setdefault(visit.recorded_by_id, visit.recorded_by)
    if services.can_record_at(user, visit.site_id):
        return user
    return next((u for u in program_wide if services.can_record_at(u, visit.site_id)), None)


def _play_outcome(rng, referral: Referral, *, by, now) -> None:
    """What staff later learned, told through the services; history is then dated to
    the day it happened (the services stamp 'now')."""
    plan = outcome_plan(
        rng,
        referred_on=referral.referred_on,
        follow_up_on=referral.follow_up_on,
        group=referral.type.group,
        now=now,
    )
    if plan is None:
        return
    if plan.action == "linked":
        services.referral_mark_linked(referral=referral, linked_on=plan.linked_on, by=by)
    elif plan.action == "declined":
        services.referral_mark_declined(referral=referral, by=by)
    elif plan.action == "lost":
        services.referral_mark_lost(referral=referral, by=by, note="No news after 90 days")
    elif plan.action == "not_needed":
        services.referral_mark_not_needed(referral=referral, by=by)
    elif plan.action == "not_yet":
        services.referral_not_yet(referral=referral, by=by)
    if plan.changed_at is not None:
        Referral.objects.filter(pk=referral.pk).update(status_changed_at=plan.changed_at)
        ReferralStatusChange.objects.filter(referral=referral).exclude(from_status="").update(
            changed_at=plan.changed_at
        )
    ReferralStatusChange.objects.filter(referral=referral, from_status="").update(
        changed_at=plan.referred_at
    )


def seed(*, log, days: int) -> None:
    # A demo seed that failed half-way is emptied before the next: restore the defaults
    # the data migration added.
    default_types_ensure(ReferralType)
    seed_referrals(log=log)
