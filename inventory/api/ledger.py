"""The ledger and reports over it, scoped to the locations a person may see:
balances, movements, counts, stock levels, the stock card and the trend."""

import django_filters
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from org.api_query import IdFilter

from .. import selectors
from ..models import (
    AdjustmentReason,
    Category,
    Item,
    Location,
    MovementKind,
    StockBalance,
    StockCount,
    StockMovement,
)
from ..serializers import (
    BalanceSerializer,
    MovementSerializer,
    StockCardRowSerializer,
    StockCountSerializer,
    StockLevelSerializer,
    TrendPointSerializer,
)

# --- Ledger ------------------------------------------------------------------------


class BalanceFilter(django_filters.FilterSet):
    category = django_filters.ChoiceFilter(field_name="item__category", choices=Category.choices)
    funding_source = IdFilter(field_name="lot__funding_source")
    expires_before = django_filters.DateFilter(field_name="lot__expires_on", lookup_expr="lt")
    include_empty = django_filters.BooleanFilter(
        method="filter_nothing", help_text="Also list lots with nothing left."
    )

    class Meta:
        model = StockBalance
        fields = ["location", "item", "lot"]

    def filter_nothing(self, queryset, name, value):
        return queryset

    @property
    def qs(self):
        queryset = super().qs
        if not self.form.cleaned_data.get("include_empty"):
            queryset = queryset.filter(quantity__gt=0)
        return queryset


class BalanceViewSet(viewsets.ReadOnlyModelViewSet):
    """On hand per location × lot at the locations you may see."""

    queryset = StockBalance.objects.none()  # schema generation only
    serializer_class = BalanceSerializer
    filterset_class = BalanceFilter

    def get_queryset(self):
        return selectors.balances_for(
            locations=selectors.locations_visible_to(self.request.user), positive_only=False
        )


class MovementFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=MovementKind.choices)
    reason = django_filters.ChoiceFilter(choices=AdjustmentReason.choices)
    occurred_from = django_filters.DateFilter(field_name="occurred_at", lookup_expr="date__gte")
    occurred_to = django_filters.DateFilter(field_name="occurred_at", lookup_expr="date__lte")
    funding_source = IdFilter(field_name="lot__funding_source")

    class Meta:
        model = StockMovement
        fields = ["location", "item", "lot", "kind", "reason", "reference"]


class MovementViewSet(viewsets.ReadOnlyModelViewSet):
    """The append-only ledger at the locations you may see, newest first."""

    queryset = StockMovement.objects.none()  # schema generation only
    serializer_class = MovementSerializer
    filterset_class = MovementFilter

    def get_queryset(self):
        return selectors.movements_visible_to(self.request.user).order_by("-occurred_at", "-pk")


class StockCountViewSet(viewsets.ReadOnlyModelViewSet):
    """Physical counts with each line's booked and counted figures."""

    queryset = StockCount.objects.none()  # schema generation only
    serializer_class = StockCountSerializer
    filterset_fields = ["location"]

    def get_queryset(self):
        return (
            StockCount.objects.filter(
                location__in=selectors.locations_visible_to(self.request.user)
            )
            .select_related("recorded_by")
            .prefetch_related("lines")
        )


# --- Reports over the ledger -----------------------------------------------------


def _visible_location(request, value):
    """The visible location with id `value` (400 if unknown or not yours)."""
    try:
        return selectors.locations_visible_to(request.user).get(pk=int(value))
    except (TypeError, ValueError, Location.DoesNotExist):
        raise ValidationError({"location": [gettext("Unknown location.")]}) from None


def _item(value):
    try:
        return Item.objects.get(pk=int(value))
    except (TypeError, ValueError, Item.DoesNotExist):
        raise ValidationError({"item": [gettext("Unknown item.")]}) from None


class StockLevelView(APIView):
    """Per location × item: on hand, 90-day consumption, months of stock, status band
    (SSP_STOCK_*_MONTHS), reorder point and suggested order."""

    @extend_schema(
        parameters=[
            OpenApiParameter("location", OpenApiTypes.INT, description="One location."),
            OpenApiParameter("item", OpenApiTypes.INT, description="One item."),
            OpenApiParameter("category", OpenApiTypes.STR, enum=Category.values),
            OpenApiParameter(
                "status",
                OpenApiTypes.STR,
                enum=[value for value, _ in selectors.STOCK_STATUS_CHOICES],
            ),
        ],
        responses=StockLevelSerializer(many=True),
    )
    def get(self, request):
        params = request.query_params
        location_ids = list(
            selectors.locations_visible_to(request.user).values_list("pk", flat=True)
        )
        if params.get("location"):
            location_ids = [_visible_location(request, params["location"]).pk]
        item_ids = None
        if params.get("item"):
            item_ids = [_item(params["item"]).pk]
        elif params.get("category"):
            item_ids = list(
                Item.objects.filter(category=params["category"]).values_list("pk", flat=True)
            )
        levels = selectors.stock_levels(location_ids=location_ids, item_ids=item_ids)
        if params.get("status"):
            levels = [level for level in levels if level.status == params["status"]]
        return Response(StockLevelSerializer(levels, many=True).data)


class StockCardView(generics.ListAPIView):
    """The ledger of one item at one location, newest first, with the running balance."""

    serializer_class = StockCardRowSerializer
    queryset = StockMovement.objects.none()  # schema generation only

    @extend_schema(
        parameters=[
            OpenApiParameter("location", OpenApiTypes.INT, required=True),
            OpenApiParameter("item", OpenApiTypes.INT, required=True),
        ]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        params = self.request.query_params
        return selectors.stock_card(
            location=_visible_location(self.request, params.get("location")),
            item=_item(params.get("item")),
        )


class StockTrendView(APIView):
    """End-of-day on hand and units dispensed per day, over your visible locations
    (or one), for the stock trend chart."""

    @extend_schema(
        parameters=[
            OpenApiParameter("item", OpenApiTypes.INT, required=True),
            OpenApiParameter("location", OpenApiTypes.INT),
            OpenApiParameter("days", OpenApiTypes.INT, description="7 to 365; default 90."),
        ],
        responses=TrendPointSerializer(many=True),
    )
    def get(self, request):
        params = request.query_params
        item = _item(params.get("item"))
        locations = selectors.locations_visible_to(request.user)
        if params.get("location"):
            locations = locations.filter(pk=_visible_location(request, params["location"]).pk)
        try:
            days = int(params.get("days", 90))
        except ValueError:
            raise ValidationError({"days": [gettext("Enter a whole number of days.")]}) from None
        if not 7 <= days <= 365:
            raise ValidationError({"days": [gettext("Choose between 7 and 365 days.")]})
        series = selectors.stock_trend(item=item, locations=locations, days=days)
        return Response(TrendPointSerializer(series, many=True).data)
