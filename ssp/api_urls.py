from rest_framework.routers import DefaultRouter

from .api import ParticipantViewSet, VisitViewSet

# No ".json" suffix routes: the API speaks JSON only, and actions need not take `format`.
router = DefaultRouter()
router.include_format_suffixes = False
router.register("visits", VisitViewSet, basename="visit")
router.register("participants", ParticipantViewSet, basename="participant")

urlpatterns = router.urls
