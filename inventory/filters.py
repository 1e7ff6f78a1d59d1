"""The stock alerts filter, shared by the alerts page and the API so both filter alike."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from org.models import Site

from . import selectors
from .models import AlertCondition, AlertSeverity, Item, Location, StockAlert


class AlertStatus:
    CURRENT = "current"  # not resolved, acknowledged or not
    OPEN = "open"  # not resolved, nobody acknowledged it yet
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"

    CHOICES = [
        (CURRENT, _("Current (open or acknowledged)")),
        (OPEN, _("Open, not yet acknowledged")),
        (ACKNOWLEDGED, _("Acknowledged")),
        (RESOLVED, _("Resolved")),
    ]
    FILTERS = {
        CURRENT: Q(resolved_at__isnull=True),
        OPEN: Q(resolved_at__isnull=True, acknowledged_at__isnull=True),
        ACKNOWLEDGED: Q(resolved_at__isnull=True, acknowledged_at__isnull=False),
        RESOLVED: Q(resolved_at__isnull=False),
    }


def _sites(request):
    if request is None:
        return Site.objects.none()
    return Site.objects.filter(pk__in=request.user.accessible_site_ids())


def _locations(request):
    return selectors.locations_managed_by(request.user) if request else Location.objects.none()


class AlertFilter(django_filters.FilterSet):
    """Shared by the alerts page and the API, so both filter alike."""

    site = django_filters.ModelChoiceFilter(
        field_name="location__site", queryset=_sites, label=_("Site"), empty_label=_("All sites")
    )
    location = django_filters.ModelChoiceFilter(
        queryset=_locations, label=_("Location"), empty_label=_("All locations")
    )
    item = django_filters.ModelChoiceFilter(
        queryset=Item.objects.all(), label=_("Item"), empty_label=_("All items")
    )
    status = django_filters.ChoiceFilter(
        choices=AlertStatus.CHOICES,
        method="filter_status",
        label=_("Status"),
        empty_label=_("Any status"),
    )
    severity = django_filters.ChoiceFilter(
        choices=AlertSeverity.choices, label=_("Severity"), empty_label=_("Any severity")
    )
    condition = django_filters.ChoiceFilter(
        choices=AlertCondition.choices, label=_("Alert"), empty_label=_("Any alert")
    )

    class Meta:
        model = StockAlert
        fields = ["site", "location", "item", "status", "severity", "condition"]

    def filter_status(self, queryset, name, value):
        return queryset.filter(AlertStatus.FILTERS[value])
