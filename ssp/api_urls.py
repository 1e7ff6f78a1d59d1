from django.urls import path
from rest_framework.routers import DefaultRouter

from .api import ParticipantViewSet, VisitViewSet
from .api_sync import VisitSyncView

# No ".json" suffix routes: the API speaks JSON only, and actions need not take `format`.
router = DefaultRouter()
router.include_format_suffixes = False
router.register("visits", VisitViewSet, basename="visit")
router.register("participants", ParticipantViewSet, basename="participant")

urlpatterns = [path("sync/", VisitSyncView.as_view(), name="sync"), *router.urls]
