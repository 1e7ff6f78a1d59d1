from django.contrib import admin

from .models import ProgramEvent


@admin.register(ProgramEvent)
class ProgramEventAdmin(admin.ModelAdmin):
    """Read-only: events are recorded, corrected and voided through the services."""

    list_display = ["occurred_on", "kind", "site", "recorded_by", "voided_at"]
    list_filter = ["kind", "site"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
