"""Demo data for program events: the sharps kiosk and bins emptied on their rounds,
community clean-ups and the odd needle-stick injury at the demo sites, over the seeded
span. Run through `manage.py seed_demo` (before the visits: no event touches stock)."""

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.test.utils import override_settings
from django.utils import timezone

from org.models import Site, User

from .models import EventKind, EventVoidReason, PersonStuck, ProgramEvent, SharpsContainer
from .services import event_record, event_void

# Who records at each demo site, as on the visits' rota (ssp/demo.py).
RECORDER = {"DTWN": "frontdesk", "EAST": "manager", "VAN1": "outreach", "OUTR": "outreach"}
# The rounds: (site, container, weekday (Monday 0), every n weeks, unit, weight range).
ROUNDS = [
    ("DTWN", SharpsContainer.KIOSK, 0, 2, "lb", (6.0, 22.0)),
    ("EAST", SharpsContainer.SITE_BIN, 2, 4, "kg", (1.5, 6.0)),
    ("VAN1", SharpsContainer.VAN_BIN, 4, 4, "lb", (3.0, 12.0)),
]
# Clean-ups on a month's second Saturday: the outreach team in most months, and now and
# then a neighbourhood clean-up with the Eastside clinic.
CLEANUP_SITES = [("OUTR", 0.8), ("EAST", 0.3)]
# About one needle-stick injury in two months across the program.
NEEDLE_STICKS_PER_DAY = 1 / 60
NEEDLE_STICK_SITES = (("DTWN", 3), ("OUTR", 3), ("VAN1", 2), ("EAST", 1))


@dataclass(frozen=True)
class PlannedEvent:
    kind: str
    site: str
    occurred_on: date
    fields: dict = field(default_factory=dict)


def event_plan(rng, *, now: datetime, days: int) -> list[PlannedEvent]:
    """The events of the `days` up to `now`, in date order, each on a day already over
    (yesterday at the latest): a pure function of its arguments, so tests try it at any
    hour of any day."""
    today = timezone.localdate(now)
    first_day = today - timedelta(days=days - 1)
    plans: list[PlannedEvent] = []
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        if day >= today:
            break
        week = (day - date(2026, 1, 5)).days // 7  # counted from a Monday, any year
        for site, container, weekday, every, unit, (low, high) in ROUNDS:
            if day.weekday() == weekday and week % every == 0:
                weight = Decimal(str(round(rng.uniform(low, high), 1)))
                fields = {"container": container, "weight": weight, "weight_unit": unit}
                plans.append(PlannedEvent(EventKind.SHARPS_EMPTIED, site, day, fields))
        if day.weekday() == 5 and 8 <= day.day <= 14:
            for site, chance in CLEANUP_SITES:
                if rng.random() < chance:
                    fields = {
                        "syringes_collected": rng.randint(8, 160),
                        "staff_hours": Decimal(rng.randint(6, 32)) / 2,
                    }
                    plans.append(PlannedEvent(EventKind.CLEANUP, site, day, fields))
        if rng.random() < NEEDLE_STICKS_PER_DAY:
            sites, weights = zip(*NEEDLE_STICK_SITES, strict=True)
            who = PersonStuck.COMMUNITY if rng.random() < 0.6 else PersonStuck.STAFF
            site = rng.choices(sites, weights)[0]
            plans.append(PlannedEvent(EventKind.NEEDLE_STICK, site, day, {"person_stuck": who}))
    return plans


def seed_events(*, log, days: int, seed: int = 2718) -> None:
    """The planned events, recorded through event_record as staff would; the last kiosk
    round is entered twice and the copy voided by the manager, as happens."""
    if ProgramEvent.objects.exists():
        log(f"Program events already present ({ProgramEvent.objects.count()}); leaving them.")
        return
    sites = {s.code: s for s in Site.objects.filter(code__in=RECORDER)}
    staff = {u.username: u for u in User.objects.filter(username__in=[*RECORDER.values()])}
    if len(sites) < len(RECORDER) or len(staff) < len(set(RECORDER.values())):
        log("No demo sites or staff: run the org step first.")
        return
    plans = event_plan(random.Random(seed), now=timezone.now(), days=days)
    recorded = []
    # Paper records of the whole span entered in one go: the backdating window (a
    # safeguard for one person's typing) is widened for this step only.
    with override_settings(SSP_EVENT_BACKDATE_DAYS=days + 1):
        for plan in plans:
            recorded.append(
                event_record(
                    kind=plan.kind,
                    site=sites[plan.site],
                    occurred_on=plan.occurred_on,
                    by=staff[RECORDER[plan.site]],
                    **plan.fields,
                )
            )
        kiosk = [p for p in plans if p.fields.get("container") == SharpsContainer.KIOSK]
        if kiosk:
            again = event_record(
                kind=kiosk[-1].kind,
                site=sites[kiosk[-1].site],
                occurred_on=kiosk[-1].occurred_on,
                by=staff[RECORDER[kiosk[-1].site]],
                **kiosk[-1].fields,
            )
            event_void(event=again, by=staff["manager"], reason=EventVoidReason.ENTERED_TWICE)
    counts = {kind: sum(p.kind == kind for p in plans) for kind in EventKind.values}
    log(
        f"Program events: {len(recorded)} over {days} days — "
        f"{counts[EventKind.SHARPS_EMPTIED]} kiosks or bins emptied, "
        f"{counts[EventKind.CLEANUP]} clean-ups, {counts[EventKind.NEEDLE_STICK]} needle-stick "
        f"injuries{', and one entered twice, voided' if kiosk else ''}."
    )


def seed(*, log, days: int) -> None:
    seed_events(log=log, days=days)
