"""Helpers shared by the stock-alert tests (their fixtures: tests/conftest.py and
tests/inventory/conftest.py).

Consumption drives the reorder point (1.5 months of the 90-day average), so the
helpers can lay down a usage history with back-dated dispenses.
"""

from datetime import timedelta

from django.utils import timezone

from inventory.models import AlertCondition, StockAlert
from inventory.services import (
    DispenseLine,
    ReceiptLine,
    alert_rechecks_claim,
    stock_dispense,
    stock_receive,
)


def receive(location, item, quantity, *, by, fund, days_ago=0, **line):
    return stock_receive(
        location=location,
        lines=[ReceiptLine(item=item, quantity=quantity, **line)],
        funding_source=fund,
        by=by,
        occurred_at=timezone.now() - timedelta(days=days_ago),
    )


def dispense(location, item, quantity, *, by, days_ago=0, reference="event:test"):
    return stock_dispense(
        location=location,
        lines=[DispenseLine(item=item, quantity=quantity)],
        by=by,
        reference=reference,
        occurred_at=timezone.now() - timedelta(days=days_ago),
    )


def open_alerts(**filters):
    return StockAlert.objects.filter(resolved_at__isnull=True, **filters)


def below_reorder(location, item):
    return open_alerts(condition=AlertCondition.BELOW_REORDER_POINT, location=location, item=item)


def stock_dropping_below_reorder_point(location, item, *, by, fund):
    """100 received, 40 used a month ago (reorder point 20): comfortably stocked.

    Returns the quantity whose dispense today leaves 15 on hand against a reorder
    point of 43 (85 used in 90 days → 28.3 a month × 1.5), while 15 units still last
    about 16 days at that rate: below the reorder point, but no projected stock-out.
    """
    receive(location, item, 100, by=by, fund=fund, days_ago=60)
    dispense(location, item, 40, by=by, days_ago=30, reference="event:history")
    # The history is old: its re-checks have run (a test that does not run its on-commit
    # jobs would otherwise leave the pair marked, and the next write would queue none).
    alert_rechecks_claim()
    return 45
