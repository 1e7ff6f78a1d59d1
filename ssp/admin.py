from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import Participant, Site, User, Visit, VisitSupply


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "service_model", "is_active"]
    list_filter = ["service_model", "is_active"]
    search_fields = ["name", "code"]


@admin.register(User)
class StaffAdmin(UserAdmin):
    fieldsets = (*UserAdmin.fieldsets, ("Sites", {"fields": ("sites",)}))
    filter_horizontal = ("groups", "user_permissions", "sites")
    list_display = ["username", "is_active", "last_login"]


@admin.register(Participant)
class ParticipantAdmin(admin.ModelAdmin):
    list_display = ["code", "first_seen_on", "merged_into"]
    search_fields = ["code"]
    raw_id_fields = ["merged_into"]


class VisitSupplyInline(admin.TabularInline):
    model = VisitSupply
    extra = 0
    can_delete = False
    # Supplies move stock: change them through the visit correction service, not here.
    readonly_fields = ["item", "kit", "quantity"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Visit)
class VisitAdmin(admin.ModelAdmin):
    list_display = ["occurred_at", "site", "participant", "contacts", "recorded_by", "voided_at"]
    list_filter = ["site", "service_model"]
    inlines = [VisitSupplyInline]
    raw_id_fields = ["participant"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
