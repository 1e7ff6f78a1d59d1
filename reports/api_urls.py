from rest_framework.routers import SimpleRouter

from .api import ReportSnapshotViewSet

router = SimpleRouter()
router.include_format_suffixes = False
router.register("", ReportSnapshotViewSet, basename="report")

urlpatterns = router.urls
