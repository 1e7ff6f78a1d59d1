from rest_framework.routers import SimpleRouter

from .api import PartnerViewSet, ReferralTypeViewSet, ReferralViewSet

# /api/v1/referrals/ is the referrals collection itself; types and partners sit beside it.
router = SimpleRouter()
router.register("types", ReferralTypeViewSet, basename="referral-type")
router.register("partners", PartnerViewSet, basename="referral-partner")
router.register("", ReferralViewSet, basename="referral")

urlpatterns = router.urls
