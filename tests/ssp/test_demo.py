"""The demo visits step: realistic visits recorded through the services, so the stock
ledger and balances agree and the stock bands inventory.demo chose survive."""

import inspect
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count

from inventory.demo import seed_inventory
from inventory.models import StockMovement
from inventory.selectors import balance_drift, stock_levels
from org.demo import seed_sites_and_staff
from org.management.commands.seed_demo import demo_modules
from ssp.demo import seed_visits
from ssp.models import Participant, Visit, VisitService
from ssp.visit_services import visit_service_codes

pytestmark = pytest.mark.django_db


def quiet(*_args):
    pass


@pytest.fixture
def demo_stock():
    seed_sites_and_staff(log=quiet)
    seed_inventory(log=quiet)


def bands() -> dict[tuple[str, str], str]:
    return {(lv.location.name, lv.item.code): lv.status for lv in stock_levels()}


def test_seeded_visits_are_realistic_and_stock_agrees_with_the_ledger(demo_stock):
    bands_before = bands()
    messages = []
    seed_visits(log=messages.append, days=90, participants=80)

    visits = Visit.objects.all()
    assert visits.count() > 150, messages
    by_site = dict(visits.values_list("site__code").annotate(n=Count("id")))
    assert set(by_site) == {"DTWN", "EAST", "VAN1", "OUTR"}
    assert visits.filter(participant__isnull=True, contacts=1).exists()  # anonymous
    shifts = visits.filter(contacts__gt=1)
    assert shifts.exists() and set(shifts.values_list("site__code", flat=True)) == {"OUTR"}
    assert visits.filter(syringes_collected__gt=0).exists()
    assert visits.filter(supplies__item__code="nx-nasal").exists()
    assert visits.filter(naloxone_refill_reason__gt="").exists()
    assert visits.filter(secondary_people__gt=0).exists()
    # Services given at one-person visits only, a few of them, and only those offered.
    given = VisitService.objects.filter(visit__in=visits)
    assert 0.03 * visits.count() < given.values("visit").distinct().count() < 0.4 * visits.count()
    assert not given.filter(visit__contacts__gt=1).exists()
    assert set(given.values_list("service", flat=True)) <= set(visit_service_codes())
    assert given.filter(service="naloxone_training").exists()
    # Returning people: most codes come back, and the usual kit is what most take.
    per_person = Participant.objects.annotate(n=Count("visits")).values_list("n", flat=True)
    assert 40 <= len(per_person) <= 90
    assert sum(1 for n in per_person if n > 1) > len(per_person) / 2
    # A few recall slips exist for the near-match suggestions and the merge page.
    assert Participant.objects.annotate(n=Count("visits")).filter(n=1).exists()

    # Through the services: every visit with supplies moved stock under its reference.
    with_supplies = visits.filter(supplies__isnull=False).distinct()
    references = set(
        StockMovement.objects.filter(reference__startswith="visit:").values_list(
            "reference", flat=True
        )
    )
    assert references == {v.stock_reference for v in with_supplies}
    assert balance_drift() == []
    out = StringIO()
    call_command("check_stock", stdout=out)
    assert "0 drift" in out.getvalue()
    # Deliveries kept pace, and every band the stock page showed before is still shown
    # (new rows appear for items a site did not hand out before).
    after = bands()
    assert {key: after[key] for key in bands_before} == bands_before
    assert messages and "anonymous" in messages[-1] and "street shifts" in messages[-1]


def test_seeding_twice_leaves_the_first_visits(demo_stock):
    seed_visits(log=quiet, days=10, participants=10)
    count = Visit.objects.count()
    messages = []
    seed_visits(log=messages.append, days=10, participants=10)
    assert Visit.objects.count() == count
    assert "already present" in messages[0]


def test_the_demo_seeds_a_full_year_after_the_stock_and_before_referrals():
    assert inspect.signature(seed_visits).parameters["days"].default == 365
    order = [label for label, _module in demo_modules()]
    assert order.index("inventory") < order.index("ssp") < order.index("referrals")
