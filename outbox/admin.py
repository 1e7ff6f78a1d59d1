from django.contrib import admin, messages

from . import selectors, services
from .models import JobState, OutboxJob


class StateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return JobState.choices

    def queryset(self, request, queryset):
        if self.value() in JobState.values:
            return queryset & selectors.jobs_in_state(self.value())
        return queryset


@admin.register(OutboxJob)
class OutboxJobAdmin(admin.ModelAdmin):
    list_display = [
        "pk",
        "task_name",
        "state",
        "created_at",
        "dispatched_at",
        "done_at",
        "attempts",
        "last_error",
    ]
    list_filter = [StateFilter, "task_name"]
    readonly_fields = [f.name for f in OutboxJob._meta.fields]
    actions = ["send_again"]

    def has_add_permission(self, request):
        return False

    @admin.display(description="state")
    def state(self, job):
        return JobState(job.state).label

    @admin.action(description="Send the selected jobs again (done ones are skipped)")
    def send_again(self, request, queryset):
        sent = services.jobs_resend(job_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"Sent {sent} job(s) again.", messages.SUCCESS)
