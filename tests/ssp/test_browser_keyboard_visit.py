"""Issue 14's promise, in a real browser with the keyboard alone: a returning
participant with returns, a naloxone refill with its reason, a reversal, "picking up
for 3 others", one service and one MOUD referral in at most 32 keystrokes, every key
press counted (the code's letters too); the referral is saved with the visit. The same
visit without the referral costs at least (total − 20): a referral is a few keys."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from referrals.defaults import default_types_ensure
from referrals.models import Referral, ReferralType
from ssp.models import NaloxoneRefillReason, Visit
from ssp.selectors import services_of, supply_lines_of
from ssp.services import visit_record

from ..factories import PartnerFactory
from ..support.intake import item_line, kit_line, new_uuid, receive

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MAX_KEYSTROKES = 32
CODE = "MAKO1993F"


class CountingKeyboard:
    """Presses keys on the page and counts them: the count is what the test promises."""

    def __init__(self, page):
        self.page = page
        self.pressed: list[str] = []

    def press(self, key: str) -> None:
        self.pressed.append(key)
        self.page.keyboard.press(key)

    def type(self, text: str) -> None:
        for letter in text:
            self.press(letter)


@pytest.fixture
def bridge_clinic(transactional_db):
    # Transactional tests empty every table afterwards, the seeded types too: re-seed.
    default_types_ensure(ReferralType)
    moud = ReferralType.objects.get(code="moud-buprenorphine")
    return PartnerFactory(name="Bridge clinic", types=[moud])


@pytest.fixture
def returning_with_naloxone(front_desk_ana, site_a, stocked, injection_kit, supplies, manager_sam):
    """MAKO1993F's usual: one injection kit and one naloxone box."""
    receive(stocked, {supplies["naloxone"]: 50}, manager_sam)
    for days_ago in (6, 4, 2):
        visit_record(
            site=site_a,
            by=front_desk_ana,
            client_uuid=new_uuid(),
            code=CODE,
            lines=[kit_line(injection_kit), item_line(supplies["naloxone"], 1)],
            occurred_at=timezone.now() - timedelta(days=days_ago),
        )
    return CODE


def _visit_by_keyboard(page, *, with_referral: bool) -> list[str]:
    """Log the whole visit from the code field on, and return the keys pressed."""
    page.goto("/intake/")
    expect(page.locator("#code")).to_be_focused()
    keys = CountingKeyboard(page)
    keys.type(CODE.lower())
    keys.press("Enter")  # look the code up: focus on "Usual supplies"
    expect(page.locator("#use-usual")).to_be_focused()
    keys.press("Enter")  # the usual supplies: focus on Save
    expect(page.locator("#cart tr")).to_have_count(2)
    expect(page.locator("#save")).to_be_focused()

    keys.press("r")  # returns
    expect(page.locator("#id_syringes_collected")).to_be_focused()
    keys.type("20")
    keys.press("Escape")  # back to Save
    keys.press("p")  # picking up for others
    expect(page.locator("#id_secondary_people")).to_be_focused()
    keys.type("3")
    keys.press("Escape")
    keys.press("a")  # naloxone refill reason ("again")
    expect(page.locator("#id_naloxone_refill_reason")).to_be_focused()
    keys.press("u")  # "Used on someone"
    keys.press("Escape")
    keys.press("o")  # overdose reversals
    expect(page.locator("#id_overdose_reversals")).to_be_focused()
    keys.type("1")
    keys.press("Escape")
    keys.press("h")  # the HIV test service toggles on
    expect(page.locator("#service-hiv_test")).to_be_checked()
    if with_referral:
        keys.press("f")  # the first referral row
        expect(page.locator("#referral-type-1")).to_be_focused()
        keys.press("m")  # "MOUD: buprenorphine", the first type starting with M
        keys.press("Tab")  # its partner
        keys.press("b")  # Bridge clinic
        keys.press("Escape")
    expect(page.locator("#save")).to_be_focused()
    keys.press("Enter")  # save
    page.locator("#saved-visit").wait_for()
    return keys.pressed


def test_a_full_visit_with_a_referral_takes_at_most_32_keystrokes(
    page, browser_login, front_desk_ana, supplies, bridge_clinic, returning_with_naloxone
):
    browser_login(page, front_desk_ana)
    without = _visit_by_keyboard(page, with_referral=False)
    plain = Visit.objects.order_by("-recorded_at").first()
    assert not Referral.objects.filter(visit=plain).exists()

    total = _visit_by_keyboard(page, with_referral=True)

    assert len(total) <= MAX_KEYSTROKES, total
    assert len(without) >= len(total) - 20, (without, total)
    visit = Visit.objects.order_by("-recorded_at").first()
    assert visit.pk != plain.pk
    assert visit.participant.code == CODE
    assert visit.syringes_collected == 20
    assert visit.secondary_people == 3
    assert visit.naloxone_refill_reason == NaloxoneRefillReason.USED_ON_SOMEONE
    assert visit.overdose_reversals == 1
    assert sorted((ln["code"], ln["quantity"]) for ln in supply_lines_of(visit)) == [
        ("nalox-nasal", 1),
        ("std-kit", 1),
    ]
    assert [(s["service"], s["count"]) for s in services_of(visit)] == [("hiv_test", 1)]
    referral = Referral.objects.get(visit=visit)
    assert referral.type.code == "moud-buprenorphine"
    assert referral.partner == bridge_clinic
    assert referral.participant == visit.participant
    assert referral.referred_on == timezone.localdate(visit.occurred_at)
