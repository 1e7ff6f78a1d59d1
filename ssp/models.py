import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

from .roles import CAPABILITIES


class ServiceModel(models.TextChoices):
    FIXED = "fixed", "Fixed site"
    MOBILE = "mobile", "Mobile van"
    OUTREACH = "outreach", "Street outreach"
    MAIL = "mail", "Mail"
    PEER = "peer", "Peer delivery"


class Site(models.Model):
    """A place or programme arm where visits happen: a storefront, a van, a route."""

    name = models.CharField(max_length=100, unique=True)
    code = models.CharField(
        max_length=12,
        unique=True,
        validators=[RegexValidator(r"^[A-Z0-9-]+$", "Use capital letters, digits and '-'.")],
        help_text="Short code shown in lists and reports, e.g. DTWN or VAN1.",
    )
    service_model = models.CharField(max_length=12, choices=ServiceModel.choices)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        permissions = CAPABILITIES

    def __str__(self):
        return self.name


class User(AbstractUser):
    """A staff account. Staff belong to sites; program-wide roles see every site."""

    sites = models.ManyToManyField(Site, blank=True, related_name="staff")

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"

    @property
    def is_program_wide(self) -> bool:
        return self.has_perm("ssp.program_wide")

    def accessible_site_ids(self) -> set[int]:
        """Ids of the sites this person may see and record at (cached per request)."""
        if not hasattr(self, "_accessible_site_ids"):
            if self.is_program_wide:
                ids = Site.objects.values_list("pk", flat=True)
            else:
                ids = self.sites.values_list("pk", flat=True)
            self._accessible_site_ids = set(ids)
        return self._accessible_site_ids

    def can_access_site(self, site_id: int) -> bool:
        return site_id in self.accessible_site_ids()


class Gender(models.TextChoices):
    WOMAN = "F", "Woman"
    MAN = "M", "Man"
    TRANS_OR_NONBINARY = "X", "Trans / non-binary / two-spirit"
    UNKNOWN = "U", "Not asked / declined"


class AgeBand(models.TextChoices):
    UNDER_18 = "<18", "Under 18"
    A18_24 = "18-24", "18–24"
    A25_34 = "25-34", "25–34"
    A35_44 = "35-44", "35–44"
    A45_54 = "45-54", "45–54"
    A55_PLUS = "55+", "55 and over"


class Participant(models.Model):
    """A person known only by the anonymous code they can rebuild at every visit.

    Never add names, birth dates, addresses, phone numbers or ID numbers here:
    tests/test_privacy.py fails if a field that looks like one appears.
    """

    # Exact look-ups and near-match suggestions (ssp/selectors.py) rely on this unique index.
    code = models.CharField(max_length=32, unique=True)
    first_seen_on = models.DateField()
    gender = models.CharField(max_length=1, choices=Gender.choices, blank=True)
    age_band = models.CharField(max_length=5, choices=AgeBand.choices, blank=True)
    zip3 = models.CharField(
        "first three ZIP digits",
        max_length=3,
        blank=True,
        validators=[RegexValidator(r"^\d{3}$", "Three digits at most: never a full ZIP.")],
    )
    # Set when a manager merged this code into another; the old code still resolves.
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_codes"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        indexes = [
            # Prefix look-ups (`code__startswith`) on PostgreSQL need a pattern index:
            # the unique index follows the database collation, which LIKE cannot use.
            models.Index(
                fields=["code"], name="participant_code_prefix", opclasses=["varchar_pattern_ops"]
            ),
        ]

    def __str__(self):
        return self.code


class ParticipantMerge(models.Model):
    """A manager's decision that two codes belong to one person: the record of who,
    when, why and what moved. The merged code keeps resolving to the kept one."""

    merged = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="merges_away")
    kept = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="merges_in")
    merged_at = models.DateTimeField(auto_now_add=True)
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="participant_merges"
    )
    reason = models.CharField(max_length=200, blank=True)
    visits_moved = models.PositiveIntegerField(default=0)
    referrals_moved = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-merged_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(merged=models.F("kept")), name="merge_two_different_codes"
            ),
            # A code is merged away once; the second attempt is refused by the database too.
            models.UniqueConstraint(fields=["merged"], name="merge_once_per_code"),
        ]

    def __str__(self):
        return f"{self.merged} → {self.kept}"


class CollectionMethod(models.TextChoices):
    COUNTED = "counted", "Counted"
    ESTIMATED = "estimated", "Estimated"
    WEIGHED = "weighed", "Weighed"


class NaloxoneRefillReason(models.TextChoices):
    USED_ON_SOMEONE = "used", "Used on someone"
    LOST = "lost", "Lost or stolen"
    EXPIRED = "expired", "Expired"
    TAKEN_BY_POLICE = "police", "Taken by police"
    OTHER = "other", "Other"


class Visit(models.Model):
    """One encounter, or one street-outreach shift logged in bulk (contacts > 1)."""

    # Client-generated, so a retried or double-clicked submission is recognised.
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="visits")
    location = models.ForeignKey(
        "inventory.Location", on_delete=models.PROTECT, related_name="visits"
    )
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField(auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="visits_recorded"
    )
    participant = models.ForeignKey(
        Participant, null=True, blank=True, on_delete=models.PROTECT, related_name="visits"
    )
    service_model = models.CharField(max_length=12, choices=ServiceModel.choices)
    contacts = models.PositiveIntegerField(
        default=1, help_text="People reached; above 1 for a street shift logged in bulk."
    )
    syringes_collected = models.PositiveIntegerField(default=0)
    collection_method = models.CharField(
        max_length=10, choices=CollectionMethod.choices, default=CollectionMethod.COUNTED
    )
    secondary_people = models.PositiveIntegerField(
        default=0, help_text="Other people the supplies are for (secondary distribution)."
    )
    naloxone_refill_reason = models.CharField(
        max_length=10, choices=NaloxoneRefillReason.choices, blank=True
    )
    overdose_reversals = models.PositiveIntegerField(default=0)
    notes = models.TextField(
        blank=True,
        max_length=500,
        help_text="Never enter names, birth dates, addresses, phone numbers or other "
        "details that could identify the person.",
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="visits_updated",
    )
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="visits_voided",
    )
    void_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-occurred_at"]
        indexes = [
            # Reports and the front-desk "today" list filter by site and time.
            models.Index(fields=["site", "occurred_at"]),
            models.Index(fields=["participant", "occurred_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(contacts__gte=1), name="visit_contacts_at_least_one"
            ),
            # A bulk shift counts anonymous contacts; it cannot belong to one code.
            models.CheckConstraint(
                condition=Q(contacts=1) | Q(participant__isnull=True),
                name="visit_bulk_is_anonymous",
            ),
        ]

    def __str__(self):
        who = self.participant.code if self.participant_id else "anonymous"
        return f"Visit {who} at {self.site} {self.occurred_at:%Y-%m-%d %H:%M}"

    @property
    def is_void(self) -> bool:
        return self.voided_at is not None

    @property
    def stock_reference(self) -> str:
        """The free reference the inventory ledger carries for this visit's movements."""
        return f"visit:{self.uuid}"


class VisitSupply(models.Model):
    """A supply line of a visit: an item, or a kit (whose components move stock)."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="supplies")
    item = models.ForeignKey(
        "inventory.Item", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kit = models.ForeignKey(
        "inventory.Kit", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    quantity = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gte=1), name="visit_supply_quantity_positive"
            ),
            models.CheckConstraint(
                condition=(Q(item__isnull=False) & Q(kit__isnull=True))
                | (Q(item__isnull=True) & Q(kit__isnull=False)),
                name="visit_supply_item_xor_kit",
            ),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.item or self.kit}"


# --- Funder reports --------------------------------------------------------------
# Built by ssp/reports/services.py only; a ready snapshot is never changed again.


class ReportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class ReportTrigger(models.TextChoices):
    SCHEDULED = "scheduled", "Monthly job"
    ON_DEMAND = "on_demand", "On demand"


def report_file_path(snapshot, filename: str) -> str:
    return f"reports/{snapshot.period_start:%Y}/{filename}"


class ReportSnapshot(models.Model):
    """One generated funder report: parameters, figures and files, frozen when ready.

    Regenerating the same template, period and sites makes a new version; nothing is
    overwritten. `figures` holds the unsuppressed numbers (shown in the app only to
    people allowed to see them); the CSV and XLSX files are suppressed.
    """

    template = models.CharField(max_length=40, help_text="Key in ssp/reports/templates.py.")
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
