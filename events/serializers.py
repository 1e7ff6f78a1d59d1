"""API shapes of program events. Kind-specific rules live in services.py; these only
type the input, so the API and the pages give the same messages."""

from rest_framework import serializers

from org.models import Site
from org.validators import date_window

from .models import (
    MAX_STAFF_HOURS,
    MAX_SYRINGES_COLLECTED,
    MAX_WEIGHT,
    EventKind,
    EventVoidReason,
    PersonStuck,
    ProgramEvent,
    SharpsContainer,
    WeightUnit,
)


class ProgramEventSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="uuid", read_only=True)
    site_code = serializers.CharField(source="site.code", read_only=True)
    recorded_by = serializers.CharField(source="recorded_by.username", read_only=True)

    class Meta:
        model = ProgramEvent
        fields = [
            "id",
            "kind",
            "site",
            "site_code",
            "occurred_on",
            "syringes_collected",
            "staff_hours",
            "person_stuck",
            "container",
            "weight",
            "weight_unit",
            "syringes_per_pound",
            "syringes_estimated",
            "recorded_by",
            "created_at",
            "voided_at",
            "void_reason",
        ]
        read_only_fields = fields


class _KindFieldsSerializer(serializers.Serializer):
    syringes_collected = serializers.IntegerField(
        min_value=0,
        max_value=MAX_SYRINGES_COLLECTED,
        required=False,
        allow_null=True,
        help_text="Clean-up only: used syringes picked up.",
    )
    staff_hours = serializers.DecimalField(
        max_digits=6,
        decimal_places=2,
        min_value=0,
        max_value=MAX_STAFF_HOURS,
        required=False,
        allow_null=True,
        help_text="Clean-up only: staff and volunteer hours, added up.",
    )
    person_stuck = serializers.ChoiceField(
        choices=PersonStuck.choices,
        required=False,
        allow_blank=True,
        help_text="Needle-stick injury only: who was stuck (a role, never a name).",
    )
    container = serializers.ChoiceField(
        choices=SharpsContainer.choices,
        required=False,
        allow_blank=True,
        help_text="Sharps emptied only: which kiosk or bin.",
    )
    weight = serializers.DecimalField(
        max_digits=6,
        decimal_places=2,
        min_value=0,
        max_value=MAX_WEIGHT,
        required=False,
        allow_null=True,
        help_text="Sharps emptied only: the weight of what was emptied.",
    )
    weight_unit = serializers.ChoiceField(
        choices=WeightUnit.choices,
        required=False,
        allow_blank=True,
        help_text="Sharps emptied only: kg or lb.",
    )


class ProgramEventCreateSerializer(_KindFieldsSerializer):
    kind = serializers.ChoiceField(choices=EventKind.choices)
    site = serializers.PrimaryKeyRelatedField(queryset=Site.objects.all())
    occurred_on = serializers.DateField(validators=[date_window()])


class ProgramEventCorrectSerializer(_KindFieldsSerializer):
    occurred_on = serializers.DateField(required=False, validators=[date_window()])

    def validate(self, attrs):
        # A blank choice means "not given": the service leaves the field as it was.
        return {name: value for name, value in attrs.items() if value not in ("", None)}


class ProgramEventVoidSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=EventVoidReason.choices)
