from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from org.forms import Form
from org.models import Site

from .funder_templates import template_choices
from .periods import Period, PeriodError

PERIOD_KINDS = [
    ("month", _("A month")),
    ("quarter", _("A quarter")),
    ("year", _("A year")),
    ("custom", _("Dates")),
]


def quarter_choices(today) -> list[tuple[str, str]]:
    choices = []
    year, quarter = today.year, (today.month - 1) // 3 + 1
    for _step in range(8):
        choices.append((f"{year}-Q{quarter}", f"{year} Q{quarter}"))
        year, quarter = (year, quarter - 1) if quarter > 1 else (year - 1, 4)
    return choices


def year_choices(today) -> list[tuple[str, str]]:
    """The last five calendar years and fiscal years, the running ones first."""
    choices = []
    fiscal = Period.previous_fiscal_year(today).end.year + 1
    for back in range(5):
        choices.append(
            (
                str(today.year - back),
                gettext("Calendar year %(year)s") % {"year": today.year - back},
            )
        )
        choices.append((f"FY{fiscal - back}", Period.fiscal_year(fiscal - back).label))
    return choices


class ReportRequestForm(Form):
    template = forms.ChoiceField(label=_("Template"), choices=template_choices)
    period_kind = forms.ChoiceField(
        label=_("Period"), choices=PERIOD_KINDS, initial="month", widget=forms.RadioSelect
    )
    month = forms.CharField(
        label=_("Month"),
        required=False,
        widget=forms.DateInput(attrs={"type": "month"}),
        help_text=_("YYYY-MM"),
    )
    quarter = forms.ChoiceField(label=_("Quarter"), required=False, choices=())
    year = forms.ChoiceField(
        label=_("Year"), required=False, choices=(), help_text=_("Calendar or fiscal year.")
    )
    start = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("To (inclusive)"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    sites = forms.ModelMultipleChoiceField(
        queryset=Site.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Sites"),
        help_text=_("None ticked: every site you can see."),
    )
    threshold = forms.IntegerField(
        label=_("Suppression threshold"),
        required=False,
        min_value=2,
        max_value=100,
        help_text=_("Counts from 1 to threshold − 1 are hidden in the files."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["sites"].queryset = Site.objects.filter(
            pk__in=user.accessible_site_ids()
        ).order_by("name")
        self.fields["quarter"].choices = quarter_choices(today)
        self.fields["year"].choices = year_choices(today)
        self.fields["threshold"].initial = settings.SSP_SUPPRESSION_THRESHOLD
        self.fields["month"].initial = Period.previous_month(today).slug

    def clean(self):
        data = super().clean()
        kind = data.get("period_kind")
        try:
            if kind == "month":
                data["period"] = Period.parse(data.get("month") or "")
            elif kind in ("quarter", "year"):
                data["period"] = Period.parse(data.get(kind) or "")
            elif kind == "custom":
                if not data.get("start") or not data.get("end"):
                    self.add_error(
                        "start" if not data.get("start") else "end", gettext("Give both dates.")
                    )
                else:
                    data["period"] = Period.between(data["start"], data["end"])
        except PeriodError as exc:
            field = {"month": "month", "quarter": "quarter", "year": "year"}.get(kind, "end")
            self.add_error(field, str(exc))
        return data
