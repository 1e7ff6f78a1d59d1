"""API shapes of the stock ledger. Input serializers check types and look ups;
the rules (funding, lots, stock, who manages what) live in inventory.services."""

from datetime import timedelta

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from org.serializers import StrictBooleanField
from org.validators import date_window

from .models import (
    COUNT_REASONS,
    AdjustmentReason,
    FundingSource,
    Item,
    Kit,
    KitComponent,
    Location,
    Lot,
    PackSize,
    StockBalance,
    StockCount,
    StockCountLine,
    StockMovement,
)
from .selectors import STOCK_STATUS_CHOICES

QUANTITY_MESSAGES = {
    "invalid": _("Enter a whole number."),
    "min_value": _("Enter a quantity of at least {min_value}."),
    "max_integer": _("That number is too large."),
}

# Each noun's messages whole, so that a translation need not assemble them.
LOOKUP_MESSAGES = {
    "item": (_("Unknown item."), _("Give the item's id.")),
    "kit": (_("Unknown kit."), _("Give the kit's id.")),
    "location": (_("Unknown location."), _("Give the location's id.")),
    "lot": (_("Unknown lot."), _("Give the lot's id.")),
    "funding source": (_("Unknown funding source."), _("Give the funding source's id.")),
    "pack size": (_("Unknown pack size."), _("Give the pack size's id.")),
}


def _lookup(queryset, noun: str, *, optional: bool = False):
    extra = {"required": False, "allow_null": True, "default": None} if optional else {}
    unknown, give_id = LOOKUP_MESSAGES[noun]
    return serializers.PrimaryKeyRelatedField(
        queryset=queryset,
        **extra,
        error_messages={"does_not_exist": unknown, "incorrect_type": give_id},
    )


def _quantity(**kwargs):
    return serializers.IntegerField(
        min_value=kwargs.pop("min_value", 1),
        max_value=1_000_000,
        error_messages=QUANTITY_MESSAGES,
        **kwargs,
    )


# --- Catalog ---------------------------------------------------------------------


class PackSizeSerializer(serializers.ModelSerializer):
    class Meta:
        model = PackSize
        fields = ["id", "name", "units"]


class ItemSerializer(serializers.ModelSerializer):
    pack_sizes = PackSizeSerializer(many=True, read_only=True)

    class Meta:
        model = Item
        fields = [
            "id",
            "name",
            "code",
            "category",
            "base_unit",
            "is_lot_tracked",
            "naloxone_formulation",
            "naloxone_doses_per_unit",
            "is_active",
            "pack_sizes",
        ]


class KitComponentSerializer(serializers.ModelSerializer):
    class Meta:
        model = KitComponent
        fields = ["item", "quantity"]


class KitSerializer(serializers.ModelSerializer):
    components = KitComponentSerializer(many=True, read_only=True)

    class Meta:
        model = Kit
        fields = ["id", "name", "code", "is_active", "components"]


class LocationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Location
        fields = ["id", "name", "kind", "site", "is_active"]


class FundingSourceSerializer(serializers.ModelSerializer):
    disallowed_categories = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = FundingSource
        fields = ["id", "name", "code", "disallowed_categories", "is_active"]


class LotSerializer(serializers.ModelSerializer):
    on_hand = serializers.SerializerMethodField(
        help_text="Units at the `on_hand_at` location; null without that filter."
    )

    class Meta:
        model = Lot
        fields = [
            "id",
            "item",
            "lot_number",
            "expires_on",
            "funding_source",
            "unit_cost",
            "on_hand",
        ]

    def get_on_hand(self, obj) -> int | None:
        return getattr(obj, "on_hand", None)


# --- Ledger ---------------------------------------------------------------------


class BalanceSerializer(serializers.ModelSerializer):
    lot = LotSerializer(read_only=True)

    class Meta:
        model = StockBalance
        fields = ["id", "location", "item", "lot", "quantity"]


class MovementSerializer(serializers.ModelSerializer):
    recorded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = StockMovement
        fields = [
            "id",
            "kind",
            "item",
            "lot",
            "location",
            "quantity",
            "reason",
            "reference",
            "occurred_at",
            "recorded_at",
            "recorded_by",
        ]


class StockCardRowSerializer(MovementSerializer):
    running_balance = serializers.IntegerField(read_only=True)

    class Meta(MovementSerializer.Meta):
        fields = [*MovementSerializer.Meta.fields, "running_balance"]


class StockCountLineSerializer(serializers.ModelSerializer):
    difference = serializers.IntegerField(read_only=True)

    class Meta:
        model = StockCountLine
        fields = ["item", "lot", "expected", "counted", "difference", "reason"]


class StockCountSerializer(serializers.ModelSerializer):
    recorded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    lines = StockCountLineSerializer(many=True, read_only=True)
    reference = serializers.CharField(read_only=True)

    class Meta:
        model = StockCount
        fields = [
            "id",
            "location",
            "occurred_at",
            "recorded_at",
            "recorded_by",
            "reference",
            "lines",
        ]


class StockLevelSerializer(serializers.Serializer):
    location = serializers.IntegerField(source="location.pk")
    location_name = serializers.CharField(source="location.name")
    item = serializers.IntegerField(source="item.pk")
    item_name = serializers.CharField(source="item.name")
    category = serializers.CharField(source="item.category")
    on_hand = serializers.IntegerField()
    usable = serializers.IntegerField(help_text="On hand in lots not expired today.")
    consumed_90d = serializers.IntegerField()
    avg_monthly = serializers.FloatField(help_text="Average monthly consumption, last 90 days.")
    months_of_stock = serializers.FloatField(allow_null=True)
    status = serializers.ChoiceField(choices=STOCK_STATUS_CHOICES)
    reorder_point = serializers.IntegerField()
    suggested_order = serializers.IntegerField()
    earliest_expiry = serializers.DateField(allow_null=True)


class TrendPointSerializer(serializers.Serializer):
    date = serializers.DateField()
    on_hand = serializers.IntegerField()
    dispensed = serializers.IntegerField()


# --- Operations (input) ---------------------------------------------------------


def _occurred_at(**kwargs):
    # A day of slack for clocks and time zones; the services apply the exact tolerance.
    return serializers.DateTimeField(
        required=False,
        allow_null=True,
        validators=[date_window(future=timedelta(days=1))],
        **kwargs,
    )


# Lots are not sold with a shelf life longer than this; a later expiry is a typo.
EXPIRY_HORIZON = timedelta(days=366 * 20)


class OperationSerializer(serializers.Serializer):
    occurred_at = _occurred_at(help_text="When it happened; now if left out.")
    reference = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=80,
        default="",
        help_text="Packing slip, invoice or other reference. Never a participant's details.",
    )


class ReceiptLineSerializer(serializers.Serializer):
    item = _lookup(Item.objects.all(), "item")
    quantity = _quantity(help_text="Packs when pack_size is given, otherwise base units.")
    pack_size = _lookup(PackSize.objects.all(), "pack size", optional=True)
    lot_number = serializers.CharField(required=False, allow_blank=True, max_length=60, default="")
    expires_on = serializers.DateField(
        required=False,
        allow_null=True,
        default=None,
        validators=[date_window(future=EXPIRY_HORIZON)],
    )
    unit_cost = serializers.DecimalField(
        max_digits=10, decimal_places=4, required=False, allow_null=True, default=None
    )


class ReceiptSerializer(OperationSerializer):
    location = _lookup(Location.objects.all(), "location")
    funding_source = _lookup(FundingSource.objects.all(), "funding source")
    lines = ReceiptLineSerializer(
        many=True,
        allow_empty=False,
        help_text="At most 1,000,000 units a line and 10,000,000 a receipt.",
    )
    confirm_large_quantity = StrictBooleanField(
        required=False,
        default=False,
        help_text="Set after staff confirmed a line above SSP_LARGE_QUANTITY units.",
    )


class TransferLineSerializer(serializers.Serializer):
    item = _lookup(Item.objects.all(), "item")
    quantity = _quantity()
    lot = _lookup(Lot.objects.all(), "lot", optional=True)


class TransferSerializer(OperationSerializer):
    from_location = _lookup(Location.objects.all(), "location")
    to_location = _lookup(Location.objects.all(), "location")
    lines = TransferLineSerializer(many=True, allow_empty=False)


class AdjustmentSerializer(OperationSerializer):
    location = _lookup(Location.objects.all(), "location")
    lot = _lookup(Lot.objects.all(), "lot")
    quantity = serializers.IntegerField(
        min_value=-1_000_000,
        max_value=1_000_000,
        error_messages=QUANTITY_MESSAGES,
        help_text="Signed: negative removes (damaged, expired, lost), positive adds (found).",
    )
    reason = serializers.ChoiceField(
        choices=AdjustmentReason.choices,
        help_text="Reversal is reserved for /reversals/, shortfall for dispenses that record one.",
    )


class CountLineSerializer(serializers.Serializer):
    lot = _lookup(Lot.objects.all(), "lot", optional=True)
    item = _lookup(Item.objects.all(), "item", optional=True)
    counted = _quantity(min_value=0)
    reason = serializers.ChoiceField(
        choices=[(value, AdjustmentReason(value).label) for value in COUNT_REASONS],
        required=False,
        default="",
        allow_blank=True,
        help_text="Why the shelf differs from the books; required for a line that differs.",
    )

    def validate(self, attrs):
        if (attrs.get("lot") is None) == (attrs.get("item") is None):
            raise serializers.ValidationError(
                {"lot": gettext("Give a lot, or an item not tracked by lot.")}
            )
        return attrs


class CountSerializer(serializers.Serializer):
    location = _lookup(Location.objects.all(), "location")
    occurred_at = _occurred_at()
    lines = CountLineSerializer(many=True, allow_empty=False)


class DispenseLineSerializer(serializers.Serializer):
    item = _lookup(Item.objects.all(), "item", optional=True)
    kit = _lookup(Kit.objects.all(), "kit", optional=True)
    quantity = _quantity()

    def validate(self, attrs):
        if (attrs.get("item") is None) == (attrs.get("kit") is None):
            raise serializers.ValidationError({"item": gettext("Give an item or a kit.")})
        return attrs


class DispenseSerializer(serializers.Serializer):
    location = _lookup(Location.objects.all(), "location")
    occurred_at = _occurred_at()
    reference = serializers.CharField(
        max_length=80, help_text="What the stock went out for, e.g. an event or visit reference."
    )
    lines = DispenseLineSerializer(many=True, allow_empty=False)


class ReversalSerializer(serializers.Serializer):
    reference = serializers.CharField(max_length=80)
