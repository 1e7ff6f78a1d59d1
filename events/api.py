"""Program events API (/api/v1/events/): thin views over events.services and selectors."""

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS, IsAuthenticated
from rest_framework.response import Response

from org import api_errors
from org.api_query import IdFilter
from org.permissions import capability

from . import selectors, services
from .models import EventKind, ProgramEvent
from .serializers import (
    ProgramEventCorrectSerializer,
    ProgramEventCreateSerializer,
    ProgramEventSerializer,
    ProgramEventVoidSerializer,
)

api_errors.domain_error(services.EventError, status=400, code="invalid_event")
api_errors.domain_error(services.EventNotAllowed, status=403, code="not_allowed")


class ProgramEventFilter(django_filters.FilterSet):
    site = IdFilter(field_name="site_id")
    kind = django_filters.ChoiceFilter(choices=EventKind.choices)
    occurred_from = django_filters.DateFilter(field_name="occurred_on", lookup_expr="gte")
    occurred_to = django_filters.DateFilter(field_name="occurred_on", lookup_expr="lte")
    include_void = django_filters.BooleanFilter(
        method="filter_void", help_text="Also list voided events."
    )

    class Meta:
        model = ProgramEvent
        fields = ["site", "kind"]

    def filter_void(self, queryset, name, value):
        return queryset


class ProgramEventViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Clean-ups, needle-stick injuries and emptied sharps kiosks or bins at your sites:
    record (kind-specific fields), read, correct, void."""

    queryset = ProgramEvent.objects.none()  # schema generation only
    serializer_class = ProgramEventSerializer
    filterset_class = ProgramEventFilter
    lookup_field = "uuid"
    lookup_value_regex = "[0-9a-fA-F-]{36}"

    def get_permissions(self):
        if self.request.method in SAFE_METHODS:
            return [IsAuthenticated(), capability("events.view_events")()]
        return [IsAuthenticated(), capability("events.record_events")()]

    def get_queryset(self):
        return selectors.events_for_user(user=self.request.user).order_by("-occurred_on", "-pk")

    def filter_queryset(self, queryset):
        # Filters (and hiding voids) are for the list; an event is always readable by id.
        if self.action != "list":
            return queryset
        queryset = super().filter_queryset(queryset)
        if self.request.query_params.get("include_void") not in ("true", "True", "1"):
            queryset = queryset.filter(voided_at__isnull=True)
        return queryset

    def _read(self, event: ProgramEvent) -> dict:
        return ProgramEventSerializer(self.get_queryset().get(pk=event.pk)).data

    @extend_schema(request=ProgramEventCreateSerializer, responses={201: ProgramEventSerializer})
    def create(self, request, *args, **kwargs):
        data = ProgramEventCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        event = services.event_record(by=request.user, **data.validated_data)
        return Response(self._read(event), status=status.HTTP_201_CREATED)

    @extend_schema(request=ProgramEventCorrectSerializer, responses=ProgramEventSerializer)
    def partial_update(self, request, *args, **kwargs):
        """Correct an event: its recorder within SSP_VISIT_EDIT_HOURS, a manager any time."""
        event = self.get_object()
        data = ProgramEventCorrectSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.event_correct(event=event, by=request.user, **data.validated_data)
        return Response(self._read(event))

    @extend_schema(request=ProgramEventVoidSerializer, responses=ProgramEventSerializer)
    @action(detail=True, methods=["post"])
    def void(self, request, *args, **kwargs):
        """Void an event with a reason: the record stays and leaves the figures."""
        event = self.get_object()
        data = ProgramEventVoidSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.event_void(event=event, by=request.user, reason=data.validated_data["reason"])
        return Response(self._read(event))
