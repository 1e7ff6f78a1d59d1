from django.urls import path
from rest_framework.routers import DefaultRouter

from .api import ParticipantViewSet, VisitViewSet
from .api_device import DeviceCatalogView, DeviceCodesView
from .api_sync import VisitSyncView
from .survey_api import SurveyOfferViewSet, SurveyViewSet

# No ".json" suffix routes: the API speaks JSON only, and actions need not take `format`.
router = DefaultRouter()
router.include_format_suffixes = False
router.register("visits", VisitViewSet, basename="visit")
router.register("participants", ParticipantViewSet, basename="participant")
router.register("surveys", SurveyViewSet, basename="survey")
router.register("survey-offers", SurveyOfferViewSet, basename="survey-offer")

urlpatterns = [
    path("sync/", VisitSyncView.as_view(), name="sync"),
    path("device/catalog/", DeviceCatalogView.as_view(), name="device-catalog"),
    path("device/codes/", DeviceCodesView.as_view(), name="device-codes"),
    *router.urls,
]
