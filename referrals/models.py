"""Referrals to treatment, testing, care and social services, and their linkage.

A referral is made at a visit (or for a code between visits); staff learn at a later
visit whether the person actually started the service ("linkage"). Transitions go
through referrals/services.py only, each one writing a ReferralStatusChange row.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.text import format_lazy
from django.utils.translation import gettext, gettext_lazy, gettext_noop

from org.privacy import PHONE, STREET_ADDRESS, NoPersonalDetails, no_personal_details

from .capabilities import CAPABILITIES

# A code seen only at other sites gets the same answer as an unknown one.
NO_VISIT_YET = gettext_lazy("No visit with this code at your sites yet: log a visit first.")
PII_WARNING = gettext_lazy(
    "Never enter names, birth dates, addresses, phone numbers or other details that "
    "could identify the person: phone numbers, emails, SSNs, street addresses and birth "
    "dates are refused."
)


class ReferralGroup(models.TextChoices):
    # Labels stay English in the database, the API and the CSV; pages translate them.
    TREATMENT = "treatment", gettext_noop("Treatment")
    TESTING = "testing", gettext_noop("Testing")
    CARE = "care", gettext_noop("Care")
    SOCIAL = "social", gettext_noop("Social")


class ReferralType(models.Model):
    """A kind of service people are referred to (managed list, seeded by a migration)."""

    # Funder reports key their figures by this code; never rename a code in use.
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=120, unique=True)
    group = models.CharField(max_length=12, choices=ReferralGroup.choices)
    sort_order = models.PositiveSmallIntegerField(default=100)
    is_active = models.BooleanField(
        default=True, help_text="Inactive types stay in history but are no longer offered."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["sort_order", "name"]

    def __str__(self):
        return self.name


class Partner(models.Model):
    """An organisation people are referred to. Its details are not participant data."""

    name = models.CharField(max_length=160, unique=True, validators=[no_personal_details])
    types = models.ManyToManyField(
        ReferralType,
        related_name="partners",
        help_text="The referral types this partner accepts.",
    )
    # The organisation's own address and phone: the only fields that may hold one.
    address = models.CharField(
        max_length=240, blank=True, validators=[NoPersonalDetails(allow=(STREET_ADDRESS,))]
    )
    phone = models.CharField(
        max_length=40, blank=True, validators=[NoPersonalDetails(allow=(PHONE,))]
    )
    hours = models.CharField(
        max_length=160,
        blank=True,
        validators=[no_personal_details],
        help_text="e.g. Mon–Fri 9–17, walk-in",
    )
    website = models.URLField(blank=True)
    notes = models.TextField(
        blank=True,
        max_length=1000,
        validators=[no_personal_details],
        help_text=format_lazy(
            "{} {}",
            gettext_lazy("About the organisation (intake process, contact person)."),
            PII_WARNING,
        ),
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class ReferralStatus(models.TextChoices):
    # Labels stay English in the database, the API and the CSV; pages translate them.
    REFERRED = "referred", gettext_noop("Referred")
    LINKED = "linked", gettext_noop("Linked")
    DECLINED = "declined", gettext_noop("Declined")
    LOST = "lost", gettext_noop("Lost to follow-up")
    NOT_NEEDED = "not_needed", gettext_noop("No longer needed")


# The only allowed moves. Linked and "no longer needed" are final; a declined or lost
# referral can be reopened (the person changed their mind or came back) or turn out
# to be linked after all, which staff often learn months later.
TRANSITIONS: dict[str, frozenset[str]] = {
    ReferralStatus.REFERRED: frozenset(
        {
            ReferralStatus.LINKED,
            ReferralStatus.DECLINED,
            ReferralStatus.LOST,
            ReferralStatus.NOT_NEEDED,
        }
    ),
    ReferralStatus.DECLINED: frozenset({ReferralStatus.REFERRED, ReferralStatus.LINKED}),
    ReferralStatus.LOST: frozenset({ReferralStatus.REFERRED, ReferralStatus.LINKED}),
    ReferralStatus.LINKED: frozenset(),
    ReferralStatus.NOT_NEEDED: frozenset(),
}


class Referral(models.Model):
    """One referral of one person (code) to one type of service."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # The intake merge service re-points `participant.referrals` to the surviving code.
    participant = models.ForeignKey(
        "ssp.Participant", on_delete=models.PROTECT, related_name="referrals"
    )
    visit = models.ForeignKey(
        "ssp.Visit", null=True, blank=True, on_delete=models.PROTECT, related_name="referrals"
    )
    site = models.ForeignKey("org.Site", on_delete=models.PROTECT, related_name="referrals")
    type = models.ForeignKey(ReferralType, on_delete=models.PROTECT, related_name="referrals")
    partner = models.ForeignKey(
        Partner, null=True, blank=True, on_delete=models.PROTECT, related_name="referrals"
    )
    status = models.CharField(
        max_length=12, choices=ReferralStatus.choices, default=ReferralStatus.REFERRED
    )
    referred_on = models.DateField()
    follow_up_on = models.DateField(help_text="When staff should ask whether the person linked.")
    linked_on = models.DateField(null=True, blank=True)
    status_changed_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="referrals_created"
    )

    class Meta:
        permissions = CAPABILITIES
        ordering = ["-referred_on", "-pk"]
        indexes = [
            # Funder counts and the linkage page filter by period, then site.
            models.Index(fields=["referred_on", "site"]),
            models.Index(fields=["linked_on", "site"]),
            # The intake prompt: a person's open referrals by follow-up date.
            models.Index(fields=["participant", "status", "follow_up_on"]),
            # The overdue list: open referrals by follow-up date.
            models.Index(fields=["status", "follow_up_on"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(status="linked") & Q(linked_on__isnull=False))
                | (~Q(status="linked") & Q(linked_on__isnull=True)),
                name="referral_linked_on_iff_linked",
            ),
            models.CheckConstraint(
                condition=Q(linked_on__isnull=True) | Q(linked_on__gte=F("referred_on")),
                name="referral_linked_not_before_referred",
            ),
            models.CheckConstraint(
                condition=Q(follow_up_on__gte=F("referred_on")),
                name="referral_follow_up_not_before_referred",
            ),
            models.CheckConstraint(
                condition=Q(status__in=ReferralStatus.values), name="referral_status_valid"
            ),
        ]

    def __str__(self):
        return f"{self.type} for {self.participant} ({self.get_status_display()})"

    def get_absolute_url(self):
        return reverse("referrals:detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status == ReferralStatus.REFERRED

    def allowed_next(self) -> list[str]:
        return sorted(TRANSITIONS[self.status])


class ReferralStatusChange(models.Model):
    """Append-only history: creation, every status change and every "not yet" answer."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="history")
    # Blank on the row that records the referral being made.
    from_status = models.CharField(max_length=12, choices=ReferralStatus.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=ReferralStatus.choices)
    linked_on = models.DateField(null=True, blank=True)
    follow_up_on = models.DateField(
        null=True, blank=True, help_text="The follow-up date set by this change, if any."
    )
    note = models.CharField(
        max_length=300, blank=True, validators=[no_personal_details], help_text=PII_WARNING
    )
    changed_at = models.DateTimeField()
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["changed_at", "pk"]

    def __str__(self):
        return f"{self.from_status or 'new'} → {self.to_status} by {self.changed_by}"

    @property
    def description(self) -> str:
        """The change in staff words, for history lists."""
        if not self.from_status:
            return gettext("Referred")
        if self.from_status == self.to_status == ReferralStatus.REFERRED:
            return gettext("Asked: not linked yet")
        if self.to_status == ReferralStatus.REFERRED:
            return gettext("Reopened")
        return gettext(self.get_to_status_display())
