"""In a real browser: the follow-up prompt appears for a code with an overdue referral,
and one key marks it linked, with its history."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from referrals import services
from referrals.defaults import default_types_ensure
from referrals.models import ReferralStatus, ReferralType
from ssp.services import visit_record

from ..factories import ParticipantFactory, PartnerFactory
from ..support.intake import new_uuid

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _referral_types(transactional_db):
    """Transactional tests empty every table afterwards, the seeded types too: re-seed."""
    default_types_ensure(ReferralType)


@pytest.fixture
def overdue_referral(site_a, front_desk_ana):
    hcv = ReferralType.objects.get(code="hcv-testing")
    referral = services.referral_create(
        referral_type=hcv,
        participant=ParticipantFactory(code="MAKO1993F"),
        site=site_a,
        partner=PartnerFactory(name="Liver clinic", types=[hcv]),
        referred_on=timezone.localdate() - timedelta(days=40),
        by=front_desk_ana,
    )
    assert referral.follow_up_on < timezone.localdate()
    return referral


def _csp_errors(page) -> list[str]:
    errors: list[str] = []
    page.on(
        "console",
        lambda msg: errors.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    return errors


def test_prompt_appears_for_an_overdue_code_and_the_l_key_marks_it_linked(
    page, browser_login, front_desk_ana, manager_sam, overdue_referral
):
    csp_errors = _csp_errors(page)
    browser_login(page, manager_sam)
    page.goto("/referrals/ask/")
    page.fill("#code", "mako1993f")
    page.keyboard.press("Enter")
    prompt = page.locator("#referral-follow-ups [data-referral-prompt]")
    prompt.wait_for()
    assert "Ask about 1 referral" in prompt.inner_text()
    assert "Hepatitis C testing at Liver clinic" in prompt.inner_text()
    linked = page.get_by_role("button", name="Linked: Hepatitis C testing started")
    assert linked.get_attribute("accesskey") == "l"

    page.locator("h1").click()  # leave the code field: letters there are typing
    page.keyboard.press("l")
    page.get_by_text("Hepatitis C testing: marked linked.").wait_for()

    overdue_referral.refresh_from_db()
    assert overdue_referral.status == ReferralStatus.LINKED
    assert overdue_referral.linked_on == timezone.localdate()
    change = overdue_referral.history.last()
    assert (change.from_status, change.to_status, change.changed_by) == (
        "referred",
        "linked",
        manager_sam,
    )
    assert page.locator("[data-referral-card]").count() == 0  # nothing left to ask
    page.goto(f"/referrals/{overdue_referral.pk}/")
    history = page.locator(".history-row")
    assert history.count() == 2
    assert "sam" in history.nth(1).inner_text() and "Linked" in history.nth(1).inner_text()
    assert csp_errors == []


def test_typing_a_code_with_n_or_d_does_not_answer(
    page, browser_login, front_desk_ana, overdue_referral
):
    browser_login(page, front_desk_ana)
    page.goto("/referrals/ask/?code=MAKO1993F")
    page.locator("[data-referral-prompt]").wait_for()
    page.fill("#code", "")
    page.locator("#code").press_sequentially("DNLD")  # letters typed into the field
    assert page.locator("#code").input_value() == "DNLD"
    overdue_referral.refresh_from_db()
    assert overdue_referral.status == ReferralStatus.REFERRED


def test_not_yet_button_pushes_the_follow_up(
    page, browser_login, front_desk_ana, overdue_referral, settings
):
    browser_login(page, front_desk_ana)
    page.goto("/referrals/ask/?code=MAKO1993F")
    page.get_by_role("button", name="Not yet: Hepatitis C testing, ask again later").click()
    page.get_by_text("we will ask again on").wait_for()
    overdue_referral.refresh_from_db()
    assert overdue_referral.status == ReferralStatus.REFERRED
    assert overdue_referral.follow_up_on == timezone.localdate() + timedelta(
        days=settings.SSP_REFERRAL_NOT_YET_DAYS
    )


def test_new_referral_form_lists_only_partners_offering_the_type(
    page, browser_login, front_desk_ana, site_a
):
    ParticipantFactory(code="JOSA1988M")
    PartnerFactory(name="Food bank", types=[ReferralType.objects.get(code="food")])
    PartnerFactory(name="Liver clinic", types=[ReferralType.objects.get(code="hcv-testing")])
    browser_login(page, front_desk_ana)
    page.goto("/referrals/new/")
    page.fill("#id_code", "JOSA1988M")
    page.select_option("#id_referral_type", label="Food")
    page.locator("#id_partner option", has_text="Food bank").wait_for(state="attached")
    assert page.locator("#id_partner option").all_inner_texts() == [
        "— no particular partner —",
        "Food bank",
    ]
    page.select_option("#id_partner", label="Food bank")
    page.get_by_role("button", name="Save referral").click()
    page.get_by_text("Referral to Food recorded for JOSA1988M.").wait_for()


def test_at_the_front_desk_a_code_with_an_overdue_referral_shows_the_prompt_and_l_links_it(
    page, browser_login, front_desk_ana, overdue_referral
):
    """The intake screen itself (not the ask page): the prompt rides in the participant
    panel, inside the visit form, and answering it must not touch the visit form."""
    from ssp.models import Visit

    csp_errors = _csp_errors(page)
    browser_login(page, front_desk_ana)
    page.goto("/intake/")
    page.fill("#code", "mako1993f")
    page.keyboard.press("Enter")
    prompt = page.locator("#participant-panel #referral-follow-ups [data-referral-prompt]")
    prompt.wait_for()
    assert "Ask about 1 referral" in prompt.inner_text()
    assert "Hepatitis C testing at Liver clinic" in prompt.inner_text()

    page.locator("h1").click()  # leave the code field: letters there are typing
    page.keyboard.press("l")
    page.get_by_text("Hepatitis C testing: marked linked.").wait_for()

    overdue_referral.refresh_from_db()
    assert overdue_referral.status == ReferralStatus.LINKED
    assert overdue_referral.linked_on == timezone.localdate()
    change = overdue_referral.history.last()
    assert (change.from_status, change.to_status, change.changed_by) == (
        "referred",
        "linked",
        front_desk_ana,
    )
    # The answer went to the referral only: no visit saved, the visit form still usable.
    assert not Visit.objects.exists()
    assert page.locator("#save").is_enabled()
    assert page.locator("#code").input_value().upper() == "MAKO1993F"
    assert csp_errors == []


@pytest.mark.parametrize(
    ("at_visit", "first_field"), [(True, "#id_referral_type"), (False, "#id_code")]
)
def test_the_referral_page_opens_with_focus_on_its_first_field(
    page, browser_login, front_desk_ana, site_a, storeroom, at_visit, first_field
):
    url = "/referrals/new/"
    if at_visit:
        visit, _ = visit_record(
            site=site_a, by=front_desk_ana, client_uuid=new_uuid(), code="MAKO1993F"
        )
        url += f"?visit={visit.uuid}"
    browser_login(page, front_desk_ana)
    page.goto(url)
    expect(page.locator(first_field)).to_be_focused()
