from datetime import timedelta

from django.db import connection
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from inventory.models import Item, Kit, Location
from inventory.services import DispenseLine
from org.models import ServiceModel, Site
from org.serializers import FieldsBuiltOnce, StrictBooleanField
from org.validators import date_window

from .codes import current_recipe, normalise
from .forms import MAX_QUANTITY, PII_WARNING
from .intake_catalog import (
    site_with_default_location,
    sites_with_default_location,
    supplies_by_code,
)
from .models import (
    VISIT_NOTES_MAX,
    ZIP3_MESSAGE,
    ZIP3_PATTERN,
    AgeBand,
    CollectionMethod,
    Gender,
    MergeReason,
    NaloxoneRefillReason,
    Participant,
    Visit,
    VoidReason,
)
from .selectors import services_of, supply_lines_of
from .visit_extras import visit_extra_fields, visit_extras, visits_described

# --- Supplies ------------------------------------------------------------------------


class SupplyLineListSerializer(serializers.ListSerializer):
    """The lines of one visit, their item and kit codes resolved in one query per kind
    (a related field per line would ask once per line)."""

    KINDS = (
        ("item", Item, gettext_noop("Unknown item “%(code)s”.")),
        ("kit", Kit, gettext_noop("Unknown kit “%(code)s”.")),
    )

    def to_internal_value(self, data):
        lines = super().to_internal_value(data)
        errors = [{} for _ in lines]
        # A sync batch reads every code it names once ({(kind, code): row} in the
        # context, ssp/api_sync.py); only codes it does not hold are looked up here, both
        # kinds in one query (a kit with its components: dispensing reads them).
        catalog = self.context.get("catalog") or {}
        found, missing = {}, {}
        for field, _model, _message in self.KINDS:
            codes = {line[field] for line in lines if line.get(field)}
            found[field] = {c: catalog[(field, c)] for c in codes if (field, c) in catalog}
            missing[field] = codes - set(found[field])
        if missing["item"] or missing["kit"]:
            items, kits = supplies_by_code(missing["item"], missing["kit"])
            found["item"].update(items)
            found["kit"].update(kits)
        for field, _model, message in self.KINDS:
            for line, error in zip(lines, errors, strict=True):
                code = line.get(field)
                if code:
                    line[field] = found[field].get(code)
                    if line[field] is None:
                        error[field] = [_(message) % {"code": code}]
        if any(errors):
            raise serializers.ValidationError(errors)
        return lines


class SupplyLineInputSerializer(FieldsBuiltOnce, serializers.Serializer):
    """One supply line: an item or a kit (by its short code) and a quantity in units."""

    item = serializers.CharField(
        max_length=40, required=False, allow_null=True, help_text="An item's short code."
    )
    kit = serializers.CharField(
        max_length=40, required=False, allow_null=True, help_text="A kit's short code."
    )
    quantity = serializers.IntegerField(
        min_value=1,
        max_value=MAX_QUANTITY,
        error_messages={"min_value": gettext_lazy("Quantity must be at least 1.")},
    )

    class Meta:
        list_serializer_class = SupplyLineListSerializer

    def validate(self, attrs):
        if bool(attrs.get("item")) == bool(attrs.get("kit")):
            raise serializers.ValidationError(_("Give either an item or a kit."))
        return attrs


def to_dispense_lines(lines: list[dict]) -> list[DispenseLine]:
    return [
        DispenseLine(quantity=ln["quantity"], item=ln.get("item"), kit=ln.get("kit"))
        for ln in lines
    ]


class SupplyLineSerializer(FieldsBuiltOnce, serializers.Serializer):
    kind = serializers.ChoiceField(choices=["item", "kit"])
    code = serializers.CharField()
    name = serializers.CharField()
    quantity = serializers.IntegerField()


# --- Services given at a visit ----------------------------------------------------


class VisitServiceInputSerializer(FieldsBuiltOnce, serializers.Serializer):
    """One service given at the visit (a code of SSP_VISIT_SERVICES) and how many times:
    1 for one person, the shift's total for a street shift."""

    service = serializers.CharField(
        max_length=40, help_text="A code of SSP_VISIT_SERVICES, e.g. hiv_test."
    )
    count = serializers.IntegerField(min_value=1, max_value=10_000, required=False, default=1)


class VisitServiceSerializer(FieldsBuiltOnce, serializers.Serializer):
    service = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField()


def service_pairs(rows: list[dict]) -> list[tuple[str, int]]:
    """Validated service rows as the (code, count) pairs ssp.services takes."""
    return [(row["service"], row["count"]) for row in rows]


def visit_record_arguments(validated: dict) -> dict:
    """The keyword arguments of ssp.services.visit_record for a validated visit body
    (POST /api/v1/visits/ and each synced record): supplies become dispense lines,
    services (code, count) pairs, and the upper apps' parts go to `extras`."""
    fields = dict(validated)
    fields.pop("anonymous", None)
    fields["lines"] = to_dispense_lines(fields.pop("supplies", []))
    fields["services"] = service_pairs(fields.pop("services", []))
    names = [module.NAME for module in visit_extras()]
    extras = {name: fields.pop(name) for name in names if name in fields}
    if extras:
        fields["extras"] = extras
    return fields


# --- Visits --------------------------------------------------------------------------


class VisitListSerializer(serializers.ListSerializer):
    """Visits answered together: what upper apps made with them (referrals…) is read
    for the whole page at once, not visit by visit."""

    def to_representation(self, data):
        visits = list(data.all() if hasattr(data, "all") else data)
        visits_described(visit for visit in visits if not hasattr(visit, "described"))
        return super().to_representation(visits)


class VisitSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    site_code = serializers.CharField(source="site.code", read_only=True)
    code = serializers.SerializerMethodField()
    is_anonymous = serializers.SerializerMethodField()
    recorded_by = serializers.CharField(source="recorded_by.username", read_only=True)
    updated_by = serializers.CharField(source="updated_by.username", read_only=True, default=None)
    voided_by = serializers.CharField(source="voided_by.username", read_only=True, default=None)
    supplies = serializers.SerializerMethodField()
    services = serializers.SerializerMethodField()
    naloxone_refill_reason = serializers.ChoiceField(
        choices=NaloxoneRefillReason.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = Visit
        fields = [
            "uuid",
            "site",
            "site_code",
            "location",
            "occurred_at",
            "recorded_at",
            "recorded_by",
            "code",
            "is_anonymous",
            "service_model",
            "contacts",
            "supplies",
            "services",
            "syringes_collected",
            "collection_method",
            "secondary_people",
            "naloxone_refill_reason",
            "overdose_reversals",
            "notes",
            "updated_at",
            "updated_by",
            "is_void",
            "voided_at",
            "voided_by",
            "void_reason",
            "stock_reference",
        ]
        read_only_fields = fields
        list_serializer_class = VisitListSerializer

    def get_fields(self):
        # What upper apps made with the visit (e.g. `referrals`), each app's own field,
        # read from `visit.described` (ssp/visit_extras.py).
        fields = super().get_fields()
        for module in visit_extra_fields():
            fields[module.NAME] = module.api_described_field(source=f"described.{module.NAME}")
        return fields

    def to_representation(self, instance):
        if not hasattr(instance, "described"):
            visits_described([instance])
        return super().to_representation(instance)

    @extend_schema_field(serializers.CharField(allow_null=True, help_text="Null: anonymous."))
    def get_code(self, visit) -> str | None:
        return visit.participant.code if visit.participant_id else None

    def get_is_anonymous(self, visit) -> bool:
        return visit.participant_id is None

    @extend_schema_field(SupplyLineSerializer(many=True))
    def get_supplies(self, visit):
        return SupplyLineSerializer(supply_lines_of(visit), many=True).data

    @extend_schema_field(VisitServiceSerializer(many=True))
    def get_services(self, visit):
        return VisitServiceSerializer(services_of(visit), many=True).data


class VisitRecordedSerializer(VisitSerializer):
    """The answer to logging a visit: the visit, and what staff should know about it."""

    notice = serializers.CharField(
        source="stock_notice",
        allow_null=True,
        read_only=True,
        help_text="Saved, but the books held fewer supplies than were handed out: the "
        "shortfall was recorded as stock found at dispense (SSP_STOCK_SHORTFALL=record).",
    )

    class Meta(VisitSerializer.Meta):
        fields = [*VisitSerializer.Meta.fields, "notice"]
        read_only_fields = fields


class VisitSiteField(serializers.PrimaryKeyRelatedField):
    """The visit's site by id, with its default stock location, read as one compiled
    query (ssp/intake_catalog.py): the same answers and messages as a related field."""

    def to_internal_value(self, data):
        pk_field = Site._meta.pk
        try:
            if isinstance(data, bool):
                raise TypeError
            pk = pk_field.get_prep_value(data)
        except (TypeError, ValueError):
            self.fail("incorrect_type", data_type=type(data).__name__)
        low, high = connection.ops.integer_field_range(pk_field.get_internal_type())
        site = site_with_default_location(pk) if low <= pk <= high else None
        if site is None:
            self.fail("does_not_exist", pk_value=data)
        return site


class _VisitFieldsSerializer(FieldsBuiltOnce, serializers.Serializer):
    """Fields shared by creating and correcting a visit."""

    location = serializers.PrimaryKeyRelatedField(
        queryset=Location.objects.all(),
        required=False,
        help_text="Stock location at the site (e.g. the van); default: the site's first.",
    )
    occurred_at = serializers.DateTimeField(
        required=False,
        # A day of slack for clocks; the service applies the backdating window exactly.
        validators=[date_window(future=timedelta(days=1))],
        help_text="Default now; backdating within SSP_VISIT_BACKDATE_DAYS.",
    )
    service_model = serializers.ChoiceField(choices=ServiceModel.choices, required=False)
    syringes_collected = serializers.IntegerField(
        min_value=0, max_value=MAX_QUANTITY, required=False
    )
    collection_method = serializers.ChoiceField(choices=CollectionMethod.choices, required=False)
    secondary_people = serializers.IntegerField(min_value=0, max_value=1000, required=False)
    naloxone_refill_reason = serializers.ChoiceField(
        choices=NaloxoneRefillReason.choices, required=False, allow_blank=True
    )
    overdose_reversals = serializers.IntegerField(min_value=0, max_value=1000, required=False)
    notes = serializers.CharField(
        max_length=VISIT_NOTES_MAX, required=False, allow_blank=True, help_text=PII_WARNING
    )
    confirm_large_quantity = StrictBooleanField(
        required=False,
        default=False,
        help_text="Set after staff confirmed a quantity above SSP_LARGE_QUANTITY.",
    )


class VisitCreateSerializer(_VisitFieldsSerializer):
    client_uuid = serializers.UUIDField(
        help_text="Generated by the client once per visit: a retry with the same id "
        "returns the first visit (200) instead of logging a second one."
    )
    # The site's default stock location comes in the same query (ssp/intake_catalog.py).
    site = VisitSiteField(queryset=sites_with_default_location())
    code = serializers.CharField(
        max_length=40,
        required=False,
        allow_blank=True,
        help_text="The participant code. Leave empty and set anonymous=true for no code.",
    )
    anonymous = StrictBooleanField(required=False, default=False)
    confirm_new_person = StrictBooleanField(
        required=False,
        default=True,
        help_text="false: a new code one edit from an existing one is refused (400 "
        'confirm_new_person) so the desk can ask "new person?"; send true once staff '
        "answered yes. Default true: an offline record is never refused for it.",
    )
    contacts = serializers.IntegerField(
        min_value=1,
        max_value=10_000,
        required=False,
        default=1,
        help_text="Above 1: a street shift logged in bulk (anonymous).",
    )
    age_band = serializers.ChoiceField(
        choices=AgeBand.choices, required=False, allow_blank=True, help_text="For a new code."
    )
    zip3 = serializers.RegexField(
        ZIP3_PATTERN,
        required=False,
        allow_blank=True,
        error_messages={"invalid": ZIP3_MESSAGE},
    )
    supplies = SupplyLineInputSerializer(many=True, required=False, default=list)
    services = VisitServiceInputSerializer(
        many=True, required=False, default=list, help_text="Services given at the visit."
    )

    def get_fields(self):
        # The upper apps' parts of a visit (e.g. `referrals`), each app's own field.
        fields = super().get_fields()
        for module in visit_extras():
            fields[module.NAME] = module.api_field()
        return fields

    def validate(self, attrs):
        code = normalise(attrs.get("code", ""))
        attrs["code"] = code
        if code and attrs.get("anonymous"):
            raise serializers.ValidationError({"anonymous": _("Either a code or anonymous.")})
        if not code and not attrs.get("anonymous") and attrs.get("contacts", 1) == 1:
            raise serializers.ValidationError(
                {"code": _("Give the participant's code, or anonymous=true.")}
            )
        return attrs


class VisitCorrectSerializer(_VisitFieldsSerializer):
    code = serializers.CharField(
        max_length=40, required=False, allow_blank=True, help_text="Empty: anonymous."
    )
    contacts = serializers.IntegerField(min_value=1, max_value=10_000, required=False)
    supplies = SupplyLineInputSerializer(
        many=True, required=False, help_text="Replaces every supply line; stock follows."
    )
    services = VisitServiceInputSerializer(
        many=True,
        required=False,
        help_text="Replaces every service given, in the shape POST takes; [] clears them.",
    )


class VisitVoidSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=VoidReason.choices)


# --- The offline app's device cache --------------------------------------------------


class DeviceThingSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()


class DeviceLocationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class DeviceSiteSerializer(DeviceThingSerializer):
    locations = DeviceLocationSerializer(many=True)


class DeviceCatalogSerializer(serializers.Serializer):
    sites = DeviceSiteSerializer(many=True, help_text="The sites you may record at.")
    kits = DeviceThingSerializer(many=True)
    items = DeviceThingSerializer(many=True)
    session_ends_at = serializers.DateTimeField(
        allow_null=True, help_text="When this login ends at the latest (SESSION_ABSOLUTE_SECONDS)."
    )


class DeviceCodesSerializer(serializers.Serializer):
    codes = serializers.ListField(
        child=serializers.CharField(),
        help_text="Codes with a visit at your sites in the last SSP_DEVICE_CODES_DAYS days.",
    )
    days = serializers.IntegerField()


# --- Participants --------------------------------------------------------------------


class ParticipantSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    merged_into = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    gender = serializers.ChoiceField(choices=Gender.choices, allow_blank=True, read_only=True)
    age_band = serializers.ChoiceField(choices=AgeBand.choices, allow_blank=True, read_only=True)

    class Meta:
        model = Participant
        fields = ["code", "first_seen_on", "gender", "age_band", "zip3", "merged_into"]
        read_only_fields = fields


class SuggestionSerializer(FieldsBuiltOnce, serializers.Serializer):
    code = serializers.CharField()
    first_seen_on = serializers.DateField()
    last_visit_at = serializers.DateTimeField(allow_null=True)
    reason = serializers.CharField()


class LastVisitSerializer(FieldsBuiltOnce, serializers.Serializer):
    uuid = serializers.UUIDField()
    occurred_at = serializers.DateTimeField()
    site = serializers.CharField(source="site.code")


class CodeLookupSerializer(FieldsBuiltOnce, serializers.Serializer):
    code = serializers.CharField(help_text="The typed code, normalised.")
    matches_recipe = serializers.BooleanField()
    recipe = serializers.SerializerMethodField()
    participant = ParticipantSerializer(allow_null=True)
    known_elsewhere = serializers.BooleanField(
        help_text="A participant with this code exists program-wide but was not seen at your "
        "sites: a visit with it is not a new participant. Nothing more is shown."
    )
    typed_code_merged = serializers.BooleanField(
        help_text="The typed code was merged into participant.code."
    )
    last_visit = LastVisitSerializer(allow_null=True)
    visit_count = serializers.IntegerField(help_text="Visits at your sites.")
    usual_supplies = SupplyLineSerializer(many=True, source="usual_lines")
    suggestions = SuggestionSerializer(many=True)
    prefix_matches = serializers.ListField(child=serializers.CharField())

    def get_recipe(self, lookup) -> str:
        return current_recipe().describe()


class BuildCodeSerializer(serializers.Serializer):
    parts = serializers.DictField(
        child=serializers.CharField(max_length=40, allow_blank=True),
        help_text="The recipe's parts by name (see SSP_CODE_RECIPE); used once, never stored.",
    )


class BuiltCodeSerializer(serializers.Serializer):
    code = serializers.CharField()
    known = serializers.BooleanField()


class MergeSerializer(serializers.Serializer):
    merged = serializers.CharField(max_length=40, help_text="The duplicate code, merged away.")
    kept = serializers.CharField(max_length=40, help_text="The code kept.")
    reason = serializers.ChoiceField(choices=MergeReason.choices, required=False, allow_blank=True)


class MergeResultSerializer(serializers.Serializer):
    merged = serializers.CharField(source="merged.code")
    kept = serializers.CharField(source="kept.code")
    merged_at = serializers.DateTimeField()
    merged_by = serializers.CharField(source="merged_by.username")
    reason = serializers.CharField()
    visits_moved = serializers.IntegerField()
    referrals_moved = serializers.IntegerField()
