from rest_framework.routers import SimpleRouter

from .api import SiteViewSet

router = SimpleRouter()
router.include_format_suffixes = False
router.register("sites", SiteViewSet, basename="site")

urlpatterns = router.urls
