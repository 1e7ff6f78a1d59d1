"""The stock API (/api/v1/inventory/): catalog and ledger lists scoped to the
locations a person may see, and one endpoint per stock operation. Thin: the
services do the work and their errors become the one error body (409 when short)."""

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from org import api_errors
from org.permissions import capability

from . import alerts, selectors, services
from .models import (
    AdjustmentReason,
    Category,
    FundingSource,
    Item,
    Kit,
    Location,
    LocationKind,
    Lot,
    MovementKind,
    StockBalance,
    StockCount,
    StockMovement,
)
from .serializers import (
    AdjustmentSerializer,
    BalanceSerializer,
    CountSerializer,
    DispenseSerializer,
    FundingSourceSerializer,
    ItemSerializer,
    KitSerializer,
    LocationSerializer,
    LotSerializer,
    MovementSerializer,
    ReceiptSerializer,
    ReversalSerializer,
    StockCardRowSerializer,
    StockCountSerializer,
    StockLevelSerializer,
    TransferSerializer,
    TrendPointSerializer,
)

api_errors.domain_error(services.StockError, status=400, code="stock_error")
api_errors.domain_error(services.InsufficientStock, status=409, code="insufficient_stock")
api_errors.domain_error(alerts.AlertError, status=400, code="alert_error")
api_errors.domain_error(alerts.AlertNotAllowed, status=403, code="permission_denied")
api_errors.domain_error(alerts.AlertAlreadyResolved, status=409, code="alert_resolved")

CanManageStock = capability("inventory.manage_stock")
ERRORS = {
    400: OpenApiResponse(description="Field-level errors; nothing was written."),
    409: OpenApiResponse(description="Not enough stock: names the item and what is available."),
}


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


class LotFilter(django_filters.FilterSet):
    expires_before = django_filters.DateFilter(field_name="expires_on", lookup_expr="lt")
    expires_after = django_filters.DateFilter(field_name="expires_on", lookup_expr="gte")

    class Meta:
        model = Lot
        fields = ["item", "funding_source", "lot_number"]


class LotViewSet(viewsets.ReadOnlyModelViewSet):
    """Lots: batch, expiry, and the funding source that paid for them."""

    queryset = Lot.objects.all()
    serializer_class = LotSerializer
    filterset_class = LotFilter


# --- Ledger ------------------------------------------------------------------------


class BalanceFilter(django_filters.FilterSet):
    category = django_filters.ChoiceFilter(field_name="item__category", choices=Category.choices)
    funding_source = django_filters.NumberFilter(field_name="lot__funding_source")
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
    funding_source = django_filters.NumberFilter(field_name="lot__funding_source")

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
        raise ValidationError({"location": ["Unknown location."]}) from None


def _item(value):
    try:
        return Item.objects.get(pk=int(value))
    except (TypeError, ValueError, Item.DoesNotExist):
        raise ValidationError({"item": ["Unknown item."]}) from None


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
            raise ValidationError({"days": ["Enter a whole number of days."]}) from None
        if not 7 <= days <= 365:
            raise ValidationError({"days": ["Choose between 7 and 365 days."]})
        series = selectors.stock_trend(item=item, locations=locations, days=days)
        return Response(TrendPointSerializer(series, many=True).data)


# --- Operations ----------------------------------------------------------------------


class _Operation(APIView):
    permission_classes = [IsAuthenticated, CanManageStock]
    input_serializer: type

    def read(self, request) -> dict:
        data = self.input_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        return dict(data.validated_data)

    @staticmethod
    def created(movements) -> Response:
        return Response(
            MovementSerializer(movements, many=True).data, status=status.HTTP_201_CREATED
        )


class ReceiptView(_Operation):
    """Receive a shipment: several lines, in packs or base units, lot and expiry for
    tracked items, paid by one funding source (which may not buy some categories)."""

    input_serializer = ReceiptSerializer

    @extend_schema(
        request=ReceiptSerializer, responses={201: MovementSerializer(many=True), **ERRORS}
    )
    def post(self, request):
        data = self.read(request)
        lines = [services.ReceiptLine(**line) for line in data.pop("lines")]
        return self.created(services.stock_receive(lines=lines, by=request.user, **data))


class TransferView(_Operation):
    """Send stock from a location you manage to another location."""

    input_serializer = TransferSerializer

    @extend_schema(
        request=TransferSerializer, responses={201: MovementSerializer(many=True), **ERRORS}
    )
    def post(self, request):
        data = self.read(request)
        lines = [services.TransferLine(**line) for line in data.pop("lines")]
        return self.created(services.stock_transfer(lines=lines, by=request.user, **data))


class AdjustmentView(_Operation):
    """Add or remove units of one lot with a reason (damaged, expired, lost, found,
    correction)."""

    input_serializer = AdjustmentSerializer

    @extend_schema(
        request=AdjustmentSerializer, responses={201: MovementSerializer(many=True), **ERRORS}
    )
    def post(self, request):
        data = self.read(request)
        return self.created([services.stock_adjust(by=request.user, **data)])


class CountView(_Operation):
    """Record a physical count: each counted figure becomes the balance; differences
    are count movements. Returns the count with booked and counted figures."""

    input_serializer = CountSerializer

    @extend_schema(
        request=CountSerializer,
        responses={201: StockCountSerializer, 400: ERRORS[400]},
    )
    def post(self, request):
        data = self.read(request)
        lines = [services.CountLine(**line) for line in data.pop("lines")]
        count, _ = services.stock_count_record(counts=lines, by=request.user, **data)
        return Response(StockCountSerializer(count).data, status=status.HTTP_201_CREATED)


class DispenseView(_Operation):
    """Take stock out at a location you manage outside a visit (an event, a peer
    pick-up), first-expiry-first-out. Visits dispense through the visit API."""

    input_serializer = DispenseSerializer

    @extend_schema(
        request=DispenseSerializer, responses={201: MovementSerializer(many=True), **ERRORS}
    )
    def post(self, request):
        data = self.read(request)
        location = data["location"]
        if not selectors.can_manage_location(request.user, location):
            raise ValidationError({"location": [f"You do not manage stock at {location.name}."]})
        lines = [services.DispenseLine(**line) for line in data.pop("lines")]
        return self.created(services.stock_dispense(lines=lines, by=request.user, **data))


class ReversalView(_Operation):
    """Undo the net effect of every movement with a reference (all at locations you
    manage). Calling it twice changes nothing the second time."""

    input_serializer = ReversalSerializer

    @extend_schema(
        request=ReversalSerializer, responses={201: MovementSerializer(many=True), **ERRORS}
    )
    def post(self, request):
        reference = self.read(request)["reference"]
        managed = selectors.locations_managed_by(request.user)
        moved = StockMovement.objects.filter(reference=reference)
        if not moved.exists():
            raise ValidationError({"reference": ["No movement carries this reference."]})
        if moved.exclude(location__in=managed).exists():
            raise ValidationError(
                {"reference": ["Some of these movements are at locations you do not manage."]}
            )
        return self.created(services.stock_reverse(reference=reference, by=request.user))
