import uuid

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from org.models import ServiceModel, Site
from org.privacy import no_personal_details

from .capabilities import CAPABILITIES, SURVEY_CAPABILITIES

# ASCII digits only: `\d` would also take "٣" or "３", which no ZIP has.
ZIP3_PATTERN = r"^[0-9]{3}$"
ZIP3_MESSAGE = "Three digits at most: never a full ZIP."


class Gender(models.TextChoices):
    WOMAN = "F", gettext_noop("Woman")
    MAN = "M", gettext_noop("Man")
    TRANS_OR_NONBINARY = "X", gettext_noop("Trans / non-binary / two-spirit")
    UNKNOWN = "U", gettext_noop("Not asked / declined")


class AgeBand(models.TextChoices):
    UNDER_18 = "<18", gettext_noop("Under 18")
    A18_24 = "18-24", "18–24"
    A25_34 = "25-34", "25–34"
    A35_44 = "35-44", "35–44"
    A45_54 = "45-54", "45–54"
    A55_PLUS = "55+", gettext_noop("55 and over")


class Participant(models.Model):
    """A person known only by the anonymous code they can rebuild at every visit.

    Never add names, birth dates, addresses, phone numbers or ID numbers here:
    tests/ops/test_privacy.py fails if a field that looks like one appears.
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
        validators=[RegexValidator(ZIP3_PATTERN, ZIP3_MESSAGE)],
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


class MergeReason(models.TextChoices):
    """Why two codes are one person, without the details that would identify them."""

    TYPO = "typo", gettext_noop("Typing error in the code")
    RECALLED_DIFFERENTLY = "recalled", gettext_noop("A part of the code remembered differently")
    YEAR_OFF = "year", gettext_noop("Birth year off")
    SWAPPED = "swapped", gettext_noop("Letters swapped")
    OTHER = "other", gettext_noop("Other (no details)")


class ParticipantMerge(models.Model):
    """A manager's decision that two codes belong to one person: the record of who,
    when, why and what moved. The merged code keeps resolving to the kept one."""

    merged = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="merges_away")
    kept = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="merges_in")
    merged_at = models.DateTimeField(auto_now_add=True)
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="participant_merges"
    )
    reason = models.CharField(max_length=10, choices=MergeReason.choices, blank=True)
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
    COUNTED = "counted", gettext_noop("Counted")
    ESTIMATED = "estimated", gettext_noop("Estimated")
    WEIGHED = "weighed", gettext_noop("Weighed")


class NaloxoneRefillReason(models.TextChoices):
    USED_ON_SOMEONE = "used", gettext_noop("Used on someone")
    LOST = "lost", gettext_noop("Lost or stolen")
    EXPIRED = "expired", gettext_noop("Expired")
    TAKEN_BY_POLICE = "police", gettext_noop("Taken by police")
    OTHER = "other", gettext_noop("Other")


class VoidReason(models.TextChoices):
    """Why a visit is voided: a choice, so no one types a person's details into it."""

    ENTERED_TWICE = "twice", gettext_noop("Entered twice")
    WRONG_CODE = "wrong_code", gettext_noop("Wrong code")
    WRONG_SITE = "wrong_site", gettext_noop("Wrong site")
    TEST_ENTRY = "test", gettext_noop("Test entry")
    UNDONE = "undone", gettext_noop("Undone at the front desk (mistaken entry)")
    OTHER = "other", gettext_noop("Other (no details)")


# Short on purpose: a visit note is a reminder ("wants PrEP info"), never a story.
VISIT_NOTES_MAX = 200


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
        max_length=VISIT_NOTES_MAX,
        validators=[no_personal_details],
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
    void_reason = models.CharField(max_length=12, choices=VoidReason.choices, blank=True)

    class Meta:
        permissions = CAPABILITIES
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

    # Set by ssp.services on the visit it returns: what staff should know although the
    # visit was saved (supplies the books did not hold), or None. Not stored.
    stock_notice: str | None = None

    def __str__(self):
        who = self.participant.code if self.participant_id else "anonymous"
        return f"Visit {who} at {self.site} {timezone.localtime(self.occurred_at):%Y-%m-%d %H:%M}"

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


class VisitService(models.Model):
    """A service given at a visit (SSP_VISIT_SERVICES), with how many times: 1 at the
    front desk, the shift's total for a street shift."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="services")
    # A code of SSP_VISIT_SERVICES; not a fixed choice list, so a program can add its own.
    service = models.CharField(max_length=40)
    count = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(condition=Q(count__gte=1), name="visit_service_count_positive"),
            models.UniqueConstraint(fields=["visit", "service"], name="visit_service_once"),
        ]

    def __str__(self):
        return f"{self.count} × {self.service}"


# --- The periodic anonymous survey -------------------------------------------------
# A visit records only that a survey was offered and how it ended (VisitSurveyOffer).
# The answers (SurveyResponse, SurveyAnswer) hold no link to a code, a visit or a
# person and no time finer than the survey's period: random UUID keys (no sequence to
# line up with the offers), no created_at, no default ordering, and auditlog leaves
# them out (config/settings.py), because an audit entry would tie them to a time and a
# person. docs/privacy.md says why; tests/ssp/test_survey_privacy.py inspects the table.


class SurveyPeriod(models.TextChoices):
    MONTH = "month", gettext_noop("Month")
    QUARTER = "quarter", gettext_noop("Quarter")


class Survey(models.Model):
    """A short survey a coordinator defines from the fixed question bank."""

    name = models.CharField(
        max_length=80,
        unique=True,
        validators=[no_personal_details],
        help_text="What staff see, e.g. “Spring check-in”.",
    )
    # Question codes of ssp.survey_bank.BANK, in the order they are asked.
    questions = models.JSONField(default=list)
    # The ZIP3 areas the "where do you live" question offers, e.g. ["100", "112"].
    zip3_areas = models.JSONField(default=list, blank=True)
    period = models.CharField(
        max_length=8,
        choices=SurveyPeriod.choices,
        default=SurveyPeriod.QUARTER,
        help_text="Each person is asked at most once in each period.",
    )
    active_from = models.DateField()
    active_until = models.DateField(
        null=True, blank=True, help_text="Leave empty to keep offering it."
    )

    class Meta:
        permissions = SURVEY_CAPABILITIES
        ordering = ["-active_from", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(active_until__isnull=True)
                | Q(active_until__gte=models.F("active_from")),
                name="survey_active_until_not_before_from",
            ),
            models.CheckConstraint(
                condition=Q(period__in=SurveyPeriod.values), name="survey_period_valid"
            ),
        ]

    def __str__(self):
        return self.name


class OfferOutcome(models.TextChoices):
    # Accepted: the person is answering on the answer screen (or walked away from it).
    ACCEPTED = "accepted", gettext_noop("Accepted, not answered")
    ANSWERED = "answered", gettext_noop("Answered")
    DECLINED = "declined", gettext_noop("Declined")


class VisitSurveyOffer(models.Model):
    """That a survey was offered at a visit, and how it ended. Never the answers."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="survey_offers")
    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="offers")
    # First day of the survey's period that holds the visit: the once-per-period rule
    # (ssp.survey_services.survey_offer_record) looks offers up by it.
    period_start = models.DateField()
    outcome = models.CharField(max_length=10, choices=OfferOutcome.choices)

    class Meta:
        ordering = ["-period_start", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["visit", "survey"], name="survey_offer_once_per_visit"),
            models.CheckConstraint(
                condition=Q(outcome__in=OfferOutcome.values), name="survey_offer_outcome_valid"
            ),
        ]
        indexes = [models.Index(fields=["survey", "period_start"])]

    def __str__(self):
        return f"{self.survey} at {self.visit}: {self.get_outcome_display()}"


class SurveyResponse(models.Model):
    """One person's answers, known only by survey, site and period."""

    # Random, not a sequence: an id in insertion order could be lined up with the offers.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="responses")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    period_start = models.DateField()

    class Meta:
        indexes = [models.Index(fields=["period_start", "site"])]

    def __str__(self):
        return f"{self.survey} response, {self.site} {self.period_start:%Y-%m}"


class SurveyAnswer(models.Model):
    """One chosen answer of a response (a multiple-choice question has several)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    response = models.ForeignKey(SurveyResponse, on_delete=models.CASCADE, related_name="answers")
    question = models.CharField(max_length=24)
    answer = models.CharField(max_length=24)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["response", "question", "answer"], name="survey_answer_once"
            )
        ]

    def __str__(self):
        return f"{self.question}: {self.answer}"
