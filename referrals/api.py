"""Referrals API (/api/v1/referrals/): thin views over referrals.services and selectors."""

import django_filters
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS, IsAuthenticated
from rest_framework.response import Response

from org import api_errors
from org.permissions import capability
from ssp.selectors import participant_for_user

from . import selectors, services
from .models import Partner, Referral, ReferralGroup, ReferralStatus, ReferralType
from .serializers import (
    LinkageQuerySerializer,
    LinkageSerializer,
    PartnerSerializer,
    ReferralCreateSerializer,
    ReferralSerializer,
    ReferralStatusChangeSerializer,
    ReferralTypeSerializer,
    StatusChangeInputSerializer,
)

api_errors.domain_error(services.ReferralError, status=400, code="invalid_referral")
api_errors.domain_error(services.ReferralGone, status=404, code="not_found")

CanRecordReferrals = capability("ssp.log_visit") | capability("referrals.manage_referrals")


class ManagedListViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Everyone signed in reads the list; `manage_referrals` changes it. Nothing is
    deleted (history points at it): deactivate instead."""

    def get_permissions(self):
        if self.request.method in SAFE_METHODS:
            return [IsAuthenticated()]
        return [IsAuthenticated(), capability("referrals.manage_referrals")()]


class ReferralTypeFilter(django_filters.FilterSet):
    group = django_filters.ChoiceFilter(choices=ReferralGroup.choices)

    class Meta:
        model = ReferralType
        fields = ["group", "is_active"]


class ReferralTypeViewSet(ManagedListViewSet):
    """Referral types (the managed list), grouped treatment / testing / care / social."""

    queryset = ReferralType.objects.none()  # schema generation only
    serializer_class = ReferralTypeSerializer
    filterset_class = ReferralTypeFilter

    def get_queryset(self):
        return selectors.referral_types()

    def perform_create(self, serializer):
        serializer.instance = services.referral_type_save(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.referral_type_save(
            referral_type=serializer.instance, **serializer.validated_data
        )


class PartnerFilter(django_filters.FilterSet):
    type = django_filters.CharFilter(
        field_name="types__code", label="Only partners accepting this referral type code"
    )

    class Meta:
        model = Partner
        fields = ["type", "is_active"]


class PartnerViewSet(ManagedListViewSet):
    """Partner organisations and the referral types they accept."""

    queryset = Partner.objects.none()  # schema generation only
    serializer_class = PartnerSerializer
    filterset_class = PartnerFilter

    def get_queryset(self):
        return selectors.partners().distinct()

    def perform_create(self, serializer):
        serializer.instance = services.partner_save(**serializer.validated_data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        types = data.pop("types", None)
        if types is None:
            types = list(serializer.instance.types.all())
        serializer.instance = services.partner_save(
            partner=serializer.instance, types=types, **data
        )


class ReferralFilter(django_filters.FilterSet):
    type = django_filters.CharFilter(field_name="type__code", label="Referral type code")
    status = django_filters.ChoiceFilter(choices=ReferralStatus.choices)
    referred_from = django_filters.DateFilter(
        field_name="referred_on", lookup_expr="gte", label="Referred on or after"
    )
    referred_before = django_filters.DateFilter(
        field_name="referred_on", lookup_expr="lt", label="Referred before"
    )
    due = django_filters.BooleanFilter(
        method="filter_due", label="Open with the follow-up date today or earlier"
    )
    code = django_filters.CharFilter(
        method="filter_code", label="Participant code (follows merges)"
    )

    class Meta:
        model = Referral
        fields = ["site", "type", "status", "referred_from", "referred_before", "due", "code"]

    def filter_due(self, queryset, name, value):
        due = {"status": ReferralStatus.REFERRED, "follow_up_on__lte": timezone.localdate()}
        return queryset.filter(**due) if value else queryset.exclude(**due)

    def filter_code(self, queryset, name, value):
        person = participant_for_user(value, user=self.request.user)
        return queryset.filter(participant=person) if person else queryset.none()


@extend_schema_view(
    create=extend_schema(request=ReferralCreateSerializer, responses={201: ReferralSerializer}),
)
class ReferralViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Referrals at the sites the signed-in person may see. Make one at a visit (or for a
    code), then record what happened through its status changes."""

    queryset = Referral.objects.none()  # schema generation only; requests use get_queryset
    serializer_class = ReferralSerializer
    filterset_class = ReferralFilter
    lookup_value_regex = r"\d+"  # so /types/ and /partners/ are not read as an id

    def get_permissions(self):
        if self.request.method in SAFE_METHODS:
            return [IsAuthenticated()]
        return [IsAuthenticated(), CanRecordReferrals()]

    def get_queryset(self):
        return selectors.referrals_for_user(self.request.user).order_by("-referred_on", "-pk")

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "today": timezone.localdate()}

    def create(self, request, *args, **kwargs):
        data = ReferralCreateSerializer(data=request.data, context={"user": request.user})
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        referral = services.referral_create(
            referral_type=fields.pop("type"), by=request.user, **fields
        )
        referral = self.get_queryset().get(pk=referral.pk)
        return Response(
            ReferralSerializer(referral, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        methods=["GET"],
        responses=ReferralStatusChangeSerializer(many=True),
        summary="History of a referral",
    )
    @extend_schema(
        methods=["POST"],
        request=StatusChangeInputSerializer,
        responses={201: ReferralStatusChangeSerializer},
        summary="Record a status change",
        description="linked (with linked_on), declined, lost, not_needed; `referred` on an "
        "open referral is 'asked: not yet' (pushes follow_up_on out), on a declined or lost "
        "one reopens it. Illegal transitions answer 400 and change nothing.",
    )
    @action(detail=True, methods=["get", "post"], url_path="status-changes", pagination_class=None)
    def status_changes(self, request, pk=None):
        referral = self.get_object()
        if request.method == "GET":
            history = selectors.history_for_referral(referral)
            return Response(ReferralStatusChangeSerializer(history, many=True).data)
        data = StatusChangeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.referral_change_status(referral=referral, by=request.user, **data.validated_data)
        change = selectors.history_for_referral(referral).last()
        return Response(ReferralStatusChangeSerializer(change).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[LinkageQuerySerializer],
        responses=LinkageSerializer,
        summary="Linkage rate by type and by site",
        description="The referrals made in [start, end) at the sites you may see: how many "
        "were made, how many are linked now (whenever that happened), declined, lost, no "
        "longer needed or still open; rate = linked / referred. By type, by site and in total.",
    )
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def linkage(self, request):
        query = LinkageQuerySerializer(data=request.query_params, context={"request": request})
        query.is_valid(raise_exception=True)
        period = query.validated_data
        summary = selectors.linkage_summary(
            user=request.user,
            start=period["start"],
            end=period["end"],
            site_id=period["site"].pk if "site" in period else None,
            type_id=period["type"].pk if "type" in period else None,
        )
        return Response(
            LinkageSerializer(
                {
                    "start": period["start"],
                    "end": period["end"],
                    "by_type": summary.by_type,
                    "by_site": summary.by_site,
                    "total": summary.total,
                }
            ).data
        )
