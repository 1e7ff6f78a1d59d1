"""Referral rules: transitions, history, dates, partners, sites; and the counts funders get."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import IntegrityError

from referrals import selectors, services
from referrals.models import Referral, ReferralStatus, ReferralStatusChange, ReferralType

from ..factories import ParticipantFactory, PartnerFactory, VisitFactory

NY = ZoneInfo("America/New_York")
TODAY = date(2026, 5, 15)
Q2 = {"start": date(2026, 4, 1), "end": date(2026, 7, 1)}


@pytest.fixture(autouse=True)
def _fixed_today():
    with time_machine.travel(datetime(2026, 5, 15, 10, 0, tzinfo=NY), tick=False):
        yield


def rtype(code: str) -> ReferralType:
    return ReferralType.objects.get(code=code)


@pytest.fixture
def hcv_testing(db):
    return rtype("hcv-testing")


@pytest.fixture
def visit_a(site_a, front_desk_ana):
    return VisitFactory(
        site=site_a,
        recorded_by=front_desk_ana,
        participant=ParticipantFactory(code="MAKO1993F"),
        occurred_at=datetime(2026, 5, 1, 11, 30, tzinfo=NY),
    )


@pytest.fixture
def referral(visit_a, front_desk_ana, hcv_testing):
    return services.referral_create(referral_type=hcv_testing, visit=visit_a, by=front_desk_ana)


# --- Types ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_referral_types_are_seeded_in_four_groups():
    codes = set(ReferralType.objects.values_list("code", flat=True))
    assert {"moud-buprenorphine", "moud-methadone", "moud-naltrexone", "prep", "housing"} <= codes
    assert set(ReferralType.objects.values_list("group", flat=True)) == {
        "treatment",
        "testing",
        "care",
        "social",
    }
    assert rtype("withdrawal-management").group == "treatment"
    assert rtype("hiv-testing").group == "testing"
    assert rtype("legal-aid").group == "social"


# --- Making a referral ---------------------------------------------------------------


def test_referral_at_a_visit_takes_the_visits_site_person_and_day(referral, visit_a, settings):
    assert referral.site == visit_a.site
    assert referral.participant.code == "MAKO1993F"
    assert referral.referred_on == date(2026, 5, 1)
    assert referral.follow_up_on == date(2026, 5, 1) + timedelta(
        days=settings.SSP_REFERRAL_FOLLOW_UP_DAYS
    )
    assert referral.status == ReferralStatus.REFERRED
    (created,) = referral.history.all()
    assert (created.from_status, created.to_status) == ("", "referred")
    assert created.changed_by.username == "ana"


def test_follow_up_default_comes_from_the_setting(visit_a, front_desk_ana, hcv_testing, settings):
    settings.SSP_REFERRAL_FOLLOW_UP_DAYS = 10
    referral = services.referral_create(referral_type=hcv_testing, visit=visit_a, by=front_desk_ana)
    assert referral.follow_up_on == date(2026, 5, 11)


def test_referral_at_another_sites_visit_is_refused_and_nothing_is_saved(
    site_b, front_desk_ana, hcv_testing
):
    visit_b = VisitFactory(site=site_b)
    with pytest.raises(services.ReferralError) as error:
        services.referral_create(referral_type=hcv_testing, visit=visit_b, by=front_desk_ana)
    assert error.value.field_errors == {"visit": ["This visit is at a site you do not record at."]}
    assert not Referral.objects.exists()
    assert not ReferralStatusChange.objects.exists()


def test_a_partner_that_does_not_offer_the_type_is_refused(visit_a, front_desk_ana, hcv_testing):
    housing_office = PartnerFactory(name="Housing office", types=[rtype("housing")])
    with pytest.raises(services.ReferralError) as error:
        services.referral_create(
            referral_type=hcv_testing, visit=visit_a, partner=housing_office, by=front_desk_ana
        )
    assert error.value.field_errors == {
        "partner": ["Housing office does not offer Hepatitis C testing."]
    }
    assert not Referral.objects.exists()


def test_an_inactive_partner_is_refused(visit_a, front_desk_ana, hcv_testing):
    clinic = PartnerFactory(name="Closed clinic", types=[hcv_testing], is_active=False)
    with pytest.raises(services.ReferralError, match="no longer an active partner"):
        services.referral_create(
            referral_type=hcv_testing, visit=visit_a, partner=clinic, by=front_desk_ana
        )


def test_anonymous_and_voided_visits_cannot_carry_referrals(site_a, front_desk_ana, hcv_testing):
    anonymous = VisitFactory(site=site_a, participant=None)
    with pytest.raises(services.ReferralError, match="anonymous"):
        services.referral_create(referral_type=hcv_testing, visit=anonymous, by=front_desk_ana)
    voided = VisitFactory(site=site_a, voided_at=datetime(2026, 5, 2, tzinfo=NY))
    with pytest.raises(services.ReferralError, match="voided"):
        services.referral_create(referral_type=hcv_testing, visit=voided, by=front_desk_ana)


def test_referral_for_a_code_without_a_visit(site_a, front_desk_ana, hcv_testing):
    person = ParticipantFactory(code="JOSA1988M")
    referral = services.referral_create(
        referral_type=hcv_testing, participant=person, site=site_a, by=front_desk_ana
    )
    assert referral.visit is None
    assert referral.referred_on == TODAY


def test_referral_for_a_merged_code_goes_to_the_surviving_code(site_a, front_desk_ana, hcv_testing):
    survivor = ParticipantFactory(code="MAKO1993F")
    typo = ParticipantFactory(code="MAKO1994F", merged_into=survivor)
    referral = services.referral_create(
        referral_type=hcv_testing, participant=typo, site=site_a, by=front_desk_ana
    )
    assert referral.participant == survivor


def test_referral_date_cannot_be_in_the_future_nor_follow_up_before_it(
    site_a, front_desk_ana, hcv_testing
):
    person = ParticipantFactory()
    with pytest.raises(services.ReferralError) as error:
        services.referral_create(
            referral_type=hcv_testing,
            participant=person,
            site=site_a,
            referred_on=TODAY + timedelta(days=1),
            by=front_desk_ana,
        )
    assert "referred_on" in error.value.field_errors
    with pytest.raises(services.ReferralError) as error:
        services.referral_create(
            referral_type=hcv_testing,
            participant=person,
            site=site_a,
            follow_up_on=TODAY - timedelta(days=1),
            by=front_desk_ana,
        )
    assert "follow_up_on" in error.value.field_errors


# --- Transitions and history -----------------------------------------------------------


def test_marking_linked_records_the_date_who_and_when(referral, manager_sam):
    services.referral_mark_linked(referral=referral, linked_on=date(2026, 5, 10), by=manager_sam)
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.LINKED
    assert referral.linked_on == date(2026, 5, 10)
    change = referral.history.last()
    assert (change.from_status, change.to_status) == ("referred", "linked")
    assert change.linked_on == date(2026, 5, 10)
    assert change.changed_by == manager_sam
    assert change.changed_at == datetime(2026, 5, 15, 10, 0, tzinfo=NY)


def test_linked_date_before_the_referral_date_is_refused(referral, front_desk_ana):
    with pytest.raises(services.ReferralError) as error:
        services.referral_mark_linked(
            referral=referral, linked_on=date(2026, 4, 30), by=front_desk_ana
        )
    assert error.value.field_errors == {
        "linked_on": ["The linked date cannot be before the referral date (2026-05-01)."]
    }
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.REFERRED
    assert referral.history.count() == 1


def test_linked_date_in_the_future_is_refused(referral, front_desk_ana):
    with pytest.raises(services.ReferralError, match="future"):
        services.referral_mark_linked(
            referral=referral, linked_on=TODAY + timedelta(days=1), by=front_desk_ana
        )


@pytest.mark.parametrize(
    ("first", "then"),
    [
        ("linked", "reopen"),
        ("linked", "declined"),
        ("linked", "lost"),
        ("not_needed", "reopen"),
        ("not_needed", "linked"),
        ("declined", "declined"),
        ("declined", "not_needed"),
        ("lost", "declined"),
    ],
)
def test_illegal_transitions_are_refused_and_write_nothing(referral, front_desk_ana, first, then):
    operations = {
        "linked": services.referral_mark_linked,
        "declined": services.referral_mark_declined,
        "lost": services.referral_mark_lost,
        "not_needed": services.referral_mark_not_needed,
        "reopen": services.referral_reopen,
    }
    operations[first](referral=referral, by=front_desk_ana)
    with pytest.raises(services.ReferralError) as error:
        operations[then](referral=referral, by=front_desk_ana)
    assert "to_status" in error.value.field_errors
    referral.refresh_from_db()
    assert referral.status == first
    assert referral.history.count() == 2


def test_a_linked_referral_cannot_go_back_to_referred(referral, front_desk_ana):
    services.referral_mark_linked(referral=referral, by=front_desk_ana)
    with pytest.raises(services.ReferralError) as error:
        services.referral_reopen(referral=referral, by=front_desk_ana)
    assert error.value.field_errors == {
        "to_status": ["A referral that is linked cannot become referred."]
    }


def test_lost_referral_can_turn_out_linked_and_declined_can_be_reopened(
    referral, visit_a, front_desk_ana, hcv_testing
):
    services.referral_mark_lost(referral=referral, by=front_desk_ana)
    services.referral_mark_linked(referral=referral, linked_on=date(2026, 5, 3), by=front_desk_ana)
    other = services.referral_create(
        referral_type=rtype("housing"), visit=visit_a, by=front_desk_ana
    )
    services.referral_mark_declined(referral=other, by=front_desk_ana)
    services.referral_reopen(referral=other, by=front_desk_ana, note="Changed their mind")
    other.refresh_from_db()
    assert other.status == ReferralStatus.REFERRED
    assert [c.description for c in other.history.all()] == ["Referred", "Declined", "Reopened"]
    assert [c.description for c in referral.history.all()] == [
        "Referred",
        "Lost to follow-up",
        "Linked",
    ]


def test_not_yet_keeps_the_referral_open_and_pushes_the_next_ask_out(
    referral, front_desk_ana, settings
):
    settings.SSP_REFERRAL_NOT_YET_DAYS = 14
    services.referral_not_yet(referral=referral, by=front_desk_ana)
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.REFERRED
    assert referral.follow_up_on == TODAY + timedelta(days=14)
    change = referral.history.last()
    assert change.description == "Asked: not linked yet"
    assert change.follow_up_on == TODAY + timedelta(days=14)
    assert change.changed_by == front_desk_ana


def test_not_yet_on_a_closed_referral_is_refused(referral, front_desk_ana):
    services.referral_mark_declined(referral=referral, by=front_desk_ana)
    with pytest.raises(services.ReferralError, match="already declined"):
        services.referral_not_yet(referral=referral, by=front_desk_ana)


def test_staff_of_another_site_cannot_change_a_referral(referral, front_desk_ben):
    with pytest.raises(services.ReferralGone):
        services.referral_mark_linked(referral=referral, by=front_desk_ben)
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.REFERRED


def test_coordinator_may_update_any_sites_referral(referral, coordinator_cleo):
    services.referral_mark_lost(referral=referral, by=coordinator_cleo)
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.LOST


def test_the_database_refuses_a_linked_date_before_the_referral(referral):
    with pytest.raises(IntegrityError):
        Referral.objects.filter(pk=referral.pk).update(status="linked", linked_on=date(2026, 4, 1))


# --- Funder counts and linkage rate ----------------------------------------------------


def test_referral_counts_by_type_match_a_hand_count(fixed_dataset, site_a, site_b):
    with time_machine.travel(datetime(2026, 8, 1, tzinfo=NY), tick=False):
        counts = selectors.referral_counts_by_type(**Q2)
    assert counts["hcv-testing"] == {"referred": 7, "linked": 3}
    # The March referral linked in April counts as linked in Q2; the July link does not.
    assert counts["housing"] == {"referred": 2, "linked": 1}
    assert counts["hiv-testing"] == {"referred": 0, "linked": 0}  # its visit was voided
    assert counts["prep"] == {"referred": 0, "linked": 0}
    assert set(counts) == set(ReferralType.objects.values_list("code", flat=True))

    site_a_only = selectors.referral_counts_by_type(**Q2, site_ids=[site_a.pk])
    assert site_a_only["hcv-testing"] == {"referred": 4, "linked": 2}
    assert site_a_only["housing"] == {"referred": 2, "linked": 1}
    site_b_only = selectors.referral_counts_by_type(**Q2, site_ids={site_b.pk})
    assert site_b_only["hcv-testing"] == {"referred": 3, "linked": 1}


def test_referral_counts_by_type_take_two_queries(fixed_dataset, django_assert_num_queries):
    with django_assert_num_queries(2):
        selectors.referral_counts_by_type(**Q2)


def test_linkage_rate_by_type_and_site_matches_a_hand_count(fixed_dataset, coordinator_cleo):
    with time_machine.travel(datetime(2026, 8, 1, tzinfo=NY), tick=False):
        summary = selectors.linkage_summary(user=coordinator_cleo, **Q2)
    by_type = {row.label: row for row in summary.by_type}
    # Cohort: referrals made in Q2, linked whenever (the June housing one linked in July).
    hcv = by_type["Hepatitis C testing"]
    assert (hcv.referred, hcv.linked, hcv.declined, hcv.not_needed, hcv.open) == (7, 3, 1, 1, 2)
    assert hcv.rate == pytest.approx(3 / 7)
    housing = by_type["Housing"]
    assert (housing.referred, housing.linked, housing.lost) == (2, 1, 1)
    assert housing.rate_percent == "50%"
    assert "HIV testing" not in by_type  # voided visit

    by_site = {row.label: row for row in summary.by_site}
    assert (by_site["Downtown drop-in"].referred, by_site["Downtown drop-in"].linked) == (6, 3)
    assert by_site["Eastside clinic"].rate == pytest.approx(1 / 3)
    assert (summary.total.referred, summary.total.linked) == (9, 4)
    assert summary.total.rate_percent == "44%"


def test_front_desk_linkage_covers_only_their_site(fixed_dataset, front_desk_ana):
    summary = selectors.linkage_summary(user=front_desk_ana, **Q2)
    assert [row.label for row in summary.by_site] == ["Downtown drop-in"]
    assert summary.total.referred == 6
