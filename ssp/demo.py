"""Demo data for the ssp app. Run through `manage.py seed_demo`."""

import random
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.test.utils import override_settings
from django.utils import timezone

from inventory.models import FundingSource, Item, Kit, KitComponent
from inventory.selectors import CONSUMPTION_WINDOW_DAYS, stock_levels
from inventory.services import DispenseLine, ReceiptLine, stock_receive
from org.models import Site, User

from .codes import build_code, current_recipe
from .models import Participant, Visit
from .services import visit_record
from .visit_services import visit_service_codes

# --- A year of visits ------------------------------------------------------------------

# Names are only a way to build codes the recipe accepts; neither they nor the parts are
# stored (ssp.codes.build_code returns the code alone).
_NAME_SEEDS = (  # noqa: SIM905 (a paragraph of names reads better than a list)
    "MARIA ANNA LINDA ROSA JUDY KAREN DONNA SUSAN TINA GLORIA HELEN PAULA NORA IRENE "
    "JOSE JOHN MIKE DAVID CARL LUIS KEVIN TONY ROBERT FRANK SAM OSCAR EDDIE PETE VICTOR "
    "BETTY CAROL DIANE EMMA FAYE GRACE HOPE IVY JUNE KATE LUCY MAE NINA OLGA RUTH SARA"
).split()

# Who hands out what: the persona's usual supplies as (kind, code, quantity).
PERSONAS = {
    "injects": [("kit", "kit-inj", 1)],
    "injects-heavily": [("kit", "kit-inj", 2), ("item", "fts", 3)],
    "injects-27g": [("item", "s27", 20), ("item", "alc", 20), ("item", "cook", 2)],
    "smokes": [("kit", "kit-smoke", 1)],
    "smokes-and-checks": [("kit", "kit-smoke", 1), ("item", "fts", 2)],
    "wound-care": [("kit", "kit-inj", 1), ("kit", "kit-wound", 1)],
}
# Which personas come to which site (weights), and how busy each site is.
SITE_MIX = {
    "DTWN": ({"injects": 5, "injects-heavily": 2, "injects-27g": 2, "wound-care": 1}, 45),
    "EAST": ({"injects": 3, "smokes": 3, "smokes-and-checks": 2, "wound-care": 1}, 25),
    "VAN1": ({"injects": 4, "injects-heavily": 3, "smokes": 1}, 30),
}
INJECTING = {"injects", "injects-heavily", "injects-27g", "wound-care"}
REFILL_REASONS = [("used", 5), ("lost", 2), ("expired", 1), ("police", 1), ("other", 1)]
BLOCK_DAYS = 14  # stock arrives at each site every two weeks, just before it is used


@dataclass
class _PlannedVisit:
    occurred_at: datetime | None  # None: would have been after now; dropped by _plan
    site: str
    code: str = ""
    lines: list = field(default_factory=list)  # (kind, code, quantity)
    contacts: int = 1
    fields: dict = field(default_factory=dict)


def _random_code(rng) -> str:
    parts = {}
    for part in current_recipe().input_parts:
        if part.kind == "letters":
            parts[part.key] = rng.choice(_NAME_SEEDS)
        elif part.kind in ("year", "year2"):
            parts[part.key] = str(rng.randint(1958, 2004))
        elif part.kind == "month":
            parts[part.key] = str(rng.randint(1, 12))
        elif part.kind == "day":
            parts[part.key] = str(rng.randint(1, 28))
        elif part.kind == "gender":
            parts[part.key] = rng.choices("MFXU", weights=(60, 33, 5, 2))[0]
    return build_code(parts)


def _swapped(code: str, rng) -> str:
    """The same code with two neighbouring letters swapped: a recall slip at the desk."""
    letters = [i for i in range(len(code) - 1) if code[i].isalpha() and code[i + 1].isalpha()]
    for i in rng.sample(letters, len(letters)):
        if code[i] != code[i + 1]:
            return code[:i] + code[i + 1] + code[i] + code[i + 2 :]
    return code


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(0, 0)))


def _when(rng, day: date, now: datetime) -> datetime | None:
    """A visit during the day's opening hours, or, today, in the half hour before now;
    None when that half hour would fall before the day began (just after midnight)."""
    at = timezone.make_aware(datetime.combine(day, time(rng.randint(9, 17), rng.randint(0, 59))))
    at = min(at, now - timedelta(minutes=rng.randint(1, 30)))
    return at if at >= _start_of(day) else None


def delivery_at(start: date, now: datetime) -> datetime:
    """Deliveries come at 07:30 on the block's first day; when that is still to come
    (a first run before 07:30 on a delivery day), an hour before now, but on that day,
    so the delivery still precedes every visit of its block (those are at least 9:00
    or at most half an hour before now, and never before the day began)."""
    usual = timezone.make_aware(datetime.combine(start, time(7, 30)))
    return min(usual, max(_start_of(start), now - timedelta(hours=1)), now)


def _plan(rng, *, days: int, participants: int, now: datetime) -> list[_PlannedVisit]:
    """Every visit of the year, in time order, before anything is written."""
    today = timezone.localdate(now)
    first_day = today - timedelta(days=days - 1)
    sites, weights = zip(*[(code, mix[1]) for code, mix in SITE_MIX.items()], strict=True)
    plans: list[_PlannedVisit] = []
    codes: set[str] = set()
    while len(codes) < participants:
        code = _random_code(rng)
        if code in codes:
            continue
        codes.add(code)
        site = rng.choices(sites, weights)[0]
        mix = SITE_MIX[site][0]
        persona = rng.choices(list(mix), list(mix.values()))[0]
        usual = PERSONAS[persona]
        # Most people come now and then; a few come every few days.
        per_week = min(rng.lognormvariate(-2.0, 0.8), 2.0)
        start = rng.randint(0, days - 1) if rng.random() < 0.4 else 0
        stop = days if rng.random() < 0.75 else rng.randint(start + 1, days)
        has_naloxone = False
        for offset in range(start, stop):
            if rng.random() >= per_week / 7:
                continue
            lines = list(usual)
            fields: dict = {}
            if rng.random() < 0.25:  # not exactly the usual today
                lines = [(k, c, q + rng.choice((-1, 1)) * (q > 1)) for k, c, q in lines]
                if rng.random() < 0.5:
                    lines.append(rng.choice([("kit", "kit-hyg", 1), ("item", "condom", 6)]))
            if rng.random() < (0.35 if not has_naloxone else 0.08):
                lines.append(("item", "nx-nasal", 1))
                if has_naloxone:
                    reason = rng.choices(*zip(*REFILL_REASONS, strict=True))[0]
                    fields["naloxone_refill_reason"] = reason
                    fields["overdose_reversals"] = int(reason == "used")
                has_naloxone = True
            if persona in INJECTING and rng.random() < 0.45:
                fields["syringes_collected"] = rng.choice((5, 10, 10, 20, 20, 30, 50, 100))
                fields["collection_method"] = rng.choice(("counted", "counted", "estimated"))
            if rng.random() < 0.08:  # picking up for others too
                fields["secondary_people"] = rng.randint(1, 4)
                lines = [(k, c, q * 2) for k, c, q in lines]
            day = first_day + timedelta(days=offset)
            visit_site = site if rng.random() < 0.9 else rng.choices(sites, weights)[0]
            plans.append(_PlannedVisit(_when(rng, day, now), visit_site, code, lines, 1, fields))
    # A few recall slips: one visit under a code with two letters swapped (near-match
    # suggestions and the merge page then have something to show).
    coded = [p for p in plans if p.code]
    for plan in rng.sample(coded, min(6, len(coded))):
        plan.code = _swapped(plan.code, rng)
    # People who give no code at all, at every site; and the outreach team's shifts.
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        for site in sites:
            for _ in range(rng.choices((0, 1, 2), (78, 18, 4))[0]):
                lines = [("kit", "kit-inj", 1)] if rng.random() < 0.7 else [("kit", "kit-smoke", 1)]
                if rng.random() < 0.15:
                    lines.append(("item", "nx-nasal", 1))
                plans.append(_PlannedVisit(_when(rng, day, now), site, "", lines))
        if offset % 7 == 3 and rng.random() < 0.6:
            contacts = rng.randint(15, 45)
            lines = [
                ("item", "s28", contacts * rng.randint(8, 12)),
                ("item", "nx-nasal", max(1, contacts // rng.randint(3, 6))),
                ("item", "fts", contacts * 2),
                ("item", "pipe", contacts // 3 + 1),
            ]
            plans.append(
                _PlannedVisit(
                    _when(rng, day, now),
                    "OUTR",
                    "",
                    lines,
                    contacts,
                    {"syringes_collected": contacts * rng.randint(3, 8),
                     "collection_method": "estimated"},
                )
            )  # fmt: skip
    plans = [p for p in plans if p.occurred_at is not None]
    plans.sort(key=lambda p: p.occurred_at)
    return [p for p in plans if all(q > 0 for _, _, q in p.lines)]


@dataclass
class DemoSchedule:
    """Every dated thing the visits step will write, computed from `now` alone."""

    now: datetime
    first_day: date
    visits: list[_PlannedVisit]
    deliveries: dict[int, datetime]  # block -> when that block's stock arrives

    def block_of(self, moment: datetime) -> int:
        return (timezone.localdate(moment) - self.first_day).days // BLOCK_DAYS

    @property
    def last_block(self) -> int:
        return (timezone.localdate(self.now) - self.first_day).days // BLOCK_DAYS

    def block_start(self, block: int) -> date:
        return self.first_day + timedelta(days=block * BLOCK_DAYS)


def demo_schedule(rng, *, now: datetime, days: int, participants: int) -> DemoSchedule:
    """The visits and the two-weekly deliveries, none after `now` (a pure function of
    its arguments and the code recipe: tests call it for any hour of any day)."""
    today = timezone.localdate(now)
    first_day = today - timedelta(days=days - 1)
    visits = _plan(rng, days=days, participants=participants, now=now)
    schedule = DemoSchedule(now=now, first_day=first_day, visits=visits, deliveries={})
    for block in range(schedule.last_block + 1):
        schedule.deliveries[block] = delivery_at(schedule.block_start(block), now)
    return schedule


def _funder_for(item, funders):
    # As in inventory.demo: federal money buys naloxone and strips, never syringes.
    if item.category in ("naloxone", "drug_checking"):
        return funders["federal"]
    if item.category in ("syringe", "needle"):
        return funders["state"]
    return funders["donation"]


# What a front desk gives besides supplies, per one-person visit: (service, chance).
DEMO_SERVICES = (
    ("counselling", 0.06),
    ("education", 0.05),
    ("wound_care", 0.03),
    ("hiv_test", 0.015),
    ("hcv_test", 0.015),
    ("vaccination", 0.005),
)


def demo_services(rng, plan, offered: set[str]) -> list[tuple[str, int]]:
    """The services given at a planned visit: a few at random for one person (naloxone
    training with a first naloxone, drug checking with test strips), none at a street
    shift; only services the program offers (SSP_VISIT_SERVICES)."""
    if plan.contacts > 1:
        return []
    given = [code for code, chance in DEMO_SERVICES if rng.random() < chance]
    codes = {code for _kind, code, _quantity in plan.lines}
    first_naloxone = "nx-nasal" in codes and "naloxone_refill_reason" not in plan.fields
    if first_naloxone and rng.random() < 0.5:
        given.append("naloxone_training")
    if "fts" in codes and rng.random() < 0.3:
        given.append("drug_checking")
    return [(code, 1) for code in given if code in offered]


def seed_visits(*, log, days: int = 365, participants: int = 260, seed: int = 1985) -> None:
    """A year of front-desk visits, anonymous visits and street shifts at the demo sites,
    recorded through visit_record so stock and ledger agree. Each site receives, every two
    weeks, what its visits will hand out (and keeps its months of stock as before)."""
    if Visit.objects.exists():
        log(f"Visits already present ({Visit.objects.count()}); leaving them.")
        return
    sites = {s.code: s for s in Site.objects.filter(code__in=[*SITE_MIX, "OUTR"])}
    locations = {
        code: site.locations.filter(is_active=True).order_by("pk").first()
        for code, site in sites.items()
    }
    items = {i.code: i for i in Item.objects.all()}
    kits = {k.code: k for k in Kit.objects.all()}
    funders = {f.code: f for f in FundingSource.objects.all()}
    needed = {"state", "federal", "donation"}
    if len(sites) < 4 or None in locations.values() or not needed <= funders.keys():
        log("No demo sites, locations or funding sources: run the inventory step first.")
        return
    usernames = ["frontdesk", "outreach", "manager", "admin"]
    staff = {u.username: u for u in User.objects.filter(username__in=usernames)}
    recorder = {
        "DTWN": staff.get("frontdesk"),
        "EAST": staff.get("manager"),
        "VAN1": staff.get("outreach"),
        "OUTR": staff.get("outreach"),
    }
    receiver = staff.get("admin") or User.objects.filter(is_superuser=True).first()
    rng = random.Random(seed)
    now = timezone.now()  # read once: every date below is at or before it
    today = timezone.localdate(now)
    schedule = demo_schedule(rng, now=now, days=days, participants=participants)
    plans = schedule.visits

    # What each visit takes out, per location, item and two-week block.
    components: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for comp in KitComponent.objects.select_related("kit", "item"):
        components[comp.kit.code].append((comp.item.code, comp.quantity))
    demand: dict[tuple[int, str, str], int] = defaultdict(int)
    recent: dict[tuple[str, str], int] = defaultdict(int)  # the stock page's window
    window_start = today - timedelta(days=CONSUMPTION_WINDOW_DAYS - 1)
    for plan in plans:
        block = schedule.block_of(plan.occurred_at)
        for kind, code, quantity in plan.lines:
            for item_code, units in components[code] if kind == "kit" else [(code, 1)]:
                demand[(block, plan.site, item_code)] += units * quantity
                if timezone.localdate(plan.occurred_at) >= window_start:
                    recent[(plan.site, item_code)] += units * quantity

    def receive(block: int, site: str, extra: dict[str, int] | None = None) -> None:
        start = schedule.block_start(block)
        wanted = {code: q for (b, s, code), q in demand.items() if b == block and s == site}
        by_funder: dict[str, list] = defaultdict(list)
        for code, quantity in sorted(wanted.items()):
            item = items[code]
            lot = {}
            if item.is_lot_tracked:
                # Expiring before any lot the inventory demo left on the shelves, so
                # first-expiry-first-out takes this block's lot and leaves theirs alone.
                lot = {
                    "lot_number": f"V{start:%y%m%d}-{code.upper()}",
                    "expires_on": min(start + timedelta(days=365), today + timedelta(days=20)),
                }
            line = ReceiptLine(item=item, quantity=quantity, **lot)
            by_funder[_funder_for(item, funders).code].append(line)
        for code, quantity in sorted((extra or {}).items()):
            item = items[code]
            lot = {}
            if item.is_lot_tracked:
                lot = {
                    "lot_number": f"V{today:%y}K-{code.upper()}",
                    "expires_on": today + timedelta(days=400),
                }
            line = ReceiptLine(item=item, quantity=quantity, **lot)
            by_funder[_funder_for(item, funders).code].append(line)
        for funder_code, lines in by_funder.items():
            stock_receive(
                location=locations[site],
                lines=lines,
                funding_source=funders[funder_code],
                by=receiver,
                occurred_at=schedule.deliveries[block],
                reference=f"Demo delivery {start:%Y-%m-%d}",
            )

    # The visits' extra use would lower every site's months of stock; what each site keeps
    # grows in the same proportion as its use, so the stock page shows the same bands.
    before = {
        (level.location.pk, level.item.code): level
        for level in stock_levels(location_ids=[loc.pk for loc in locations.values()])
    }
    keep: dict[str, dict[str, int]] = defaultdict(dict)
    for (site, code), used in recent.items():
        level = before.get((locations[site].pk, code))
        if level is not None and level.consumed_90d > 0:
            extra = round(used * level.on_hand / level.consumed_90d)
        else:
            extra = round(used / 3 * 2)  # two months: a normal level for something new
        if extra > 0:
            keep[site][code] = extra

    # Services come from a generator of their own, so the visits planned above (and
    # every figure the demo's tests know) are the same with or without them.
    service_rng = random.Random(seed + 1)
    offered = set(visit_service_codes())
    last_block = schedule.last_block
    received: set[int] = set()
    counts = defaultdict(int)
    # A year of paper and tablet records entered in one go: the backdating window (a
    # front-desk safeguard) is widened for this step only.
    with override_settings(SSP_VISIT_BACKDATE_DAYS=days + 1):
        for plan in plans:
            block = schedule.block_of(plan.occurred_at)
            if block not in received:
                for site in sites:
                    receive(block, site, keep.get(site) if block == last_block else None)
                received.add(block)
            lines = [
                DispenseLine(quantity=q, kit=kits[c]) if kind == "kit"
                else DispenseLine(quantity=q, item=items[c])
                for kind, c, q in plan.lines
            ]  # fmt: skip
            visit_record(
                site=sites[plan.site],
                by=recorder[plan.site] or receiver,
                client_uuid=uuid.UUID(int=rng.getrandbits(128), version=4),
                code=plan.code,
                lines=lines,
                occurred_at=plan.occurred_at,
                contacts=plan.contacts,
                confirm_large_quantity=plan.contacts > 1,
                services=demo_services(service_rng, plan, offered),
                **plan.fields,
            )
            counts["shift" if plan.contacts > 1 else "coded" if plan.code else "anonymous"] += 1
        for block in range(last_block + 1):
            if block not in received:  # a block without visits still gets its keep
                for site in sites:
                    receive(block, site, keep.get(site) if block == last_block else None)
    log(
        f"Visits: {sum(counts.values())} over {days} days at {len(sites)} sites — "
        f"{counts['coded']} with a code ({Participant.objects.count()} participants), "
        f"{counts['anonymous']} anonymous, {counts['shift']} street shifts; "
        f"{Visit.objects.filter(naloxone_refill_reason__gt='').count()} naloxone refills, "
        f"{Visit.objects.filter(syringes_collected__gt=0).count()} with syringes collected."
    )


def seed(*, log, days: int) -> None:
    seed_visits(log=log, days=days)
