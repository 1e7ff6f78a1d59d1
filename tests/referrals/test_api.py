"""The referrals API: types, partners, referrals and status changes; 400s that save nothing."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from referrals import services
from referrals.models import Partner, Referral, ReferralStatusChange, ReferralType

from ..factories import ParticipantFactory, PartnerFactory, VisitFactory

NY = ZoneInfo("America/New_York")


@pytest.fixture(autouse=True)
def _fixed_today():
    with time_machine.travel(datetime(2026, 5, 15, 10, 0, tzinfo=NY), tick=False):
        yield


def rtype(code):
    return ReferralType.objects.get(code=code)


@pytest.fixture
def visit_a(site_a, front_desk_ana):
    return VisitFactory(
        site=site_a,
        recorded_by=front_desk_ana,
        participant=ParticipantFactory(code="MAKO1993F"),
        occurred_at=datetime(2026, 5, 1, 11, 30, tzinfo=NY),
    )


@pytest.fixture
def hep_clinic(db):
    return PartnerFactory(name="Liver clinic", types=[rtype("hcv-testing"), rtype("hcv-treatment")])


@pytest.fixture
def referral(visit_a, front_desk_ana):
    return services.referral_create(
        referral_type=rtype("hcv-testing"), visit=visit_a, by=front_desk_ana
    )


# --- Types and partners -------------------------------------------------------------


def test_everyone_reads_types_but_only_coordinators_change_them(
    api_as, front_desk_ana, coordinator_cleo
):
    listed = api_as(front_desk_ana).get("/api/v1/referrals/types/?group=social").json()
    assert {t["code"] for t in listed["results"]} == {"housing", "food", "id-benefits", "legal-aid"}
    new_type = {"code": "naloxone-training", "name": "Naloxone training", "group": "care"}
    assert api_as(front_desk_ana).post("/api/v1/referrals/types/", new_type).status_code == 403
    response = api_as(coordinator_cleo).post("/api/v1/referrals/types/", new_type)
    assert response.status_code == 201, response.json()
    assert ReferralType.objects.get(code="naloxone-training").group == "care"


def test_a_type_code_used_by_referrals_cannot_change(api_as, coordinator_cleo, referral):
    hcv = rtype("hcv-testing")
    response = api_as(coordinator_cleo).patch(
        f"/api/v1/referrals/types/{hcv.pk}/", {"code": "hep-c-test"}
    )
    assert response.status_code == 400
    assert "code" in response.json()["errors"]
    hcv.refresh_from_db()
    assert hcv.code == "hcv-testing"


def test_partner_is_created_with_the_types_it_accepts(api_as, coordinator_cleo):
    response = api_as(coordinator_cleo).post(
        "/api/v1/referrals/partners/",
        {
            "name": "Harbor Housing Coalition",
            "types": ["housing", "id-benefits"],
            "address": "400 Harbor Rd",
            "phone": "555-0142",
            "hours": "Mon–Thu 10–16",
        },
    )
    assert response.status_code == 201, response.json()
    partner = Partner.objects.get(name="Harbor Housing Coalition")
    assert set(partner.types.values_list("code", flat=True)) == {"housing", "id-benefits"}


def test_partner_without_types_or_with_an_unknown_type_is_refused(api_as, coordinator_cleo):
    api = api_as(coordinator_cleo)
    response = api.post("/api/v1/referrals/partners/", {"name": "Nowhere", "types": []})
    assert response.status_code == 400
    assert "types" in response.json()["errors"]
    response = api.post("/api/v1/referrals/partners/", {"name": "Nowhere", "types": ["astrology"]})
    assert response.status_code == 400
    assert "types" in response.json()["errors"]
    assert not Partner.objects.exists()


def test_partners_filter_by_the_type_they_accept(api_as, front_desk_ana, hep_clinic):
    PartnerFactory(name="Food bank", types=[rtype("food")])
    api = api_as(front_desk_ana)
    names = [
        p["name"] for p in api.get("/api/v1/referrals/partners/?type=hcv-testing").json()["results"]
    ]
    assert names == ["Liver clinic"]


def test_front_desk_cannot_create_partners(api_as, front_desk_ana):
    response = api_as(front_desk_ana).post(
        "/api/v1/referrals/partners/", {"name": "X", "types": ["food"]}
    )
    assert response.status_code == 403


# --- Referrals ------------------------------------------------------------------------


def test_front_desk_makes_a_referral_at_a_visit(api_as, front_desk_ana, visit_a, hep_clinic):
    response = api_as(front_desk_ana).post(
        "/api/v1/referrals/",
        {"visit": str(visit_a.uuid), "type": "hcv-testing", "partner": hep_clinic.pk},
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["code"] == "MAKO1993F"
    assert body["site_code"] == "DTWN"
    assert body["status"] == "referred"
    assert body["referred_on"] == "2026-05-01"
    assert body["follow_up_on"] == "2026-05-31"
    assert body["partner_name"] == "Liver clinic"
    assert body["created_by"] == "ana"
    assert body["is_due"] is False


def test_referral_at_another_sites_visit_is_a_400_and_nothing_is_saved(
    api_as, front_desk_ben, visit_a
):
    response = api_as(front_desk_ben).post(
        "/api/v1/referrals/", {"visit": str(visit_a.uuid), "type": "hcv-testing"}
    )
    assert response.status_code == 400
    # A visit at a site one cannot see is no visit at all (as the referral page's 404).
    assert response.json()["errors"] == {"visit": ["No visit with this id."]}
    assert not Referral.objects.exists()


def test_partner_not_offering_the_type_is_a_400(api_as, front_desk_ana, visit_a, hep_clinic):
    response = api_as(front_desk_ana).post(
        "/api/v1/referrals/",
        {"visit": str(visit_a.uuid), "type": "housing", "partner": hep_clinic.pk},
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"partner": ["Liver clinic does not offer Housing."]}
    assert not Referral.objects.exists()


def test_referral_for_a_code_needs_a_known_code_and_a_site(api_as, front_desk_ana, site_a):
    api = api_as(front_desk_ana)
    response = api.post("/api/v1/referrals/", {"type": "food"})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"code", "site"}
    response = api.post(
        "/api/v1/referrals/", {"type": "food", "code": "NOPE0000X", "site": site_a.pk}
    )
    assert response.status_code == 400
    assert "log a visit first" in response.json()["errors"]["code"][0]
    ParticipantFactory(code="JOSA1988M")
    response = api.post(
        "/api/v1/referrals/", {"type": "food", "code": "josa1988m", "site": site_a.pk}
    )
    assert response.status_code == 201, response.json()
    assert response.json()["visit"] is None
    assert response.json()["referred_on"] == "2026-05-15"


def test_referral_for_a_code_at_another_site_is_a_400(api_as, front_desk_ana, site_b):
    ParticipantFactory(code="JOSA1988M")
    response = api_as(front_desk_ana).post(
        "/api/v1/referrals/", {"type": "food", "code": "JOSA1988M", "site": site_b.pk}
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"site": ["You do not record at this site."]}
    assert not Referral.objects.exists()


def test_staff_see_only_their_sites_referrals(
    api_as, front_desk_ana, front_desk_ben, coordinator_cleo, referral, site_b
):
    services.referral_create(
        referral_type=rtype("food"),
        participant=ParticipantFactory(),
        site=site_b,
        by=front_desk_ben,
    )
    ana_sees = [
        r["site_code"] for r in api_as(front_desk_ana).get("/api/v1/referrals/").json()["results"]
    ]
    assert ana_sees == ["DTWN"]
    assert api_as(front_desk_ben).get(f"/api/v1/referrals/{referral.pk}/").status_code == 404
    cleo_sees = {
        r["site_code"] for r in api_as(coordinator_cleo).get("/api/v1/referrals/").json()["results"]
    }
    assert cleo_sees == {"DTWN", "EAST"}


def test_due_and_code_filters(api_as, front_desk_ana, referral, site_a):
    later = services.referral_create(
        referral_type=rtype("food"),
        participant=ParticipantFactory(code="OTHER01X"),
        site=site_a,
        by=front_desk_ana,
    )
    api = api_as(front_desk_ana)
    with time_machine.travel(datetime(2026, 6, 1, 9, tzinfo=NY), tick=False):
        due = [r["id"] for r in api.get("/api/v1/referrals/?due=true").json()["results"]]
    assert due == [referral.pk]  # follow-up 31 May has come; the other one's is 14 June
    by_code = [r["id"] for r in api.get("/api/v1/referrals/?code=other01x").json()["results"]]
    assert by_code == [later.pk]


# --- Status changes -----------------------------------------------------------------------


def test_marking_linked_through_the_api_records_history(api_as, manager_sam, referral):
    api = api_as(manager_sam)
    response = api.post(
        f"/api/v1/referrals/{referral.pk}/status-changes/",
        {"to_status": "linked", "linked_on": "2026-05-12"},
    )
    assert response.status_code == 201, response.json()
    assert response.json()["changed_by"] == "sam"
    history = api.get(f"/api/v1/referrals/{referral.pk}/status-changes/").json()
    assert [(h["from_status"], h["to_status"]) for h in history] == [
        ("", "referred"),
        ("referred", "linked"),
    ]
    detail = api.get(f"/api/v1/referrals/{referral.pk}/").json()
    assert (detail["status"], detail["linked_on"]) == ("linked", "2026-05-12")


def test_linked_date_before_referral_date_is_a_400_and_nothing_changes(
    api_as, front_desk_ana, referral
):
    response = api_as(front_desk_ana).post(
        f"/api/v1/referrals/{referral.pk}/status-changes/",
        {"to_status": "linked", "linked_on": "2026-04-01"},
    )
    assert response.status_code == 400
    assert "linked_on" in response.json()["errors"]
    referral.refresh_from_db()
    assert referral.status == "referred"
    assert ReferralStatusChange.objects.filter(referral=referral).count() == 1


def test_illegal_transition_is_a_400(api_as, front_desk_ana, referral):
    api = api_as(front_desk_ana)
    url = f"/api/v1/referrals/{referral.pk}/status-changes/"
    assert api.post(url, {"to_status": "linked"}).status_code == 201
    response = api.post(url, {"to_status": "referred"})
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "to_status": ["A referral that is linked cannot become referred."]
    }
    assert response.json()["code"] == "invalid_referral"


def test_not_yet_through_the_api_pushes_the_follow_up(api_as, front_desk_ana, referral):
    response = api_as(front_desk_ana).post(
        f"/api/v1/referrals/{referral.pk}/status-changes/",
        {"to_status": "referred", "follow_up_on": "2026-06-20"},
    )
    assert response.status_code == 201
    assert response.json()["description"] == "Asked: not linked yet"
    referral.refresh_from_db()
    assert referral.follow_up_on == date(2026, 6, 20)


def test_linked_date_with_another_status_is_refused(api_as, front_desk_ana, referral):
    response = api_as(front_desk_ana).post(
        f"/api/v1/referrals/{referral.pk}/status-changes/",
        {"to_status": "declined", "linked_on": "2026-05-10"},
    )
    assert response.status_code == 400
    assert "linked_on" in response.json()["errors"]


def test_other_sites_staff_cannot_change_a_referral(api_as, front_desk_ben, referral):
    response = api_as(front_desk_ben).post(
        f"/api/v1/referrals/{referral.pk}/status-changes/", {"to_status": "declined"}
    )
    assert response.status_code == 404
    referral.refresh_from_db()
    assert referral.status == "referred"


def test_coordinator_records_an_outcome_at_any_site(api_as, coordinator_cleo, referral):
    response = api_as(coordinator_cleo).post(
        f"/api/v1/referrals/{referral.pk}/status-changes/",
        {"to_status": "lost", "note": "No contact for 90 days"},
    )
    assert response.status_code == 201
    assert response.json()["note"] == "No contact for 90 days"


def test_referral_list_query_count_does_not_grow_with_rows(
    api_as, front_desk_ana, site_a, django_assert_max_num_queries
):
    for _ in range(15):
        services.referral_create(
            referral_type=rtype("food"),
            participant=ParticipantFactory(),
            site=site_a,
            by=front_desk_ana,
        )
    api = api_as(front_desk_ana)
    with django_assert_max_num_queries(6):
        response = api.get("/api/v1/referrals/")
    assert response.json()["count"] == 15


# --- Linkage -------------------------------------------------------------------------------

LINKAGE = "/api/v1/referrals/linkage/"


def test_linkage_rate_through_the_api_matches_the_hand_count(
    api_as, coordinator_cleo, fixed_dataset
):
    # The same fixed quarter as the selector test: hcv 7 made, 3 linked; housing 2 and 1.
    body = api_as(coordinator_cleo).get(LINKAGE, {"start": "2026-04-01", "end": "2026-07-01"})
    assert body.status_code == 200, body.json()
    data = body.json()
    by_type = {row["label"]: row for row in data["by_type"]}
    hcv = by_type["Hepatitis C testing"]
    assert (hcv["referred"], hcv["linked"], hcv["declined"], hcv["not_needed"], hcv["open"]) == (
        7,
        3,
        1,
        1,
        2,
    )
    assert hcv["rate"] == pytest.approx(3 / 7)
    assert (by_type["Housing"]["referred"], by_type["Housing"]["lost"]) == (2, 1)
    assert "HIV testing" not in by_type  # its visit was voided
    by_site = {row["label"]: (row["referred"], row["linked"]) for row in data["by_site"]}
    assert by_site == {"Downtown drop-in": (6, 3), "Eastside clinic": (3, 1)}
    assert (data["total"]["referred"], data["total"]["linked"]) == (9, 4)
    assert data["total"]["rate"] == pytest.approx(4 / 9)


def test_linkage_filters_by_site_and_type_and_stays_in_the_users_sites(
    api_as, coordinator_cleo, front_desk_ana, fixed_dataset, site_a, site_b
):
    period = {"start": "2026-04-01", "end": "2026-07-01"}
    cleo = api_as(coordinator_cleo)
    eastside = cleo.get(LINKAGE, {**period, "site": site_b.pk}).json()
    assert (eastside["total"]["referred"], eastside["total"]["linked"]) == (3, 1)
    housing = cleo.get(LINKAGE, {**period, "type": "housing"}).json()
    assert [row["label"] for row in housing["by_type"]] == ["Housing"]
    assert housing["total"]["rate"] == pytest.approx(0.5)

    ana = api_as(front_desk_ana)
    assert ana.get(LINKAGE, period).json()["total"]["referred"] == 6
    refused = ana.get(LINKAGE, {**period, "site": site_b.pk})
    assert refused.status_code == 400
    assert refused.json()["errors"] == {"site": ["You do not have access to this site."]}


def test_linkage_needs_a_sensible_period(api_as, coordinator_cleo):
    api = api_as(coordinator_cleo)
    missing = api.get(LINKAGE)
    assert missing.status_code == 400
    assert set(missing.json()["errors"]) == {"start", "end"}
    backwards = api.get(LINKAGE, {"start": "2026-07-01", "end": "2026-04-01"})
    assert backwards.status_code == 400
    assert backwards.json()["errors"] == {"end": ["The end must be after the start."]}
    unknown = api.get(LINKAGE, {"start": "2026-04-01", "end": "2026-07-01", "type": "nope"})
    assert unknown.status_code == 400 and "type" in unknown.json()["errors"]


def test_linkage_with_no_referrals_has_no_rate(api_as, coordinator_cleo):
    data = (
        api_as(coordinator_cleo).get(LINKAGE, {"start": "2020-01-01", "end": "2020-02-01"}).json()
    )
    assert (data["by_type"], data["by_site"]) == ([], [])
    assert (data["total"]["referred"], data["total"]["rate"]) == (0, None)


def test_referrals_are_in_the_schema(client, front_desk_ana):
    client.force_login(front_desk_ana)
    schema = client.get("/api/schema/").content.decode()
    for path in (
        "/api/v1/referrals/:",
        "/api/v1/referrals/{id}/status-changes/:",
        "/api/v1/referrals/types/:",
        "/api/v1/referrals/partners/:",
        "/api/v1/referrals/linkage/:",
    ):
        assert path in schema
