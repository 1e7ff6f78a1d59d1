"""Forms of the events pages: one per kind. The kind's rules live in services.py;
these only turn posted text into typed values with field-level messages."""

from django import forms
from django.conf import settings
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from org.forms import Form, translated_choices

from .models import (
    MAX_STAFF_HOURS,
    MAX_SYRINGES_COLLECTED,
    MAX_WEIGHT,
    EventKind,
    EventVoidReason,
    PersonStuck,
    SharpsContainer,
    WeightUnit,
)


class _EventForm(Form):
    """Site and date; `sites` is None when correcting (the site of an event stays)."""

    site = forms.ModelChoiceField(queryset=None, label=_("Site"))
    occurred_on = forms.DateField(
        label=_("Date"),
        help_text=format_lazy(
            _("At most {days} days back."), days=settings.SSP_EVENT_BACKDATE_DAYS
        ),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args, sites=None, **kwargs):
        super().__init__(*args, **kwargs)
        if sites is None:
            del self.fields["site"]
        else:
            self.fields["site"].queryset = sites
            only = list(sites[:2])
            if len(only) == 1:
                self.fields["site"].initial = only[0]


class CleanupForm(_EventForm):
    syringes_collected = forms.IntegerField(
        min_value=0, max_value=MAX_SYRINGES_COLLECTED, label=_("Used syringes collected")
    )
    staff_hours = forms.DecimalField(
        min_value=0,
        max_value=MAX_STAFF_HOURS,
        max_digits=6,
        decimal_places=2,
        label=_("Staff hours"),
        help_text=_(
            "Hours of every staff member and volunteer, added up (e.g. 3 people × 2 h = 6)."
        ),
    )


class NeedleStickForm(_EventForm):
    person_stuck = forms.ChoiceField(
        choices=translated_choices(PersonStuck.choices),
        widget=forms.RadioSelect,
        label=_("Who was stuck"),
        help_text=_("A role only: never a name."),
    )


class SharpsEmptiedForm(_EventForm):
    container = forms.ChoiceField(
        choices=translated_choices(SharpsContainer.choices), label=_("Kiosk or bin")
    )
    weight = forms.DecimalField(
        min_value=0, max_value=MAX_WEIGHT, max_digits=6, decimal_places=2, label=_("Weight")
    )
    weight_unit = forms.ChoiceField(
        choices=translated_choices(WeightUnit.choices),
        widget=forms.RadioSelect,
        initial=WeightUnit.KG,
        label=_("Unit"),
        help_text=format_lazy(
            _("Syringes are estimated at {per_pound} per pound."),
            per_pound=settings.SSP_SYRINGES_PER_POUND,
        ),
    )


FORMS = {
    EventKind.CLEANUP: CleanupForm,
    EventKind.NEEDLE_STICK: NeedleStickForm,
    EventKind.SHARPS_EMPTIED: SharpsEmptiedForm,
}


class EventFilterForm(Form):
    site = forms.ModelChoiceField(queryset=None, required=False, empty_label=_("All my sites"))
    kind = forms.ChoiceField(
        choices=[("", _("Every kind")), *translated_choices(EventKind.choices)], required=False
    )

    def __init__(self, *args, sites, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites


class EventVoidForm(Form):
    reason = forms.ChoiceField(
        choices=translated_choices(EventVoidReason.choices), label=_("Why void it")
    )
