"""Demo stock for `manage.py seed_demo`: a realistic catalog, three funding sources,
a central store and one location per demo site (plus a peer distributor), and
three months of history written through the services so ledger and balances agree.

The history is chosen so the stock page shows every band: heavy syringe use at
Downtown (understock), naloxone nearly gone on the van (emergency), cookers piling
up at Eastside (overstock); some lots expire within 60 days and one has expired.
"""

import random
from datetime import datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from org.models import Site
from outbox.services import jobs_pending_drop

from .alerts import seed_demo_alerts
from .models import (
    Category,
    FundingSource,
    Item,
    Kit,
    Location,
    LocationKind,
    NaloxoneFormulation,
    StockBalance,
    StockMovement,
)
from .selectors import stock_on_hand
from .services import (
    CountLine,
    DispenseLine,
    ReceiptLine,
    TransferLine,
    alert_rechecks_claim,
    stock_adjust,
    stock_count,
    stock_dispense,
    stock_receive,
    stock_transfer,
)

# code, name, category, base unit, lot-tracked, pack sizes [(name, units)], naloxone
C = Category  # short, so the catalog reads as a table
CATALOG = [
    ("s28", '1 mL 28G ½" syringe', C.SYRINGE, "syringe", False, [("box of 100", 100)]),
    ("s27", '1 mL 27G ½" syringe', C.SYRINGE, "syringe", False, [("box of 100", 100)]),
    ("s29", "0.5 mL 29G syringe", C.SYRINGE, "syringe", False, [("box of 100", 100)]),
    ("s25", '3 mL 25G 1" syringe', C.SYRINGE, "syringe", False, [("box of 100", 100)]),
    ("n25", '25G 1" loose needle', C.NEEDLE, "needle", False, [("box of 100", 100)]),
    ("cook", "Cooker", C.INJECTION_SUPPLIES, "cooker", False, [("sleeve of 100", 100)]),
    ("cot", "Cotton filter", C.INJECTION_SUPPLIES, "filter", False, [("bag of 100", 100)]),
    ("h2o", "Sterile water 10 mL", C.INJECTION_SUPPLIES, "vial", True, [("box of 50", 50)]),
    ("alc", "Alcohol pad", C.INJECTION_SUPPLIES, "pad", False, [("box of 200", 200)]),
    ("tq", "Tourniquet", C.INJECTION_SUPPLIES, "tourniquet", False, [("bag of 25", 25)]),
    ("sharps", "Sharps container 1 qt", C.OTHER, "container", False, [("case of 24", 24)]),
    (
        "nx-nasal",
        "Naloxone nasal spray 4 mg (2-pack)",
        C.NALOXONE,
        "box",
        True,
        [("case of 24", 24)],
    ),
    ("nx-im", "Naloxone 0.4 mg/mL vial", C.NALOXONE, "vial", True, [("box of 10", 10)]),
    (
        "fts",
        "Fentanyl test strip (FTS)",
        C.DRUG_CHECKING,
        "strip",
        True,
        [("box of 100", 100)],
    ),
    (
        "xts",
        "Xylazine test strip (XTS)",
        C.DRUG_CHECKING,
        "strip",
        True,
        [("box of 100", 100)],
    ),
    ("pipe", "Glass stem pipe", C.SAFER_SMOKING, "pipe", False, [("box of 50", 50)]),
    (
        "mouth",
        "Pipe mouthpiece",
        C.SAFER_SMOKING,
        "mouthpiece",
        False,
        [("bag of 100", 100)],
    ),
    ("gauze", "Gauze pad 4×4", C.WOUND_CARE, "pad", False, [("box of 100", 100)]),
    ("band", "Adhesive bandage", C.WOUND_CARE, "bandage", False, [("box of 100", 100)]),
    (
        "oint",
        "Antibiotic ointment packet",
        C.WOUND_CARE,
        "packet",
        True,
        [("box of 144", 144)],
    ),
    ("tbrush", "Toothbrush", C.HYGIENE, "toothbrush", False, [("box of 72", 72)]),
    ("socks", "Socks (pair)", C.HYGIENE, "pair", False, [("bag of 12", 12)]),
    ("soap", "Soap bar", C.HYGIENE, "bar", False, [("box of 48", 48)]),
    ("condom", "Condom", C.SAFER_SEX, "condom", False, [("box of 144", 144)]),
]
NALOXONE = {
    "nx-nasal": (NaloxoneFormulation.NASAL_4MG, 2),
    "nx-im": (NaloxoneFormulation.INJECTABLE_0_4MG, 1),
}

KITS = [
    (
        "kit-inj",
        "Standard injection kit",
        [("s28", 10), ("alc", 10), ("cook", 2), ("cot", 2), ("h2o", 1)],
    ),
    ("kit-wound", "Wound-care kit", [("gauze", 4), ("band", 6), ("oint", 2)]),
    ("kit-hyg", "Hygiene kit", [("tbrush", 1), ("soap", 1), ("socks", 1)]),
    ("kit-smoke", "Safer smoking kit", [("pipe", 1), ("mouth", 2)]),
]

FUNDERS = [
    ("state", "State harm reduction grant", []),
    # US federal funds may not buy syringes or needles.
    ("federal", "Federal SAMHSA grant", [Category.SYRINGE, Category.NEEDLE]),
    ("donation", "Community foundation donation", []),
]

# site code -> (location name, kind)
SITE_LOCATIONS = {
    "DTWN": ("Downtown drop-in", LocationKind.SITE),
    "EAST": ("Eastside clinic", LocationKind.SITE),
    "VAN1": ("Northside van", LocationKind.VAN),
    "OUTR": ("Outreach team packs", LocationKind.SITE),
}
CENTRAL = "Central store"
# Short-dated stock: location, item, funder, lot, expires in (days), quantity, days ago.
SHORT_DATED = [
    (CENTRAL, "nx-nasal", "donation", "NX-DON-SHORT", 45, 48, 3),
    ("Downtown drop-in", "fts", "federal", "FTS-SHORT", 30, 200, 2),
    ("Eastside clinic", "xts", "federal", "XTS-OLD", -10, 30, 200),
]
PEER = ("Peer distributor (Eastside)", "EAST")

# Monthly use and months of stock to leave, per location and item: picks each band.
USE = {
    "Downtown drop-in": {
        "s28": (3000, 1.0),
        "s27": (600, 2.0),
        "alc": (2400, 2.0),
        "cook": (500, 2.5),
        "cot": (500, 2.0),
        "h2o": (300, 2.0),
        "nx-nasal": (60, 1.8),
        "fts": (300, 0.9),
        "gauze": (80, 2.0),
        "band": (120, 2.0),
        "oint": (40, 2.0),
        "condom": (400, 2.0),
    },
    "Eastside clinic": {
        "s28": (1200, 2.0),
        "s29": (300, 2.0),
        "cook": (150, 6.0),
        "alc": (800, 2.0),
        "nx-nasal": (40, 2.0),
        "nx-im": (20, 2.0),
        "xts": (20, 2.0),
        "pipe": (150, 1.2),
        "mouth": (300, 2.0),
        "tbrush": (60, 2.0),
        "soap": (60, 2.0),
        "socks": (90, 1.0),
    },
    "Northside van": {
        "s28": (1500, 1.6),
        "s25": (200, 2.0),
        "n25": (300, 2.0),
        "nx-nasal": (90, 0.3),
        "fts": (200, 2.0),
        "sharps": (30, 2.0),
        "tq": (40, 2.0),
    },
    "Outreach team packs": {
        "s28": (800, 2.0),
        "nx-nasal": (50, 1.0),
        "fts": (150, 2.0),
        "pipe": (60, 2.0),
    },
}


def _at(now: datetime, days_ago: int, hour: int = 10) -> datetime:
    day = timezone.localdate(now) - timedelta(days=days_ago)
    return min(timezone.make_aware(datetime.combine(day, time(hour, 0))), now)


# Days ago (and hour) of each step of the stock history; the distributions run every
# three days from 88 days ago to yesterday.
CENTRAL_RECEIPT_DAYS_AGO = 100
DELIVERY_DAYS_AGO = 95
DISTRIBUTION_DAYS_AGO = tuple(range(88, 0, -3))
DISTRIBUTION_HOUR = 14
PEER_TRANSFER_DAYS_AGO = 20
DAMAGE_DAYS_AGO = 12
COUNT_DAYS_AGO = 5


def history_dates(now: datetime) -> dict[str, list[datetime]]:
    """When each step of the stock history happens, from `now` alone (never after it)."""
    return {
        "receipt": [_at(now, CENTRAL_RECEIPT_DAYS_AGO)],
        "delivery": [_at(now, DELIVERY_DAYS_AGO)],
        "distribution": [_at(now, d, DISTRIBUTION_HOUR) for d in DISTRIBUTION_DAYS_AGO],
        "peer": [_at(now, PEER_TRANSFER_DAYS_AGO)],
        "damage": [_at(now, DAMAGE_DAYS_AGO)],
        "count": [_at(now, COUNT_DAYS_AGO)],
        "short_dated": [_at(now, days_ago) for *_, days_ago in SHORT_DATED],
    }


def _catalog() -> dict[str, Item]:
    items = {}
    for code, name, category, unit, tracked, packs in CATALOG:
        formulation, doses = NALOXONE.get(code, ("", 0))
        item, _ = Item.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "category": category,
                "base_unit": unit,
                "is_lot_tracked": tracked,
                "naloxone_formulation": formulation,
                "naloxone_doses_per_unit": doses,
            },
        )
        for pack_name, units in packs:
            item.pack_sizes.get_or_create(name=pack_name, defaults={"units": units})
        items[code] = item
    for code, name, components in KITS:
        kit, created = Kit.objects.get_or_create(code=code, defaults={"name": name})
        if created:
            for item_code, quantity in components:
                kit.components.create(item=items[item_code], quantity=quantity)
    return items


def _locations() -> dict[str, Location]:
    locations = {
        CENTRAL: Location.objects.get_or_create(
            name=CENTRAL, defaults={"kind": LocationKind.CENTRAL}
        )[0]
    }
    sites = {site.code: site for site in Site.objects.all()}
    # The site's own location first: visits default to a site's first location.
    for code, (name, kind) in SITE_LOCATIONS.items():
        if code in sites:
            locations[name] = Location.objects.get_or_create(
                name=name, defaults={"kind": kind, "site": sites[code]}
            )[0]
    if PEER[1] in sites:
        locations[PEER[0]] = Location.objects.get_or_create(
            name=PEER[0], defaults={"kind": LocationKind.PEER, "site": sites[PEER[1]]}
        )[0]
    return locations


def seed_inventory(*, log) -> None:
    items = _catalog()
    funders = {}
    for code, name, disallowed in FUNDERS:
        funders[code] = FundingSource.objects.get_or_create(
            code=code, defaults={"name": name, "disallowed_categories": list(disallowed)}
        )[0]
    locations = _locations()
    log(
        f"Catalog: {Item.objects.count()} items, {Kit.objects.count()} kits; "
        f"{len(locations)} locations; {len(funders)} funding sources."
    )
    if StockMovement.objects.exists():
        log("Stock history already present; leaving it.")
        return
    by = get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
    rng = random.Random(2026)
    now = timezone.now()  # read once: every date below is at or before it
    today = timezone.localdate(now)

    # 1. What each site will use over 90 days plus what it should keep, in base units.
    needs: dict[tuple[str, str], tuple[int, int]] = {}
    for location_name, uses in USE.items():
        if location_name not in locations:
            continue
        for code, (monthly, months_left) in uses.items():
            needs[(location_name, code)] = (monthly * 3, round(monthly * months_left))
    totals: dict[str, int] = {}
    for (_, code), (used, kept) in needs.items():
        totals[code] = totals.get(code, 0) + used + kept

    # 2. The central store receives everything 100 days ago, funded by rule: the
    # federal grant buys naloxone and strips, the state grant syringes and needles,
    # the donation everything else; lots expiring soon are part of the picture.
    receipts: dict[str, list[ReceiptLine]] = {"state": [], "federal": [], "donation": []}
    for code, item in items.items():
        need = totals.get(code, 0)
        reserve = max(need // 3, 50)
        quantity = need + reserve
        funder = (
            "federal"
            if item.category in (Category.NALOXONE, Category.DRUG_CHECKING)
            else "state"
            if item.category in (Category.SYRINGE, Category.NEEDLE)
            else "donation"
        )
        if not item.is_lot_tracked:
            receipts[funder].append(ReceiptLine(item=item, quantity=quantity))
            continue
        # Two lots: a third expiring first, the rest later.
        first = quantity // 3
        soon = today + timedelta(days=150)
        receipts[funder].append(
            ReceiptLine(
                item=item,
                quantity=first,
                lot_number=f"{code.upper()}-{soon:%y%m}A",
                expires_on=soon,
            )
        )
        receipts[funder].append(
            ReceiptLine(
                item=item,
                quantity=quantity - first,
                lot_number=f"{code.upper()}-{today:%y}B",
                expires_on=today + timedelta(days=rng.randint(300, 700)),
            )
        )
    for funder, lines in receipts.items():
        if lines:
            stock_receive(
                location=locations[CENTRAL],
                lines=lines,
                funding_source=funders[funder],
                by=by,
                occurred_at=_at(now, CENTRAL_RECEIPT_DAYS_AGO),
                reference=f"PO-{funder.upper()}-{today:%Y}-001",
            )

    # 3. Transfers out to each site 95 days ago.
    for location_name in USE:
        if location_name not in locations:
            continue
        lines = [
            TransferLine(item=items[code], quantity=sum(needs[(location_name, code)]))
            for (name, code) in needs
            if name == location_name
        ]
        stock_transfer(
            from_location=locations[CENTRAL],
            to_location=locations[location_name],
            lines=lines,
            by=by,
            occurred_at=_at(now, DELIVERY_DAYS_AGO),
            reference=f"Delivery to {location_name}",
        )

    # 4. Three months of distribution (events and bulk hand-outs outside visits),
    # every three days, so averages and bands have something to say.
    dispensed = 0
    for (location_name, code), (used, _) in needs.items():
        days = list(DISTRIBUTION_DAYS_AGO)
        shares = [rng.uniform(0.6, 1.4) for _ in days]
        scale = used / sum(shares)
        quantities = [max(int(share * scale), 1) for share in shares]
        quantities[-1] += used - sum(quantities)
        for days_ago, quantity in zip(days, quantities, strict=True):
            if quantity <= 0:
                continue
            stock_dispense(
                location=locations[location_name],
                lines=[DispenseLine(item=items[code], quantity=quantity)],
                by=by,
                reference=f"demo:distribution:{days_ago}",
                occurred_at=_at(now, days_ago, hour=DISTRIBUTION_HOUR),
            )
            dispensed += 1

    # 5. A peer distributor takes a share from Eastside; a box of water is damaged;
    # Downtown's monthly count found a few syringes short.
    if PEER[0] in locations:
        stock_transfer(
            from_location=locations["Eastside clinic"],
            to_location=locations[PEER[0]],
            lines=[
                TransferLine(item=items["s28"], quantity=200),
                TransferLine(item=items["nx-nasal"], quantity=6),
            ],
            by=by,
            occurred_at=_at(now, PEER_TRANSFER_DAYS_AGO),
        )
    downtown = locations.get("Downtown drop-in")
    water = StockBalance.objects.filter(
        location=downtown, item=items["h2o"], quantity__gte=12
    ).first()
    if downtown and water:
        water_lot = water.lot
        stock_adjust(
            location=downtown,
            lot=water_lot,
            quantity=-12,
            reason="damaged",
            by=by,
            occurred_at=_at(now, DAMAGE_DAYS_AGO),
            reference="Water damage under the sink",
        )
        stock_count(
            location=downtown,
            counts=[
                CountLine(
                    item=items["s28"],
                    counted=_on_hand(downtown, items["s28"]) - 7,
                    reason="lost",
                ),
                CountLine(item=items["alc"], counted=_on_hand(downtown, items["alc"])),
            ],
            by=by,
            occurred_at=_at(now, COUNT_DAYS_AGO),
        )
    # 6. Short-dated stock: donated naloxone and strips expiring within 60 days, and
    # an old box of XTS at Eastside that expired ten days ago, still on the shelf.
    for location_name, code, funder, lot_number, expires_in, quantity, days_ago in SHORT_DATED:
        if location_name in locations:
            stock_receive(
                location=locations[location_name],
                lines=[
                    ReceiptLine(
                        item=items[code],
                        quantity=quantity,
                        lot_number=lot_number,
                        expires_on=today + timedelta(days=expires_in),
                    )
                ],
                funding_source=funders[funder],
                by=by,
                occurred_at=_at(now, days_ago),
            )
    log(
        f"Stock: receipts at the central store, deliveries to {len(USE)} locations, "
        f"{dispensed} distributions over 90 days; some lots expire within 60 days."
    )


def _on_hand(location, item) -> int:
    return stock_on_hand(location=location, item=item)


def seed(*, log, days: int) -> None:
    seed_inventory(log=log)


def finish(*, log) -> None:
    """After every app's demo: one scan over all the stock the demo moved. The per-write
    re-checks the demo movements queued (deferred, unsent) are superseded by it."""
    dropped = jobs_pending_drop(task_name="inventory.tasks.alerts_check")
    alert_rechecks_claim()  # their marks too, or later writes would queue no check
    log(f"  {dropped} per-movement alert checks superseded by one scan")
    seed_demo_alerts(log=log)
