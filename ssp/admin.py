from django.contrib import admin

from .models import Participant, Visit, VisitSupply


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
