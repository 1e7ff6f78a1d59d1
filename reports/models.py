"""Funder reports: immutable, versioned snapshots of a period's figures.

Built by reports/services.py only; a ready snapshot is never changed again.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_noop

from org.models import Site

from .capabilities import CAPABILITIES


class ReportStatus(models.TextChoices):
    # Labels stay English in the database and the API; pages show them translated.
    QUEUED = "queued", gettext_noop("Queued")
    RUNNING = "running", gettext_noop("Running")
    READY = "ready", gettext_noop("Ready")
    FAILED = "failed", gettext_noop("Failed")


class ReportTrigger(models.TextChoices):
    SCHEDULED = "scheduled", gettext_noop("Monthly job")
    ON_DEMAND = "on_demand", gettext_noop("On demand")


def report_file_path(snapshot, filename: str) -> str:
    return f"reports/{snapshot.period_start:%Y}/{filename}"


class ReportSnapshot(models.Model):
    """One generated funder report: parameters, figures and files, frozen when ready.

    Regenerating the same template, period and sites makes a new version; nothing is
    overwritten. `figures` holds the unsuppressed numbers (shown in the app only to
    people allowed to see them); the CSV and XLSX files are suppressed.
    """

    template = models.CharField(max_length=40, help_text="Key in reports/funder_templates.py.")
    period_start = models.DateField()
    period_end = models.DateField(help_text="Last day of the period (inclusive).")
    # "all" for the whole program, otherwise the sorted site ids, e.g. "1,4".
    site_key = models.CharField(max_length=200)
    sites = models.ManyToManyField(Site, blank=True, related_name="report_snapshots")
    suppression_threshold = models.PositiveSmallIntegerField()
    parameters = models.JSONField(default=dict)
    version = models.PositiveIntegerField()
    trigger = models.CharField(max_length=10, choices=ReportTrigger.choices)
    status = models.CharField(
        max_length=8, choices=ReportStatus.choices, default=ReportStatus.QUEUED
    )
    progress = models.PositiveSmallIntegerField(default=0)
    progress_message = models.CharField(max_length=120, blank=True)
    error = models.CharField(max_length=500, blank=True)
    figures = models.JSONField(null=True, blank=True)
    content_hash = models.CharField(max_length=64, blank=True)
    csv_file = models.FileField(upload_to=report_file_path, blank=True)
    xlsx_file = models.FileField(upload_to=report_file_path, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="report_snapshots",
        help_text="Empty for the monthly job.",
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    generated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        permissions = CAPABILITIES
        ordering = ["-period_start", "template", "-version"]
        constraints = [
            # Versions of one report count up; services retry on a clash (concurrent requests).
            models.UniqueConstraint(
                fields=["template", "period_start", "period_end", "site_key", "version"],
                name="report_snapshot_unique_version",
            ),
            # The monthly job runs at most once per template and period, however often beat fires.
            models.UniqueConstraint(
                fields=["template", "period_start", "period_end", "site_key"],
                condition=Q(trigger="scheduled"),
                name="report_snapshot_one_scheduled",
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")),
                name="report_snapshot_period_ordered",
            ),
            models.CheckConstraint(
                condition=Q(progress__lte=100), name="report_snapshot_progress_percent"
            ),
            models.CheckConstraint(
                condition=Q(suppression_threshold__gte=2),
                name="report_snapshot_threshold_at_least_two",
            ),
        ]

    def __str__(self):
        return f"{self.template} {self.period_start}–{self.period_end} v{self.version}"

    @property
    def is_ready(self) -> bool:
        return self.status == ReportStatus.READY

    @property
    def is_pending(self) -> bool:
        return self.status in (ReportStatus.QUEUED, ReportStatus.RUNNING)


class PeriodSuppression(models.Model):
    """Everything released for one period, as one linked set: every published number
    (by cell "scope|figure"; scope a site code or "TOTAL:<site codes>"), what a reader
    knows about them (equations), and the cells hidden so far.

    Hidden cells only ever grow: a cell suppressed for a period stays suppressed in
    everything released later for it, and complements are chosen only among cells
    never released (reports/releases.py). The values are unsuppressed, like a
    snapshot's figures, and never shown.
    """

    period_start = models.DateField()
    period_end = models.DateField(help_text="Last day of the period (inclusive).")
    values = models.JSONField(default=dict, help_text="cell -> count, latest release.")
    equations = models.JSONField(default=list, help_text="[[coefficient, cell], ...] = 0.")
    hidden = models.JSONField(default=dict, help_text="cell -> primary / secondary.")
    released = models.JSONField(default=list, help_text="Cells ever published visible.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["period_start", "period_end"], name="period_suppression_one_per_period"
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")),
                name="period_suppression_period_ordered",
            ),
        ]

    def __str__(self):
        return f"suppression {self.period_start}–{self.period_end}: {len(self.hidden)} hidden"


class SnapshotCheck(models.Model):
    """A re-count of a ready snapshot's period with today's records (corrections, voids,
    late entries made since it was built): how many of its cells would differ now. The
    snapshot itself never changes; a coordinator builds a new version if it should."""

    snapshot = models.ForeignKey(ReportSnapshot, on_delete=models.CASCADE, related_name="checks")
    checked_at = models.DateTimeField()
    cells_differ = models.PositiveIntegerField()
    announced = models.BooleanField(
        default=False, help_text="Coordinators were emailed about this difference."
    )

    class Meta:
        ordering = ["-checked_at", "-pk"]
        indexes = [models.Index(fields=["snapshot", "-checked_at"])]

    def __str__(self):
        return f"{self.snapshot}: {self.cells_differ} cells differ at {self.checked_at:%Y-%m-%d}"
