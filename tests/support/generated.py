"""Generated months of visits at many small sites, for the suppression attacker.

`generated_months(seed=..., sites=..., months=...)` writes, with a seeded random source,
visits at small sites (a few to a few dozen a month, so many figures are small), with
participant codes shared between sites, anonymous visits, street shifts, collected
syringes by method, naloxone of two formulations (2 and 1 doses per unit) from two
funding sources through the stock ledger, drug-checking strips, refills, reversals,
secondary distribution and referrals. The same seed writes the same records.
"""

import random
from dataclasses import dataclass
from datetime import date, datetime

from django.db import transaction

from inventory.models import Category
from inventory.services import (
    DispenseLine,
    ReceiptLine,
    stock_dispense_in_transaction,
    stock_receive,
)
from org import roles
from org.models import ServiceModel, Site, User
from referrals.models import ReferralType
from referrals.services import referral_create
from reports.periods import Period
from ssp.models import Participant, Visit, VisitSupply
from ssp.selectors import CollectionMethod, NaloxoneRefillReason

from ..factories import (
    FundingSourceFactory,
    ItemFactory,
    LocationFactory,
    ParticipantFactory,
    SiteFactory,
    VisitFactory,
    make_staff,
)
from .reports import PROGRAM


@dataclass
class GeneratedMonths:
    sites: list[Site]
    periods: list[Period]
    admin: User
    visits: int


def generated_months(*, seed: int, sites: int = 10, months: list[Period]) -> GeneratedMonths:
    rng = random.Random(seed)
    admin = make_staff(f"gen{seed}", roles.ADMIN)
    admin.is_staff = admin.is_superuser = True
    admin.save()
    items = {
        "syringe": ItemFactory(name="Gen syringe 1 mL", code="gen-syr", category=Category.SYRINGE),
        "needle": ItemFactory(name="Gen needle 25G", code="gen-ndl", category=Category.NEEDLE),
        "nasal": ItemFactory(
            name="Gen naloxone nasal 4 mg twin pack",
            code="gen-nx4",
            category=Category.NALOXONE,
            naloxone_formulation="nasal_4mg",
            naloxone_doses_per_unit=2,
        ),
        "vial": ItemFactory(
            name="Gen naloxone 0.4 mg vial",
            code="gen-nxv",
            category=Category.NALOXONE,
            naloxone_formulation="im_0_4mg",
            naloxone_doses_per_unit=1,
        ),
        "fts": ItemFactory(name="Gen fentanyl strip", code="gen-fts", category="drug_checking"),
        "xts": ItemFactory(name="Gen xylazine strip", code="gen-xts", category="drug_checking"),
    }
    funds = [
        FundingSourceFactory(name="Gen state grant", code="gen-state"),
        FundingSourceFactory(name="Gen federal grant", code="gen-fed"),
    ]
    referral_types = list(ReferralType.objects.order_by("code")[:4])
    made = [
        SiteFactory(
            name=f"Gen site {n:02d}",
            code=f"G{n:02d}",
            service_model=rng.choice(ServiceModel.values),
        )
        for n in range(sites)
    ]
    codes = [f"GEN{n:04d}F" for n in range(12 * sites)]
    first_visit: dict[str, date] = {}
    total = 0
    for site in made:
        store = LocationFactory(name=f"{site.code} storeroom", kind="site", site=site)
        for fund in funds:  # two lots of everything: dispenses draw on both sources
            stock_receive(
                location=store,
                lines=[ReceiptLine(item=item, quantity=5000) for item in items.values()],
                funding_source=fund,
                by=admin,
            )
        size = rng.choice([2, 4, 6, 9, 14, 25])  # a small site's visits per month
        local = rng.sample(codes, k=min(len(codes), 3 * size))
        for period in months:
            for _ in range(max(1, size + rng.randint(-2, 3))):
                day = rng.randint(period.start.day, period.end.day)
                occurred = datetime(
                    period.start.year, period.start.month, day, rng.randint(8, 20), tzinfo=PROGRAM
                )
                code = rng.choice(local) if rng.random() < 0.8 else ""
                participant = None
                if code:
                    participant = ParticipantFactory(code=code, first_seen_on=occurred.date())
                    first_visit[code] = min(first_visit.get(code, occurred.date()), occurred.date())
                street = not code and rng.random() < 0.2
                visit = VisitFactory(
                    site=site,
                    location=store,
                    participant=participant,
                    occurred_at=occurred,
                    recorded_by=admin,
                    service_model=rng.choice(ServiceModel.values),
                    contacts=rng.randint(2, 6) if street else 1,
                    syringes_collected=rng.choice([0, 0, 5, 10, 20, 40]),
                    collection_method=rng.choice(CollectionMethod.values),
                    secondary_people=rng.choice([0, 0, 0, 1, 2]),
                    naloxone_refill_reason=rng.choice(["", "", "", *NaloxoneRefillReason.values]),
                    overdose_reversals=rng.choice([0, 0, 0, 0, 1]),
                )
                total += 1
                lines = {"syringe": rng.choice([0, 10, 10, 20, 30, 50])}
                for name, chance, most in (
                    ("needle", 0.2, 20),
                    ("nasal", 0.25, 2),
                    ("vial", 0.1, 3),
                    ("fts", 0.3, 10),
                    ("xts", 0.1, 5),
                ):
                    if rng.random() < chance:
                        lines[name] = rng.randint(1, most)
                lines = {name: qty for name, qty in lines.items() if qty}
                for name, qty in lines.items():
                    VisitSupply.objects.create(visit=visit, item=items[name], quantity=qty)
                if lines:
                    # As intake does: the visit's own reference, in the visit's transaction.
                    with transaction.atomic():
                        stock_dispense_in_transaction(
                            location=store,
                            lines=[
                                DispenseLine(item=items[n], quantity=q) for n, q in lines.items()
                            ],
                            by=admin,
                            reference=visit.stock_reference,
                            occurred_at=occurred,
                        )
                if participant and referral_types and rng.random() < 0.25:
                    referral_create(referral_type=rng.choice(referral_types), visit=visit, by=admin)
    for code, first in first_visit.items():
        Participant.objects.filter(code=code).update(first_seen_on=first)
    assert Visit.objects.filter(site__in=made).count() == total
    return GeneratedMonths(sites=made, periods=months, admin=admin, visits=total)
