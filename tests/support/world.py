"""Two sites' worth of records for the access-matrix and audit-coverage tests.

`two_sites()` builds, through the app's own services and the factories, the same set
of records at site A (DTWN) and site B (EAST): a storeroom with stock, a dispense, a
count, an open alert, visits of two codes, a referral, a program event (a clean-up) and a
built report. `module_world`
(tests/ops/conftest.py) builds it once per test module inside a transaction that is
rolled back at the end, so each test (itself rolled back by pytest-django) starts from
the same records.
"""

from dataclasses import dataclass, field
from datetime import timedelta
from types import SimpleNamespace

from django.db import connection
from django.test import override_settings
from django.utils import timezone

from events.services import event_record
from inventory.models import (
    AlertCondition,
    AlertSeverity,
    Category,
    StockAlert,
    StockBalance,
    StockMovement,
)
from inventory.services import (
    CountLine,
    DispenseLine,
    ReceiptLine,
    stock_count_record,
    stock_dispense,
    stock_receive,
)
from org import roles
from referrals.models import ReferralType
from referrals.services import referral_create
from reports.periods import Period
from reports.services import report_build, report_request
from ssp.survey_services import survey_offer_record, survey_save

from ..factories import (
    FundingSourceFactory,
    ItemFactory,
    KitFactory,
    LocationFactory,
    ParticipantFactory,
    PartnerFactory,
    SiteFactory,
    VisitFactory,
    make_staff,
)


def report_period() -> Period:
    """January of last year: report periods must be over, and that one always is."""
    return Period.month(timezone.localdate().year - 1, 1)


@dataclass
class SiteRecords:
    """What one site holds; the matrix reaches for these by attribute name."""

    site: object
    storeroom: object
    visit: object  # logged by the site's front desk, still within the edit window
    code: str  # the participant of `visit`
    spare_code: str  # a second code seen only at this site (for merges)
    referral: object
    alert: object
    count: object
    balance: object
    movement: object
    dispense_reference: str
    snapshot: object  # a report of this site alone, built (files ready)
    event: object  # a clean-up recorded today by the site's front desk
    extra: dict = field(default_factory=dict)


def two_sites(media_root) -> SimpleNamespace:
    """Build the records of both sites and the personas; returns them as a namespace."""
    site_a = SiteFactory(name="Downtown drop-in", code="DTWN")
    site_b = SiteFactory(name="Eastside clinic", code="EAST")
    people = SimpleNamespace(
        front_desk=make_staff("ana", roles.FRONT_DESK, [site_a]),
        front_desk_b=make_staff("ben", roles.FRONT_DESK, [site_b]),
        manager=make_staff("sam", roles.MANAGER, [site_a]),
        coordinator=make_staff("cleo", roles.COORDINATOR),
        admin=make_staff("ada", roles.ADMIN),
    )
    people.admin.is_staff = people.admin.is_superuser = True
    people.admin.save()

    syringe = ItemFactory(name="1 mL 28G syringe", code="s28", category=Category.SYRINGE)
    naloxone = ItemFactory(
        name="Naloxone nasal 4 mg",
        code="nx4",
        category=Category.NALOXONE,
        is_lot_tracked=True,
        naloxone_formulation="nasal_4mg",
        naloxone_doses_per_unit=2,
    )
    fund = FundingSourceFactory(name="State harm reduction grant", code="state")
    kit = KitFactory(name="Syringe pack", code="syr-pack", components=[(syringe, 10)])
    central = LocationFactory(name="Central store", kind="central", site=None)
    stock_receive(
        location=central,
        lines=[ReceiptLine(item=syringe, quantity=500)],
        funding_source=fund,
        by=people.admin,
    )
    partner = PartnerFactory(name="Food bank", types=[ReferralType.objects.get(code="food")])
    survey = survey_save(
        name="Check-in", questions=["housing"], period="month",
        active_from=timezone.localdate() - timedelta(days=400), by=people.coordinator,
    )  # fmt: skip

    def records(site, front_desk, manager, codes) -> SiteRecords:
        # VisitFactory stocks visits from "<code> storeroom": the same location.
        storeroom = LocationFactory(name=f"{site.code} storeroom", kind="site", site=site)
        stock_receive(
            location=storeroom,
            lines=[ReceiptLine(item=syringe, quantity=200)],
            funding_source=fund,
            by=manager,
        )
        reference = f"event:{site.code.lower()}-fair"
        stock_dispense(
            location=storeroom,
            lines=[DispenseLine(item=syringe, quantity=5)],
            by=manager,
            reference=reference,
        )
        count, _ = stock_count_record(
            location=storeroom,
            counts=[CountLine(item=syringe, counted=195, reason="correction")],
            by=manager,
        )
        visit = VisitFactory(
            site=site, recorded_by=front_desk, participant=ParticipantFactory(code=codes[0])
        )
        spare_visit = VisitFactory(
            site=site, recorded_by=front_desk, participant=ParticipantFactory(code=codes[1])
        )
        # An accepted survey offer whose answers are still to come.
        survey_offer = survey_offer_record(
            visit=visit, survey=survey, outcome="accepted", by=front_desk
        )
        referral = referral_create(
            referral_type=ReferralType.objects.get(code="food"), visit=visit, by=front_desk
        )
        alert = StockAlert.objects.create(
            condition=AlertCondition.BELOW_REORDER_POINT,
            severity=AlertSeverity.UNDERSTOCK,
            location=storeroom,
            item=syringe,
            # The facts the alert job records for this condition (the alerts page shows them).
            facts={"on_hand": 195, "reorder_point": 200, "daily_use": 1.5},
            raised_at=timezone.now(),
        )
        snapshot = report_request(
            template="state_ssp", period=report_period(), by=people.coordinator, site_ids=[site.pk]
        )
        with override_settings(MEDIA_ROOT=media_root):
            report_build(snapshot_id=snapshot.pk)
        snapshot.refresh_from_db()
        event = event_record(
            kind="cleanup",
            site=site,
            occurred_on=timezone.localdate(),
            by=front_desk,
            syringes_collected=30,
            staff_hours=4,
        )
        return SiteRecords(
            site=site,
            storeroom=storeroom,
            visit=visit,
            code=codes[0],
            spare_code=codes[1],
            referral=referral,
            alert=alert,
            count=count,
            balance=StockBalance.objects.get(location=storeroom, item=syringe),
            movement=StockMovement.objects.filter(location=storeroom).earliest("pk"),
            dispense_reference=reference,
            snapshot=snapshot,
            extra={"spare_visit": spare_visit, "survey_offer": survey_offer},
            event=event,
        )

    return SimpleNamespace(
        people=people,
        A=records(site_a, people.front_desk, people.manager, ("MAKO1993F", "MAKO1939F")),
        B=records(site_b, people.front_desk_b, people.admin, ("ELSA1980F", "ELSA1908F")),
        syringe=syringe,
        naloxone=naloxone,
        fund=fund,
        kit=kit,
        central=central,
        partner=partner,
        survey=survey,
        referral_type=ReferralType.objects.get(code="food"),
        lot=StockBalance.objects.get(location=central).lot,
    )


def rows_written() -> dict[str, int]:
    """Rows inserted, updated or deleted so far in this transaction, per table.

    PostgreSQL's own statistics, so a write to any table counts, whatever wrote it.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_xact_user_tables"
        )
        return dict(cursor.fetchall())


def tables_changed(before: dict[str, int], after: dict[str, int]) -> list[str]:
    return sorted(t for t, n in after.items() if n != before.get(t, 0))
