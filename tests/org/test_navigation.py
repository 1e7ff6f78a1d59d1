"""The menu's entries as the page shell receives them: main entries first, the ones used
now and then (under More) last, and one total of the badges for the phone's button."""

import pytest
from django.test import RequestFactory
from django.utils import timezone

from inventory.models import AlertCondition, AlertSeverity, StockAlert
from org.context_processors import navigation

from ..factories import ItemFactory, LocationFactory

PERSONAS = ["front_desk_ana", "manager_sam", "coordinator_cleo", "admin_ada"]


def menu_of(user) -> dict:
    request = RequestFactory().get("/")
    request.user = user
    return navigation(request)


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
def test_entries_under_more_come_after_the_main_ones(request, persona):
    entries = menu_of(request.getfixturevalue(persona))["nav_items"]
    kinds = [entry.secondary for entry in entries]
    assert kinds == sorted(kinds), [entry.label for entry in entries]
    assert entries[0].label == "Home" and not entries[0].secondary
    assert "My account" in [entry.label for entry in entries if entry.secondary]


@pytest.mark.django_db
def test_the_menu_button_counts_every_badge(manager_sam, site_a):
    location = LocationFactory(name="Downtown storeroom", site=site_a)
    codes = ("s28", "nx4")
    for code in codes:
        StockAlert.objects.create(
            condition=AlertCondition.BELOW_REORDER_POINT,
            severity=AlertSeverity.UNDERSTOCK,
            location=location,
            item=ItemFactory(code=code),
            facts={"on_hand": 3, "reorder_point": 40, "daily_use": 1.0},
            raised_at=timezone.now(),
        )
    menu = menu_of(manager_sam)
    badges = [entry.badge for entry in menu["nav_items"] if entry.badge]
    assert badges  # the alerts entry has its badge
    assert menu["nav_badges"] == sum(badges) == len(codes)
