"""Each role's home page: today's numbers, gathered from every app's home.py, checked
against counts the test makes itself from the records it wrote. The clock is set to the
first day of a month at 00:30 and at 23:59 program time, where "today" and "this month"
are easiest to get wrong."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.models import Group
from django.utils import timezone

from inventory.models import AlertCondition, AlertSeverity, StockAlert, StockCount
from inventory.services import DispenseLine, ReceiptLine, stock_dispense, stock_receive
from org import roles
from outbox.models import OutboxJob
from referrals import services as referral_services
from referrals.models import ReferralType
from reports.models import ReportSnapshot, ReportStatus, ReportTrigger

from ..factories import (
    FundingSourceFactory,
    ItemFactory,
    LocationFactory,
    ParticipantFactory,
    UserFactory,
    VisitFactory,
)
from ..support.intake import receive

pytestmark = pytest.mark.django_db

ZONE = ZoneInfo(settings.TIME_ZONE)  # PROGRAM_TIME_ZONE
FIRST_OF_DECEMBER = [
    pytest.param(datetime(2026, 12, 1, 0, 30, tzinfo=ZONE), id="00:30"),
    pytest.param(datetime(2026, 12, 1, 23, 59, tzinfo=ZONE), id="23:59"),
]


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE)


def tiles_on_home(client, user) -> dict[str, dict]:
    """The home page's tiles as {label: {value, parts, role}} for that person."""
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    return {
        str(tile.label): {"value": tile.value, "parts": dict(tile.parts), "role": section.role}
        for section in response.context["sections"]
        for tile in section.tiles
    }


# --- Front desk -----------------------------------------------------------------------


@pytest.mark.parametrize("now", FIRST_OF_DECEMBER)
def test_front_desk_sees_own_visits_today_and_follow_ups_waiting(
    client, now, front_desk_ana, front_desk_ben, manager_sam, site_a, site_b
):
    today, yesterday = now.date(), now.date() - timedelta(days=1)
    visits = [
        # (recorded by, site, when, contacts, voided)
        (front_desk_ana, site_a, local(today, 0, 5), 1, False),
        (front_desk_ana, site_a, local(today, 0, 20), 6, False),  # a street shift
        (front_desk_ana, site_a, local(today, 0, 25), 1, True),  # voided
        (front_desk_ana, site_a, local(yesterday, 23, 55), 1, False),
        (front_desk_ana, site_a, local(today, 12, 0), 1, False),
        (front_desk_ana, site_a, local(today, 23, 58), 2, False),
        (manager_sam, site_a, local(today, 0, 10), 1, False),  # someone else's
    ]
    visits = [v for v in visits if v[2] <= now]  # nothing is logged ahead of the clock
    for by, site, when, contacts, voided in visits:
        VisitFactory(
            site=site,
            recorded_by=by,
            occurred_at=when,
            contacts=contacts,
            participant=None if contacts > 1 else ParticipantFactory(),
            voided_at=when + timedelta(minutes=1) if voided else None,
        )
    mine_today = sum(
        contacts
        for by, _site, when, contacts, voided in visits
        if by == front_desk_ana and when.astimezone(ZONE).date() == today and not voided
    )

    referral_type = ReferralType.objects.get(code="hcv-testing")
    follow_ups = [
        # (site, follow-up date, still open)
        (site_a, yesterday, True),
        (site_a, today, True),
        (site_a, today + timedelta(days=1), True),
        (site_a, yesterday - timedelta(days=20), False),  # linked already
        (site_b, yesterday, True),  # not ana's site
    ]
    with time_machine.travel(now - timedelta(days=40), tick=False):
        for site, follow_up_on, still_open in follow_ups:
            referral = referral_services.referral_create(
                referral_type=referral_type,
                participant=ParticipantFactory(),
                site=site,
                by=manager_sam if site == site_a else front_desk_ben,
                follow_up_on=follow_up_on,
            )
            if not still_open:
                referral_services.referral_mark_linked(referral=referral, by=manager_sam)
    waiting = sum(
        1
        for site, follow_up_on, still_open in follow_ups
        if site == site_a and still_open and follow_up_on <= today
    )

    with time_machine.travel(now, tick=False):
        tiles = tiles_on_home(client, front_desk_ana)
    assert tiles["My visits today"]["value"] == mine_today
    assert tiles["Follow-ups waiting"]["value"] == waiting
    assert {tile["role"] for tile in tiles.values()} == {roles.FRONT_DESK}


def test_front_desk_sees_low_stock_at_own_sites_only(
    client, front_desk_ana, admin_ada, site_a, site_b
):
    ours = LocationFactory(name="Downtown storeroom", site=site_a)
    theirs = LocationFactory(name="Eastside storeroom", site=site_b)
    syringe = ItemFactory(name="1 mL 28G syringe", code="s28", category="syringe")
    pads = ItemFactory(name="Alcohol pad", code="pad")
    fund = FundingSourceFactory(name="State grant", code="state")
    now = timezone.now()
    # (item, received, used in the last 90 days) at both sites' storerooms.
    stock = [(syringe, 300, 270), (pads, 1000, 9)]
    for location in (ours, theirs):
        stock_receive(
            location=location,
            lines=[ReceiptLine(item=item, quantity=got) for item, got, _ in stock],
            funding_source=fund,
            by=admin_ada,
            occurred_at=now - timedelta(days=80),
        )
        stock_dispense(
            location=location,
            lines=[DispenseLine(item=item, quantity=used) for item, _, used in stock],
            by=admin_ada,
            reference="event:test",
            occurred_at=now - timedelta(days=10),
        )
    # Months of stock = on hand ÷ (used in 90 days ÷ 3); under the understock band is low.
    low = [
        item
        for item, got, used in stock
        if (got - used) / (used / 3) < settings.SSP_STOCK_UNDERSTOCK_MONTHS
    ]
    tiles = tiles_on_home(client, front_desk_ana)
    # Only ana's site: Eastside's identical shortage is not hers.
    assert tiles["Low-stock items at my sites"]["value"] == len(low) == 1


# --- Manager --------------------------------------------------------------------------


@pytest.mark.parametrize("now", FIRST_OF_DECEMBER)
def test_manager_sees_alerts_by_severity_reorders_and_counts_due(
    client, now, manager_sam, admin_ada, site_a, site_b
):
    downtown = LocationFactory(name="Downtown storeroom", site=site_a)
    van = LocationFactory(name="Downtown van", site=site_a)
    central = LocationFactory(name="Central store", kind="central", site=None)
    eastside = LocationFactory(name="Eastside storeroom", site=site_b)
    syringe = ItemFactory(name="1 mL 28G syringe", code="s28", category="syringe")
    with time_machine.travel(now - timedelta(days=80), tick=False):
        for location in (downtown, van, central, eastside):
            receive(location, {syringe: 100}, admin_ada)
    alerts = [
        # (location, severity, resolved)
        (downtown, AlertSeverity.EMERGENCY, False),
        (downtown, AlertSeverity.EXPIRY, False),
        (central, AlertSeverity.EXPIRY, False),
        (van, AlertSeverity.UNDERSTOCK, True),  # cleared
        (eastside, AlertSeverity.EMERGENCY, False),  # another site's
    ]
    conditions = list(AlertCondition)  # one open alert per condition and subject
    for index, (location, severity, resolved) in enumerate(alerts):
        StockAlert.objects.create(
            condition=conditions[index],
            severity=severity,
            location=location,
            item=syringe,
            facts={"n": index},
            raised_at=now - timedelta(days=2),
            resolved_at=now - timedelta(days=1) if resolved else None,
        )
    managed = {downtown, van, central}
    by_severity = {}
    for location, severity, resolved in alerts:
        if location in managed and not resolved:
            by_severity[severity.label] = by_severity.get(severity.label, 0) + 1

    counts = {  # location: days since its last count (None: never counted)
        downtown: None,
        van: settings.SSP_COUNT_DUE_DAYS + 5,
        central: 3,
        eastside: None,
    }
    for location, days_ago in counts.items():
        if days_ago is not None:
            StockCount.objects.create(
                location=location,
                occurred_at=now - timedelta(days=days_ago),
                recorded_by=admin_ada,
            )
    due = [
        location
        for location, days_ago in counts.items()
        if location in managed and (days_ago is None or days_ago > settings.SSP_COUNT_DUE_DAYS)
    ]

    with time_machine.travel(now, tick=False):
        tiles = tiles_on_home(client, manager_sam)
    alerts_tile = tiles["Open stock alerts"]
    assert alerts_tile["value"] == sum(by_severity.values())
    assert alerts_tile["parts"] == by_severity
    # Nothing was used: no reorder point, nothing below it.
    assert tiles["Items below reorder point"]["value"] == 0
    assert tiles["Counts due"]["value"] == len(due) == 2


# --- Coordinator ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "now",
    [
        *FIRST_OF_DECEMBER,
        pytest.param(datetime(2026, 12, 15, 23, 59, tzinfo=ZONE), id="15th"),
        # March has more days than February: the comparison is all of February.
        pytest.param(datetime(2027, 3, 31, 12, 0, tzinfo=ZONE), id="31st-after-February"),
    ],
)
def test_coordinator_sees_this_month_so_far_against_the_same_days_of_last_month(
    client, now, coordinator_cleo, front_desk_ana, site_a, site_b
):
    this_start = now.date().replace(day=1)
    last_start = (this_start - timedelta(days=1)).replace(day=1)
    moments = [
        local(last_start, 0, 10),
        local(last_start, 23, 59),
        local(last_start + timedelta(days=1), 0, 1),
        local(last_start + timedelta(days=14), 12),
        local(last_start + timedelta(days=27), 12),
        local(this_start - timedelta(days=1), 23, 59),
        local(this_start, 0, 0),
        local(this_start, 0, 29),
        local(this_start, 23, 58),
        local(now.date(), 6),
    ]
    visits = []
    for index, when in enumerate(moments):
        if when > now:
            continue
        contacts = 1 + index % 3
        voided = index == 3
        visits.append((when, contacts, voided))
        VisitFactory(
            site=site_a if index % 2 else site_b,
            recorded_by=front_desk_ana,
            occurred_at=when,
            contacts=contacts,
            participant=None if contacts > 1 else ParticipantFactory(),
            voided_at=when + timedelta(minutes=1) if voided else None,
        )
    days = now.day
    last_days = min(days, (this_start - timedelta(days=1)).day)
    this_month = sum(c for when, c, voided in visits if not voided and when.date() >= this_start)
    same_days = sum(
        c
        for when, c, voided in visits
        if not voided and last_start <= when.date() < last_start + timedelta(days=last_days)
    )

    ready = [now - timedelta(hours=1), local(this_start, 2), local(last_start, 2)]
    for version, generated_at in enumerate(ready, start=1):
        if generated_at <= now:
            ReportSnapshot.objects.create(
                template="program_monthly",
                period_start=last_start,
                period_end=this_start - timedelta(days=1),
                site_key="all",
                suppression_threshold=11,
                version=version,
                trigger=ReportTrigger.ON_DEMAND,
                status=ReportStatus.READY,
                generated_at=generated_at,
            )
    ready_this_month = sum(
        1 for when in ready if when <= now and when.astimezone(ZONE).date() >= this_start
    )

    with time_machine.travel(now, tick=False):
        tiles = tiles_on_home(client, coordinator_cleo)
    so_far = tiles["Visits this month so far"]
    assert so_far["value"] == this_month
    assert so_far["parts"] == {"This month": this_month, "Same days last month": same_days}
    assert tiles["Reports ready this month"]["value"] == ready_this_month
    assert "Overdue linkage follow-ups" in tiles


# --- Admin ----------------------------------------------------------------------------


def test_admin_sees_accounts_lock_outs_and_failed_jobs(client, admin_ada, front_desk_ana):
    gone = UserFactory(username="left-last-year", is_active=False)
    staff = [admin_ada, front_desk_ana, gone]
    now = timezone.now()
    limit = settings.AXES_FAILURE_LIMIT
    attempts = [
        ("locked-now", limit, now - timedelta(minutes=5)),
        ("cooled-off", limit, now - settings.AXES_COOLOFF_TIME - timedelta(minutes=1)),
        ("two-typos", 2, now - timedelta(minutes=1)),
    ]
    for username, failures, when in attempts:
        attempt = AccessAttempt.objects.create(
            username=username,
            ip_address="10.0.0.1",
            user_agent="test",
            failures_since_start=failures,
        )
        AccessAttempt.objects.filter(pk=attempt.pk).update(attempt_time=when)
    locked = [
        u
        for u, failures, when in attempts
        if failures >= limit and when >= now - settings.AXES_COOLOFF_TIME
    ]
    jobs = [("failed", 2), ("done", 1), ("open", 3)]
    for state, number in jobs:
        for _ in range(number):
            OutboxJob.objects.create(
                task_name="inventory.alerts_check",
                done_at=now if state == "done" else None,
                failed_at=now if state == "failed" else None,
            )

    tiles = tiles_on_home(client, admin_ada)
    assert tiles["Active staff accounts"]["value"] == sum(1 for u in staff if u.is_active)
    assert tiles["Locked-out accounts"]["value"] == len(locked) == 1
    assert tiles["Failed background jobs"]["value"] == dict(jobs)["failed"]
    # An admin holds every capability, but the home shows the admin's own numbers.
    assert {tile["role"] for tile in tiles.values()} == {roles.ADMIN}


def test_someone_with_two_roles_sees_both_sections(client, front_desk_ana):
    front_desk_ana.groups.add(Group.objects.get(name=roles.MANAGER))
    tiles = tiles_on_home(client, front_desk_ana)
    assert {tile["role"] for tile in tiles.values()} == {roles.FRONT_DESK, roles.MANAGER}
