"""Referrals made in the same save as the visit (referrals/with_visit.py, ssp's
extension point ssp/visit_extras.py): all or nothing with the visit, from the API,
the sync and the front desk."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory.models import StockMovement
from referrals.models import Referral, ReferralType
from referrals.services import referral_create, referral_mark_linked
from ssp.models import Visit
from ssp.services import visit_record

from ..factories import PartnerFactory
from ..support.intake import new_uuid

pytestmark = pytest.mark.django_db


def rtype(code: str) -> ReferralType:
    return ReferralType.objects.get(code=code)


@pytest.fixture
def bridge_clinic(db):
    return PartnerFactory(
        name="Bridge clinic", types=[ReferralType.objects.get(code="moud-buprenorphine")]
    )


def body(site, **extra):
    return {
        "client_uuid": new_uuid(),
        "site": site.pk,
        "code": "MAKO1993F",
        "supplies": [{"item": "water", "quantity": 1}],
        **extra,
    }


def desk_post(client, site, types, partners):
    """The front desk's form posted: a returning code with syringes back, and referral
    rows (type and partner lists, as the form's repeated fields send them)."""
    return client.post(
        f"/intake/?site={site.pk}",
        {
            "client_uuid": new_uuid(),
            "site": site.pk,
            "code": "MAKO1993F",
            "syringes_collected": "5",
            "extra:referrals:type": types,
            "extra:referrals:partner": partners,
        },
    )


def test_a_visit_post_makes_its_referrals_with_it(
    api_as, front_desk_ana, site_a, stocked, bridge_clinic
):
    sent = body(
        site_a,
        referrals=[
            {"type": "moud-buprenorphine", "partner": bridge_clinic.pk},
            {"type": "hcv-testing"},
        ],
    )
    response = api_as(front_desk_ana).post("/api/v1/visits/", sent, format="json")
    assert response.status_code == 201, response.json()
    visit = Visit.objects.get(uuid=sent["client_uuid"])
    made = {(r.type.code, r.partner_id) for r in Referral.objects.filter(visit=visit)}
    assert made == {("moud-buprenorphine", bridge_clinic.pk), ("hcv-testing", None)}
    for referral in Referral.objects.all():
        assert referral.participant == visit.participant
        assert referral.site == visit.site
        assert referral.created_by == front_desk_ana


def test_a_refused_referral_refuses_the_visit_and_nothing_is_kept(
    api_as, front_desk_ana, site_a, stocked, bridge_clinic
):
    # Bridge clinic does not test for hepatitis C: the service refuses it, so the visit goes too.
    sent = body(site_a, referrals=[{"type": "hcv-testing", "partner": bridge_clinic.pk}])
    response = api_as(front_desk_ana).post("/api/v1/visits/", sent, format="json")
    assert response.status_code == 400
    assert "does not offer" in response.json()["errors"]["referrals"][0]
    assert not Visit.objects.exists()
    assert not Referral.objects.exists()
    assert not StockMovement.objects.filter(kind="dispense").exists()


def test_an_anonymous_visit_cannot_carry_a_referral(api_as, front_desk_ana, site_a, stocked):
    sent = body(site_a, code="", anonymous=True, referrals=[{"type": "food"}])
    response = api_as(front_desk_ana).post("/api/v1/visits/", sent, format="json")
    assert response.status_code == 400
    assert "anonymous" in response.json()["errors"]["referrals"][0]
    assert not Visit.objects.exists()


def test_an_unknown_type_is_a_field_error(api_as, front_desk_ana, site_a, stocked):
    sent = body(site_a, referrals=[{"type": "massage"}])
    response = api_as(front_desk_ana).post("/api/v1/visits/", sent, format="json")
    assert response.status_code == 400
    assert "referrals" in response.json()["errors"]


def test_a_retry_makes_the_referral_once(api_as, front_desk_ana, site_a, stocked):
    sent = body(site_a, referrals=[{"type": "food"}])
    api = api_as(front_desk_ana)
    assert api.post("/api/v1/visits/", sent, format="json").status_code == 201
    assert api.post("/api/v1/visits/", sent, format="json").status_code == 200
    assert Referral.objects.count() == 1


def test_sync_carries_referrals(api_as, front_desk_ana, site_a, stocked, bridge_clinic):
    visit = body(site_a, referrals=[{"type": "moud-buprenorphine", "partner": bridge_clinic.pk}])
    record = {"kind": "visit", "client_uuid": visit["client_uuid"], "body": visit}
    answer = api_as(front_desk_ana).post("/api/v1/sync/", {"records": [record]}, format="json")
    assert answer.json()["results"][0]["status"] == "created", answer.json()
    assert Referral.objects.get().visit.uuid.hex == visit["client_uuid"].replace("-", "")


def test_the_front_desk_saves_a_referral_with_the_visit(
    client, front_desk_ana, site_a, stocked, bridge_clinic
):
    client.force_login(front_desk_ana)
    page = client.get("/intake/")
    assert b'name="extra:referrals:type"' in page.content
    saved = desk_post(client, site_a, ["moud-buprenorphine", ""], [str(bridge_clinic.pk), ""])
    assert saved.status_code == 302, saved.content.decode()[:3000]
    referral = Referral.objects.get()
    assert referral.visit == Visit.objects.get()
    assert referral.partner == bridge_clinic


def test_the_front_desk_shows_a_refused_referral_and_saves_nothing(
    client, front_desk_ana, site_a, stocked, bridge_clinic
):
    client.force_login(front_desk_ana)
    refused = desk_post(client, site_a, ["food"], [str(bridge_clinic.pk)])
    assert refused.status_code == 400
    assert "does not offer" in refused.content.decode()
    assert not Visit.objects.exists()


def test_the_referral_page_still_opens_on_its_first_field(client, front_desk_ana, site_a):
    client.force_login(front_desk_ana)
    page = client.get("/referrals/new/").content.decode()
    first_field = page.index('name="code"')
    assert "autofocus" in page[page.rindex("<input", 0, first_field) : page.index(">", first_field)]


# --- The visit shows the referrals made with it ------------------------------------


def test_the_visit_answer_lists_its_referrals(
    api_as, front_desk_ana, site_a, stocked, bridge_clinic
):
    api = api_as(front_desk_ana)
    sent = body(
        site_a,
        referrals=[{"type": "moud-buprenorphine", "partner": bridge_clinic.pk}, {"type": "food"}],
    )
    created = api.post("/api/v1/visits/", sent, format="json")
    assert created.status_code == 201, created.json()
    expected = [
        {"type": "moud-buprenorphine", "partner": bridge_clinic.pk, "status": "referred"},
        {"type": "food", "partner": None, "status": "referred"},
    ]
    assert created.json()["referrals"] == expected
    read = api.get(f"/api/v1/visits/{sent['client_uuid']}/").json()
    assert read["referrals"] == expected
    # A retry answers with the first visit, its referrals read back.
    again = api.post("/api/v1/visits/", sent, format="json")
    assert again.status_code == 200 and again.json()["referrals"] == expected
    listed = api.get("/api/v1/visits/").json()["results"]
    assert [v["referrals"] for v in listed] == [expected]


def test_a_visit_without_referrals_lists_none(api_as, front_desk_ana, site_a, stocked):
    api = api_as(front_desk_ana)
    created = api.post("/api/v1/visits/", body(site_a), format="json")
    assert created.status_code == 201 and created.json()["referrals"] == []
    assert api.get(f"/api/v1/visits/{created.json()['uuid']}/").json()["referrals"] == []


def test_a_referral_made_later_from_the_visit_is_listed_with_its_status_now(
    api_as, front_desk_ana, site_a, stocked
):
    api = api_as(front_desk_ana)
    sent = body(site_a, referrals=[{"type": "food"}])
    assert api.post("/api/v1/visits/", sent, format="json").status_code == 201
    visit = Visit.objects.get()
    made = Referral.objects.get()
    referral_mark_linked(referral=made, by=front_desk_ana)
    housing = ReferralType.objects.get(code="housing")
    referral_create(referral_type=housing, visit=visit, by=front_desk_ana)
    read = api.get(f"/api/v1/visits/{visit.uuid}/").json()
    assert read["referrals"] == [
        {"type": "food", "partner": None, "status": "linked"},
        {"type": "housing", "partner": None, "status": "referred"},
    ]


def test_the_visit_list_reads_the_referrals_in_one_query_whatever_the_page(
    api_as, front_desk_ana, site_a, stocked
):
    api = api_as(front_desk_ana)

    def log(visits):
        for _ in range(visits):
            sent = body(site_a, referrals=[{"type": "food"}, {"type": "housing"}])
            assert api.post("/api/v1/visits/", sent, format="json").status_code == 201

    def listing_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            listed = api.get("/api/v1/visits/")
        assert listed.status_code == 200
        assert all(len(v["referrals"]) == 2 for v in listed.json()["results"])
        return len(queries.captured_queries)

    log(1)
    one = listing_queries()
    log(9)
    assert listing_queries() == one


def test_the_sync_answer_lists_the_referrals_in_one_query(
    api_as, front_desk_ana, site_a, stocked, bridge_clinic
):
    api = api_as(front_desk_ana)

    def batch(n):
        records = []
        for _ in range(n):
            visit = body(site_a, referrals=[{"type": "food"}])
            records.append({"kind": "visit", "client_uuid": visit["client_uuid"], "body": visit})
        with CaptureQueriesContext(connection) as queries:
            answer = api.post("/api/v1/sync/", {"records": records}, format="json")
        results = answer.json()["results"]
        assert all(r["visit"]["referrals"][0]["type"] == "food" for r in results), results
        reads = [
            q["sql"] for q in queries.captured_queries if 'FROM "referrals_referral"' in q["sql"]
        ]
        return len([sql for sql in reads if sql.lstrip().startswith("SELECT")])

    # Making each referral reads nothing of other referrals; answering reads them once.
    assert batch(1) == batch(4)


def test_the_visit_page_shows_its_referrals(client, front_desk_ana, site_a, stocked, bridge_clinic):
    client.force_login(front_desk_ana)
    saved = desk_post(client, site_a, ["moud-buprenorphine"], [str(bridge_clinic.pk)])
    assert saved.status_code == 302
    visit = Visit.objects.get()
    referral = Referral.objects.get()
    page = client.get(f"/intake/visits/{visit.uuid}/").content.decode()
    row = page[page.index("<dt>Referrals</dt>") :]
    row = row[: row.index("</dd>")]
    assert f'href="/referrals/{referral.pk}/"' in row
    assert referral.type.name in row and "Bridge clinic" in row and "Referred" in row


def test_the_visit_page_without_referrals_says_none(client, front_desk_ana, site_a, stocked):
    visit, _ = visit_record(
        site=site_a, by=front_desk_ana, client_uuid=new_uuid(), code="MAKO1993F",
        syringes_collected=5,
    )  # fmt: skip
    client.force_login(front_desk_ana)
    page = client.get(f"/intake/visits/{visit.uuid}/").content.decode()
    assert "<dt>Referrals</dt><dd>none</dd>" in page


def test_the_visit_page_shows_its_referrals_in_spanish(client, front_desk_ana, site_a, stocked):
    visit, _ = visit_record(
        site=site_a, by=front_desk_ana, client_uuid=new_uuid(), code="MAKO1993F",
        syringes_collected=5, extras={"referrals": [{"type": rtype("food")}]},
    )  # fmt: skip
    front_desk_ana.language = "es"
    front_desk_ana.save(update_fields=["language"])
    client.force_login(front_desk_ana)
    page = client.get(f"/intake/visits/{visit.uuid}/").content.decode()
    assert "<dt>Referidos</dt>" in page
    assert "Referido" in page and ">Referred<" not in page
