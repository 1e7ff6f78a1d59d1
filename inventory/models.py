"""The stock ledger: the ground floor. It knows locations, items, lots and money,
never visits, participants or referrals (callers pass a free `reference`)."""

import pgtrigger
from django.conf import settings
from django.contrib.postgres.indexes import BrinIndex
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop, pgettext_lazy

from org.privacy import no_personal_details

from .capabilities import CAPABILITIES


# Category and formulation labels name funders' figures (reports/metrics.py), which stay
# in English: gettext_noop puts them in the catalogue and pages translate them on show.
class Category(models.TextChoices):
    SYRINGE = "syringe", gettext_noop("Syringe")
    NEEDLE = "needle", gettext_noop("Needle")
    NALOXONE = "naloxone", gettext_noop("Naloxone")
    DRUG_CHECKING = "drug_checking", gettext_noop("Drug-checking strip")
    INJECTION_SUPPLIES = "injection", gettext_noop("Injection supplies")
    SAFER_SMOKING = "smoking", gettext_noop("Safer smoking")
    WOUND_CARE = "wound_care", gettext_noop("Wound care")
    HYGIENE = "hygiene", gettext_noop("Hygiene")
    SAFER_SEX = "safer_sex", gettext_noop("Safer sex")
    OTHER = "other", gettext_noop("Other")


class NaloxoneFormulation(models.TextChoices):
    NASAL_4MG = "nasal_4mg", gettext_noop("Nasal spray 4 mg")
    INJECTABLE_0_4MG = "im_0_4mg", gettext_noop("Injectable 0.4 mg/mL")


class Item(models.Model):
    """Something handed out, counted in one base unit (a syringe, a box of spray, a strip)."""

    name = models.CharField(max_length=120, unique=True)
    code = models.SlugField(max_length=40, unique=True, help_text="Short code for quick entry.")
    category = models.CharField(max_length=20, choices=Category.choices)
    base_unit = models.CharField(max_length=30, default="unit")
    is_lot_tracked = models.BooleanField(
        default=False,
        help_text="Received by lot with an expiry date; dispensed first-expiry-first-out.",
    )
    naloxone_formulation = models.CharField(
        max_length=12, choices=NaloxoneFormulation.choices, blank=True
    )
    naloxone_doses_per_unit = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["category", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(category="naloxone") | Q(naloxone_formulation=""),
                name="item_formulation_only_for_naloxone",
            ),
        ]

    def __str__(self):
        return self.name


class PackSize(models.Model):
    """How an item arrives: 'box of 100' → 100 base units."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="pack_sizes")
    name = models.CharField(max_length=40)
    units = models.PositiveIntegerField(validators=[MinValueValidator(1)])

    class Meta:
        ordering = ["item", "units"]
        constraints = [
            models.UniqueConstraint(fields=["item", "name"], name="pack_size_unique_name"),
            models.CheckConstraint(condition=Q(units__gte=1), name="pack_size_units_positive"),
        ]

    def __str__(self):
        return f"{self.item}: {self.name} ({self.units})"


class Kit(models.Model):
    """A named bundle dispensed together; dispensing one moves every component."""

    name = models.CharField(max_length=120, unique=True)
    code = models.SlugField(max_length=40, unique=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class KitComponent(models.Model):
    kit = models.ForeignKey(Kit, on_delete=models.CASCADE, related_name="components")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="kit_components")
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kit", "item"], name="kit_component_unique_item"),
            models.CheckConstraint(
                condition=Q(quantity__gte=1), name="kit_component_quantity_positive"
            ),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.item}"


# Not translated: no page shows a location's kind, and "Central store" is also the name
# staff give the central location (a translated label would read as untranslated data).
class LocationKind(models.TextChoices):
    CENTRAL = "central", "Central store"
    SITE = "site", "Site"
    VAN = "van", "Van"
    PEER = "peer", "Peer distributor"


class Location(models.Model):
    """Where stock is held. A site's stock lives at the locations that name it."""

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=10, choices=LocationKind.choices)
    # Scoping: managers see the locations of their sites; the central store has none.
    site = models.ForeignKey(
        "org.Site", null=True, blank=True, on_delete=models.PROTECT, related_name="locations"
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        permissions = CAPABILITIES
        ordering = ["name"]

    def __str__(self):
        return self.name


class FundingSource(models.Model):
    """Whose money bought a lot. Some may not buy some categories (e.g. federal: syringes)."""

    name = models.CharField(max_length=120, unique=True)
    code = models.SlugField(max_length=40, unique=True)
    # Category values (see Category) this money may not buy.
    disallowed_categories = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def allows(self, category: str) -> bool:
        return category not in self.disallowed_categories


class Lot(models.Model):
    """A received batch. Untracked items get one lot per funding source, without expiry."""

    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="lots")
    lot_number = models.CharField(max_length=60, blank=True, validators=[no_personal_details])
    expires_on = models.DateField(null=True, blank=True)
    funding_source = models.ForeignKey(FundingSource, on_delete=models.PROTECT, related_name="lots")
    unit_cost = models.DecimalField(max_digits=10, decimal_places=4, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["item", "expires_on", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["item", "lot_number", "funding_source"], name="lot_unique_per_funder"
            ),
        ]

    def __str__(self):
        label = self.lot_number or "untracked"
        return f"{self.item} lot {label}" + (f" exp {self.expires_on}" if self.expires_on else "")


class MovementKind(models.TextChoices):
    RECEIPT = "receipt", _("Receipt")
    DISPENSE = "dispense", _("Dispense")
    TRANSFER_OUT = "transfer_out", _("Transfer out")
    TRANSFER_IN = "transfer_in", _("Transfer in")
    ADJUSTMENT = "adjustment", _("Adjustment")
    COUNT = "count", _("Physical count")


class AdjustmentReason(models.TextChoices):
    DAMAGED = "damaged", _("Damaged")
    # "stock" context: Spanish agrees these with the stock (masculine), not naloxone.
    EXPIRED = "expired", pgettext_lazy("stock", "Expired")
    LOST = "lost", pgettext_lazy("stock", "Lost or stolen")
    FOUND = "found", _("Found")
    CORRECTION = "correction", _("Correction")
    REVERSAL = "reversal", _("Reversal of an earlier movement")
    # Written only by the dispense that recorded a shortfall (and, negative, by the
    # reversal of that dispense): see inventory/services/dispense.py.
    SHORTFALL = "shortfall", _("Unrecorded stock found at dispense")


# Why a physical count differs from the books: the adjustment reasons a person can give
# (a reversal is the system's own).
# A count's difference is never a reversal, nor stock found at a dispense (the dispense
# records that itself).
COUNT_REASONS = [
    value
    for value in AdjustmentReason.values
    if value not in (AdjustmentReason.REVERSAL, AdjustmentReason.SHORTFALL)
]


class TimeOrderedIndex(BrinIndex):
    """A BRIN index on PostgreSQL, for a column that grows with the table's order (an
    append-only ledger's times): a few pages that let a window of recent rows be read
    without the rest of the table, at almost no cost to an insert. A plain index on
    SQLite, the development database, which has no BRIN."""

    def create_sql(self, model, schema_editor, using="", **kwargs):
        if schema_editor.connection.vendor != "postgresql":
            return models.Index.create_sql(self, model, schema_editor, using=using, **kwargs)
        return super().create_sql(model, schema_editor, using=using, **kwargs)


class Refuse(pgtrigger.Protect):
    """pgtrigger.Protect, raising SQLSTATE 23001 (restrict_violation), so Django raises
    IntegrityError as for every other rule the database keeps."""

    def get_func(self, model):
        return self.format_sql(
            f"RAISE EXCEPTION '% {self.label}: % refused', TG_TABLE_NAME, TG_OP "
            "USING ERRCODE = 'restrict_violation';"
        )

    def __init__(self, *, label: str, **kwargs):
        self.label = label
        super().__init__(**kwargs)


class RefersToExisting(pgtrigger.Trigger):
    """A foreign-key check for nullable columns set after the row is written: fires only
    for a row whose columns are set (a PostgreSQL foreign key queues a check for every
    inserted row, NULL or not), and takes the key-share lock a foreign key takes."""

    def __init__(self, *, name: str, fields: list[str]):
        self.checked = fields
        condition = " OR ".join(f'NEW."{field}_id" IS NOT NULL' for field in fields)
        super().__init__(
            name=name,
            when=pgtrigger.After,
            operation=pgtrigger.Insert | pgtrigger.Update,
            condition=pgtrigger.Condition(condition),
        )

    def get_func(self, model):
        checks = []
        for field in self.checked:
            column = model._meta.get_field(field).column
            table = model._meta.get_field(field).related_model._meta.db_table
            checks.append(
                f"IF NEW.{column} IS NOT NULL THEN "
                f"PERFORM 1 FROM {table} WHERE id = NEW.{column} FOR KEY SHARE; "
                f"IF NOT FOUND THEN RAISE EXCEPTION '%: no {table} %', TG_TABLE_NAME, "
                f"NEW.{column} USING ERRCODE = 'foreign_key_violation'; END IF; END IF;"
            )
        return self.format_sql(" ".join(checks) + " RETURN NULL;")


class StockMovement(models.Model):
    """One line of the append-only ledger. Nothing updates or deletes a movement;
    a correction is a new movement with a reason."""

    kind = models.CharField(max_length=14, choices=MovementKind.choices)
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="movements")
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="movements")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="movements")
    quantity = models.IntegerField(help_text="Signed, in base units: + into the location, − out.")
    reason = models.CharField(max_length=12, choices=AdjustmentReason.choices, blank=True)
    reference = models.CharField(
        max_length=80, blank=True, db_index=True, validators=[no_personal_details]
    )
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField(auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="stock_movements"
    )

    class Meta:
        ordering = ["occurred_at", "pk"]
        indexes = [
            # Stock card and consumption averages read by location × item over time.
            models.Index(fields=["location", "item", "occurred_at"]),
            # The last 90 days' consumption everywhere (the alert scan): rows are appended
            # as they happen and never dated in the future, so the window is the table's
            # last pages (a back-dated row widens a range downwards only).
            TimeOrderedIndex(fields=["occurred_at"], name="movement_occurred_brin"),
            # Reversals and units found at a dispense, few among the dispenses: the alert
            # scan nets the first and sums the second over the whole ledger.
            models.Index(
                fields=["reason", "occurred_at"],
                condition=Q(
                    kind=MovementKind.ADJUSTMENT,
                    reason__in=[AdjustmentReason.REVERSAL, AdjustmentReason.SHORTFALL],
                ),
                name="movement_given_back_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(quantity=0), name="movement_quantity_not_zero"),
        ]
        # PostgreSQL only (SQLite, the development database, gets none). Neither a bug, the
        # admin nor a hand-written SQL session rewrites history; a correction is a new
        # movement. The app's database role cannot drop or disable this (it owns no table,
        # see org/db_roles.py), nor TRUNCATE; no TRUNCATE trigger, because `manage.py flush`
        # (make reset, test teardown) truncates as the owner.
        triggers = [
            Refuse(
                name="ledger_append_only",
                operation=pgtrigger.Update | pgtrigger.Delete,
                label="is append-only; record a new movement instead",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.quantity:+d} {self.item} @ {self.location}"


class StockBalance(models.Model):
    """Cached on-hand quantity per location × lot, changed in the same transaction as
    the movement that explains it. `manage.py check_stock` recomputes it from the ledger."""

    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="balances")
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="balances")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="balances")
    quantity = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["location", "lot"], name="balance_unique_location_lot"),
            models.CheckConstraint(condition=Q(quantity__gte=0), name="balance_never_negative"),
        ]
        indexes = [models.Index(fields=["location", "item"])]
        # A balance row is updated, never removed: its lot's history points at it.
        triggers = [
            Refuse(
                name="balance_never_deleted",
                operation=pgtrigger.Delete,
                label="rows stay (a balance goes to 0)",
            ),
        ]

    def __str__(self):
        return f"{self.lot} @ {self.location}: {self.quantity}"


class AlertRecheck(models.Model):
    """A (location, item) whose stock moved since its alerts were last checked.

    Marked in the transaction that moves the stock; only the write that marks it newly
    queues a re-check job (see inventory.services.common), so a desk handing out the
    same item again and again queues one check, not one per visit. The check removes
    the mark before it looks (`alert_rechecks_claim`); the hourly scan removes them all.
    """

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="+")
    marked_at = models.DateTimeField()

    class Meta:
        constraints = [
            # The marking writes' ON CONFLICT (location_id, item_id) relies on it.
            models.UniqueConstraint(fields=["location", "item"], name="alert_recheck_unique_pair"),
        ]

    def __str__(self):
        return f"re-check {self.item_id} @ {self.location_id}"


class StockCount(models.Model):
    """A physical count of (part of) a location. Kept even when every line matched the
    books, so "when was this shelf last counted" has an answer; its differences are
    the `count` movements whose reference is `count:<pk>`."""

    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="counts")
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField(auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="stock_counts"
    )

    class Meta:
        ordering = ["-occurred_at", "-pk"]

    def __str__(self):
        return f"Count at {self.location} {timezone.localtime(self.occurred_at):%Y-%m-%d %H:%M}"

    @property
    def reference(self) -> str:
        return f"count:{self.pk}"


class StockCountLine(models.Model):
    """What the books said and what was on the shelf, per lot (or per untracked item)."""

    count = models.ForeignKey(StockCount, on_delete=models.CASCADE, related_name="lines")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+")
    lot = models.ForeignKey(Lot, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    expected = models.IntegerField()
    counted = models.PositiveIntegerField()
    # Why the shelf differed from the books; empty when it did not.
    reason = models.CharField(max_length=12, choices=AdjustmentReason.choices, blank=True)

    class Meta:
        ordering = ["count", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(counted__gte=0), name="count_line_not_negative"),
        ]

    def __str__(self):
        return f"{self.lot or self.item}: {self.expected} booked, {self.counted} counted"

    @property
    def difference(self) -> int:
        return self.counted - self.expected


# --- Stock alerts ----------------------------------------------------------------
# Raised and resolved by inventory/alerts/ only (scan, per-pair check, acknowledge).


class AlertCondition(models.TextChoices):
    BELOW_REORDER_POINT = "below_reorder", _("Below reorder point")
    STOCKOUT_SOON = "stockout_soon", _("Projected stock-out")
    EXPIRING = "expiring", _("Lot expiring soon")
    EXPIRED = "expired", _("Expired lot on hand")
    COUNT_DISCREPANCY = "count_discrepancy", _("Count discrepancy")


class AlertSeverity(models.TextChoices):
    EMERGENCY = "emergency", _("Emergency")
    UNDERSTOCK = "understock", _("Understock")
    EXPIRY = "expiry", _("Expiry")
    # A count that disagreed with the books is neither a shortage nor an expiry.
    DISCREPANCY = "discrepancy", _("Count discrepancy")


class AlertDigest(models.Model):
    """One run of the email digest; the alerts it announced point at it."""

    started_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    alert_count = models.PositiveIntegerField(default=0)
    email_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self):
        return f"Alert digest {self.started_at:%Y-%m-%d %H:%M}: {self.alert_count} alert(s)"


class StockAlert(models.Model):
    """A condition that holds at a location for an item (or one of its lots).

    Open while `resolved_at` is empty; when the condition clears the scan resolves it,
    and if the condition returns a new row is raised, so history is never rewritten.
    """

    condition = models.CharField(max_length=20, choices=AlertCondition.choices)
    severity = models.CharField(max_length=12, choices=AlertSeverity.choices)
    # The subject: no per-row foreign-key constraint (a scan raises thousands of rows, and
    # checking each at commit cost more than the insert). The `alert_subject_exists`
    # trigger checks a statement's new rows in one query instead; deletes are refused by
    # PROTECT, and every subject is also a balance's or the ledger's, which keep their
    # constraints and are never deleted. Only `location` is indexed: the alerts pages
    # filter by it; the open alerts of a pair are read by the one-open-alert index.
    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="alerts", db_constraint=False
    )
    item = models.ForeignKey(
        Item, on_delete=models.PROTECT, related_name="alerts", db_constraint=False, db_index=False
    )
    lot = models.ForeignKey(
        Lot,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="alerts",
        db_constraint=False,
        db_index=False,
    )
    # The figures when the alert was raised (on hand, reorder point, days left, expiry…).
    facts = models.JSONField(default=dict, blank=True)
    raised_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    # Empty when raised, so neither is indexed (below) nor checked (`alert_refers_to_
    # existing`) where empty: raising writes no index entry and queues no check for them.
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="stock_alerts_acknowledged",
        db_constraint=False,
        db_index=False,
    )
    # Claimed by exactly one digest run (conditional UPDATE … WHERE digest IS NULL).
    digest = models.ForeignKey(
        AlertDigest,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="alerts",
        db_constraint=False,
        db_index=False,
    )

    class Meta:
        ordering = ["-raised_at", "-pk"]
        constraints = [
            # One open alert per location × item × condition × lot. The scan inserts with
            # ON CONFLICT DO NOTHING and relies on this index; COALESCE because item-level
            # alerts have no lot and NULLs never collide in a unique index. Location first:
            # it also serves the open alerts by location (badge, alerts page, per-pair check).
            models.UniqueConstraint(
                "location",
                "item",
                "condition",
                Coalesce("lot", Value(0)),
                condition=Q(resolved_at__isnull=True),
                name="stock_alert_one_open_per_subject",
            ),
            models.CheckConstraint(
                condition=Q(acknowledged_at__isnull=True, acknowledged_by__isnull=True)
                | Q(acknowledged_at__isnull=False, acknowledged_by__isnull=False),
                name="stock_alert_acknowledged_by_whom",
            ),
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True) | Q(resolved_at__gte=F("raised_at")),
                name="stock_alert_resolved_after_raised",
            ),
        ]
        indexes = [
            # Who acknowledged and which digest: looked up by value only (PROTECT's check
            # before a delete, the digest's own alerts), never for NULL.
            models.Index(
                fields=["acknowledged_by"],
                condition=Q(acknowledged_by__isnull=False),
                name="stock_alert_acknowledged_idx",
            ),
            models.Index(
                fields=["digest"], condition=Q(digest__isnull=False), name="stock_alert_digest_idx"
            ),
        ]
        # PostgreSQL only, in place of foreign-key constraints: the subject checked once
        # per statement over its new rows (and the lot is the item's); who acknowledged
        # and the digest checked on the rows that set them; a subject never changes.
        # Deletes of what an alert refers to are refused by PROTECT.
        triggers = [
            pgtrigger.Trigger(
                name="alert_subject_exists",
                level=pgtrigger.Statement,
                when=pgtrigger.After,
                operation=pgtrigger.Insert,
                referencing=pgtrigger.Referencing(new="new_alerts"),
                func=f"""
                -- The distinct subjects first: a scan's thousands of rows name a few
                -- hundred locations, items and lots.
                IF EXISTS (
                    SELECT 1 FROM (SELECT DISTINCT location_id FROM new_alerts) a
                    WHERE NOT EXISTS (
                        SELECT 1 FROM {Location._meta.db_table} loc WHERE loc.id = a.location_id)
                ) OR EXISTS (
                    SELECT 1 FROM (SELECT DISTINCT item_id, lot_id FROM new_alerts) a
                    WHERE NOT EXISTS (
                        SELECT 1 FROM {Item._meta.db_table} item WHERE item.id = a.item_id)
                       OR (a.lot_id IS NOT NULL AND NOT EXISTS (
                           SELECT 1 FROM {Lot._meta.db_table} lot
                           WHERE lot.id = a.lot_id AND lot.item_id = a.item_id))
                ) THEN
                    RAISE EXCEPTION 'inventory_stockalert: no such location, item or lot'
                        USING ERRCODE = 'foreign_key_violation';
                END IF;
                RETURN NULL;
                """,
            ),
            RefersToExisting(name="alert_refers_to_existing", fields=["acknowledged_by", "digest"]),
            Refuse(
                name="alert_subject_fixed",
                operation=pgtrigger.Update,
                condition=pgtrigger.AnyChange("location", "item", "lot"),
                label="subject never changes",
            ),
        ]

    def __str__(self):
        subject = self.lot if self.lot_id else self.item
        return f"{self.get_condition_display()}: {subject} @ {self.location}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    @property
    def status(self) -> str:
        if self.resolved_at:
            return "resolved"
        return "acknowledged" if self.acknowledged_at else "open"

    @property
    def summary(self) -> str:
        """One line in staff words, from the figures of the latest scan."""
        f = self.facts
        match self.condition:
            case AlertCondition.BELOW_REORDER_POINT:
                return f"{f['on_hand']} usable on hand; reorder point {f['reorder_point']}."
            case AlertCondition.STOCKOUT_SOON:
                return (
                    f"{f['on_hand']} usable on hand lasts about {f.get('days_left', 0):g} days "
                    f"at {f['daily_use']:g} a day (last 90 days)."
                )
            case AlertCondition.EXPIRING:
                return (
                    f"Lot {f['lot_number']}: {f['on_hand']} expire on {f['expires_on']} "
                    f"(in {f['days_to_expiry']} days)."
                )
            case AlertCondition.EXPIRED:
                return (
                    f"Lot {f['lot_number']}: {f['on_hand']} expired on {f['expires_on']}; "
                    "take them off the shelf and record an adjustment."
                )
            case AlertCondition.COUNT_DISCREPANCY if "found_at_dispense" in f:
                return (
                    f"{f['found_at_dispense']} handed out beyond what the books held since "
                    f"{f['since']} (recorded as unrecorded stock found at dispense): count "
                    "this item here."
                )
            case AlertCondition.COUNT_DISCREPANCY:
                return (
                    f"Counted {f['counted']} on {f['counted_on']} where the books said "
                    f"{f['expected']} ({f['difference']:+d}; threshold {f['threshold']})."
                )
        return ""
