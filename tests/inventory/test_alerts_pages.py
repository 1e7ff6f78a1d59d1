"""The alerts page, its API twin and the navigation badge: filters, site scoping,
acknowledgement by a manager of the alert's site."""

from datetime import timedelta

import pytest
from django.utils import timezone

from inventory.alerts import alerts_scan
from inventory.models import StockAlert

from ..support.alerts import dispense, receive, stock_dropping_below_reorder_point

pytestmark = pytest.mark.django_db

API = "/api/v1/inventory/alerts/"
PAGE = "/inventory/alerts/"


@pytest.fixture
def alerts(downtown, eastside, syringe, naloxone, fund, admin_ada, today):
    """Downtown (site A): syringes below reorder point and an expiring naloxone lot.
    Eastside (site B): syringes below reorder point."""
    for location in (downtown, eastside):
        quantity = stock_dropping_below_reorder_point(location, syringe, by=admin_ada, fund=fund)
        dispense(location, syringe, quantity, by=admin_ada)
    receive(
        downtown,
        naloxone,
        6,
        by=admin_ada,
        fund=fund,
        lot_number="NX-1",
        expires_on=today + timedelta(days=30),
    )
    alerts_scan()
    return {
        "downtown_syringe": StockAlert.objects.get(location=downtown, item=syringe),
        "downtown_naloxone": StockAlert.objects.get(location=downtown, item=naloxone),
        "eastside_syringe": StockAlert.objects.get(location=eastside, item=syringe),
    }


# --- API ---------------------------------------------------------------------------


def test_api_lists_only_alerts_at_the_managers_sites(api_as, manager_sam, alerts):
    response = api_as(manager_sam).get(API)
    assert response.status_code == 200
    rows = response.json()["results"]
    assert {row["id"] for row in rows} == {
        alerts["downtown_syringe"].pk,
        alerts["downtown_naloxone"].pk,
    }
    syringe_row = next(r for r in rows if r["condition"] == "below_reorder")
    assert syringe_row["severity"] == "understock"
    assert syringe_row["status"] == "open"
    assert syringe_row["location_name"] == "Downtown storeroom"
    assert syringe_row["summary"] == "15 usable on hand; reorder point 43."
    assert syringe_row["facts"]["reorder_point"] == 43


def test_api_filters_by_severity_status_site_and_condition(
    api_as, admin_ada, alerts, site_b, manager_sam
):
    client = api_as(admin_ada)
    expiry = client.get(API, {"severity": "expiry"}).json()["results"]
    assert [r["lot_number"] for r in expiry] == ["NX-1"]
    eastside = client.get(API, {"site": site_b.pk}).json()["results"]
    assert [r["id"] for r in eastside] == [alerts["eastside_syringe"].pk]
    below = client.get(API, {"condition": "below_reorder"}).json()["results"]
    assert len(below) == 2

    client.post(f"{API}{alerts['eastside_syringe'].pk}/acknowledge/")
    assert len(client.get(API, {"status": "open"}).json()["results"]) == 2
    acknowledged = client.get(API, {"status": "acknowledged"}).json()["results"]
    assert [r["id"] for r in acknowledged] == [alerts["eastside_syringe"].pk]
    assert client.get(API, {"status": "resolved"}).json()["results"] == []


def test_api_rejects_an_unknown_filter_value_with_a_field_error(api_as, manager_sam, alerts):
    response = api_as(manager_sam).get(API, {"severity": "catastrophic"})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert "severity" in body["errors"]


def test_api_site_filter_refuses_a_site_the_manager_does_not_belong_to(
    api_as, manager_sam, alerts, site_b
):
    response = api_as(manager_sam).get(API, {"site": site_b.pk})
    assert response.status_code == 400
    assert "site" in response.json()["errors"]


def test_manager_acknowledges_an_alert_with_who_and_when(api_as, manager_sam, alerts):
    alert = alerts["downtown_syringe"]
    response = api_as(manager_sam).post(f"{API}{alert.pk}/acknowledge/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "acknowledged"
    assert body["acknowledged_by"] == "sam"
    alert.refresh_from_db()
    assert alert.acknowledged_by == manager_sam
    assert timezone.now() - alert.acknowledged_at < timedelta(minutes=1)

    again = api_as(manager_sam).post(f"{API}{alert.pk}/acknowledge/")
    assert again.status_code == 200
    alert.refresh_from_db()
    assert again.json()["acknowledged_at"] == body["acknowledged_at"]  # first one stands


def test_a_manager_cannot_see_or_acknowledge_another_sites_alert(api_as, manager_sam, alerts):
    alert = alerts["eastside_syringe"]
    assert api_as(manager_sam).get(f"{API}{alert.pk}/").status_code == 404
    assert api_as(manager_sam).post(f"{API}{alert.pk}/acknowledge/").status_code == 404
    alert.refresh_from_db()
    assert alert.acknowledged_at is None


def test_front_desk_and_coordinators_have_no_alerts_api(
    api_as, front_desk_ana, coordinator_cleo, alerts
):
    for user in (front_desk_ana, coordinator_cleo):
        assert api_as(user).get(API).status_code == 403
        pk = alerts["downtown_syringe"].pk
        assert api_as(user).post(f"{API}{pk}/acknowledge/").status_code == 403
    assert not StockAlert.objects.filter(acknowledged_at__isnull=False).exists()


def test_acknowledging_a_resolved_alert_is_a_conflict(api_as, manager_sam, alerts, downtown):
    alert = alerts["downtown_syringe"]
    StockAlert.objects.filter(pk=alert.pk).update(resolved_at=timezone.now())
    response = api_as(manager_sam).post(f"{API}{alert.pk}/acknowledge/")
    assert response.status_code == 409
    assert response.json()["code"] == "alert_resolved"
    assert "nothing left to acknowledge" in response.json()["detail"]


def test_alerts_api_is_in_the_schema(api_as, admin_ada):
    schema = api_as(admin_ada).get("/api/schema/", {"format": "json"}).json()
    assert "/api/v1/inventory/alerts/" in schema["paths"]
    assert "post" in schema["paths"]["/api/v1/inventory/alerts/{id}/acknowledge/"]
    parameters = {
        p["name"] for p in schema["paths"]["/api/v1/inventory/alerts/"]["get"]["parameters"]
    }
    assert {"site", "status", "severity", "condition", "location", "item"} <= parameters


# --- Page ----------------------------------------------------------------------------


def test_page_shows_current_alerts_at_the_managers_sites(client, manager_sam, alerts):
    client.force_login(manager_sam)
    response = client.get(PAGE)
    assert response.status_code == 200
    page = response.content.decode()
    assert "15 usable on hand; reorder point 43." in page
    assert "NX-1" in page
    assert "Eastside storeroom" not in page
    assert "2 alerts" in page


def test_page_filters_by_severity_and_status(client, manager_sam, alerts):
    client.force_login(manager_sam)
    page = client.get(PAGE, {"severity": "expiry"}).content.decode()
    assert "NX-1" in page and "reorder point 43" not in page
    resolved = client.get(PAGE, {"status": "resolved"}).content.decode()
    assert "No alerts match these filters." in resolved


def test_page_filters_by_site(client, admin_ada, alerts, site_a, site_b):
    client.force_login(admin_ada)  # program-wide: sees both sites' alerts

    def shown(**params):
        page = client.get(PAGE, params).context["page"]
        return sorted(alert.pk for alert in page)

    assert shown() == sorted(alert.pk for alert in alerts.values())
    assert shown(site=site_b.pk) == [alerts["eastside_syringe"].pk]
    assert shown(site=site_a.pk) == sorted(
        [alerts["downtown_syringe"].pk, alerts["downtown_naloxone"].pk]
    )


def test_page_explains_a_bad_filter_instead_of_failing(client, manager_sam, alerts):
    client.force_login(manager_sam)
    response = client.get(PAGE, {"severity": "catastrophic"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


def test_acknowledge_button_records_who_and_returns_to_the_filtered_list(
    client, manager_sam, alerts
):
    client.force_login(manager_sam)
    alert = alerts["downtown_syringe"]
    response = client.post(
        f"{PAGE}{alert.pk}/acknowledge/", {"next": f"{PAGE}?severity=understock"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"{PAGE}?severity=understock"
    alert.refresh_from_db()
    assert alert.acknowledged_by == manager_sam
    page = client.get(response["Location"]).content.decode()
    assert "Acknowledged by sam" in page


def test_acknowledge_with_htmx_swaps_just_the_row(client, manager_sam, alerts):
    client.force_login(manager_sam)
    alert = alerts["downtown_naloxone"]
    response = client.post(f"{PAGE}{alert.pk}/acknowledge/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    row = response.content.decode()
    assert row.strip().startswith(f'<tr id="alert-{alert.pk}">')
    assert "Acknowledged by sam" in row


def test_acknowledge_refuses_an_unsafe_next_url(client, manager_sam, alerts):
    client.force_login(manager_sam)
    alert = alerts["downtown_syringe"]
    response = client.post(f"{PAGE}{alert.pk}/acknowledge/", {"next": "https://evil.example/"})
    assert response["Location"] == PAGE


def test_page_refuses_another_sites_alert_and_front_desk(
    client, manager_sam, front_desk_ana, alerts
):
    client.force_login(manager_sam)
    pk = alerts["eastside_syringe"].pk
    assert client.post(f"{PAGE}{pk}/acknowledge/").status_code == 404
    client.force_login(front_desk_ana)
    assert client.get(PAGE).status_code == 403
    assert client.post(f"{PAGE}{pk}/acknowledge/").status_code == 403


def test_acknowledge_page_needs_post(client, manager_sam, alerts):
    client.force_login(manager_sam)
    assert client.get(f"{PAGE}{alerts['downtown_syringe'].pk}/acknowledge/").status_code == 405


# --- Navigation badge ----------------------------------------------------------------


def test_navigation_badge_counts_open_unacknowledged_alerts_for_managers(
    client, manager_sam, front_desk_ana, alerts
):
    client.force_login(manager_sam)
    entry = next(e for e in client.get("/").context["nav_items"] if e.label == "Alerts")
    assert entry.url == PAGE and entry.badge == 2

    StockAlert.objects.filter(pk=alerts["downtown_syringe"].pk).update(
        acknowledged_at=timezone.now(), acknowledged_by=manager_sam
    )
    entry = next(e for e in client.get("/").context["nav_items"] if e.label == "Alerts")
    assert entry.badge == 1

    client.force_login(front_desk_ana)
    assert all(e.label != "Alerts" for e in client.get("/").context["nav_items"])


def test_no_badge_when_nothing_needs_attention(client, manager_sam, downtown):
    client.force_login(manager_sam)
    entry = next(e for e in client.get("/").context["nav_items"] if e.label == "Alerts")
    assert entry.badge is None
