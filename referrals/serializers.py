from datetime import timedelta

from django.utils.translation import gettext
from rest_framework import serializers

from org.models import Site
from org.validators import date_window
from ssp.selectors import participant_for_user, visits_for_user

from .models import (
    NO_VISIT_YET,
    PII_WARNING,
    Partner,
    Referral,
    ReferralStatus,
    ReferralStatusChange,
    ReferralType,
)

# A follow-up further out than this is a typing mistake, not a plan.
FOLLOW_UP_HORIZON = timedelta(days=366)


class ReferralTypeSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReferralType
        fields = ["id", "code", "name", "group", "sort_order", "is_active"]


class PartnerSerializer(serializers.ModelSerializer):
    types = serializers.SlugRelatedField(
        slug_field="code",
        many=True,
        queryset=ReferralType.objects.all(),
        help_text="Codes of the referral types this partner accepts.",
    )

    class Meta:
        model = Partner
        fields = [
            "id",
            "name",
            "types",
            "address",
            "phone",
            "hours",
            "website",
            "notes",
            "is_active",
        ]


class ReferralSerializer(serializers.ModelSerializer):
    code = serializers.CharField(source="participant.code", read_only=True)
    visit = serializers.UUIDField(source="visit.uuid", read_only=True, allow_null=True)
    site_code = serializers.CharField(source="site.code", read_only=True)
    type = serializers.CharField(source="type.code", read_only=True)
    type_name = serializers.CharField(source="type.name", read_only=True)
    partner_name = serializers.CharField(source="partner.name", read_only=True, allow_null=True)
    created_by = serializers.CharField(source="created_by.username", read_only=True)
    is_due = serializers.SerializerMethodField(
        help_text="Open and its follow-up date is today or earlier: staff should ask."
    )

    class Meta:
        model = Referral
        fields = [
            "id",
            "uuid",
            "code",
            "visit",
            "site",
            "site_code",
            "type",
            "type_name",
            "partner",
            "partner_name",
            "status",
            "referred_on",
            "follow_up_on",
            "linked_on",
            "is_due",
            "status_changed_at",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields

    def get_is_due(self, referral) -> bool:
        return referral.is_open and referral.follow_up_on <= self.context["today"]


class ReferralCreateSerializer(serializers.Serializer):
    """Either `visit` (site, code and date come from it) or `code` + `site`."""

    visit = serializers.UUIDField(required=False, help_text="The visit the referral was made at.")
    code = serializers.CharField(
        required=False,
        max_length=32,
        help_text="The person's code, for a referral without a visit.",
    )
    site = serializers.PrimaryKeyRelatedField(
        queryset=Site.objects.all(),
        required=False,
        help_text="Site making a referral without a visit.",
    )
    type = serializers.SlugRelatedField(
        slug_field="code", queryset=ReferralType.objects.all(), help_text="Referral type code."
    )
    partner = serializers.PrimaryKeyRelatedField(
        queryset=Partner.objects.all(), required=False, allow_null=True
    )
    referred_on = serializers.DateField(
        required=False,
        validators=[date_window()],
        help_text="Defaults to the visit's day, or today.",
    )
    follow_up_on = serializers.DateField(
        required=False,
        validators=[date_window(future=FOLLOW_UP_HORIZON)],
        help_text="Defaults to the referral date + SSP_REFERRAL_FOLLOW_UP_DAYS.",
    )
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=300, help_text=PII_WARNING
    )

    def validate(self, attrs):
        # Codes and visits as this person may see them (context "user"): a code seen only
        # at other sites, or merged into one, is unknown, and its survivor never named.
        user = self.context["user"]
        if "visit" in attrs:
            visit = (
                visits_for_user(user)
                .select_related("participant", "site")
                .filter(uuid=attrs["visit"])
                .first()
            )
            if visit is None:
                raise serializers.ValidationError({"visit": [gettext("No visit with this id.")]})
            attrs["visit"] = visit
            if attrs.get("code"):
                person = participant_for_user(attrs["code"], user=user)
                if person is None or person.pk != visit.participant_id:
                    raise serializers.ValidationError(
                        {"code": [gettext("The code does not match the visit's code.")]}
                    )
            attrs.pop("code", None)
            return attrs
        errors = {}
        if not attrs.get("code"):
            errors["code"] = [gettext("Give a visit, or the person's code and a site.")]
        if not attrs.get("site"):
            errors["site"] = [gettext("Give a visit, or the person's code and a site.")]
        if errors:
            raise serializers.ValidationError(errors)
        person = participant_for_user(attrs.pop("code"), user=user)
        if person is None:
            raise serializers.ValidationError({"code": [NO_VISIT_YET]})
        attrs["participant"] = person
        return attrs


class ReferralStatusChangeSerializer(serializers.ModelSerializer):
    changed_by = serializers.CharField(source="changed_by.username", read_only=True)

    class Meta:
        model = ReferralStatusChange
        fields = [
            "id",
            "from_status",
            "to_status",
            "description",
            "linked_on",
            "follow_up_on",
            "note",
            "changed_at",
            "changed_by",
        ]
        read_only_fields = fields


class StatusChangeInputSerializer(serializers.Serializer):
    """A new status. `referred` on an open referral means "asked: not yet" and pushes the
    follow-up date out; on a declined or lost one it reopens the referral."""

    to_status = serializers.ChoiceField(choices=ReferralStatus.choices)
    linked_on = serializers.DateField(
        required=False,
        validators=[date_window()],
        help_text="With `linked`: the day the person started (default today).",
    )
    follow_up_on = serializers.DateField(
        required=False,
        validators=[date_window(future=FOLLOW_UP_HORIZON)],
        help_text="With `referred`: when to ask next (must be after today).",
    )
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=300, help_text=PII_WARNING
    )

    def validate(self, attrs):
        if "linked_on" in attrs and attrs["to_status"] != ReferralStatus.LINKED:
            raise serializers.ValidationError(
                {"linked_on": [gettext("Only a linked referral has a linked date.")]}
            )
        if "follow_up_on" in attrs and attrs["to_status"] != ReferralStatus.REFERRED:
            raise serializers.ValidationError(
                {"follow_up_on": [gettext("A follow-up date only goes with an open referral.")]}
            )
        return attrs


class LinkageQuerySerializer(serializers.Serializer):
    """The period (by referral date) and optional site and type of a linkage summary."""

    start = serializers.DateField(help_text="Referred on or after this day.")
    end = serializers.DateField(help_text="Referred before this day (not included).")
    site = serializers.PrimaryKeyRelatedField(
        queryset=Site.objects.all(), required=False, help_text="Only this site's referrals."
    )
    type = serializers.SlugRelatedField(
        slug_field="code",
        queryset=ReferralType.objects.all(),
        required=False,
        help_text="Only this referral type (code).",
    )

    def validate_site(self, site):
        if not self.context["request"].user.can_access_site(site.pk):
            raise serializers.ValidationError(gettext("You do not have access to this site."))
        return site

    def validate(self, attrs):
        if attrs["end"] <= attrs["start"]:
            raise serializers.ValidationError(
                {"end": [gettext("The end must be after the start.")]}
            )
        return attrs


class LinkageRowSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="key", allow_null=True, help_text="Type or site id.")
    label = serializers.CharField()
    referred = serializers.IntegerField(help_text="Referrals made in the period.")
    linked = serializers.IntegerField(help_text="Of those, linked now (whenever that was).")
    declined = serializers.IntegerField()
    lost = serializers.IntegerField()
    not_needed = serializers.IntegerField()
    open = serializers.IntegerField()
    rate = serializers.FloatField(
        allow_null=True, help_text="linked / referred; null when none were made."
    )


class LinkageSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    by_type = LinkageRowSerializer(many=True)
    by_site = LinkageRowSerializer(many=True)
    total = LinkageRowSerializer()
