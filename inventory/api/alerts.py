"""API of stock alerts: list with filters, and acknowledge. Thin: see inventory/alerts/."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from org.permissions import capability

from ..alerts import alert_acknowledge, alerts_visible_to
from ..filters import AlertFilter
from ..models import StockAlert


class StockAlertSerializer(serializers.ModelSerializer):
    condition_label = serializers.CharField(source="get_condition_display", read_only=True)
    severity_label = serializers.CharField(source="get_severity_display", read_only=True)
    status = serializers.ChoiceField(choices=["open", "acknowledged", "resolved"], read_only=True)
    summary = serializers.CharField(read_only=True)
    location_name = serializers.CharField(source="location.name", read_only=True)
    site = serializers.IntegerField(source="location.site_id", read_only=True, allow_null=True)
    item_name = serializers.CharField(source="item.name", read_only=True)
    lot_number = serializers.CharField(source="lot.lot_number", read_only=True, allow_null=True)
    expires_on = serializers.DateField(source="lot.expires_on", read_only=True, allow_null=True)
    facts = serializers.DictField(read_only=True, help_text="Figures of the latest check.")
    acknowledged_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = StockAlert
        fields = [
            "id",
            "condition",
            "condition_label",
            "severity",
            "severity_label",
            "status",
            "summary",
            "site",
            "location",
            "location_name",
            "item",
            "item_name",
            "lot",
            "lot_number",
            "expires_on",
            "facts",
            "raised_at",
            "resolved_at",
            "acknowledged_at",
            "acknowledged_by",
        ]
        read_only_fields = fields


class StockAlertViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Stock alerts at the locations whose stock you manage, newest first.

    Filter with `status` (current, open, acknowledged, resolved), `severity`,
    `condition`, `site`, `location`, `item`.
    """

    queryset = StockAlert.objects.none()  # schema generation only; requests use get_queryset
    serializer_class = StockAlertSerializer
    permission_classes = [IsAuthenticated, capability("inventory.manage_stock")]
    filterset_class = AlertFilter

    def get_queryset(self):
        return alerts_visible_to(self.request.user).select_related(
            "location", "item", "lot", "acknowledged_by"
        )

    @extend_schema(
        request=None,
        responses=StockAlertSerializer,
        summary="Acknowledge an alert (who and when are recorded)",
    )
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        alert = alert_acknowledge(alert=self.get_object(), by=request.user)
        return Response(self.get_serializer(alert).data)
