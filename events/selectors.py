"""Reads of program events: lists for the pages and the API, figures for reports."""

from datetime import date, timedelta

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from org.models import User

from .models import EventKind, PersonStuck, ProgramEvent

# reports/ labels the needle-stick figures with these choices (it reads no events model).
__all__ = ["PersonStuck", "event_edit_refusal", "event_figures_by_site", "events_for_user"]


def events_for_user(*, user: User) -> QuerySet[ProgramEvent]:
    """Events at the person's sites (all sites for program-wide roles), newest first."""
    return ProgramEvent.objects.filter(site_id__in=user.accessible_site_ids()).select_related(
        "site", "recorded_by"
    )


def event_edit_refusal(*, event: ProgramEvent, by: User) -> str:
    """Why `by` may not correct or void this event ("" when they may)."""
    if event.is_void:
        return "This event is voided; record it again if it happened."
    if not by.can_access_site(event.site_id):
        return "You do not work at this event's site."
    if by.has_perm("events.correct_any_event"):
        return ""
    if not by.has_perm("events.record_events"):
        return "Your role does not allow recording program events."
    if event.recorded_by_id != by.pk:
        return "Only the person who recorded it or a manager can change this event."
    hours = settings.SSP_VISIT_EDIT_HOURS
    if event.created_at < timezone.now() - timedelta(hours=hours):
        return f"Events can be changed for {hours} hours after they are recorded; ask a manager."
    return ""


# --- Figures for funder reports (read by reports/) ---


def event_figures_by_site(*, start: date, end_exclusive: date, site_ids) -> dict[int, dict]:
    """Per site: {figure: int} for the period's events (voided ones left out), keyed as
    the funder reports are: cleanup_syringes, cleanup_events, kiosk_syringes,
    needle_sticks and needle_sticks.<who was stuck>."""
    expressions = {
        "cleanup_events": Count("pk", filter=Q(kind=EventKind.CLEANUP)),
        "cleanup_syringes": Sum("syringes_collected", filter=Q(kind=EventKind.CLEANUP)),
        "kiosk_syringes": Sum("syringes_estimated", filter=Q(kind=EventKind.SHARPS_EMPTIED)),
        "needle_sticks": Count("pk", filter=Q(kind=EventKind.NEEDLE_STICK)),
    }
    for code in PersonStuck.values:
        expressions[f"needle_sticks.{code}"] = Count(
            "pk", filter=Q(kind=EventKind.NEEDLE_STICK, person_stuck=code)
        )
    # Dotted keys are not SQL-friendly aliases: annotate as f0, f1, … and map back.
    aliases = {f"f{i}": key for i, key in enumerate(expressions)}
    rows = (
        ProgramEvent.objects.filter(
            occurred_on__gte=start,
            occurred_on__lt=end_exclusive,
            site_id__in=list(site_ids),
            voided_at__isnull=True,
        )
        .order_by()
        .values("site_id")
        .annotate(**{alias: expressions[key] for alias, key in aliases.items()})
    )
    return {
        row["site_id"]: {key: row[alias] or 0 for alias, key in aliases.items()} for row in rows
    }
