"""Services given at a visit (SSP_VISIT_SERVICES): stored per visit as VisitService
rows, read and written by the API, the sync, the front desk and the street shift, and
named in the visit's audit trail."""

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import ImproperlyConfigured

from inventory.models import Kit
from ssp.forms import IntakeForm
from ssp.models import Visit, VisitService
from ssp.services import VisitConflict, VisitError, visit_record
from ssp.visit_services import RESERVED_KEYS, _parsed, visit_services

from ..support.intake import item_line, kit_line, new_uuid

pytestmark = pytest.mark.django_db


def body(site, **extra):
    return {"client_uuid": new_uuid(), "site": site.pk, "code": "MAKO1993F", **extra}


def test_the_api_takes_services_and_shows_them(api_as, front_desk_ana, site_a, stocked):
    api = api_as(front_desk_ana)
    sent = body(site_a, services=[{"service": "hiv_test"}, {"service": "counselling"}])
    created = api.post("/api/v1/visits/", sent, format="json")
    assert created.status_code == 201, created.json()
    # In the program's order (SSP_VISIT_SERVICES), with their labels.
    expected = [
        {"service": "counselling", "label": "Counselling", "count": 1},
        {"service": "hiv_test", "label": "HIV test", "count": 1},
    ]
    assert created.json()["services"] == expected
    read = api.get(f"/api/v1/visits/{sent['client_uuid']}/").json()
    assert read["services"] == expected
    visit = Visit.objects.get(uuid=sent["client_uuid"])
    assert sorted(visit.services.values_list("service", "count")) == [
        ("counselling", 1),
        ("hiv_test", 1),
    ]


def test_a_visit_with_only_a_service_is_a_visit(api_as, front_desk_ana, site_a, stocked):
    sent = body(site_a, code="", anonymous=True, services=[{"service": "wound_care"}])
    assert api_as(front_desk_ana).post("/api/v1/visits/", sent, format="json").status_code == 201


@pytest.mark.parametrize(
    ("services", "words"),
    [
        ([{"service": "massage"}], "Unknown service"),
        ([{"service": "hiv_test"}, {"service": "hiv_test"}], "listed twice"),
        ([{"service": "hiv_test", "count": 2}], "street shift"),
        ([{"service": "hiv_test", "count": 0}], "greater than or equal to 1"),
    ],
)
def test_bad_services_are_refused_with_the_reason_and_save_nothing(
    api_as, front_desk_ana, site_a, stocked, services, words
):
    response = api_as(front_desk_ana).post(
        "/api/v1/visits/", body(site_a, services=services), format="json"
    )
    assert response.status_code == 400
    assert "services" in response.json()["errors"]
    assert words in str(response.json())
    assert not Visit.objects.exists()


def test_a_street_shift_counts_its_services(api_as, front_desk_ana, site_a, stocked):
    sent = body(
        site_a,
        code="",
        anonymous=True,
        contacts=40,
        services=[
            {"service": "naloxone_training", "count": 12},
            {"service": "education", "count": 40},
        ],
    )
    response = api_as(front_desk_ana).post("/api/v1/visits/", sent, format="json")
    assert response.status_code == 201, response.json()
    assert {s["service"]: s["count"] for s in response.json()["services"]} == {
        "naloxone_training": 12,
        "education": 40,
    }


def test_sync_carries_services(api_as, front_desk_ana, site_a, stocked):
    visit = body(site_a, services=[{"service": "drug_checking"}])
    record = {"kind": "visit", "client_uuid": visit["client_uuid"], "body": visit}
    answer = api_as(front_desk_ana).post("/api/v1/sync/", {"records": [record]}, format="json")
    result = answer.json()["results"][0]
    assert result["status"] == "created", result
    assert [s["service"] for s in result["visit"]["services"]] == ["drug_checking"]


def test_the_audit_trail_names_the_services(front_desk_ana, site_a, stocked):
    visit, _ = visit_record(
        site=site_a,
        by=front_desk_ana,
        client_uuid=new_uuid(),
        code="MAKO1993F",
        services=[("vaccination", 1)],
    )
    entries = LogEntry.objects.get_for_object(visit)
    named = [e for e in entries if e.changes_dict.get("services") == ["none", "1 × vaccination"]]
    assert len(named) == 1, [e.changes_dict for e in entries]
    assert named[0].actor == front_desk_ana


def test_a_new_visit_and_its_lines_are_written_with_their_audit_entry(
    front_desk_ana, site_a, stocked, supplies
):
    # One statement writes both on PostgreSQL (ssp/visit_insert.py); the audit trail
    # still records the new visit, attributed, with its fields.
    visit, created = visit_record(
        site=site_a,
        by=front_desk_ana,
        client_uuid=new_uuid(),
        code="MAKO1993F",
        lines=[item_line(supplies["water"], 2), kit_line(Kit.objects.get(code="std-kit"), 1)],
        syringes_collected=4,
    )
    assert created
    stored = Visit.objects.get(pk=visit.pk)
    assert (stored.uuid, stored.syringes_collected, stored.recorded_by) == (
        visit.uuid,
        4,
        front_desk_ana,
    )
    assert stored.recorded_at == visit.recorded_at and stored.updated_at == visit.updated_at
    lines = sorted(
        (supply.pk, supply.item_id, supply.kit_id, supply.quantity)
        for supply in stored.supplies.all()
    )
    written = sorted((s.pk, s.item_id, s.kit_id, s.quantity) for s in visit.supplies.all())
    assert lines == written
    assert {(item, kit, quantity) for _pk, item, kit, quantity in lines} == {
        (supplies["water"].pk, None, 2),
        (None, Kit.objects.get(code="std-kit").pk, 1),
    }
    (entry,) = LogEntry.objects.get_for_object(visit).filter(action=LogEntry.Action.CREATE)
    assert entry.actor == front_desk_ana
    assert entry.changes_dict["syringes_collected"] == [None, 4]
    assert entry.changes_dict["uuid"][1] == str(visit.uuid)


def test_a_visit_without_lines_writes_none(front_desk_ana, site_a, stocked):
    visit, _ = visit_record(
        site=site_a,
        by=front_desk_ana,
        client_uuid=new_uuid(),
        code="MAKO1993F",
        syringes_collected=3,
    )
    assert not Visit.objects.get(pk=visit.pk).supplies.exists()
    assert list(visit.supplies.all()) == []


def test_a_retry_keeps_one_set_of_services(front_desk_ana, site_a, stocked):
    client_uuid = new_uuid()
    for _ in range(2):
        visit_record(
            site=site_a,
            by=front_desk_ana,
            client_uuid=client_uuid,
            code="MAKO1993F",
            services=[("hcv_test", 1)],
        )
    assert VisitService.objects.count() == 1


def test_a_retry_with_other_services_is_refused_not_passed_for_the_first(
    front_desk_ana, site_a, stocked
):
    client_uuid = new_uuid()
    first = {"site": site_a, "by": front_desk_ana, "client_uuid": client_uuid}
    visit_record(**first, code="MAKO1993F", services=[("hcv_test", 1)])
    with pytest.raises(VisitConflict):
        visit_record(**first, code="MAKO1993F", services=[("hiv_test", 1)])
    assert list(VisitService.objects.values_list("service", flat=True)) == ["hcv_test"]


def test_a_program_sets_its_own_services(settings, front_desk_ana, site_a, stocked):
    settings.SSP_VISIT_SERVICES = ["peer_support:S:Peer support"]
    visit, _ = visit_record(
        site=site_a,
        by=front_desk_ana,
        client_uuid=new_uuid(),
        code="MAKO1993F",
        services=[("peer_support", 1)],
    )
    assert visit.services.get().service == "peer_support"
    with pytest.raises(VisitError, match="Unknown service"):
        visit_record(
            site=site_a,
            by=front_desk_ana,
            client_uuid=new_uuid(),
            code="MAKO1993F",
            services=[("hiv_test", 1)],
        )


@pytest.mark.parametrize(
    ("entries", "words"),
    [
        (["hiv_test:U:HIV test"], "already taken"),
        (["hiv_test:N:HIV test"], "already taken"),  # "not yet" for a referral follow-up
        (["hiv_test:H:HIV test", "hcv_test:H:HCV test"], "already taken"),
        (["hiv_test:HIV test"], "write code:KEY:label"),
    ],
)
def test_a_service_key_the_desk_uses_is_refused(entries, words):
    with pytest.raises(ImproperlyConfigured, match=words):
        _parsed(entries)


def test_the_desk_field_keys_are_kept_free_of_services():
    assert set(IntakeForm.FIELD_KEYS.values()) <= RESERVED_KEYS
    assert not {choice.key for choice in visit_services()} & RESERVED_KEYS


def test_the_desk_and_the_shift_post_services(client, front_desk_ana, site_a, stocked):
    client.force_login(front_desk_ana)
    page = client.get("/intake/")
    assert b'name="service:hiv_test"' in page.content and b'data-key="H"' in page.content
    saved = client.post(
        f"/intake/?site={site_a.pk}",
        {
            "client_uuid": new_uuid(),
            "site": site_a.pk,
            "code": "MAKO1993F",
            "service:hiv_test": "1",
            "service:counselling": "",
        },
    )
    assert saved.status_code == 302, saved.content.decode()[:2000]
    visit = Visit.objects.get()
    assert list(visit.services.values_list("service", "count")) == [("hiv_test", 1)]
    shift = client.post(
        "/intake/shift/",
        {
            "client_uuid": new_uuid(),
            "site": site_a.pk,
            "contacts": "30",
            "service_model": "outreach",
            "syringes_collected": "100",
            "service:education": "25",
        },
    )
    assert shift.status_code == 302, shift.content.decode()[:2000]
    bulk = Visit.objects.get(contacts=30)
    assert list(bulk.services.values_list("service", "count")) == [("education", 25)]


def test_the_visit_page_lists_its_services(client, front_desk_ana, site_a, stocked):
    visit, _ = visit_record(
        site=site_a,
        by=front_desk_ana,
        client_uuid=new_uuid(),
        code="MAKO1993F",
        services=[("wound_care", 1)],
    )
    client.force_login(front_desk_ana)
    page = client.get(f"/intake/visits/{visit.uuid}/").content.decode()
    assert "Services given</dt><dd>Wound care</dd>" in page
