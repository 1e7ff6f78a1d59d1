"""Forms of the staff pages. Validation of the domain rules lives in ssp/services.py;
these only turn posted text into typed values with field-level messages."""

from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from inventory.models import Item, Kit, Location
from inventory.services import DispenseLine
from org.forms import Form, translated_choices
from org.models import ServiceModel, Site
from org.privacy import no_personal_details

from .codes import CodeError, build_code, current_recipe, gender_choices, normalise
from .models import (
    VISIT_NOTES_MAX,
    AgeBand,
    CollectionMethod,
    MergeReason,
    NaloxoneRefillReason,
    VoidReason,
)
from .visit_services import visit_services

PII_WARNING = (
    "Never enter names, birth dates, addresses, phone numbers or anything else that could "
    "identify the person: phone numbers, emails, SSNs, street addresses and birth dates "
    "are refused."
)
MAX_QUANTITY = 100_000


class VisitDetailsForm(Form):
    """The scalar fields of a visit (supplies are posted as lines, see parse_lines)."""

    occurred_at = forms.DateTimeField(
        required=False,
        label=_("When"),
        help_text=format_lazy(
            _("Leave empty for now; at most {days} days back."),
            days=settings.SSP_VISIT_BACKDATE_DAYS,
        ),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    syringes_collected = forms.IntegerField(
        min_value=0, max_value=MAX_QUANTITY, required=False, label=_("Used syringes collected")
    )
    collection_method = forms.ChoiceField(
        choices=translated_choices(CollectionMethod.choices),
        initial=CollectionMethod.COUNTED,
        required=False,
    )
    secondary_people = forms.IntegerField(
        min_value=0,
        max_value=1000,
        required=False,
        label=_("Picking up for (other people)"),
        help_text=_("Secondary distribution: how many other people the supplies are for."),
    )
    naloxone_refill_reason = forms.ChoiceField(
        choices=[("", _("— not a refill —")), *translated_choices(NaloxoneRefillReason.choices)],
        required=False,
        label=_("Naloxone refill reason"),
    )
    overdose_reversals = forms.IntegerField(
        min_value=0, max_value=1000, required=False, label=_("Overdose reversals reported")
    )
    notes = forms.CharField(
        label=_("Notes"),
        required=False,
        max_length=VISIT_NOTES_MAX,
        validators=[no_personal_details],
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=PII_WARNING,
    )
    confirm_large_quantity = forms.BooleanField(
        required=False, label=_("Yes, the large quantity is right")
    )

    def clean_occurred_at(self):
        value = self.cleaned_data.get("occurred_at")
        if value is not None and timezone.is_naive(value):
            value = timezone.make_aware(value)
        return value

    def bound(self, *names):
        return [self[name] for name in names if name in self.fields]

    @property
    def return_fields(self):
        return self.bound("syringes_collected", "collection_method")

    @property
    def detail_fields(self):
        return self.bound(
            "secondary_people", "naloxone_refill_reason", "overdose_reversals", "occurred_at",
            "notes",
        )  # fmt: skip

    def visit_fields(self) -> dict:
        data = self.cleaned_data
        return {
            "occurred_at": data.get("occurred_at"),
            "syringes_collected": data.get("syringes_collected") or 0,
            "collection_method": data.get("collection_method") or CollectionMethod.COUNTED,
            "secondary_people": data.get("secondary_people") or 0,
            "naloxone_refill_reason": data.get("naloxone_refill_reason") or "",
            "overdose_reversals": data.get("overdose_reversals") or 0,
            "notes": data.get("notes") or "",
        }


class IntakeForm(VisitDetailsForm):
    """The front-desk form: one visit of one person (or anonymous)."""

    client_uuid = forms.UUIDField(widget=forms.HiddenInput)
    site = forms.ModelChoiceField(queryset=Site.objects.none(), empty_label=None)
    location = forms.ModelChoiceField(
        queryset=Location.objects.none(), required=False, empty_label=None
    )
    code = forms.CharField(
        required=False,
        max_length=40,
        label=_("Participant code"),
        widget=forms.TextInput(
            attrs={
                "id": "code",
                "autocomplete": "off",
                "autocapitalize": "characters",
                "spellcheck": "false",
                "autofocus": True,
                "enterkeyhint": "next",
            }
        ),
    )
    anonymous = forms.BooleanField(
        required=False,
        label=_("Anonymous (no code)"),
        widget=forms.CheckboxInput(attrs={"id": "anonymous"}),
    )
    age_band = forms.ChoiceField(
        choices=[("", "—"), *translated_choices(AgeBand.choices)],
        required=False,
        label=_("Age band (new code)"),
    )
    # Asked only when a new code is one edit from an existing one (NewPersonNotConfirmed).
    confirm_new_person = forms.BooleanField(
        required=False,
        widget=forms.CheckboxInput(attrs={"id": "confirm-new-person"}),
    )

    # Outside a field, these keys take the front desk to a field (intake.js, data-key);
    # Escape in the field goes on to Save. ssp/visit_services.py keeps them free.
    FIELD_KEYS = {
        "syringes_collected": "R",
        "secondary_people": "P",
        "naloxone_refill_reason": "A",
        "overdose_reversals": "O",
    }

    def __init__(self, *args, sites, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites
        self.fields["location"].queryset = Location.objects.filter(
            site__in=sites, is_active=True
        ).order_by("pk")
        for name, key in self.FIELD_KEYS.items():
            self.fields[name].widget.attrs["data-key"] = key
        self.recipe = current_recipe()
        for part in self.recipe.input_parts:
            label = part.label[:1].upper() + part.label[1:]
            if part.kind == "gender":
                # The program's own choices (SSP_GENDER_CHOICES), not a fixed list; a
                # typed letter in any case is still read (build_code checks it).
                self.fields[f"part_{part.key}"] = forms.CharField(
                    required=False,
                    label=label,
                    max_length=1,
                    widget=forms.Select(choices=[("", "—"), *gender_choices()]),
                )
                continue
            self.fields[f"part_{part.key}"] = forms.CharField(
                required=False,
                label=label,
                max_length=40,
                widget=forms.TextInput(attrs={"autocomplete": "off"}),
            )

    @property
    def part_fields(self):
        return [self[f"part_{part.key}"] for part in self.recipe.input_parts]

    def clean(self):
        data = super().clean()
        code = normalise(data.get("code") or "")
        parts = {p.key: data.get(f"part_{p.key}") for p in self.recipe.input_parts}
        if not code and any(parts.values()):
            try:
                code = build_code(parts)
            except CodeError as exc:
                for key, messages in exc.field_errors.items():
                    self.add_error(f"part_{key}", messages)
        data["code"] = code
        if code and data.get("anonymous"):
            self.add_error("anonymous", _("Either a code or anonymous, not both."))
        elif not code and not data.get("anonymous") and not self.errors:
            self.add_error("code", _("Type the participant's code, or tick Anonymous."))
        return data


class ShiftForm(VisitDetailsForm):
    """A street-outreach shift logged afterwards in bulk: anonymous contacts, totals."""

    client_uuid = forms.UUIDField(widget=forms.HiddenInput)
    site = forms.ModelChoiceField(queryset=Site.objects.none(), empty_label=None, label=_("Site"))
    location = forms.ModelChoiceField(
        queryset=Location.objects.none(), required=False, empty_label=None
    )
    contacts = forms.IntegerField(
        min_value=1, max_value=10_000, label=_("People reached"), help_text=_("Anonymous contacts.")
    )
    service_model = forms.ChoiceField(
        label=_("Service model"),
        choices=translated_choices(ServiceModel.choices),
        initial=ServiceModel.OUTREACH,
    )

    def __init__(self, *args, sites, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites
        self.fields["location"].queryset = Location.objects.filter(
            site__in=sites, is_active=True
        ).order_by("pk")
        self.fields["location"].empty_label = _("The site’s own stock")
        self.fields["location"].label = _("Stock from")

    @property
    def shift_fields(self):
        return self.bound("site", "location", "contacts", "service_model")

    def clean(self):
        data = super().clean()
        site, location = data.get("site"), data.get("location")
        if site and location and location.site_id != site.pk:
            self.add_error(
                "location",
                _("%(location)s is not a stock location of %(site)s.")
                % {"location": location, "site": site},
            )
        return data


class CorrectionForm(VisitDetailsForm):
    location = forms.ModelChoiceField(queryset=Location.objects.none(), empty_label=None)
    code = forms.CharField(
        required=False,
        max_length=40,
        label=_("Participant code"),
        help_text=_("Empty = anonymous."),
    )
    contacts = forms.IntegerField(min_value=1, max_value=10_000, label=_("People reached"))
    service_model = forms.ChoiceField(
        label=_("Service model"), choices=translated_choices(ServiceModel.choices)
    )

    def __init__(self, *args, visit, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = Location.objects.filter(
            site=visit.site, is_active=True
        ).order_by("pk")

    @property
    def correction_fields(self):
        return self.bound("code", "location", "contacts", "service_model")


class VisitFilterForm(Form):
    site = forms.ModelChoiceField(
        queryset=Site.objects.none(), required=False, empty_label=_("All sites"), label=_("Site")
    )
    code = forms.CharField(required=False, max_length=40, label=_("Code"))
    occurred_from = forms.DateField(
        required=False, label=_("From"), widget=forms.DateInput(attrs={"type": "date"})
    )
    occurred_to = forms.DateField(
        required=False, label=_("To"), widget=forms.DateInput(attrs={"type": "date"})
    )
    include_void = forms.BooleanField(required=False, label=_("Include voided"))
    mine = forms.BooleanField(required=False, label=_("Logged by me"))

    def __init__(self, *args, sites, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites


class VoidForm(Form):
    # A choice, not free text: a typed reason is where a person's name would go.
    reason = forms.ChoiceField(
        choices=[
            (value, _(label)) for value, label in VoidReason.choices if value != VoidReason.UNDONE
        ],
        label=_("Why is this visit voided?"),
    )


class MergeForm(Form):
    merged = forms.CharField(max_length=40, label=_("Code to merge away (the duplicate)"))
    kept = forms.CharField(max_length=40, label=_("Code to keep"))
    reason = forms.ChoiceField(
        choices=[("", _("— no reason given —")), *translated_choices(MergeReason.choices)],
        required=False,
    )
    # "MERGED>KEPT" as previewed: a confirmation only merges the pair that was shown.
    confirm = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_merged(self):
        return normalise(self.cleaned_data["merged"])

    def clean_kept(self):
        return normalise(self.cleaned_data["kept"])


# --- Supply lines ------------------------------------------------------------------


@dataclass
class PostedLine:
    """A supply line as posted by the page, kept to re-render the cart on errors."""

    kind: str
    id: int
    name: str
    quantity: int | str


def parse_lines(post) -> tuple[list[DispenseLine], list[PostedLine], list[str]]:
    """Read the parallel `line` ("kit:3" / "item:7") and `qty` lists of a posted form."""
    keys, quantities = post.getlist("line"), post.getlist("qty")
    errors: list[str] = []
    wanted = []
    for index, key in enumerate(keys):
        kind, _colon, raw_id = key.partition(":")
        raw_qty = quantities[index].strip() if index < len(quantities) else ""
        if kind not in ("kit", "item") or not raw_id.isdigit():
            errors.append(_("Unknown supply: reload the page and choose again."))
            continue
        wanted.append((kind, int(raw_id), raw_qty))
    kits = Kit.objects.in_bulk([pk for kind, pk, _ in wanted if kind == "kit"])
    items = Item.objects.in_bulk([pk for kind, pk, _ in wanted if kind == "item"])
    lines, posted = [], []
    for kind, pk, raw_qty in wanted:
        thing = (kits if kind == "kit" else items).get(pk)
        if thing is None:
            unknown = (
                _("Unknown kit (#%(pk)s): reload the page and choose again.")
                if kind == "kit"
                else _("Unknown item (#%(pk)s): reload the page and choose again.")
            )
            errors.append(unknown % {"pk": pk})
            continue
        posted.append(PostedLine(kind, pk, thing.name, raw_qty))
        try:
            quantity = int(raw_qty)
        except ValueError:
            message = _("Quantity of %(supply)s: enter a whole number.")
            errors.append(message % {"supply": thing.name})
            continue
        if quantity <= 0:
            errors.append(_("Quantity of %(supply)s must be at least 1.") % {"supply": thing.name})
            continue
        if quantity > MAX_QUANTITY:
            errors.append(
                _("Quantity of %(supply)s: at most %(limit)s.")
                % {"supply": thing.name, "limit": MAX_QUANTITY}
            )
            continue
        lines.append(DispenseLine(quantity=quantity, **{kind: thing}))
    return lines, posted, errors


# --- Services given at the visit ---------------------------------------------------

SERVICE_FIELD = "service:"


def parse_services(post) -> tuple[list[tuple[str, int]], dict[str, str], list[str]]:
    """Read the posted `service:<code>` fields: a ticked toggle at the front desk ("1")
    or a count on the shift page. Returns (code, count) pairs, the raw values to show
    again, and the errors."""
    services, posted, errors = [], {}, []
    for choice in visit_services():
        raw = (post.get(f"{SERVICE_FIELD}{choice.code}") or "").strip()
        posted[choice.code] = raw
        if not raw or raw == "0":
            continue
        if not raw.isdigit():
            message = _("%(service)s: enter a whole number.")
            errors.append(message % {"service": _(choice.label)})
            continue
        services.append((choice.code, int(raw)))
    return services, posted, errors
