from django.urls import path
from rest_framework.routers import SimpleRouter

from .api import AccountView, AuditViewSet, SiteViewSet, TokenViewSet

router = SimpleRouter()
router.include_format_suffixes = False
router.register("sites", SiteViewSet, basename="site")
router.register("tokens", TokenViewSet, basename="token")
router.register("audit", AuditViewSet, basename="audit")

urlpatterns = [path("account/", AccountView.as_view(), name="api-account"), *router.urls]
