"""Forms of the periodic anonymous survey: choices only, never free text."""

import re
from datetime import timedelta

from django import forms
from django.utils.translation import gettext_lazy as _

from org.forms import Form
from org.validators import date_window

from .models import OfferOutcome, Survey, SurveyPeriod
from .survey_bank import question_choices
from .survey_selectors import survey_form_questions

# A survey may be planned ahead, not for the next century.
SURVEY_HORIZON = timedelta(days=3 * 366)
AREA_SPLIT = re.compile(r"[\s,;]+")


class SurveyForm(Form):
    name = forms.CharField(
        label=_("Name staff see"),
        max_length=80,
        help_text=_("e.g. “Spring check-in”. About the survey, never about a person."),
    )
    questions = forms.MultipleChoiceField(
        label=_("Questions"),
        choices=question_choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("From the fixed question bank; each has fixed answers."),
    )
    zip3_areas = forms.CharField(
        label=_("ZIP3 areas offered"),
        required=False,
        max_length=200,
        help_text=_("Three-digit areas for the ZIP3 question, separated by commas."),
    )
    period = forms.ChoiceField(
        label=_("Asked once per"),
        choices=[(value, _(label)) for value, label in SurveyPeriod.choices],
    )
    active_from = forms.DateField(
        label=_("First day"), widget=forms.DateInput(attrs={"type": "date"})
    )
    active_until = forms.DateField(
        label=_("Last day"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[date_window(future=SURVEY_HORIZON)],
        help_text=_("Leave empty to keep offering it."),
    )

    @classmethod
    def initial_of(cls, survey: Survey) -> dict:
        return {
            "name": survey.name,
            "questions": survey.questions,
            "zip3_areas": ", ".join(survey.zip3_areas),
            "period": survey.period,
            "active_from": survey.active_from,
            "active_until": survey.active_until,
        }

    def clean_zip3_areas(self) -> list[str]:
        return [area for area in AREA_SPLIT.split(self.cleaned_data["zip3_areas"]) if area]


class OfferForm(Form):
    """At the visit: which survey, and did the person take it."""

    survey = forms.ModelChoiceField(queryset=Survey.objects.none(), widget=forms.HiddenInput)
    outcome = forms.ChoiceField(choices=[(OfferOutcome.ACCEPTED, ""), (OfferOutcome.DECLINED, "")])

    def __init__(self, *args, surveys, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["survey"].queryset = Survey.objects.filter(pk__in=[s.pk for s in surveys])


class AnswerForm(Form):
    """One field per question of the survey, big radio buttons or checkboxes."""

    def __init__(self, *args, survey: Survey, **kwargs):
        super().__init__(*args, **kwargs)
        for entry in survey_form_questions(survey):
            question = entry["question"]
            choices = entry["choices"]
            field_class = forms.MultipleChoiceField if question.multiple else forms.ChoiceField
            widget = forms.CheckboxSelectMultiple if question.multiple else forms.RadioSelect
            self.fields[question.code] = field_class(
                label=question.text,
                choices=choices,
                widget=widget,
                error_messages={"required": _("Choose an answer (or “Prefer not to say”).")},
            )
