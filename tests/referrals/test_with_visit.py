"""Referrals made in the same save as the visit (referrals/with_visit.py, ssp's
extension point ssp/visit_extras.py): all or nothing with the visit, from the API,
the sync and the front desk."""

import pytest

from inventory.models import StockMovement
from referrals.models import Referral, ReferralType
from ssp.models import Visit

from ..factories import PartnerFactory
from ..support.intake import new_uuid

pytestmark = pytest.mark.django_db


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
    saved = client.post(
        f"/intake/?site={site_a.pk}",
        {
            "client_uuid": new_uuid(),
            "site": site_a.pk,
            "code": "MAKO1993F",
            "syringes_collected": "5",
            "extra:referrals:type": ["moud-buprenorphine", ""],
            "extra:referrals:partner": [str(bridge_clinic.pk), ""],
        },
    )
    assert saved.status_code == 302, saved.content.decode()[:3000]
    referral = Referral.objects.get()
    assert referral.visit == Visit.objects.get()
    assert referral.partner == bridge_clinic


def test_the_front_desk_shows_a_refused_referral_and_saves_nothing(
    client, front_desk_ana, site_a, stocked, bridge_clinic
):
    client.force_login(front_desk_ana)
    refused = client.post(
        f"/intake/?site={site_a.pk}",
        {
            "client_uuid": new_uuid(),
            "site": site_a.pk,
            "code": "MAKO1993F",
            "syringes_collected": "5",
            "extra:referrals:type": ["food"],
            "extra:referrals:partner": [str(bridge_clinic.pk)],
        },
    )
    assert refused.status_code == 400
    assert "does not offer" in refused.content.decode()
    assert not Visit.objects.exists()


def test_the_referral_page_still_opens_on_its_first_field(client, front_desk_ana, site_a):
    client.force_login(front_desk_ana)
    page = client.get("/referrals/new/").content.decode()
    first_field = page.index('name="code"')
    assert "autofocus" in page[page.rindex("<input", 0, first_field) : page.index(">", first_field)]
