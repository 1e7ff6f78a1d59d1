"""Serializers of the survey API: definitions, offers, and write-only answers."""

from datetime import timedelta

from rest_framework import serializers

from org.validators import date_window

from .models import OfferOutcome, Survey, SurveyPeriod, VisitSurveyOffer
from .survey_bank import BANK

# A survey may be planned ahead, not for the next century.
SURVEY_HORIZON = timedelta(days=3 * 366)


class SurveySerializer(serializers.ModelSerializer):
    questions = serializers.ListField(
        child=serializers.ChoiceField(choices=list(BANK)),
        allow_empty=False,
        help_text="Question codes of the fixed bank, asked in the bank's order.",
    )
    zip3_areas = serializers.ListField(
        child=serializers.RegexField(r"^[0-9]{3}$", max_length=3),
        required=False,
        help_text="The three-digit areas the ZIP3 question offers.",
    )
    period = serializers.ChoiceField(choices=SurveyPeriod.choices)
    active_from = serializers.DateField(validators=[date_window(future=SURVEY_HORIZON)])
    active_until = serializers.DateField(
        required=False,
        allow_null=True,
        validators=[date_window(future=SURVEY_HORIZON)],
        help_text="Leave empty to keep offering it.",
    )

    class Meta:
        model = Survey
        fields = ["id", "name", "questions", "zip3_areas", "period", "active_from", "active_until"]


class SurveyOfferSerializer(serializers.ModelSerializer):
    visit = serializers.UUIDField(source="visit.uuid", read_only=True)
    survey = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = VisitSurveyOffer
        fields = ["uuid", "visit", "survey", "period_start", "outcome"]
        read_only_fields = fields


class AnswersField(serializers.DictField):
    """{question code: answer code, or a list of them for a multiple-choice question}.
    The service checks them against the survey."""

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "help_text", "Question code → answer code (a list for multiple-choice questions)."
        )
        super().__init__(child=serializers.JSONField(), **kwargs)


class SurveyOfferCreateSerializer(serializers.Serializer):
    visit = serializers.UUIDField(help_text="The visit at which the survey was offered.")
    survey = serializers.PrimaryKeyRelatedField(queryset=Survey.objects.all())
    outcome = serializers.ChoiceField(choices=OfferOutcome.choices)
    answers = AnswersField(
        required=False, help_text="With outcome “answered” only: the answers, stored unlinked."
    )


class SurveyAnswersSerializer(serializers.Serializer):
    answers = AnswersField()
