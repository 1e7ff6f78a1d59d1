from itertools import groupby

from django import forms
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from org.forms import Form, ModelForm
from org.models import Site
from org.privacy import no_personal_details

from .models import PII_WARNING, Partner, ReferralGroup, ReferralStatus, ReferralType


def grouped_type_choices(types) -> list:
    """Referral types as <optgroup>s by group (treatment, testing, care, social)."""
    labels = {value: gettext(label) for value, label in ReferralGroup.choices}
    order = list(labels)
    types = sorted(types, key=lambda t: (order.index(t.group), t.sort_order, t.name))
    return [
        (labels[group], [(t.pk, t.name) for t in members])
        for group, members in groupby(types, key=lambda t: t.group)
    ]


def partner_choices(partners) -> list:
    return [("", gettext("— no particular partner —")), *[(p.pk, p.name) for p in partners]]


def status_choices() -> list[tuple[str, str]]:
    """The statuses in the person's language (the model keeps them English)."""
    return [(value, gettext(label)) for value, label in ReferralStatus.choices]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class ReferralForm(Form):
    """A referral at a visit; without a visit the page adds `code` and `site`."""

    code = forms.CharField(
        label=_("Participant code"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    site = forms.ModelChoiceField(
        label=_("Site"),
        queryset=Site.objects.none(),
        required=False,
        error_messages={"invalid_choice": _("You do not record at this site.")},
    )
    referral_type = forms.TypedChoiceField(
        label=_("Referred to"),
        coerce=int,
        choices=(),
        # htmx swaps in the partners offering the chosen type.
        widget=forms.Select(
            attrs={
                "hx-get": reverse_lazy("referrals:partner-options"),
                "hx-target": "#id_partner",
                "hx-trigger": "change",
            }
        ),
    )
    partner = forms.ModelChoiceField(
        label=_("Partner"),
        queryset=Partner.objects.none(),
        required=False,
        help_text=_("Only partners that offer the chosen type are listed."),
    )
    follow_up_on = forms.DateField(
        label=_("Ask about it on"),
        required=False,
        widget=DateInput(),
        help_text=_("Leave empty for the default."),
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=300,
        validators=[no_personal_details],
        widget=forms.TextInput(),
        help_text=PII_WARNING,
    )

    def __init__(self, *args, with_visit: bool, sites, type_id=None, **kwargs):
        super().__init__(*args, **kwargs)
        types = list(ReferralType.objects.filter(is_active=True))
        self.types_by_id = {t.pk: t for t in types}
        self.fields["referral_type"].choices = [
            ("", gettext("— choose —")),
            *grouped_type_choices(types),
        ]
        # Any active partner validates (the service says clearly if it does not offer
        # the type); only those offering the chosen type are listed.
        partners = Partner.objects.filter(is_active=True)
        self.fields["partner"].queryset = partners
        offered = partners.filter(types=type_id) if type_id else partners.none()
        self.fields["partner"].choices = partner_choices(offered)
        if with_visit:
            del self.fields["code"]
            del self.fields["site"]
        else:
            self.fields["code"].required = True
            self.fields["site"].required = True
            self.fields["site"].queryset = sites
            if len(sites) == 1:
                self.fields["site"].initial = sites.first().pk
        # The page opens ready to type: focus on its first field (the code, or at a
        # visit "Referred to"), not on the page body sixteen Tabs away.
        next(iter(self.fields.values())).widget.attrs["autofocus"] = True

    def clean_referral_type(self):
        value = self.cleaned_data["referral_type"]
        if value not in self.types_by_id:
            raise forms.ValidationError(gettext("Choose a referral type."))
        return self.types_by_id[value]


class StatusChangeForm(Form):
    to_status = forms.ChoiceField(label=_("New status"))
    linked_on = forms.DateField(
        label=_("Started on"), required=False, widget=DateInput(), help_text=_("For “Linked”.")
    )
    follow_up_on = forms.DateField(
        label=_("Ask again on"),
        required=False,
        widget=DateInput(),
        help_text=_("For “Not yet” or reopening."),
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=300,
        validators=[no_personal_details],
        widget=forms.TextInput(),
        help_text=PII_WARNING,
    )

    def __init__(self, *args, referral, **kwargs):
        super().__init__(*args, **kwargs)
        choices = []
        if referral.is_open:
            choices.append((ReferralStatus.REFERRED, gettext("Not yet — ask again later")))
        for status in referral.allowed_next():
            if status == ReferralStatus.REFERRED:
                choices.append((status, gettext("Reopen")))
            else:
                choices.append((status, gettext(ReferralStatus(status).label)))
        self.fields["to_status"].choices = choices
        self.fields["linked_on"].initial = timezone.localdate()


class PartnerForm(ModelForm):
    types = forms.ModelMultipleChoiceField(
        queryset=ReferralType.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        label=_("Referral types accepted"),
    )
    website = forms.URLField(
        label=_("Website"), required=False, assume_scheme="https", max_length=200
    )

    class Meta:
        model = Partner
        fields = ["name", "types", "address", "phone", "hours", "website", "notes", "is_active"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}
        # The page's words; the model keeps its English ones (admin, schema).
        labels = {
            "name": _("Name"),
            "address": _("Address"),
            "phone": _("Phone"),
            "hours": _("Hours"),
            "notes": _("Notes"),
            "is_active": _("Active"),
        }
        help_texts = {"hours": _("e.g. Mon–Fri 9–17, walk-in")}


class ReferralTypeForm(ModelForm):
    class Meta:
        model = ReferralType
        fields = ["name", "code", "group", "sort_order", "is_active"]
        labels = {
            "name": _("Name"),
            "code": _("Code"),
            "group": _("Group"),
            "sort_order": _("Order"),
            "is_active": _("Offered"),
        }
        help_texts = {
            "is_active": _("Inactive types stay in history but are no longer offered."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].choices = [
            (value, gettext(label) if value else label)
            for value, label in self.fields["group"].choices
        ]


class ReferralFilterForm(Form):
    site = forms.ModelChoiceField(
        label=_("Site"), queryset=Site.objects.none(), required=False, empty_label=_("All sites")
    )
    type = forms.ModelChoiceField(
        label=_("Type"),
        queryset=ReferralType.objects.all(),
        required=False,
        empty_label=_("All types"),
    )
    status = forms.ChoiceField(label=_("Status"), choices=(), required=False)
    start = forms.DateField(label=_("Referred from"), required=False, widget=DateInput())
    end = forms.DateField(label=_("until (not incl.)"), required=False, widget=DateInput())
    overdue = forms.BooleanField(label=_("Follow-up due"), required=False)

    def __init__(self, *args, sites, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites
        self.fields["status"].choices = [("", gettext("Any status")), *status_choices()]

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] <= data["start"]:
            self.add_error("end", gettext("The end must be after the start."))
        return data
