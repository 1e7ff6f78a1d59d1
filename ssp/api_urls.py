from rest_framework.routers import DefaultRouter

from .api import ParticipantViewSet, SiteViewSet, VisitViewSet
from .reports.api import ReportSnapshotViewSet

# No ".json" suffix routes: the API speaks JSON only, and actions need not take `format`.
router = DefaultRouter()
router.include_format_suffixes = False
router.register("sites", SiteViewSet, basename="site")
router.register("visits", VisitViewSet, basename="visit")
router.register("participants", ParticipantViewSet, basename="participant")
router.register("reports", ReportSnapshotViewSet, basename="report")

urlpatterns = router.urls
