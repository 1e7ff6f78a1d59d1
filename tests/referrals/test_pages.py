"""Staff pages for referrals: the intake follow-up fragment, the new-referral page,
coordinator lists, linkage, CSV, partners and types."""

import csv
import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from referrals import services
from referrals.models import Partner, Referral, ReferralStatus, ReferralType

from ..factories import ParticipantFactory, PartnerFactory, VisitFactory

NY = ZoneInfo("America/New_York")


@pytest.fixture(autouse=True)
def _fixed_today():
    with time_machine.travel(datetime(2026, 6, 15, 10, 0, tzinfo=NY), tick=False):
        yield


def rtype(code):
    return ReferralType.objects.get(code=code)


@pytest.fixture
def mako(db):
    return ParticipantFactory(code="MAKO1993F")


@pytest.fixture
def overdue(site_a, front_desk_ana, mako):
    """Referred 1 May; follow-up 31 May has passed."""
    with time_machine.travel(datetime(2026, 5, 1, 12, tzinfo=NY), tick=False):
        return services.referral_create(
            referral_type=rtype("hcv-testing"), participant=mako, site=site_a, by=front_desk_ana
        )


@pytest.fixture
def upcoming(site_a, front_desk_ana, mako):
    return services.referral_create(
        referral_type=rtype("housing"), participant=mako, site=site_a, by=front_desk_ana
    )


# --- The follow-up fragment ----------------------------------------------------------------


def test_fragment_is_empty_for_a_code_without_referrals(client, front_desk_ana, mako):
    client.force_login(front_desk_ana)
    for code in ("MAKO1993F", "NOSUCH00X", ""):
        response = client.get("/referrals/follow-ups/", {"code": code})
        assert response.status_code == 200
        assert response.content == b""


def test_fragment_shows_due_referrals_first_with_keyed_buttons(
    client, front_desk_ana, overdue, upcoming
):
    client.force_login(front_desk_ana)
    html = client.get("/referrals/follow-ups/", {"code": "mako1993f"}).content.decode()
    assert "Ask about 1 referral" in html
    assert "Hepatitis C testing" in html
    assert 'accesskey="l"' in html and 'accesskey="n"' in html and 'accesskey="d"' in html
    assert 'aria-label="Linked: Hepatitis C testing started"' in html
    assert "1 other open referral (not due yet)" in html
    assert html.index("Hepatitis C testing") < html.index("Housing")
    assert "<style" not in html and " style=" not in html  # the CSP forbids inline styles


def test_fragment_hides_other_sites_referrals(client, front_desk_ben, overdue):
    client.force_login(front_desk_ben)
    assert client.get("/referrals/follow-ups/", {"code": "MAKO1993F"}).content == b""


def test_fragment_follows_a_merged_code(client, front_desk_ana, overdue, mako):
    ParticipantFactory(code="MAKO1994F", merged_into=mako)
    client.force_login(front_desk_ana)
    html = client.get("/referrals/follow-ups/", {"code": "MAKO1994F"}).content.decode()
    assert "Hepatitis C testing" in html


def test_answering_linked_from_the_prompt_records_who_and_when(client, manager_sam, overdue):
    client.force_login(manager_sam)
    response = client.post(
        f"/referrals/follow-ups/{overdue.pk}/linked/",
        {"code": "MAKO1993F", "linked_on": "2026-06-10"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "Hepatitis C testing: marked linked." in response.content.decode()
    overdue.refresh_from_db()
    assert (overdue.status, overdue.linked_on) == (ReferralStatus.LINKED, date(2026, 6, 10))
    change = overdue.history.last()
    assert (change.changed_by, change.changed_at) == (
        manager_sam,
        datetime(2026, 6, 15, 10, tzinfo=NY),
    )


def test_not_yet_pushes_the_follow_up_and_the_prompt_goes_quiet(
    client, front_desk_ana, overdue, settings
):
    settings.SSP_REFERRAL_NOT_YET_DAYS = 14
    client.force_login(front_desk_ana)
    html = client.post(
        f"/referrals/follow-ups/{overdue.pk}/not-yet/",
        {"code": "MAKO1993F"},
        headers={"HX-Request": "true"},
    ).content.decode()
    # The month as the language writes it (MONTH_DAY_FORMAT): "June 29", "29 de junio".
    assert "we will ask again on June 29" in html
    overdue.refresh_from_db()
    assert overdue.status == ReferralStatus.REFERRED
    assert overdue.follow_up_on == date(2026, 6, 29)
    assert overdue.history.last().description == "Asked: not linked yet"
    # Asked again the same day: nothing is due any more, it is only listed as open.
    again = client.get("/referrals/follow-ups/", {"code": "MAKO1993F"}).content.decode()
    assert "Ask about" not in again and "1 other open referral" in again


def test_declined_from_the_prompt(client, front_desk_ana, overdue):
    client.force_login(front_desk_ana)
    client.post(
        f"/referrals/follow-ups/{overdue.pk}/declined/",
        {"code": "MAKO1993F"},
        headers={"HX-Request": "true"},
    )
    overdue.refresh_from_db()
    assert overdue.status == ReferralStatus.DECLINED


def test_a_linked_date_before_the_referral_shows_the_error_and_changes_nothing(
    client, front_desk_ana, overdue
):
    client.force_login(front_desk_ana)
    html = client.post(
        f"/referrals/follow-ups/{overdue.pk}/linked/",
        {"code": "MAKO1993F", "linked_on": "2026-04-01"},
        headers={"HX-Request": "true"},
    ).content.decode()
    assert "cannot be before the referral date" in html
    overdue.refresh_from_db()
    assert overdue.status == ReferralStatus.REFERRED


def test_other_sites_staff_cannot_answer(client, front_desk_ben, overdue):
    client.force_login(front_desk_ben)
    response = client.post(f"/referrals/follow-ups/{overdue.pk}/linked/", {"code": "MAKO1993F"})
    assert response.status_code == 404
    overdue.refresh_from_db()
    assert overdue.status == ReferralStatus.REFERRED


def test_fragment_query_count_is_bounded(
    client, front_desk_ana, overdue, upcoming, django_assert_max_num_queries
):
    client.force_login(front_desk_ana)
    client.get("/referrals/follow-ups/", {"code": "MAKO1993F"})  # warm the session
    with django_assert_max_num_queries(12):
        client.get("/referrals/follow-ups/", {"code": "MAKO1993F"})


# --- New referral page ---------------------------------------------------------------------


@pytest.fixture
def visit_a(site_a, front_desk_ana, mako):
    return VisitFactory(
        site=site_a,
        participant=mako,
        recorded_by=front_desk_ana,
        occurred_at=datetime(2026, 6, 15, 9, 30, tzinfo=NY),
    )


def test_new_referral_at_a_visit(client, front_desk_ana, visit_a):
    clinic = PartnerFactory(name="Liver clinic", types=[rtype("hcv-testing")])
    client.force_login(front_desk_ana)
    page = client.get("/referrals/new/", {"visit": str(visit_a.uuid)}).content.decode()
    assert "MAKO1993F" in page
    assert "Never enter names" in page  # the PII warning on the note
    response = client.post(
        f"/referrals/new/?visit={visit_a.uuid}",
        {
            "visit": str(visit_a.uuid),
            "referral_type": rtype("hcv-testing").pk,
            "partner": clinic.pk,
            "note": "",
        },
    )
    assert response.status_code == 302
    referral = Referral.objects.get()
    assert (referral.visit, referral.partner, referral.created_by) == (
        visit_a,
        clinic,
        front_desk_ana,
    )
    page = client.get(response["Location"]).content.decode()
    assert "Referrals made at this visit" in page and "Liver clinic" in page


def test_partner_list_follows_the_chosen_type(client, front_desk_ana):
    PartnerFactory(name="Liver clinic", types=[rtype("hcv-testing")])
    PartnerFactory(name="Food bank", types=[rtype("food")])
    client.force_login(front_desk_ana)
    options = client.get(
        "/referrals/partners/options/", {"referral_type": rtype("food").pk}
    ).content.decode()
    assert "Food bank" in options and "Liver clinic" not in options


def test_partner_not_offering_the_type_is_shown_next_to_the_field(client, front_desk_ana, visit_a):
    food_bank = PartnerFactory(name="Food bank", types=[rtype("food")])
    client.force_login(front_desk_ana)
    response = client.post(
        "/referrals/new/",
        {
            "visit": str(visit_a.uuid),
            "referral_type": rtype("hcv-testing").pk,
            "partner": food_bank.pk,
        },
    )
    assert response.status_code == 400
    assert "Food bank does not offer Hepatitis C testing." in response.content.decode()
    assert not Referral.objects.exists()


def test_new_referral_page_refuses_another_sites_visit(client, front_desk_ben, visit_a):
    client.force_login(front_desk_ben)
    assert client.get("/referrals/new/", {"visit": str(visit_a.uuid)}).status_code == 404
    response = client.post(
        "/referrals/new/", {"visit": str(visit_a.uuid), "referral_type": rtype("food").pk}
    )
    assert response.status_code == 404
    assert not Referral.objects.exists()


def test_new_referral_for_a_code_without_a_visit(client, front_desk_ana, site_a, mako):
    client.force_login(front_desk_ana)
    response = client.post(
        "/referrals/new/",
        {"code": "mako1993f", "site": site_a.pk, "referral_type": rtype("food").pk},
    )
    assert response.status_code == 302
    referral = Referral.objects.get()
    assert (referral.participant, referral.visit, referral.referred_on) == (
        mako,
        None,
        date(2026, 6, 15),
    )
    response = client.post(
        "/referrals/new/",
        {"code": "NOBODY00X", "site": site_a.pk, "referral_type": rtype("food").pk},
    )
    assert response.status_code == 400
    assert "log a visit first" in response.content.decode()


def test_status_form_refuses_an_illegal_transition(client, front_desk_ana, overdue):
    services.referral_mark_linked(referral=overdue, by=front_desk_ana)
    client.force_login(front_desk_ana)
    response = client.post(f"/referrals/{overdue.pk}/status/", {"to_status": "declined"})
    assert response.status_code == 400
    overdue.refresh_from_db()
    assert overdue.status == ReferralStatus.LINKED


def test_status_form_refuses_a_linked_date_before_the_referral(client, front_desk_ana, overdue):
    client.force_login(front_desk_ana)
    response = client.post(
        f"/referrals/{overdue.pk}/status/", {"to_status": "linked", "linked_on": "2026-04-20"}
    )
    assert response.status_code == 400
    assert "cannot be before the referral date (2026-05-01)" in response.content.decode()
    overdue.refresh_from_db()
    assert (overdue.status, overdue.linked_on) == (ReferralStatus.REFERRED, None)
    assert overdue.history.count() == 1


def test_new_referral_for_a_code_at_another_site_is_refused(client, front_desk_ana, site_b, mako):
    client.force_login(front_desk_ana)
    response = client.post(
        "/referrals/new/",
        {"code": "MAKO1993F", "site": site_b.pk, "referral_type": rtype("food").pk},
    )
    assert response.status_code == 400
    assert "You do not record at this site." in response.content.decode()
    assert not Referral.objects.exists()


def test_detail_shows_the_history(client, front_desk_ana, overdue):
    services.referral_not_yet(referral=overdue, by=front_desk_ana)
    client.force_login(front_desk_ana)
    page = client.get(f"/referrals/{overdue.pk}/").content.decode()
    assert "Asked: not linked yet" in page and "Referred" in page


# --- Coordinator pages ------------------------------------------------------------------------


def test_list_filters_by_site_type_status_and_period(
    client, coordinator_cleo, overdue, upcoming, site_b, front_desk_ben
):
    services.referral_create(
        referral_type=rtype("food"),
        participant=ParticipantFactory(code="BENX2000M"),
        site=site_b,
        by=front_desk_ben,
    )
    client.force_login(coordinator_cleo)

    def codes_and_types(**params):
        page = client.get("/referrals/", params).context["page"]
        return sorted((r.participant.code, r.type.code) for r in page)

    assert len(codes_and_types()) == 3
    assert codes_and_types(site=site_b.pk) == [("BENX2000M", "food")]
    assert codes_and_types(type=rtype("housing").pk) == [("MAKO1993F", "housing")]
    assert codes_and_types(overdue="on") == [("MAKO1993F", "hcv-testing")]
    assert codes_and_types(start="2026-06-01", end="2026-07-01") == [
        ("BENX2000M", "food"),
        ("MAKO1993F", "housing"),
    ]
    assert codes_and_types(status="linked") == []


def test_front_desk_list_shows_only_their_site(client, front_desk_ben, overdue):
    client.force_login(front_desk_ben)
    assert client.get("/referrals/").context["page"].paginator.count == 0
    assert client.get(f"/referrals/{overdue.pk}/").status_code == 404


def test_csv_export_for_coordinators_only(client, coordinator_cleo, front_desk_ana, overdue):
    client.force_login(front_desk_ana)
    assert client.get("/referrals/export.csv").status_code == 403
    client.force_login(coordinator_cleo)
    response = client.get("/referrals/export.csv", {"status": "referred"})
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(r["code"], r["type_code"], r["status"], r["referred_on"]) for r in rows] == [
        ("MAKO1993F", "hcv-testing", "referred", "2026-05-01")
    ]


def test_csv_cells_cannot_become_spreadsheet_formulas(client, coordinator_cleo, overdue):
    partner = PartnerFactory(name="=HYPERLINK(1)", types=[rtype("hcv-testing")])
    services.referral_set_partner(referral=overdue, partner=partner, by=coordinator_cleo)
    client.force_login(coordinator_cleo)
    body = b"".join(client.get("/referrals/export.csv").streaming_content).decode()
    assert "'=HYPERLINK(1)" in body


def test_overdue_page_lists_due_follow_ups(client, manager_sam, overdue, upcoming):
    client.force_login(manager_sam)
    response = client.get("/referrals/overdue/")
    rows = list(response.context["page"])
    assert rows == [overdue]
    assert rows[0].days_due == 15


def test_linkage_page_shows_rate_by_type_and_site(client, coordinator_cleo, overdue, upcoming):
    services.referral_mark_linked(referral=upcoming, by=coordinator_cleo)
    client.force_login(coordinator_cleo)
    response = client.get("/referrals/linkage/", {"start": "2026-01-01", "end": "2026-07-01"})
    summary = response.context["summary"]
    assert (summary.total.referred, summary.total.linked) == (2, 1)
    html = response.content.decode()
    assert "50%" in html and "Downtown drop-in" in html


def test_menu_shows_referrals_with_the_due_count(client, front_desk_ana, overdue):
    client.force_login(front_desk_ana)
    nav = {item.label: item for item in client.get("/").context["nav_items"]}
    assert nav["Referrals"].badge == 1
    assert "Linkage" not in nav


# --- Partners and types -------------------------------------------------------------------------


def test_coordinator_adds_a_partner_front_desk_cannot(client, coordinator_cleo, front_desk_ana):
    data = {
        "name": "Harbor Housing Coalition",
        "types": [rtype("housing").pk],
        "phone": "555-0142",
        "hours": "Mon–Thu 10–16",
        "is_active": "on",
    }
    client.force_login(front_desk_ana)
    assert client.post("/referrals/partners/new/", data).status_code == 403
    assert client.get("/referrals/partners/").status_code == 200  # everyone reads the directory
    client.force_login(coordinator_cleo)
    assert client.post("/referrals/partners/new/", data).status_code == 302
    partner = Partner.objects.get()
    assert list(partner.types.values_list("code", flat=True)) == ["housing"]
    response = client.post("/referrals/partners/new/", {**data, "types": []})
    assert response.status_code == 400


def test_coordinator_renames_a_type_but_not_a_code_in_use(client, coordinator_cleo, overdue):
    hcv = rtype("hcv-testing")
    client.force_login(coordinator_cleo)
    form = {"name": "Hep C testing", "code": "hcv-testing", "group": "testing", "sort_order": 5}
    assert (
        client.post(f"/referrals/types/{hcv.pk}/", {**form, "is_active": "on"}).status_code == 302
    )
    hcv.refresh_from_db()
    assert hcv.name == "Hep C testing"
    response = client.post(f"/referrals/types/{hcv.pk}/", {**form, "code": "hep-c"})
    assert response.status_code == 400
    hcv.refresh_from_db()
    assert hcv.code == "hcv-testing"
