from rest_framework.routers import SimpleRouter

from .api import SiteViewSet, TokenViewSet

router = SimpleRouter()
router.include_format_suffixes = False
router.register("sites", SiteViewSet, basename="site")
router.register("tokens", TokenViewSet, basename="token")

urlpatterns = router.urls
