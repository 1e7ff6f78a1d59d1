"""API of funder reports: list snapshots, read one (suppressed unless allowed and asked),
request an on-demand report, poll its progress, download its files, the dashboard data."""

import json
from pathlib import Path

from auditlog.signals import accessed
from django.http import FileResponse, Http404
from django.urls import reverse
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from org import api_errors
from org.models import Site
from org.permissions import capability

from .funder_templates import TEMPLATES
from .models import ReportSnapshot
from .periods import PeriodError
from .selectors import (
    may_view_unsuppressed,
    monthly_trends,
    snapshot_rendered,
    snapshots_for_user,
)
from .serializers import (
    ReportDetailSerializer,
    ReportProgressSerializer,
    ReportRequestSerializer,
    ReportSnapshotSerializer,
    ReportTemplateSerializer,
    TrendsSerializer,
)
from .services import ReportRequestError, report_regenerate, report_request

api_errors.domain_error(ReportRequestError, status=400, code="invalid_report_request")
api_errors.domain_error(PeriodError, status=400, code="invalid_period")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class _FileRenderer(BaseRenderer):
    """Lets a client ask for the file type (Accept: text/csv); errors still come as JSON."""

    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return json.dumps(data).encode() if data is not None else b""


class CSVFileRenderer(_FileRenderer):
    media_type = "text/csv"
    format = "csv"


class XLSXFileRenderer(_FileRenderer):
    media_type = XLSX
    format = "xlsx"


class ReportSnapshotViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Funder report snapshots (coordinators and admins: `reports.view_reports`)."""

    queryset = ReportSnapshot.objects.none()  # schema generation only; requests use get_queryset
    serializer_class = ReportSnapshotSerializer
    permission_classes = [IsAuthenticated, capability("reports.view_reports")]
    filterset_fields = ["template", "status", "trigger", "period_start", "period_end"]

    def finalize_response(self, request, response, *args, **kwargs):
        # An error is JSON (the API's error body) even when a CSV or XLSX file was asked
        # for: otherwise it would go out labelled as a spreadsheet.
        renderer = getattr(request, "accepted_renderer", None)
        if response.status_code >= 400 and renderer is not None and renderer.format != "json":
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)

    def get_queryset(self):
        return snapshots_for_user(self.request.user).prefetch_related("sites")

    def _unsuppressed(self, request) -> bool:
        wanted = request.query_params.get("unsuppressed", "").lower() in ("1", "true", "yes")
        if wanted and not may_view_unsuppressed(request.user):
            raise PermissionDenied(gettext("Your role does not allow unsuppressed figures."))
        return wanted

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "unsuppressed",
                OpenApiTypes.BOOL,
                description="Show every value (needs reports.view_unsuppressed).",
            )
        ],
        responses=ReportDetailSerializer,
    )
    def retrieve(self, request, *args, **kwargs):
        snapshot = self.get_object()
        unsuppressed = self._unsuppressed(request)
        accessed.send(snapshot.__class__, instance=snapshot)
        serializer = ReportDetailSerializer(
            snapshot,
            context={
                **self.get_serializer_context(),
                "unsuppressed": unsuppressed,
                "rendered": snapshot_rendered(snapshot, unsuppressed=unsuppressed),
            },
        )
        return Response(serializer.data)

    @extend_schema(
        request=ReportRequestSerializer,
        responses={202: OpenApiResponse(ReportSnapshotSerializer, description="Queued.")},
    )
    def create(self, request):
        serializer = ReportRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        snapshot = report_request(
            template=data["template"],
            period=data["resolved_period"],
            by=request.user,
            site_ids=data.get("site_ids") or None,
            threshold=data.get("threshold"),
        )
        return self._accepted(snapshot)

    def _accepted(self, snapshot):
        body = ReportSnapshotSerializer(snapshot, context=self.get_serializer_context()).data
        progress = reverse("report-progress", args=[snapshot.pk])
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": progress})

    @extend_schema(responses=ReportProgressSerializer)
    @action(detail=True)
    def progress(self, request, pk=None):
        """Status and percentage of a report being built; file paths once ready."""
        return Response(ReportProgressSerializer(self.get_object()).data)

    @extend_schema(
        request=None,
        responses={202: OpenApiResponse(ReportSnapshotSerializer, description="Queued.")},
    )
    @action(detail=True, methods=["post"])
    def regenerate(self, request, pk=None):
        """Build the same report again as the next version; earlier versions stay."""
        return self._accepted(report_regenerate(snapshot=self.get_object(), by=request.user))

    @extend_schema(
        parameters=[
            OpenApiParameter("fmt", OpenApiTypes.STR, OpenApiParameter.PATH, enum=["csv", "xlsx"])
        ],
        responses={
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, XLSX): OpenApiTypes.BINARY,
        },
    )
    @action(
        detail=True,
        url_path="files/(?P<fmt>csv|xlsx)",
        url_name="files",
        renderer_classes=[JSONRenderer, CSVFileRenderer, XLSXFileRenderer],
    )
    def files(self, request, pk=None, fmt=None):
        """The published (suppressed) CSV or XLSX file of a ready report."""
        snapshot = self.get_object()
        field = snapshot.csv_file if fmt == "csv" else snapshot.xlsx_file
        if not snapshot.is_ready or not field:
            raise Http404("The report is not ready yet.")
        accessed.send(snapshot.__class__, instance=snapshot)
        return FileResponse(field.open("rb"), as_attachment=True, filename=Path(field.name).name)

    @extend_schema(responses=ReportTemplateSerializer(many=True))
    @action(detail=False, pagination_class=None, filterset_fields=None)
    def templates(self, request):
        """The funder templates a report can be built with."""
        return Response(
            ReportTemplateSerializer(
                [
                    {
                        "key": t.key,
                        "name": t.name,
                        "description": t.description,
                        "sections": [s.title for s in t.sections],
                    }
                    for t in TEMPLATES.values()
                ],
                many=True,
            ).data
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("months", OpenApiTypes.INT, description="3 to 36 (default 12)."),
            OpenApiParameter(
                "site", OpenApiTypes.INT, many=True, description="Site ids (default: all yours)."
            ),
            OpenApiParameter(
                "unsuppressed",
                OpenApiTypes.BOOL,
                description="Every value (needs reports.view_unsuppressed).",
            ),
        ],
        responses=TrendsSerializer,
    )
    @action(detail=False, pagination_class=None, filterset_fields=None)
    def trends(self, request):
        """Monthly trends of the dashboard, per site and in total."""
        allowed = request.user.accessible_site_ids()
        try:
            months = min(max(int(request.query_params.get("months", 12)), 3), 36)
            wanted = {int(pk) for pk in request.query_params.getlist("site")}
        except ValueError:
            return Response(
                {
                    "detail": gettext("months and site are whole numbers."),
                    "code": "invalid",
                    "errors": {},
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        if wanted - allowed:
            raise Http404("Unknown site.")
        site_ids = sorted(wanted or allowed)
        if not Site.objects.filter(pk__in=site_ids).exists():
            site_ids = []
        trends = monthly_trends(
            site_ids=site_ids, months=months, suppressed=not self._unsuppressed(request)
        )
        return Response(TrendsSerializer(trends).data)
