from django.contrib import admin
from django.db import models

from .models import Partner, Referral, ReferralStatusChange, ReferralType


@admin.register(ReferralType)
class ReferralTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "group", "sort_order", "is_active"]
    list_filter = ["group", "is_active"]
    search_fields = ["name", "code"]


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    # Django 6 will assume https for bare domains; say so now (and silence the warning).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ["name", "phone", "hours", "is_active"]
    list_filter = ["is_active", "types"]
    search_fields = ["name"]
    filter_horizontal = ["types"]


class StatusChangeInline(admin.TabularInline):
    model = ReferralStatusChange
    extra = 0
    can_delete = False
    readonly_fields = [
        "from_status",
        "to_status",
        "linked_on",
        "follow_up_on",
        "note",
        "changed_at",
        "changed_by",
    ]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Referral)
class ReferralAdmin(admin.ModelAdmin):
    """Read-only: status changes go through referrals.services so history stays whole."""

    list_display = ["referred_on", "participant", "type", "site", "status", "follow_up_on"]
    list_filter = ["status", "site", "type__group"]
    raw_id_fields = ["participant", "visit"]
    inlines = [StatusChangeInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
