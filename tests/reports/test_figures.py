"""Funder figures: every figure equals a count over the raw records made here in plain
Python (not by the report code), per site and in total."""

import random
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from inventory.models import Lot, StockMovement
from org.models import ServiceModel
from referrals.models import Referral, ReferralType
from reports.metrics import TOTAL, compute_figures, strip_kind
from reports.periods import Period
from ssp.models import NaloxoneRefillReason, Visit, VisitSupply
from ssp.services import visit_record

from ..factories import (
    FundingSourceFactory,
    ItemFactory,
    KitFactory,
    LocationFactory,
    ParticipantFactory,
    SiteFactory,
    UserFactory,
)
from ..support.intake import item_line, new_uuid

pytestmark = [pytest.mark.django_db, pytest.mark.figures]

PROGRAM = ZoneInfo("America/New_York")
JANUARY = Period.month(2026, 1)


def local(*args) -> datetime:
    return datetime(*args, tzinfo=PROGRAM)


def build_dataset(seed: int = 7) -> dict:
    """Three sites, three months of visits around January 2026 with every complication
    the rules speak of: voids, corrections, bulk shifts, kits, month edges at midnight
    in the program time zone, people seen at two sites, codes first seen long ago."""
    rng = random.Random(seed)
    staff = UserFactory(username="recorder")
    sites = [
        SiteFactory(name="Downtown drop-in", code="DTWN"),
        SiteFactory(name="Eastside clinic", code="EAST"),
        SiteFactory(name="Northside van", code="VAN1", service_model=ServiceModel.MOBILE),
    ]
    locations = {s.pk: LocationFactory(name=f"{s.code} shelf", site=s) for s in sites}
    items = [
        ItemFactory(code="syr-1ml", name="Syringe 1 mL 28G", category="syringe"),
        ItemFactory(code="syr-3ml", name="Syringe 3 mL 25G", category="syringe"),
        ItemFactory(
            code="nalox-nasal",
            name="Naloxone nasal 4 mg",
            category="naloxone",
            naloxone_formulation="nasal_4mg",
            naloxone_doses_per_unit=2,
        ),
        ItemFactory(
            code="nalox-im",
            name="Naloxone 0.4 mg/mL vial",
            category="naloxone",
            naloxone_formulation="im_0_4mg",
            naloxone_doses_per_unit=1,
        ),
        ItemFactory(
            code="nalox-other",
            name="Naloxone (donated, unlabeled)",
            category="naloxone",
            naloxone_doses_per_unit=1,
        ),
        ItemFactory(code="fts", name="Fentanyl test strip", category="drug_checking"),
        ItemFactory(code="strip-x", name="Xylazine test strip", category="drug_checking"),
        ItemFactory(code="benzo-strip", name="Benzodiazepine strip", category="drug_checking"),
        ItemFactory(code="cooker", name="Cooker", category="injection"),
        ItemFactory(code="pipe", name="Glass pipe", category="smoking"),
        ItemFactory(code="wound", name="Wound-care pack", category="wound_care"),
    ]
    by_code = {i.code: i for i in items}
    kits = [
        KitFactory(
            code="standard",
            name="Standard injection kit",
            components=[(by_code["syr-1ml"], 10), (by_code["cooker"], 2)],
        ),
        KitFactory(
            code="nalox-kit",
            name="Injectable naloxone kit",
            components=[(by_code["nalox-im"], 2), (by_code["syr-3ml"], 3)],
        ),
    ]
    funders = [
        FundingSourceFactory(code="state", name="State grant"),
        FundingSourceFactory(code="federal", name="Federal grant"),
        FundingSourceFactory(code="donation", name="Private donation"),
    ]
    lots = {
        item.pk: [
            Lot.objects.create(item=item, lot_number=f"L-{item.code}-{f.code}", funding_source=f)
            for f in funders
        ]
        for item in items
    }
    participants = []
    for n in range(36):
        # A third were first seen long ago (paper records carried over).
        first_seen = date(2024, 5, 1) if n % 3 == 0 else date(2025, 12, 1)
        participants.append(ParticipantFactory(code=f"P{n:03d}X", first_seen_on=first_seen))

    def expand(line):
        if line["item"]:
            return [(line["item"], line["quantity"])]
        return [(c.item, c.quantity * line["quantity"]) for c in line["kit"].components.all()]

    def dispense(visit, lines, sign=-1):
        for line in lines:
            for item, units in expand(line):
                # Split across funders' lots, as FEFO across lots would.
                first = rng.randint(0, units)
                for lot, qty in (
                    (rng.choice(lots[item.pk]), first),
                    (lots[item.pk][0], units - first),
                ):
                    if qty:
                        StockMovement.objects.create(
                            kind="dispense" if sign < 0 else "adjustment",
                            reason="" if sign < 0 else "reversal",
                            item=item,
                            lot=lot,
                            location=visit.location,
                            quantity=sign * qty,
                            reference=visit.stock_reference,
                            occurred_at=visit.occurred_at,
                            recorded_by=staff,
                        )

    def random_lines():
        lines = []
        for _ in range(rng.randint(0, 3)):
            if rng.random() < 0.3:
                lines.append({"item": None, "kit": rng.choice(kits), "quantity": rng.randint(1, 3)})
            else:
                lines.append(
                    {"item": rng.choice(items), "kit": None, "quantity": rng.randint(1, 40)}
                )
        return lines

    def visit(when, *, site=None, participant="random", contacts=1, void=False, corrected=False):
        site = site or rng.choice(sites)
        if participant == "random":
            participant = None if rng.random() < 0.2 else rng.choice(participants)
        v = Visit.objects.create(
            site=site,
            location=locations[site.pk],
            occurred_at=when,
            recorded_by=staff,
            participant=participant if contacts == 1 else None,
            service_model=site.service_model
            if contacts == 1
            else rng.choice([ServiceModel.OUTREACH, ServiceModel.PEER]),
            contacts=contacts,
            syringes_collected=rng.choice([0, 0, 5, 20, 100, 350]),
            collection_method=rng.choice(["counted", "estimated", "weighed"]),
            secondary_people=rng.choice([0, 0, 0, 1, 3]),
            naloxone_refill_reason=rng.choice(["", "", "", *NaloxoneRefillReason.values]),
            overdose_reversals=rng.choice([0, 0, 0, 0, 1, 2]),
            voided_at=timezone.now() if void else None,
        )
        lines = random_lines()
        for line in lines:
            VisitSupply.objects.create(visit=v, **line)
        if corrected:
            # What was first entered, reversed by the correction, then the real lines.
            wrong = random_lines() or [{"item": items[0], "kit": None, "quantity": 99}]
            dispense(v, wrong)
            dispense(v, wrong, sign=+1)
        dispense(v, lines)
        if void:
            dispense(v, lines, sign=+1)
        return v

    start = local(2025, 12, 1)
    for _ in range(260):
        when = start + timedelta(minutes=rng.randint(0, 60 * 24 * 89))
        roll = rng.random()
        visit(
            when,
            contacts=rng.randint(15, 45) if roll < 0.06 else 1,
            void=0.06 <= roll < 0.14,
            corrected=0.14 <= roll < 0.22,
        )
    # Month edges in the program time zone (UTC is five hours ahead in winter).
    visit(local(2025, 12, 31, 23, 59), site=sites[0], participant=participants[1])
    visit(local(2026, 1, 1, 0, 0), site=sites[0], participant=participants[1])
    visit(local(2026, 1, 31, 23, 59), site=sites[1], participant=participants[2])
    visit(local(2026, 2, 1, 0, 0), site=sites[1], participant=participants[2])
    # One person at two sites in January: one unique participant in the total.
    visit(local(2026, 1, 10, 10), site=sites[0], participant=participants[4])
    visit(local(2026, 1, 12, 10), site=sites[1], participant=participants[4])
    # A newcomer whose first visit was voided: new at the next one.
    newcomer = ParticipantFactory(code="NEW001", first_seen_on=date(2026, 1, 3))
    visit(local(2026, 1, 3, 9), site=sites[2], participant=newcomer, void=True)
    visit(local(2026, 1, 20, 9), site=sites[2], participant=newcomer)
    # Ledger lines that are not visit dispenses must not count.
    StockMovement.objects.create(
        kind="receipt",
        item=items[0],
        lot=lots[items[0].pk][0],
        location=locations[sites[0].pk],
        quantity=500,
        reference="receipt:PO-1",
        occurred_at=local(2026, 1, 5),
        recorded_by=staff,
    )

    types = list(ReferralType.objects.all())
    all_visits = list(Visit.objects.filter(participant__isnull=False))
    for _ in range(120):
        v = rng.choice(all_visits)
        referred_on = timezone.localtime(v.occurred_at).date()
        status = rng.choice(["referred", "linked", "linked", "declined", "lost"])
        linked_on = referred_on + timedelta(days=rng.randint(0, 40)) if status == "linked" else None
        Referral.objects.create(
            participant=v.participant,
            visit=v,
            site=v.site,
            type=rng.choice(types[:8]),
            status=status,
            referred_on=referred_on,
            follow_up_on=referred_on + timedelta(days=30),
            linked_on=linked_on,
            status_changed_at=timezone.now(),
            created_by=staff,
        )
    return {"sites": sites, "items": items, "kits": kits}


def expected_figures(period: Period, site_codes: list[str]) -> dict[str, Counter]:
    """The same figures by hand, over plain rows."""
    expected = defaultdict(Counter)
    wanted = set(site_codes)

    def in_period(dt):
        return period.start <= timezone.localtime(dt, PROGRAM).date() <= period.end

    rows = list(
        Visit.objects.values(
            "pk",
            "uuid",
            "site__code",
            "occurred_at",
            "participant_id",
            "participant__first_seen_on",
            "contacts",
            "service_model",
            "syringes_collected",
            "collection_method",
            "secondary_people",
            "naloxone_refill_reason",
            "overdose_reversals",
            "voided_at",
        )
    )
    live = [r for r in rows if r["voided_at"] is None]
    counted = [r for r in live if r["site__code"] in wanted and in_period(r["occurred_at"])]
    first_visit = {}
    for r in sorted(live, key=lambda r: (r["occurred_at"], r["pk"])):
        first_visit.setdefault(r["participant_id"], r)
    uniques = defaultdict(set)
    for r in counted:
        s = r["site__code"]
        for scope in (s, TOTAL):
            e = expected[scope]
            e["visits"] += r["contacts"]
            e[f"service_model.{r['service_model']}"] += r["contacts"]
            e["syringes_collected"] += r["syringes_collected"]
            e[f"collected.{r['collection_method']}"] += r["syringes_collected"]
            e["secondary_people"] += r["secondary_people"]
            e["secondary_visits"] += 1 if r["secondary_people"] else 0
            e["overdose_reversals"] += r["overdose_reversals"]
            if r["naloxone_refill_reason"]:
                e["refills"] += 1
                e[f"refills.{r['naloxone_refill_reason']}"] += 1
            if r["participant_id"] is None:
                e["anonymous_visits"] += r["contacts"]
            else:
                e["identified_visits"] += 1
                uniques[scope].add(r["participant_id"])
                first = first_visit[r["participant_id"]]
                if first["pk"] == r["pk"] and r["participant__first_seen_on"] >= period.start:
                    e["new_participants"] += 1
    for scope, people in uniques.items():
        expected[scope]["unique_participants"] = len(people)

    counted_ids = {r["pk"]: r["site__code"] for r in counted}
    for line in VisitSupply.objects.select_related("item", "kit").filter(visit_id__in=counted_ids):
        if line.item:
            parts = [(line.item, line.quantity)]
        else:
            parts = [(c.item, c.quantity * line.quantity) for c in line.kit.components.all()]
        for item, units in parts:
            for scope in (counted_ids[line.visit_id], TOTAL):
                e = expected[scope]
                e[f"supplies.{item.category}"] += units
                if item.category == "drug_checking":
                    kind = (
                        "fts"
                        if "fts" in item.code or "Fentanyl" in item.name
                        else "xts"
                        if "Xylazine" in item.name
                        else "other"
                    )
                    e[f"strips.{kind}"] += units
                if item.category == "naloxone":
                    form = item.naloxone_formulation or "unspecified"
                    e[f"naloxone_units.{form}"] += units
                    e[f"naloxone_doses.{form}"] += units * item.naloxone_doses_per_unit
                    e["naloxone_doses"] += units * item.naloxone_doses_per_unit

    references = {f"visit:{r['uuid']}": r["site__code"] for r in counted}
    for m in StockMovement.objects.select_related("lot__funding_source", "item"):
        if m.reference in references:
            for scope in (references[m.reference], TOTAL):
                code = m.lot.funding_source.code
                expected[scope][f"funding.{code}.{m.item.category}"] -= m.quantity
                expected[scope][f"funding.{code}"] -= m.quantity

    for ref in Referral.objects.select_related("site", "type", "visit"):
        if ref.site.code not in wanted or (ref.visit and ref.visit.voided_at):
            continue
        for scope in (ref.site.code, TOTAL):
            if period.start <= ref.referred_on <= period.end:
                expected[scope]["referred"] += 1
                expected[scope][f"referred.{ref.type.code}"] += 1
            if ref.status == "linked" and period.start <= ref.linked_on <= period.end:
                expected[scope]["linked"] += 1
                expected[scope][f"linked.{ref.type.code}"] += 1
    return expected


def assert_figures_match(figures: dict, expected: dict[str, Counter]) -> int:
    checked = 0
    for scope in figures["values"]:
        got = figures["values"][scope]
        for key in figures["keys"]:
            assert got[key] == expected[scope][key], (scope, key, got[key], expected[scope][key])
            checked += 1
        for key, value in expected[scope].items():
            if value:
                assert key in got, (scope, key, value)
    return checked


def test_every_figure_equals_a_count_over_the_raw_records():
    data = build_dataset()
    figures = compute_figures(period=JANUARY, site_ids=None)
    expected = expected_figures(JANUARY, [s.code for s in data["sites"]])
    checked = assert_figures_match(figures, expected)
    assert checked > 300
    total = figures["values"][TOTAL]
    # The dataset really exercises the rules (not a vacuous match of zeros).
    assert total["visits"] > total["identified_visits"] > 0
    assert total["anonymous_visits"] > 100  # bulk street shifts
    assert 0 < total["new_participants"] < total["unique_participants"]
    assert total["naloxone_doses"] > total["supplies.naloxone"] > 0
    assert total["strips.fts"] and total["strips.xts"] and total["strips.other"]
    assert total["referred"] and total["linked"]
    assert any(key.startswith("funding.federal.") for key in figures["keys"])
    sites_sum = sum(figures["values"][s.code]["unique_participants"] for s in data["sites"])
    assert total["unique_participants"] < sites_sum  # someone seen at two sites counts once


def test_figures_for_some_sites_and_a_quarter_match_too():
    data = build_dataset(seed=11)
    chosen = [data["sites"][0], data["sites"][2]]
    for period in (Period.quarter(2026, 1), Period.between(date(2025, 12, 20), date(2026, 1, 9))):
        figures = compute_figures(period=period, site_ids=[s.pk for s in chosen])
        assert [s["key"] for s in figures["scopes"]] == ["DTWN", "VAN1", TOTAL]
        assert_figures_match(figures, expected_figures(period, [s.code for s in chosen]))


def test_a_month_is_cut_at_midnight_in_the_program_time_zone():
    site = SiteFactory(code="DTWN")
    location = LocationFactory(site=site)
    staff = UserFactory()
    for when in (local(2025, 12, 31, 23, 59), local(2026, 1, 31, 23, 59), local(2026, 2, 1)):
        Visit.objects.create(
            site=site,
            location=location,
            occurred_at=when,
            recorded_by=staff,
            service_model="fixed",
            contacts=1,
        )
    figures = compute_figures(period=JANUARY, site_ids=[site.pk])
    assert figures["values"]["DTWN"]["visits"] == 1


def test_the_number_of_queries_does_not_grow_with_the_data(django_assert_num_queries):
    data = build_dataset()
    site_ids = [s.pk for s in data["sites"]]
    # 10 aggregate/look-up queries, 1 for the services given at visits, 1 for the program
    # events, 3 for the survey (responses, answers, ZIP3 areas), plus the referral counts
    # (2 queries) per site.
    with django_assert_num_queries(15 + 2 * len(site_ids)):
        compute_figures(period=JANUARY, site_ids=site_ids)
    with django_assert_num_queries(15 + 2 * 1):
        compute_figures(period=JANUARY, site_ids=site_ids[:1])


def test_strips_are_recognised_by_code_or_name():
    assert strip_kind(category="drug_checking", code="fts-100", name="Strip") == "fts"
    assert strip_kind(category="drug_checking", code="x1", name="Xylazine test strip") == "xts"
    assert strip_kind(category="drug_checking", code="benzo", name="Benzo strip") == "other"
    assert strip_kind(category="syringe", code="fts", name="Syringe") is None


def test_corrections_and_voids_made_through_the_services_count_as_corrected(
    stocked, supplies, injection_kit, manager_sam, site_a
):
    """Visits recorded, corrected and voided the way staff do it (visit_record,
    visit_correct, visit_void), then every affected figure checked by hand."""
    from reports.funder_templates import TEMPLATES
    from reports.rendering import render
    from ssp.services import visit_correct, visit_record, visit_void

    from ..support.intake import item_line, kit_line, new_uuid

    syringe, pad, cooker = supplies["syringe"], supplies["pad"], supplies["cooker"]

    def record(code, lines, **fields):
        visit, _ = visit_record(
            site=site_a, by=manager_sam, client_uuid=new_uuid(), code=code, lines=lines, **fields
        )
        return visit

    with time_machine.travel(local(2026, 1, 20, 10), tick=False):
        # Entered as 20 syringes and 50 collected for ABCD; really 5 syringes and a kit,
        # 30 collected, and the person gave no code.
        typo = record("ABCD1990F", [item_line(syringe, 20)], syringes_collected=50)
        visit_correct(
            visit=typo,
            by=manager_sam,
            lines=[item_line(syringe, 5), kit_line(injection_kit)],
            syringes_collected=30,
            code="",
        )
        # Logged today, but it happened in December (paper record typed in late).
        december = record("CDEF1985M", [item_line(cooker, 3)])
        visit_correct(visit=december, by=manager_sam, occurred_at=local(2025, 12, 28, 15))
        # Entered twice: the second is voided.
        record("EFGH1979F", [item_line(syringe, 10)])
        twice = record("EFGH1979F", [item_line(syringe, 10)])
        visit_void(visit=twice, by=manager_sam, reason="Entered twice")
        # Service model and naloxone answers corrected afterwards.
        van = record("GHIJ2001M", [item_line(pad, 4)])
        visit_correct(
            visit=van,
            by=manager_sam,
            service_model=ServiceModel.MOBILE,
            naloxone_refill_reason=NaloxoneRefillReason.LOST,
            overdose_reversals=1,
        )

    figures = compute_figures(period=JANUARY, site_ids=[site_a.pk])
    got = figures["values"][TOTAL]
    assert figures["values"]["DTWN"] == got  # one site: the total is that site
    assert got["visits"] == 3  # typo (now anonymous), EFGH once, GHIJ
    assert (got["anonymous_visits"], got["identified_visits"]) == (1, 2)
    assert got["unique_participants"] == 2  # EFGH and GHIJ; ABCD has no visit left
    assert got["new_participants"] == 2
    # 5 + the kit's 10, and EFGH's 10: the 20 first entered and the voided 10 are gone.
    assert got["supplies.syringe"] == 25
    assert got["supplies.injection"] == 10 + 2 + 4  # kit pads and cookers, GHIJ's pads
    assert got["syringes_collected"] == got["collected.counted"] == 30
    assert (got["service_model.fixed"], got["service_model.mobile"]) == (2, 1)
    assert (got["refills"], got["refills.lost"], got["overdose_reversals"]) == (1, 1, 1)
    # The ledger nets each reversal against what it reverses, per funding source.
    assert got["funding.state.syringe"] == 25
    assert got["funding.state"] == 25 + 16
    # The syringe ratio of the state layout: collected ÷ distributed, 30 / 25.
    rendered = render(figures, TEMPLATES["state_ssp"], threshold=2, suppressed=False)
    (ratio,) = [
        row for table in rendered.tables for row in table.rows if row.label.startswith("Ratio")
    ]
    assert ratio.cells[-1].value == pytest.approx(30 / 25) and ratio.cells[-1].text == "1.20"


def test_the_funding_source_table_is_filled_on_every_database(
    front_desk_ana, site_a, stocked, supplies, today
):
    """Through the real services: the ledger reference written by intake is the one the
    report looks for, whatever the database keeps a uuid as (see test_both_databases)."""
    visit, _ = visit_record(site=site_a, by=front_desk_ana, client_uuid=new_uuid(),
                            lines=[item_line(supplies["pad"], 7)])  # fmt: skip
    ledger = StockMovement.objects.filter(reference=visit.stock_reference)
    assert sum(-m.quantity for m in ledger) == 7  # what the report must find
    figures = compute_figures(period=Period.month(today.year, today.month))
    funded = {k: v for k, v in figures["values"][TOTAL].items() if k.startswith("funding.")}
    assert funded == {"funding.state": 7, "funding.state.injection": 7}
