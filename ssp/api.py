"""The intake API: visits and participants. Thin views over ssp.services and
ssp.selectors; domain errors become the one error body of org.api_errors."""

import django_filters
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from org import api_errors
from org.api_query import IdFilter
from org.models import ServiceModel
from org.permissions import capability

from .codes import CodeError, build_code, normalise
from .models import Participant, Visit
from .selectors import (
    code_lookup,
    participant_by_code,
    participant_for_user,
    participants_by_prefix,
    visit_list,
)
from .serializers import (
    BuildCodeSerializer,
    BuiltCodeSerializer,
    CodeLookupSerializer,
    MergeResultSerializer,
    MergeSerializer,
    ParticipantSerializer,
    VisitCorrectSerializer,
    VisitCreateSerializer,
    VisitRecordedSerializer,
    VisitSerializer,
    VisitVoidSerializer,
    service_pairs,
    to_dispense_lines,
    visit_record_arguments,
)
from .services import (
    LargeQuantityNotConfirmed,
    MergeError,
    NewPersonNotConfirmed,
    VisitConflict,
    VisitError,
    VisitNotAllowed,
    participant_merge,
    visit_correct,
    visit_record,
    visit_void,
)
from .throttles import LookupThrottle

api_errors.domain_error(VisitError, status=400, code="invalid_visit")
api_errors.domain_error(VisitNotAllowed, status=403, code="not_allowed")
api_errors.domain_error(VisitConflict, status=409, code="conflict")
api_errors.domain_error(LargeQuantityNotConfirmed, status=400, code="confirm_large_quantity")
api_errors.domain_error(NewPersonNotConfirmed, status=400, code="confirm_new_person")
api_errors.domain_error(MergeError, status=400, code="invalid_merge")
api_errors.domain_error(CodeError, status=400, code="invalid_code")

CanLogVisits = capability("ssp.log_visit")


class VisitFilter(django_filters.FilterSet):
    site = IdFilter(field_name="site_id")
    code = django_filters.CharFilter(method="filter_code", help_text="Participant code.")
    occurred_from = django_filters.DateFilter(field_name="occurred_at", lookup_expr="date__gte")
    occurred_to = django_filters.DateFilter(field_name="occurred_at", lookup_expr="date__lte")
    service_model = django_filters.ChoiceFilter(choices=ServiceModel.choices)
    anonymous = django_filters.BooleanFilter(field_name="participant", lookup_expr="isnull")
    bulk = django_filters.BooleanFilter(method="filter_bulk", help_text="Street shifts only.")
    include_void = django_filters.BooleanFilter(
        method="filter_nothing", help_text="Also list voided visits."
    )
    mine = django_filters.BooleanFilter(method="filter_mine", help_text="Logged by me.")

    class Meta:
        model = Visit
        fields = ["site", "service_model"]

    def filter_code(self, queryset, name, value):
        participant = participant_for_user(value, user=self.request.user)
        return queryset.filter(participant=participant) if participant else queryset.none()

    def filter_bulk(self, queryset, name, value):
        return queryset.filter(contacts__gt=1) if value else queryset.filter(contacts=1)

    def filter_mine(self, queryset, name, value):
        return queryset.filter(recorded_by=self.request.user) if value else queryset

    def filter_nothing(self, queryset, name, value):
        return queryset  # read in get_queryset: voids are hidden unless asked for

    @property
    def qs(self):
        queryset = super().qs
        if not self.form.cleaned_data.get("include_void"):
            queryset = queryset.filter(voided_at__isnull=True)
        return queryset


class VisitViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Visits at your sites: log (idempotent by client_uuid), read, correct, void."""

    queryset = Visit.objects.none()  # schema generation only; requests use get_queryset
    serializer_class = VisitSerializer
    permission_classes = [IsAuthenticated, CanLogVisits]
    filterset_class = VisitFilter
    lookup_field = "uuid"
    lookup_value_regex = "[0-9a-fA-F-]{36}"

    def get_queryset(self):
        return visit_list(user=self.request.user, include_void=True).order_by("-occurred_at", "-pk")

    def filter_queryset(self, queryset):
        # Filters (and hiding voids) are for the list; a visit is always readable by uuid.
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)

    def _read(self, visit: Visit) -> dict:
        return VisitSerializer(self.get_queryset().get(pk=visit.pk)).data

    @extend_schema(
        request=VisitCreateSerializer,
        responses={
            201: VisitRecordedSerializer,
            200: OpenApiResponse(
                VisitRecordedSerializer, description="A retry: the visit already logged."
            ),
        },
    )
    def create(self, request, *args, **kwargs):
        data = VisitCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        visit, created = visit_record(
            by=request.user, **visit_record_arguments(data.validated_data)
        )
        # A new visit is answered from what was just written, without reading it back;
        # `notice` is the shortfall notice (supplies the books did not hold), or null.
        if not created:
            return Response({**self._read(visit), "notice": visit.stock_notice})
        answer = {**VisitSerializer(visit).data, "notice": visit.stock_notice}
        return Response(answer, status=status.HTTP_201_CREATED)

    @extend_schema(request=VisitCorrectSerializer, responses=VisitSerializer)
    def partial_update(self, request, *args, **kwargs):
        """Correct a visit: the author within SSP_VISIT_EDIT_HOURS, a manager any time."""
        visit = self.get_object()
        data = VisitCorrectSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        if "supplies" in fields:
            fields["lines"] = to_dispense_lines(fields.pop("supplies"))
        if "services" in fields:
            fields["services"] = service_pairs(fields["services"])
        visit_correct(visit=visit, by=request.user, **fields)
        return Response(self._read(visit))

    @extend_schema(request=VisitVoidSerializer, responses=VisitSerializer)
    @action(detail=True, methods=["post"])
    def void(self, request, *args, **kwargs):
        """Void a visit with a reason: the record stays, its stock goes back."""
        visit = self.get_object()
        data = VisitVoidSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        visit_void(visit=visit, by=request.user, reason=data.validated_data["reason"])
        return Response(self._read(visit))


LOOKUP_LIMITED = OpenApiResponse(
    description="Too many code look-ups (SSP_LOOKUP_RATE); Retry-After says when to try again."
)


class ParticipantViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Participant codes: look up by code or prefix (with near-match suggestions),
    build a code from its parts, merge two codes (managers). Look-ups are limited per
    person (SSP_LOOKUP_RATE) and show only codes seen at the person's sites."""

    queryset = Participant.objects.none()  # schema generation only
    serializer_class = ParticipantSerializer
    permission_classes = [IsAuthenticated, CanLogVisits]
    # Every action here answers "does this code exist?": one budget for them all.
    throttle_classes = [LookupThrottle]
    lookup_field = "code"
    # Any spelling intake accepts (dashes, spaces, lower case); participant_for_user reads it.
    lookup_value_regex = "[^/]{1,40}"

    def throttled(self, request, wait):
        raise Throttled(
            wait=wait,
            detail=_("Too many code look-ups in a short time; wait a moment and try again."),
        )

    def get_object(self):
        participant = participant_for_user(self.kwargs["code"], user=self.request.user)
        if participant is None:
            raise Http404
        return participant

    @extend_schema(
        responses={
            200: ParticipantSerializer,
            404: OpenApiResponse(description="No such code at your sites."),
            429: LOOKUP_LIMITED,
        }
    )
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        parameters=[
            OpenApiParameter("code", OpenApiTypes.STR, description="A whole code or its start."),
        ],
        responses={200: CodeLookupSerializer, 429: LOOKUP_LIMITED},
    )
    @action(detail=False, methods=["get"])
    def lookup(self, request):
        """What the front desk learns from a typed code: the person (last visit at your
        sites, usual supplies); for a code seen only at other sites, only that it exists
        (known_elsewhere); for an unknown code, codes one edit away and codes starting
        with it, among those seen at your sites."""
        typed = request.query_params.get("code", "")[:40]
        result = code_lookup(typed, user=request.user)
        result.prefix_matches = (
            [p.code for p in participants_by_prefix(typed, user=request.user)]
            if result.participant is None and not result.known_elsewhere
            else []
        )
        return Response(CodeLookupSerializer(result).data)

    @extend_schema(
        request=BuildCodeSerializer, responses={200: BuiltCodeSerializer, 429: LOOKUP_LIMITED}
    )
    @action(detail=False, methods=["post"], url_path="build-code")
    def build_code(self, request):
        """Build the code from the parts of the program's recipe. Nothing is stored."""
        data = BuildCodeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        code = build_code(data.validated_data["parts"])
        return Response({"code": code, "known": participant_by_code(code) is not None})

    @extend_schema(
        request=MergeSerializer, responses={201: MergeResultSerializer, 429: LOOKUP_LIMITED}
    )
    @action(
        detail=False,
        methods=["post"],
        permission_classes=[IsAuthenticated, capability("ssp.merge_participants")],
    )
    def merge(self, request):
        """Merge a duplicate code into the one kept: visits and referrals move."""
        data = MergeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        found = {}
        for field in ("merged", "kept"):
            typed = data.validated_data[field]
            # A code seen only at other sites (or merged into one) is unknown here: the
            # answer must not name the code it became.
            found[field] = participant_for_user(typed, user=request.user)
            if found[field] is None:
                raise ValidationError(
                    {
                        field: [
                            _("Unknown code %(code)s at your sites.") % {"code": normalise(typed)}
                        ]
                    }
                )
        merge = participant_merge(
            merged=found["merged"],
            kept=found["kept"],
            by=request.user,
            reason=data.validated_data.get("reason", ""),
        )
        return Response(MergeResultSerializer(merge).data, status=status.HTTP_201_CREATED)
