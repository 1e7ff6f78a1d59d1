"""Forms of the stock manager pages. They turn posted text into typed values with
field-level messages; the stock rules (funding, lots, who manages what, enough
stock) are checked by inventory.services, whose errors are shown on these fields."""

from django import forms
from django.db.models import Q
from django.forms import formset_factory
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from org.forms import Form
from org.privacy import no_personal_details

from .models import (
    COUNT_REASONS,
    AdjustmentReason,
    Category,
    FundingSource,
    Item,
    Location,
    Lot,
    PackSize,
)
from .selectors import STOCK_STATUS_CHOICES

MAX_QUANTITY = 1_000_000
REFERENCE_HELP = _(
    "Packing slip, invoice or order number. Never a person's name or anything that "
    "could identify a participant: phone numbers, emails, SSNs, street addresses and "
    "birth dates are refused."
)
WHEN_HELP = _("Leave empty for now.")
WHOLE_NUMBER = _("Enter a whole number.")


def _when_field():
    return forms.DateTimeField(
        required=False,
        label=_("When"),
        help_text=WHEN_HELP,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


def _reference_field():
    return forms.CharField(
        required=False,
        max_length=80,
        validators=[no_personal_details],
        label=_("Reference"),
        help_text=REFERENCE_HELP,
    )


def _quantity_field(**kwargs):
    return forms.IntegerField(
        min_value=kwargs.pop("min_value", 1),
        max_value=MAX_QUANTITY,
        error_messages={"invalid": WHOLE_NUMBER},
        **kwargs,
    )


class ItemChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return _("%(item)s (by lot)") % {"item": obj.name} if obj.is_lot_tracked else obj.name


class PackSizeSelect(forms.Select):
    """Each pack size names its item (`data-item`), so the receipt page offers only the
    chosen item's pack sizes (inventory/static/inventory/formset.js)."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        instance = getattr(value, "instance", None)
        if instance is not None:
            option["attrs"]["data-item"] = str(instance.item_id)
        return option


class PackSizeChoiceField(forms.ModelChoiceField):
    widget = PackSizeSelect

    def label_from_instance(self, obj):
        return f"{obj.item.name}: {obj.name} ({obj.units})"


class LotChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        parts = [obj.item.name, _("lot %(lot)s") % {"lot": obj.lot_number or _("untracked")}]
        if obj.expires_on:
            parts.append(_("exp. %(expiry)s") % {"expiry": f"{obj.expires_on:%Y-%m-%d}"})
        parts.append(obj.funding_source.name)
        on_hand = getattr(obj, "on_hand", None)
        if on_hand is not None:
            parts.append(_("%(units)s on hand") % {"units": on_hand})
        return " · ".join(str(part) for part in parts)


def _active_items():
    return Item.objects.filter(is_active=True).order_by("name")


def lots_at(locations) -> "forms.QuerySet[Lot]":
    """Lots with a balance row (held now or before) at any of these locations."""
    return (
        Lot.objects.filter(balances__location__in=locations)
        .select_related("item", "funding_source")
        .distinct()
        .order_by("item__name", "expires_on", "pk")
    )


# --- Stock page filter -----------------------------------------------------------------


class StockFilterForm(Form):
    location = forms.ModelChoiceField(
        queryset=Location.objects.none(),
        required=False,
        label=_("Location"),
        empty_label=_("All my locations"),
    )
    category = forms.ChoiceField(
        # The labels stay English in the model for the funders' reports (gettext_noop).
        choices=[("", _("All categories")), *((v, _(label)) for v, label in Category.choices)],
        required=False,
        label=_("Category"),
    )
    status = forms.ChoiceField(
        choices=[("", _("Any status")), *STOCK_STATUS_CHOICES], required=False, label=_("Status")
    )
    search = forms.CharField(
        required=False,
        max_length=60,
        label=_("Item"),
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("All items")}),
        help_text=_("Part of an item's name or code."),
    )

    def __init__(self, *args, locations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = locations.order_by("name")


class StockCardForm(Form):
    location = forms.ModelChoiceField(queryset=Location.objects.none(), label=_("Location"))
    item = ItemChoiceField(queryset=Item.objects.order_by("name"), label=_("Item"))

    def __init__(self, *args, locations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = locations.order_by("name")


# --- Receive -------------------------------------------------------------------------


class ReceiveForm(Form):
    location = forms.ModelChoiceField(queryset=Location.objects.none(), label=_("Receive into"))
    funding_source = forms.ModelChoiceField(
        queryset=FundingSource.objects.filter(is_active=True),
        label=_("Bought with"),
        help_text=_("Every lot keeps its funding source, so each dispense traces to the money."),
    )
    occurred_at = _when_field()
    reference = _reference_field()
    # Shown once a line was found above SSP_LARGE_QUANTITY units (the view decides).
    confirm_large_quantity = forms.BooleanField(
        required=False, label=_("Yes, the large quantity is right")
    )

    def __init__(self, *args, managed, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = managed.filter(is_active=True).order_by("name")


class ReceiptLineForm(Form):
    item = ItemChoiceField(queryset=_active_items(), label=_("Item"))
    quantity = _quantity_field(
        label=_("Quantity"), help_text=_("In packs when a pack size is chosen, else in units.")
    )
    pack_size = PackSizeChoiceField(
        queryset=PackSize.objects.select_related("item").order_by("item__name", "units"),
        required=False,
        empty_label=_("Single units"),
        label=_("Counted in"),
    )
    lot_number = forms.CharField(
        required=False, max_length=60, validators=[no_personal_details], label=_("Lot")
    )
    expires_on = forms.DateField(
        required=False, label=_("Expiry"), widget=forms.DateInput(attrs={"type": "date"})
    )
    unit_cost = forms.DecimalField(
        required=False, min_value=0, max_digits=10, decimal_places=4, label=_("Cost per unit")
    )


ReceiptLineFormSet = formset_factory(ReceiptLineForm, extra=2, min_num=1, validate_min=True)


# --- Transfer ------------------------------------------------------------------------


class TransferForm(Form):
    from_location = forms.ModelChoiceField(
        queryset=Location.objects.none(), label=pgettext_lazy("location", "From")
    )
    to_location = forms.ModelChoiceField(
        queryset=Location.objects.filter(is_active=True).order_by("name"),
        label=pgettext_lazy("location", "To"),
    )
    occurred_at = _when_field()
    reference = _reference_field()

    def __init__(self, *args, managed, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["from_location"].queryset = managed.filter(is_active=True).order_by("name")
        self.fields["from_location"].empty_label = _("Choose where the stock leaves from")
        # A new source brings its own lots into every line's lot menu (htmx, no reload).
        self.fields["from_location"].widget.attrs.update(
            {
                "hx-get": reverse("inventory:transfer"),
                "hx-trigger": "change",
                "hx-target": "#transfer-lines",
                "hx-swap": "outerHTML",
                "hx-include": "#transfer-lines",
            }
        )


class TransferLineForm(Form):
    """`lots` are those on hand at the sending location (`lots_on_hand_at`); a lot not
    there is refused here and, for the API, by the service."""

    item = ItemChoiceField(queryset=_active_items(), label=_("Item"))
    quantity = _quantity_field(label=_("Quantity"), help_text=_("Units."))
    lot = LotChoiceField(
        queryset=Lot.objects.none(),
        required=False,
        label=_("Lot"),
        empty_label=_("Earliest expiry first"),
        help_text=_("Leave as is to send the lots that expire first."),
        error_messages={
            "invalid_choice": _("That lot is not on hand at the sending location."),
        },
    )

    def __init__(self, *args, lots, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lot"].queryset = lots


TransferLineFormSet = formset_factory(TransferLineForm, extra=2, min_num=1, validate_min=True)


# --- Adjust --------------------------------------------------------------------------


class AdjustForm(Form):
    location = forms.ModelChoiceField(queryset=Location.objects.none(), label=_("Location"))
    lot = LotChoiceField(queryset=Lot.objects.none(), label=_("Lot"))
    reason = forms.ChoiceField(
        label=_("Reason"),
        choices=[
            (value, label)
            for value, label in AdjustmentReason.choices
            # Written by the ledger itself: reversals, stock found at a dispense.
            if value not in (AdjustmentReason.REVERSAL, AdjustmentReason.SHORTFALL)
        ],
    )
    quantity = forms.IntegerField(
        min_value=-MAX_QUANTITY,
        max_value=MAX_QUANTITY,
        label=_("Quantity"),
        error_messages={"invalid": WHOLE_NUMBER},
        help_text=_(
            "Negative to take units off (damaged, expired, lost), positive to add (found); "
            "a correction goes either way."
        ),
    )
    occurred_at = _when_field()
    reference = _reference_field()

    def __init__(self, *args, managed, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = managed.filter(is_active=True).order_by("name")
        self.fields["lot"].queryset = lots_at(managed)

    def clean_quantity(self):
        quantity = self.cleaned_data["quantity"]
        if quantity == 0:
            raise forms.ValidationError(_("Enter a quantity other than 0."))
        return quantity


# --- Count ---------------------------------------------------------------------------


class CountLineForm(Form):
    """One lot of the count sheet. Left empty: not counted, its balance stays."""

    lot = forms.IntegerField(widget=forms.HiddenInput)
    counted = forms.IntegerField(
        required=False,
        label=_("Counted"),
        min_value=0,
        max_value=MAX_QUANTITY,
        error_messages={
            "invalid": WHOLE_NUMBER,
            "min_value": _("A count cannot be negative."),
        },
    )

    reason = forms.ChoiceField(
        choices=[
            ("", _("Choose why it differs")),
            *(
                (value, label)
                for value, label in AdjustmentReason.choices
                if value in COUNT_REASONS
            ),
        ],
        required=False,
        label=_("Why it differs"),
    )

    def __init__(self, *args, sheet_lots, **kwargs):
        super().__init__(*args, **kwargs)
        self.sheet_lots = sheet_lots

    def clean_lot(self):
        lot_id = self.cleaned_data["lot"]
        if lot_id not in self.sheet_lots:
            raise forms.ValidationError(_("This lot is not on this location's sheet."))
        return lot_id


CountLineFormSet = formset_factory(CountLineForm, extra=0)


def sheet_lot_ids(location: Location) -> set[int]:
    """Lots a count of `location` may name: every lot it has a balance row for."""
    return set(
        Lot.objects.filter(Q(balances__location=location)).values_list("pk", flat=True).distinct()
    )
