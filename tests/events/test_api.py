"""The events API: GET/POST /api/v1/events/ with kind-specific fields, correction and
void by uuid, site scoping, and 400s that save nothing."""

import pytest

from events.models import ProgramEvent

pytestmark = pytest.mark.django_db

URL = "/api/v1/events/"


def post(client, **body):
    return client.post(URL, body, format="json")


def test_front_desk_records_each_kind_and_reads_it_back(api_as, front_desk_ana, site_a):
    client = api_as(front_desk_ana)
    base = {"site": site_a.pk, "occurred_on": "2026-12-14"}
    cleanup = post(client, kind="cleanup", syringes_collected=75, staff_hours="4.5", **base)
    stick = post(client, kind="needle_stick", person_stuck="staff", **base)
    kiosk = post(
        client, kind="sharps_emptied", container="kiosk", weight="2.5", weight_unit="lb", **base
    )
    assert [r.status_code for r in (cleanup, stick, kiosk)] == [201, 201, 201]
    assert cleanup.json()["syringes_collected"] == 75
    assert cleanup.json()["staff_hours"] == "4.50"
    assert stick.json()["person_stuck"] == "staff"
    assert kiosk.json()["syringes_estimated"] == 700  # 2.5 lb × 280
    listed = client.get(URL).json()
    assert {row["id"] for row in listed["results"]} == {
        cleanup.json()["id"],
        stick.json()["id"],
        kiosk.json()["id"],
    }
    only_sticks = client.get(URL, {"kind": "needle_stick"}).json()["results"]
    assert [row["id"] for row in only_sticks] == [stick.json()["id"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "cleanup", "staff_hours": "3"}, "syringes_collected"),
        ({"kind": "cleanup", "syringes_collected": -5, "staff_hours": "3"}, "syringes_collected"),
        ({"kind": "cleanup", "syringes_collected": 5, "staff_hours": "900"}, "staff_hours"),
        ({"kind": "needle_stick"}, "person_stuck"),
        ({"kind": "needle_stick", "person_stuck": "visitor"}, "person_stuck"),
        ({"kind": "needle_stick", "person_stuck": "staff", "weight": "2"}, "weight"),
        ({"kind": "sharps_emptied", "container": "kiosk", "weight": "2"}, "weight_unit"),
        ({"kind": "sharps_emptied", "weight": "2", "weight_unit": "kg"}, "container"),
        ({"kind": "bonfire"}, "kind"),
    ],
)
def test_a_bad_body_says_which_field_and_saves_nothing(api_as, front_desk_ana, site_a, body, field):
    answer = post(api_as(front_desk_ana), site=site_a.pk, occurred_on="2026-12-14", **body)
    assert answer.status_code == 400, answer.json()
    assert field in answer.json()["errors"], answer.json()
    assert answer.json()["detail"]
    assert not ProgramEvent.objects.exists()


def test_another_sites_event_is_out_of_reach(
    api_as, front_desk_ana, front_desk_ben, site_a, site_b
):
    body = {"kind": "needle_stick", "person_stuck": "community", "occurred_on": "2026-12-14"}
    refused = post(api_as(front_desk_ana), site=site_b.pk, **body)
    assert refused.status_code == 403
    ben = post(api_as(front_desk_ben), site=site_b.pk, **body).json()
    client = api_as(front_desk_ana)
    assert client.get(f"{URL}{ben['id']}/").status_code == 404
    assert client.get(URL).json()["results"] == []


def test_coordinators_read_every_site_but_do_not_record(
    api_as, front_desk_ben, coordinator_cleo, site_a, site_b
):
    body = {"kind": "needle_stick", "person_stuck": "community", "occurred_on": "2026-12-14"}
    ben = post(api_as(front_desk_ben), site=site_b.pk, **body).json()
    client = api_as(coordinator_cleo)
    assert [row["id"] for row in client.get(URL).json()["results"]] == [ben["id"]]
    assert post(client, site=site_a.pk, **body).status_code == 403


def test_correct_and_void_through_the_api(api_as, front_desk_ana, site_a):
    client = api_as(front_desk_ana)
    made = post(
        client, kind="sharps_emptied", site=site_a.pk, occurred_on="2026-12-14",
        container="drop_box", weight="1", weight_unit="kg",
    ).json()  # fmt: skip
    fixed = client.patch(f"{URL}{made['id']}/", {"weight_unit": "lb"}, format="json")
    assert fixed.status_code == 200, fixed.json()
    assert fixed.json()["syringes_estimated"] == 280
    assert client.post(f"{URL}{made['id']}/void/", {}, format="json").status_code == 400
    voided = client.post(f"{URL}{made['id']}/void/", {"reason": "test"}, format="json")
    assert voided.status_code == 200 and voided.json()["void_reason"] == "test"
    assert client.get(URL).json()["results"] == []
    assert len(client.get(URL, {"include_void": "true"}).json()["results"]) == 1
    again = client.patch(f"{URL}{made['id']}/", {"weight": "2"}, format="json")
    assert again.status_code == 403


def test_the_schema_describes_the_kind_specific_fields(api_as, front_desk_ana):
    schema = api_as(front_desk_ana).get("/api/schema/", {"format": "json"}).json()
    create = schema["components"]["schemas"]["ProgramEventCreateRequest"]["properties"]
    assert {"kind", "site", "occurred_on", "syringes_collected", "person_stuck", "weight"} <= set(
        create
    )
    assert "post" in schema["paths"]["/api/v1/events/"]
