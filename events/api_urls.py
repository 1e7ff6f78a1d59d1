from rest_framework.routers import SimpleRouter

from .api import ProgramEventViewSet

router = SimpleRouter()
router.register("", ProgramEventViewSet, basename="event")

urlpatterns = router.urls
