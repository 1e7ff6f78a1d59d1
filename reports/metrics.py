"""The funder figures, computed in the database with aggregate queries.

`compute_figures` returns one plain, JSON-ready dict (stored as a snapshot's `figures`):

    {"period": {...}, "scopes": [{"key": "DTWN", ...}, ..., {"key": "TOTAL", ...}],
     "keys": [...], "labels": {key: label}, "values": {scope: {key: int}},
     "relations": [{"total": key, "parts": [keys]}], "links": [[key, key]],
     "non_additive": [keys]}

Keys are flat and dotted: "visits", "service_model.mobile", "naloxone_doses.nasal_4mg",
"referred.moud_bup", "funding.state-grant.syringe". `relations` say which figures are
sums of others within a scope (the suppression needs them so that a hidden cell cannot
be worked out from a total); every additive key's TOTAL is the sum of its sites.

Rules: voided visits are left out; a corrected visit counts as corrected (its row holds
the corrected values, and the ledger nets reversals); a street shift logged in bulk
(contacts > 1) counts as that many anonymous visits; a kit counts as its components.
"""

from collections import defaultdict
from collections.abc import Callable

from django.db.models import Count, Exists, F, OuterRef, Q, Sum, Value
from django.db.models.fields import CharField
from django.db.models.functions import Cast, Concat

from .periods import Period

TOTAL = "TOTAL"
# Figures whose program total is not the sum of the sites (a person visits several).
NON_ADDITIVE = ("unique_participants",)
UNSPECIFIED = "unspecified"

Progress = Callable[[int, str], None]


def strip_kind(*, category: str, code: str, name: str = "") -> str | None:
    """How a drug-checking item is reported: "fts", "xts" or "other" (None if not a strip).

    Items are recognised by their code (or name): a code containing "fts" or a name
    mentioning fentanyl is a fentanyl test strip; "xts" or xylazine a xylazine strip.
    """
    if category != "drug_checking":
        return None
    code, name = (code or "").lower(), (name or "").lower()
    if "fts" in code or "fentanyl" in name:
        return "fts"
    if "xts" in code or "xylazine" in name:
        return "xts"
    return "other"


class _Book:
    """Collects keys in display order, their labels, and how they add up."""

    def __init__(self, scopes: list[str]):
        self.scopes = scopes
        self.keys: list[str] = []
        self.labels: dict[str, str] = {}
        self.values: dict[str, dict[str, int]] = {scope: {} for scope in scopes}
        self.relations: list[dict] = []
        self.links: list[list[str]] = []

    def key(self, key: str, label: str) -> None:
        if key not in self.labels:
            self.keys.append(key)
            self.labels[key] = label
            for scope in self.scopes:
                self.values[scope].setdefault(key, 0)

    def add(self, scope: str, key: str, value) -> None:
        self.values[scope][key] = self.values[scope].get(key, 0) + int(value or 0)

    def sum_of(self, total: str, parts: list[str]) -> None:
        if parts:
            self.relations.append({"total": total, "parts": list(parts)})


def compute_figures(
    *, period: Period, site_ids: list[int] | None = None, progress: Progress | None = None
) -> dict:
    """Every figure for every selected site and the program total (all sites if None)."""
    from inventory.models import Category, Item, NaloxoneFormulation
    from org.models import ServiceModel, Site
    from ssp.models import CollectionMethod, NaloxoneRefillReason

    progress = progress or (lambda percent, message: None)
    sites = Site.objects.order_by("name")
    if site_ids is not None:
        sites = sites.filter(pk__in=site_ids)
    sites = list(sites)
    site_scope = {site.pk: site.code for site in sites}
    book = _Book([site.code for site in sites] + [TOTAL])
    visits = _visits(period=period, site_ids=list(site_scope))

    # --- Reach, service model, returns, refills: one pass over the period's visits.
    progress(10, "Counting visits")
    book.key("visits", "Visits (encounters)")
    book.key("identified_visits", "Visits by people with a code")
    book.key("anonymous_visits", "Anonymous visits (incl. street-shift contacts)")
    book.sum_of("visits", ["identified_visits", "anonymous_visits"])
    book.key("unique_participants", "Unique participants")
    book.key("new_participants", "New participants (first visit ever)")
    book.key("secondary_people", "People reached through secondary distribution")
    book.key("secondary_visits", "Visits picking up for others")
    book.key("overdose_reversals", "Overdose reversals reported")
    for code, label in ServiceModel.choices:
        book.key(f"service_model.{code}", label)
    book.sum_of("visits", [f"service_model.{code}" for code in ServiceModel.values])
    book.key("syringes_collected", "Used syringes collected (and disposed of)")
    for code, label in CollectionMethod.choices:
        book.key(f"collected.{code}", f"Collected: {label.lower()}")
    book.sum_of("syringes_collected", [f"collected.{code}" for code in CollectionMethod.values])
    book.key("refills", "Naloxone refills")
    for code, label in NaloxoneRefillReason.choices:
        book.key(f"refills.{code}", f"Refill: {label.lower()}")
    book.sum_of("refills", [f"refills.{code}" for code in NaloxoneRefillReason.values])

    expressions = {
        "visits": Sum("contacts"),
        "identified_visits": Sum("contacts", filter=Q(participant__isnull=False)),
        "anonymous_visits": Sum("contacts", filter=Q(participant__isnull=True)),
        "unique_participants": Count("participant", distinct=True),
        "secondary_people": Sum("secondary_people"),
        "secondary_visits": Count("pk", filter=Q(secondary_people__gt=0)),
        "overdose_reversals": Sum("overdose_reversals"),
        "syringes_collected": Sum("syringes_collected"),
        "refills": Count("pk", filter=~Q(naloxone_refill_reason="")),
    }
    for code in ServiceModel.values:
        expressions[f"service_model.{code}"] = Sum("contacts", filter=Q(service_model=code))
    for code in CollectionMethod.values:
        expressions[f"collected.{code}"] = Sum(
            "syringes_collected", filter=Q(collection_method=code)
        )
    for code in NaloxoneRefillReason.values:
        expressions[f"refills.{code}"] = Count("pk", filter=Q(naloxone_refill_reason=code))
    # Dotted keys are not SQL-friendly aliases: annotate as f0, f1, … and map back.
    aliases = {f"f{i}": key for i, key in enumerate(expressions)}
    rows = (
        visits.order_by()
        .values("site_id")
        .annotate(**{alias: expressions[key] for alias, key in aliases.items()})
    )
    for row in rows:
        scope = site_scope[row["site_id"]]
        for alias, key in aliases.items():
            book.add(scope, key, row[alias])
    # Deduplicated across sites: a person seen at two sites is one participant.
    book.add(TOTAL, "unique_participants", _unique_participants(visits))

    progress(25, "Finding new participants")
    for row in _first_visits(visits, period).values("site_id").annotate(n=Count("pk")).order_by():
        book.add(site_scope[row["site_id"]], "new_participants", row["n"])

    # --- Supplies from the visit lines (kits expanded to their components).
    progress(40, "Counting supplies")
    items = {item.pk: item for item in Item.objects.all()}
    for code, label in Category.choices:
        book.key(f"supplies.{code}", label)
    book.key("strips.fts", "Fentanyl test strips (FTS)")
    book.key("strips.xts", "Xylazine test strips (XTS)")
    book.key("strips.other", "Other drug-checking strips")
    book.sum_of("supplies.drug_checking", ["strips.fts", "strips.xts", "strips.other"])
    formulations = [*NaloxoneFormulation.choices, (UNSPECIFIED, "Formulation not recorded")]
    book.key("naloxone_doses", "Naloxone doses")
    for code, label in formulations:
        book.key(f"naloxone_units.{code}", f"Naloxone kits/units: {label}")
        book.key(f"naloxone_doses.{code}", f"Naloxone doses: {label}")
        # Doses are a multiple of units: hiding one must hide the other.
        book.links.append([f"naloxone_units.{code}", f"naloxone_doses.{code}"])
    book.links.append(["supplies.naloxone", "naloxone_doses"])
    book.sum_of("supplies.naloxone", [f"naloxone_units.{code}" for code, _ in formulations])
    book.sum_of("naloxone_doses", [f"naloxone_doses.{code}" for code, _ in formulations])
    for site_id, item_id, units in _supply_units(period=period, site_ids=list(site_scope)):
        scope, item = site_scope[site_id], items[item_id]
        book.add(scope, f"supplies.{item.category}", units)
        kind = strip_kind(category=item.category, code=item.code, name=item.name)
        if kind:
            book.add(scope, f"strips.{kind}", units)
        if item.category == Category.NALOXONE:
            formulation = item.naloxone_formulation or UNSPECIFIED
            book.add(scope, f"naloxone_units.{formulation}", units)
            book.add(scope, f"naloxone_doses.{formulation}", units * item.naloxone_doses_per_unit)
            book.add(scope, "naloxone_doses", units * item.naloxone_doses_per_unit)

    # --- Supplies by funding source, from the stock ledger.
    progress(55, "Tracing supplies to funding sources")
    _funding(book, visits=visits, site_scope=site_scope)

    # --- Referrals, from the referrals app.
    progress(70, "Counting referrals")
    _referrals(book, period=period, site_scope=site_scope)

    # Program totals of additive figures are the sum of the sites' aggregates.
    for key in book.keys:
        if key not in NON_ADDITIVE:
            book.values[TOTAL][key] = sum(book.values[code][key] for code in site_scope.values())
    progress(80, "Figures computed")
    return {
        "schema": 1,
        "period": {
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
            "kind": period.kind,
            "label": period.label,
        },
        "scopes": [{"key": site.code, "label": site.name, "site_id": site.pk} for site in sites]
        + [{"key": TOTAL, "label": "Total", "site_id": None}],
        "keys": book.keys,
        "labels": book.labels,
        "values": book.values,
        "relations": book.relations,
        "links": book.links,
        "non_additive": list(NON_ADDITIVE),
    }


def _visits(*, period: Period, site_ids: list[int]):
    from ssp.models import Visit

    start, end = period.bounds()
    # Served by the (site, occurred_at) index.
    return Visit.objects.filter(
        site_id__in=site_ids, occurred_at__gte=start, occurred_at__lt=end, voided_at__isnull=True
    )


def _unique_participants(visits) -> int:
    return visits.aggregate(n=Count("participant", distinct=True))["n"] or 0


def _first_visits(visits, period: Period):
    """Each participant's first non-void visit ever (program-wide), if it is in `visits`.

    Ties at the same instant go to the lower id, so a person is new at exactly one visit.
    A code first seen before the period (e.g. carried over from paper records) is not new.
    Probes the (participant, occurred_at) index once per visit of the period.
    """
    from ssp.models import Visit

    earlier = Visit.objects.filter(
        participant_id=OuterRef("participant_id"), voided_at__isnull=True
    ).filter(
        Q(occurred_at__lt=OuterRef("occurred_at"))
        | Q(occurred_at=OuterRef("occurred_at"), pk__lt=OuterRef("pk"))
    )
    return visits.filter(
        participant__isnull=False, participant__first_seen_on__gte=period.start
    ).filter(~Exists(earlier))


def _supply_units(*, period: Period, site_ids: list[int]):
    """(site id, item id, units) for the period's visit lines, kits expanded."""
    from ssp.models import VisitSupply

    start, end = period.bounds()
    lines = VisitSupply.objects.filter(
        visit__site_id__in=site_ids,
        visit__occurred_at__gte=start,
        visit__occurred_at__lt=end,
        visit__voided_at__isnull=True,
    ).order_by()
    direct = (
        lines.filter(item__isnull=False)
        .values("visit__site_id", "item_id")
        .annotate(units=Sum("quantity"))
    )
    for row in direct:
        yield row["visit__site_id"], row["item_id"], row["units"]
    kits = (
        lines.filter(kit__isnull=False)
        .values("visit__site_id", "kit__components__item_id")
        .annotate(units=Sum(F("quantity") * F("kit__components__quantity")))
    )
    for row in kits:
        if row["kit__components__item_id"] is not None:  # a kit without components
            yield row["visit__site_id"], row["kit__components__item_id"], row["units"]


def _funding(book: _Book, *, visits, site_scope: dict[int, str]) -> None:
    """Units dispensed at the period's visits per funding source and category, net of
    reversals (a corrected or voided visit's movements carry the same reference)."""
    from inventory.models import Category, FundingSource, StockMovement

    references = visits.annotate(
        ref=Concat(Value("visit:"), Cast("uuid", output_field=CharField()))
    ).values("ref")
    rows = (
        StockMovement.objects.filter(reference__in=references)
        .values("location__site_id", "lot__funding_source_id", "item__category")
        .annotate(units=Sum("quantity"))
        .order_by()
    )
    sources = {source.pk: source for source in FundingSource.objects.all()}
    categories = dict(Category.choices)
    per_source: dict[int, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    for row in rows:
        scope = site_scope.get(row["location__site_id"])
        if scope is None or not row["units"]:
            continue
        # Dispenses are negative in the ledger; the report counts units handed out.
        per_source[row["lot__funding_source_id"]][row["item__category"]][scope] = -row["units"]
    for source_id in sorted(per_source, key=lambda pk: sources[pk].name):
        source = sources[source_id]
        total_key = f"funding.{source.code}"
        book.key(total_key, f"{source.name}: all supplies")
        parts = []
        for category in Category.values:
            if category not in per_source[source_id]:
                continue
            key = f"funding.{source.code}.{category}"
            book.key(key, f"{source.name}: {categories[category]}")
            parts.append(key)
            for scope, units in per_source[source_id][category].items():
                book.add(scope, key, units)
                book.add(scope, total_key, units)
        book.sum_of(total_key, parts)


def _referrals(book: _Book, *, period: Period, site_scope: dict[int, str]) -> None:
    from referrals.models import ReferralType
    from referrals.selectors import referral_counts_by_type

    names = dict(ReferralType.objects.values_list("code", "name"))
    book.key("referred", "Referrals made")
    book.key("linked", "Referrals linked (service started)")
    per_site = {
        site_id: referral_counts_by_type(
            start=period.start, end=period.end_exclusive, site_ids=[site_id]
        )
        for site_id in site_scope
    }
    codes = list(names)
    for counts in per_site.values():
        codes += [code for code in counts if code not in codes]
    for code in codes:
        book.key(f"referred.{code}", f"Referred: {names.get(code, code)}")
    for code in codes:
        book.key(f"linked.{code}", f"Linked: {names.get(code, code)}")
    book.sum_of("referred", [f"referred.{code}" for code in codes])
    book.sum_of("linked", [f"linked.{code}" for code in codes])
    for site_id, counts in per_site.items():
        scope = site_scope[site_id]
        for code, pair in counts.items():
            book.add(scope, f"referred.{code}", pair["referred"])
            book.add(scope, f"linked.{code}", pair["linked"])
            book.add(scope, "referred", pair["referred"])
            book.add(scope, "linked", pair["linked"])
