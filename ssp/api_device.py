"""What the offline app keeps on a phone: today's catalog and the codes seen at the
person's own sites (codes only). Read when online; the phone wipes them at logout."""

from datetime import UTC, datetime

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from inventory.models import Location
from org.middleware import SESSION_STARTED_KEY
from org.permissions import capability
from org.selectors import recording_sites_for_user

from .selectors import all_supplies, device_codes
from .serializers import DeviceCatalogSerializer, DeviceCodesSerializer
from .throttles import LookupThrottle

CanLogVisits = capability("ssp.log_visit")


def _session_ends_at(request) -> datetime | None:
    started = request.session.get(SESSION_STARTED_KEY) if hasattr(request, "session") else None
    if started is None:
        return None  # an API token: no browser session to end
    return datetime.fromtimestamp(started + settings.SESSION_ABSOLUTE_SECONDS, tz=UTC)


class DeviceCatalogView(APIView):
    """Today's catalog for the offline front desk: the sites you may record at with their
    stock locations, and the kits and items that may be handed out."""

    permission_classes = [IsAuthenticated, CanLogVisits]

    @extend_schema(responses=DeviceCatalogSerializer)
    def get(self, request):
        sites = list(recording_sites_for_user(request.user).order_by("name"))
        locations: dict[int, list[dict]] = {}
        for location in Location.objects.filter(site__in=sites, is_active=True).order_by("pk"):
            locations.setdefault(location.site_id, []).append(
                {"id": location.pk, "name": location.name}
            )
        supplies = all_supplies()
        catalog = {
            "sites": [
                {"id": s.pk, "code": s.code, "name": s.name, "locations": locations.get(s.pk, [])}
                for s in sites
            ],
            "kits": [{"id": k.pk, "code": k.code, "name": k.name} for k in supplies["kits"]],
            "items": [{"id": i.pk, "code": i.code, "name": i.name} for i in supplies["items"]],
            "session_ends_at": _session_ends_at(request),
        }
        return Response(DeviceCatalogSerializer(catalog).data)


class DeviceCodesView(APIView):
    """The codes with a visit at your own sites in the last SSP_DEVICE_CODES_DAYS days,
    for near-match suggestions without a connection. Codes only: no dates, no visits.
    Counts as one code look-up (SSP_LOOKUP_RATE)."""

    permission_classes = [IsAuthenticated, CanLogVisits]
    throttle_classes = [LookupThrottle]

    @extend_schema(responses=DeviceCodesSerializer)
    def get(self, request):
        days = settings.SSP_DEVICE_CODES_DAYS
        codes = device_codes(user=request.user, days=days)
        return Response(DeviceCodesSerializer({"codes": codes, "days": days}).data)
