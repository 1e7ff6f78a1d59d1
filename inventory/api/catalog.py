"""Catalog lists: items, kits, funding sources, locations, lots."""

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import viewsets

from .. import selectors
from ..models import (
    Category,
    FundingSource,
    Item,
    Kit,
    Location,
    LocationKind,
    Lot,
)
from ..serializers import (
    FundingSourceSerializer,
    ItemSerializer,
    KitSerializer,
    LocationSerializer,
    LotSerializer,
)

# --- Catalog -----------------------------------------------------------------------


class ItemFilter(django_filters.FilterSet):
    category = django_filters.ChoiceFilter(choices=Category.choices)
    search = django_filters.CharFilter(method="filter_search", help_text="Name or code contains.")

    class Meta:
        model = Item
        fields = ["category", "is_active", "is_lot_tracked"]

    def filter_search(self, queryset, name, value):
        return queryset.filter(name__icontains=value) | queryset.filter(code__icontains=value)


class ItemViewSet(viewsets.ReadOnlyModelViewSet):
    """The catalog: items in their base unit, with the pack sizes they arrive in."""

    queryset = Item.objects.prefetch_related("pack_sizes")
    serializer_class = ItemSerializer
    filterset_class = ItemFilter


class KitViewSet(viewsets.ReadOnlyModelViewSet):
    """Kits: named bundles; dispensing one moves every component."""

    queryset = Kit.objects.prefetch_related("components")
    serializer_class = KitSerializer
    filterset_fields = ["is_active"]


class FundingSourceViewSet(viewsets.ReadOnlyModelViewSet):
    """Funding sources and the item categories each may not buy."""

    queryset = FundingSource.objects.all()
    serializer_class = FundingSourceSerializer
    filterset_fields = ["is_active"]


class LocationFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=LocationKind.choices)
    managed = django_filters.BooleanFilter(
        method="filter_managed", help_text="Only locations where I may manage stock."
    )

    class Meta:
        model = Location
        fields = ["kind", "site", "is_active"]

    def filter_managed(self, queryset, name, value):
        managed = selectors.locations_managed_by(self.request.user)
        return queryset.filter(pk__in=managed) if value else queryset.exclude(pk__in=managed)


class LocationViewSet(viewsets.ReadOnlyModelViewSet):
    """Stock locations you may see: your sites' locations, and the central store
    for stock managers and program-wide roles."""

    queryset = Location.objects.none()  # schema generation only; requests use get_queryset
    serializer_class = LocationSerializer
    filterset_class = LocationFilter

    def get_queryset(self):
        return selectors.locations_visible_to(self.request.user)


def _visible_locations(request):
    if request is None:
        return Location.objects.none()
    return selectors.locations_visible_to(request.user)


class LotFilter(django_filters.FilterSet):
    expires_before = django_filters.DateFilter(field_name="expires_on", lookup_expr="lt")
    expires_after = django_filters.DateFilter(field_name="expires_on", lookup_expr="gte")
    # A location's id in the API schema (the filter's method hides the model field).
    on_hand_at = extend_schema_field(OpenApiTypes.INT)(
        django_filters.ModelChoiceFilter(
            queryset=_visible_locations,
            method="filter_on_hand_at",
            label="On hand at",
            help_text=(
                "Only lots with units at this location, by item then first expiry first, "
                "each with `on_hand` (the transfer form's lot menu)."
            ),
        )
    )

    def filter_on_hand_at(self, queryset, name, value):
        return selectors.lots_on_hand_at(value).filter(pk__in=queryset.values("pk"))

    class Meta:
        model = Lot
        fields = ["item", "funding_source", "lot_number"]


class LotViewSet(viewsets.ReadOnlyModelViewSet):
    """Lots: batch, expiry, and the funding source that paid for them."""

    queryset = Lot.objects.all()
    serializer_class = LotSerializer
    filterset_class = LotFilter
