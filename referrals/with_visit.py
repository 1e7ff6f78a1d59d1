"""Referrals made in the same save as the visit (the front desk, POST /api/v1/visits/
`referrals`, the offline sync): ssp's extension point, ssp/visit_extras.py.

ssp finds this module by name and never imports it; it hands over what its page or
API read and calls `record_with_visit` inside the visit's transaction, so the visit
and its referrals are saved together or not at all. It also asks `describe_visits`
for the referrals made with visits, which the visit's API answer and page show."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from org.serializers import FieldsBuiltOnce
from ssp.services import VisitError
from ssp.visit_extras import IntakeSection

from . import selectors
from .forms import grouped_type_choices
from .models import Partner, Referral, ReferralStatus, ReferralType
from .services import ReferralError, referral_write

NAME = "referrals"
# Posted by the front desk as parallel lists, one entry per referral row; the offline
# outbox (ssp/static/ssp/outbox.js) turns `extra:<name>:<key>` lists into body[name].
TYPE_FIELD = f"extra:{NAME}:type"
PARTNER_FIELD = f"extra:{NAME}:partner"
# The key that takes the front desk to the first referral (ssp/visit_services.py
# keeps it free of services).
KEY = "F"
# The visit page's list of the referrals made with it.
DETAIL_TEMPLATE = "referrals/_made_with_visit.html"


class VisitReferralSerializer(FieldsBuiltOnce, serializers.Serializer):
    """A referral made at the visit: a type (by code) and, if any, a partner (by id).
    No note: the visit screen takes no free text that could identify the person."""

    type = serializers.SlugRelatedField(
        slug_field="code",
        queryset=ReferralType.objects.filter(is_active=True),
        help_text="A referral type's code, e.g. moud-buprenorphine.",
    )
    partner = serializers.PrimaryKeyRelatedField(
        queryset=Partner.objects.filter(is_active=True),
        required=False,
        allow_null=True,
        help_text="A partner offering the type (optional).",
    )


def api_field():
    return VisitReferralSerializer(
        many=True,
        required=False,
        help_text="Referrals made at the visit, saved with it (all or nothing); the "
        "visit needs a code. The referral's date is the visit's.",
    )


def intake_section(*, user, post=None) -> IntakeSection:
    """The front desk's referral rows: read from the posted form, or empty."""
    types = list(selectors.referral_types(active_only=True))
    partners = list(selectors.partners(active_only=True))
    code_of = {t.pk: t.code for t in types}
    section = IntakeSection(
        name=NAME,
        template="referrals/_with_visit.html",
        context={
            "type_choices": [
                (group, [(code_of[pk], name) for pk, name in members])
                for group, members in grouped_type_choices(types)
            ],
            "partners": partners,
            "type_field": TYPE_FIELD,
            "partner_field": PARTNER_FIELD,
            "key": KEY,
            "rows": [("", "")],
        },
    )
    if post is None:
        return section
    by_code = {t.code: t for t in types}
    by_pk = {str(p.pk): p for p in partners}
    typed = post.getlist(TYPE_FIELD)
    chosen = post.getlist(PARTNER_FIELD)
    rows, value = [], []
    for index, code in enumerate(typed):
        partner_pk = chosen[index] if index < len(chosen) else ""
        rows.append((code, partner_pk))
        if not code:
            if partner_pk:
                section.errors.append(str(_("Choose what the person is referred to.")))
            continue
        if code not in by_code:
            section.errors.append(str(_("Unknown referral type: reload the page.")))
            continue
        if partner_pk and partner_pk not in by_pk:
            section.errors.append(str(_("Unknown partner: reload the page.")))
            continue
        value.append({"type": by_code[code], "partner": by_pk.get(partner_pk)})
    section.context["rows"] = rows or [("", "")]
    section.value = value
    return section


def record_with_visit(*, visit, value, by) -> None:
    """Make each referral at the visit, in the visit's transaction (referral_write is
    not durable); a refused one refuses the visit with the reason."""
    for wanted in value:
        try:
            referral_write(
                referral_type=wanted["type"],
                partner=wanted.get("partner"),
                visit=visit,
                by=by,
            )
        except ReferralError as exc:
            raise VisitError(str(exc), NAME) from exc


# --- What the visit shows: the referrals made with it --------------------------------


class VisitReferralMadeSerializer(FieldsBuiltOnce, serializers.Serializer):
    """A referral made with the visit, in the shape the visit body takes it, and where
    it stands now. No note, as at the front desk."""

    type = serializers.CharField(source="type.code", help_text="The referral type's code.")
    partner = serializers.IntegerField(
        source="partner_id", allow_null=True, help_text="The partner's id, or null."
    )
    status = serializers.ChoiceField(choices=ReferralStatus.choices)


def api_described_field(*, source: str):
    return VisitReferralMadeSerializer(
        many=True,
        read_only=True,
        source=source,
        help_text="Referrals made with the visit (at the visit or later from it), oldest "
        "first, with their status now.",
    )


def describe_visits(visits) -> dict[int, list[Referral]]:
    """The referrals made with each visit, for all of them in one query."""
    made: dict[int, list[Referral]] = {}
    pks = [visit.pk for visit in visits]
    if not pks:
        return made
    found = Referral.objects.filter(visit_id__in=pks).select_related("type", "partner")
    for referral in found.order_by("pk"):
        made.setdefault(referral.visit_id, []).append(referral)
    return made
