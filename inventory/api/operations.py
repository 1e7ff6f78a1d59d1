"""One endpoint per stock operation. Thin: the services do the work and their
errors become the one error body (409 when short)."""

from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from org.permissions import capability

from .. import selectors, services
from ..models import (
    StockMovement,
)
from ..serializers import (
    AdjustmentSerializer,
    CountSerializer,
    DispenseSerializer,
    MovementSerializer,
    ReceiptSerializer,
    ReversalSerializer,
    StockCountSerializer,
    TransferSerializer,
)

CanManageStock = capability("inventory.manage_stock")
ERRORS = {
    400: OpenApiResponse(description="Field-level errors; nothing was written."),
    409: OpenApiResponse(description="Not enough stock: names the item and what is available."),
}


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
        services.receipt_check_confirmed(lines, confirmed=data.pop("confirm_large_quantity"))
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
    manage). Calling it twice changes nothing the second time. References owned by a
    record (a count, another app's records) are refused: its own service undoes them."""

    input_serializer = ReversalSerializer

    @extend_schema(
        request=ReversalSerializer, responses={201: MovementSerializer(many=True), **ERRORS}
    )
    def post(self, request):
        reference = self.read(request)["reference"]
        owned = services.reference_owned(reference)
        if owned is not None:
            # Before looking at the movements: the answer is the same whether any exist.
            prefix, owner = owned
            raise ValidationError(
                {
                    "reference": [
                        gettext("References starting with “%(prefix)s” belong to %(owner)s.")
                        % {"prefix": prefix, "owner": owner}
                    ]
                }
            )
        managed = selectors.locations_managed_by(request.user)
        moved = StockMovement.objects.filter(reference=reference)
        if not moved.exists():
            raise ValidationError({"reference": [gettext("No movement carries this reference.")]})
        if moved.exclude(location__in=managed).exists():
            raise ValidationError(
                {
                    "reference": [
                        gettext("Some of these movements are at locations you do not manage.")
                    ]
                }
            )
        return self.created(services.stock_reverse(reference=reference, by=request.user))
