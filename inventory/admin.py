"""Catalog upkeep (items, pack sizes, kits, locations, funding sources) for admins.
The ledger is read-only here: stock moves only through inventory.services."""

from django import forms
from django.contrib import admin

from org.forms import ModelForm

from .models import (
    Category,
    FundingSource,
    Item,
    Kit,
    KitComponent,
    Location,
    Lot,
    PackSize,
    StockBalance,
    StockCount,
    StockCountLine,
    StockMovement,
)


class PackSizeInline(admin.TabularInline):
    model = PackSize
    extra = 1


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "category", "base_unit", "is_lot_tracked", "is_active"]
    list_filter = ["category", "is_lot_tracked", "is_active"]
    search_fields = ["name", "code"]
    inlines = [PackSizeInline]


class KitComponentInline(admin.TabularInline):
    model = KitComponent
    extra = 1
    autocomplete_fields = ["item"]


@admin.register(Kit)
class KitAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "code"]
    inlines = [KitComponentInline]


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "site", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name"]


class FundingSourceForm(ModelForm):
    disallowed_categories = forms.MultipleChoiceField(
        choices=Category.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Item categories this money may not buy (e.g. federal funds: syringes, needles).",
    )

    class Meta:
        model = FundingSource
        fields = ["name", "code", "disallowed_categories", "is_active"]


@admin.register(FundingSource)
class FundingSourceAdmin(admin.ModelAdmin):
    form = FundingSourceForm
    list_display = ["name", "code", "is_active"]
    search_fields = ["name", "code"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Ledger records: browse only. Corrections are new movements, made in the app."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Lot)
class LotAdmin(ReadOnlyAdmin):
    list_display = ["item", "lot_number", "expires_on", "funding_source", "unit_cost"]
    list_filter = ["funding_source"]
    search_fields = ["lot_number", "item__name"]


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdmin):
    list_display = ["occurred_at", "kind", "item", "lot", "location", "quantity", "reason"]
    list_filter = ["kind", "reason", "location"]
    search_fields = ["reference", "item__name"]
    list_select_related = ["item", "lot", "location"]


@admin.register(StockBalance)
class StockBalanceAdmin(ReadOnlyAdmin):
    list_display = ["location", "item", "lot", "quantity"]
    list_filter = ["location"]
    list_select_related = ["item", "lot", "location"]


class StockCountLineInline(admin.TabularInline):
    model = StockCountLine
    extra = 0
    readonly_fields = ["item", "lot", "expected", "counted"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(StockCount)
class StockCountAdmin(ReadOnlyAdmin):
    list_display = ["occurred_at", "location", "recorded_by"]
    list_filter = ["location"]
    inlines = [StockCountLineInline]
