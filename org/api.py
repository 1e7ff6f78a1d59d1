"""The ground floor's API: the sites a person works at."""

from rest_framework import viewsets

from .models import Site
from .selectors import sites_for_user
from .serializers import SiteSerializer


class SiteViewSet(viewsets.ReadOnlyModelViewSet):
    """Sites the signed-in person belongs to (every site for program-wide roles)."""

    queryset = Site.objects.none()  # schema generation only; requests use get_queryset
    serializer_class = SiteSerializer
    filterset_fields = ["service_model", "is_active"]

    def get_queryset(self):
        return sites_for_user(self.request.user)
