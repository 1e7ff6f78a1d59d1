"""Survey API: definitions (/api/v1/surveys/), offers at visits and their answers
(/api/v1/survey-offers/). Answers are write-only: nothing reads a response back; the
totals are published through the reports (suppressed)."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import SAFE_METHODS, IsAuthenticated
from rest_framework.response import Response

from org import api_errors
from org.permissions import capability

from . import selectors
from . import survey_selectors as survey_reads
from .models import Survey, VisitSurveyOffer
from .survey_serializers import (
    SurveyAnswersSerializer,
    SurveyOfferCreateSerializer,
    SurveyOfferSerializer,
    SurveySerializer,
)
from .survey_services import (
    SurveyAlreadyOffered,
    SurveyError,
    survey_answers_record,
    survey_offer_record,
    survey_save,
)

api_errors.domain_error(SurveyAlreadyOffered, status=409, code="survey_already_offered")
api_errors.domain_error(SurveyError, status=400, code="invalid_survey")


class SurveyViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Survey definitions: everyone signed in reads them, `manage_surveys` changes them."""

    queryset = Survey.objects.none()  # schema generation only
    serializer_class = SurveySerializer

    def get_permissions(self):
        if self.request.method in SAFE_METHODS:
            return [IsAuthenticated()]
        return [IsAuthenticated(), capability("ssp.manage_surveys")()]

    def get_queryset(self):
        return survey_reads.surveys()

    def perform_create(self, serializer):
        serializer.instance = survey_save(by=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        survey = serializer.instance
        # A PATCH changes only what it names; the rest stays as stored.
        data = {
            "name": survey.name,
            "questions": survey.questions,
            "zip3_areas": survey.zip3_areas,
            "period": survey.period,
            "active_from": survey.active_from,
            "active_until": survey.active_until,
            **serializer.validated_data,
        }
        serializer.instance = survey_save(survey=survey, by=self.request.user, **data)


class SurveyOfferViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Offers of a survey at visits of the caller's sites, and their answers."""

    queryset = VisitSurveyOffer.objects.none()  # schema generation only
    serializer_class = SurveyOfferSerializer
    permission_classes = [IsAuthenticated, capability("ssp.log_visit")]
    lookup_field = "uuid"

    def get_queryset(self):
        return VisitSurveyOffer.objects.filter(
            visit__in=selectors.visits_for_user(self.request.user)
        ).select_related("visit")

    @extend_schema(request=SurveyOfferCreateSerializer, responses={201: SurveyOfferSerializer})
    def create(self, request):
        given = SurveyOfferCreateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        visit = selectors.visit_for_user(user=request.user, uuid=data["visit"])
        if visit is None:
            raise ValidationError({"visit": ["No such visit at your sites."]})
        offer = survey_offer_record(
            visit=visit,
            survey=data["survey"],
            outcome=data["outcome"],
            answers=data.get("answers"),
            by=request.user,
        )
        return Response(SurveyOfferSerializer(offer).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=SurveyAnswersSerializer, responses={204: None})
    @action(detail=True, methods=["post"])
    def answers(self, request, uuid=None):
        """The answers of an accepted offer. Answers nothing back: no id of the stored
        response exists outside the database."""
        offer = self.get_object()
        given = SurveyAnswersSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        survey_answers_record(offer=offer, answers=given.validated_data["answers"], by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
