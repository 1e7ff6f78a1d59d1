"""Program events that are not visits: community clean-ups, needle-stick injuries and
sharps kiosks or bins emptied.

They are counted, never tied to a person: no participant code, no names, no free text.
One table holds the three kinds; the kind-specific columns are empty for the other
kinds, which the check constraints enforce (services.py validates first, with clear
messages; the constraints are the last word).
"""

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_noop

from .capabilities import CAPABILITIES

# Bounds: far above any real event, low enough to catch a typo (an extra zero).
MAX_SYRINGES_COLLECTED = 20_000
MAX_STAFF_HOURS = Decimal("500")
MAX_WEIGHT = Decimal("500")  # in the unit recorded (kg or lb)
KG_IN_POUNDS = Decimal("2.20462")


class EventKind(models.TextChoices):
    CLEANUP = "cleanup", gettext_noop("Community clean-up")
    NEEDLE_STICK = "needle_stick", gettext_noop("Needle-stick injury")
    SHARPS_EMPTIED = "sharps_emptied", gettext_noop("Sharps kiosk or bin emptied")


class PersonStuck(models.TextChoices):
    """Who was stuck: a role, never a person."""

    STAFF = "staff", gettext_noop("Staff or volunteer")
    COMMUNITY = "community", gettext_noop("Community member")


class SharpsContainer(models.TextChoices):
    KIOSK = "kiosk", gettext_noop("Outdoor sharps kiosk")
    SITE_BIN = "site_bin", gettext_noop("Sharps bin inside the site")
    DROP_BOX = "drop_box", gettext_noop("Drop box")
    VAN_BIN = "van_bin", gettext_noop("Sharps bin on the van")


class WeightUnit(models.TextChoices):
    KG = "kg", gettext_noop("kg")
    LB = "lb", gettext_noop("lb")


class EventVoidReason(models.TextChoices):
    """Why an event is voided: a choice, so no one types a person's details into it."""

    ENTERED_TWICE = "twice", gettext_noop("Entered twice")
    WRONG_SITE = "wrong_site", gettext_noop("Wrong site")
    WRONG_KIND = "wrong_kind", gettext_noop("Wrong kind of event")
    TEST_ENTRY = "test", gettext_noop("Test entry")
    OTHER = "other", gettext_noop("Other (no details)")


class ProgramEvent(models.Model):
    """One clean-up, needle-stick injury or emptied kiosk/bin at a site on a day."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField("kind", max_length=16, choices=EventKind.choices)
    site = models.ForeignKey(
        "org.Site", on_delete=models.PROTECT, related_name="program_events", verbose_name="site"
    )
    occurred_on = models.DateField("date")
    # Clean-up
    syringes_collected = models.PositiveIntegerField("syringes collected", null=True, blank=True)
    staff_hours = models.DecimalField(
        "staff hours", max_digits=6, decimal_places=2, null=True, blank=True
    )
    # Needle-stick injury
    person_stuck = models.CharField(
        "who was stuck", max_length=12, choices=PersonStuck.choices, blank=True
    )
    # Sharps kiosk or bin emptied
    container = models.CharField(
        "kiosk or bin", max_length=12, choices=SharpsContainer.choices, blank=True
    )
    weight = models.DecimalField("weight", max_digits=6, decimal_places=2, null=True, blank=True)
    weight_unit = models.CharField("unit", max_length=2, choices=WeightUnit.choices, blank=True)
    # The conversion in force when the bin was weighed (SSP_SYRINGES_PER_POUND), kept so
    # that a later change of the setting does not rewrite published figures.
    syringes_per_pound = models.PositiveSmallIntegerField(null=True, blank=True)
    syringes_estimated = models.PositiveIntegerField("syringes (estimated)", null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="events_recorded"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="events_updated",
    )
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="events_voided",
    )
    void_reason = models.CharField(
        "void reason", max_length=12, choices=EventVoidReason.choices, blank=True
    )

    class Meta:
        permissions = CAPABILITIES
        ordering = ["-occurred_on", "-pk"]
        indexes = [
            # The events page and the funder figures filter by day, then site.
            models.Index(fields=["occurred_on", "site"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=EventKind.values), name="event_kind_valid"),
            models.CheckConstraint(
                condition=~Q(kind=EventKind.CLEANUP)
                | (
                    Q(syringes_collected__isnull=False)
                    & Q(syringes_collected__lte=MAX_SYRINGES_COLLECTED)
                    & Q(staff_hours__gt=0)
                    & Q(staff_hours__lte=MAX_STAFF_HOURS)
                ),
                name="event_cleanup_counts_bounded",
            ),
            models.CheckConstraint(
                condition=~Q(kind=EventKind.NEEDLE_STICK) | Q(person_stuck__in=PersonStuck.values),
                name="event_needle_stick_says_who",
            ),
            models.CheckConstraint(
                condition=~Q(kind=EventKind.SHARPS_EMPTIED)
                | (
                    Q(container__in=SharpsContainer.values)
                    & Q(weight__gt=0)
                    & Q(weight__lte=MAX_WEIGHT)
                    & Q(weight_unit__in=WeightUnit.values)
                    & Q(syringes_per_pound__gt=0)
                    & Q(syringes_estimated__isnull=False)
                ),
                name="event_sharps_weighed",
            ),
            # A kind's fields stay empty on the other kinds, so no figure counts them.
            models.CheckConstraint(
                condition=Q(kind=EventKind.CLEANUP)
                | (Q(syringes_collected__isnull=True) & Q(staff_hours__isnull=True)),
                name="event_cleanup_fields_only_on_cleanups",
            ),
            models.CheckConstraint(
                condition=Q(kind=EventKind.NEEDLE_STICK) | Q(person_stuck=""),
                name="event_person_stuck_only_on_needle_sticks",
            ),
            models.CheckConstraint(
                condition=Q(kind=EventKind.SHARPS_EMPTIED)
                | (
                    Q(container="")
                    & Q(weight__isnull=True)
                    & Q(weight_unit="")
                    & Q(syringes_estimated__isnull=True)
                ),
                name="event_sharps_fields_only_on_sharps",
            ),
            models.CheckConstraint(
                condition=(Q(voided_at__isnull=True) & Q(void_reason=""))
                | (Q(voided_at__isnull=False) & Q(void_reason__in=EventVoidReason.values)),
                name="event_void_has_a_reason",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} at {self.site} on {self.occurred_on}"

    def get_absolute_url(self):
        return reverse("events:detail", args=[self.uuid])

    @property
    def is_void(self) -> bool:
        return self.voided_at is not None
