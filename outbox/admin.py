from django.contrib import admin

from .models import OutboxJob


@admin.register(OutboxJob)
class OutboxJobAdmin(admin.ModelAdmin):
    list_display = ["pk", "task_name", "created_at", "dispatched_at", "attempts", "last_error"]
    list_filter = ["task_name"]
    readonly_fields = [f.name for f in OutboxJob._meta.fields]

    def has_add_permission(self, request):
        return False
