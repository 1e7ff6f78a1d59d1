"""The funder figures, computed in the database with aggregate queries.

`compute_figures` returns one plain, JSON-ready dict (stored as a snapshot's `figures`):

    {"period": {...}, "scopes": [{"key": "DTWN", ...}, ..., {"key": "TOTAL", ...}],
     "keys": [...], "labels": {key: label}, "values": {scope: {key: int}},
     "relations": [{"total": key, "parts": [keys]}], "links": [[key, key]],
     "multiples": [[units key, doses key, doses per unit]], "non_additive": [keys]}

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

from django.utils.translation import gettext_noop

from events.selectors import PersonStuck, event_figures_by_site
from inventory.selectors import (
    Category,
    NaloxoneFormulation,
    funded_dispense_by_source,
    items_by_id,
)
from org.models import ServiceModel, Site
from referrals.selectors import referral_counts_by_type, referral_type_names
from ssp.selectors import (
    CollectionMethod,
    NaloxoneRefillReason,
    new_participants_by_site,
    services_given_by_site,
    supply_units_by_site,
    unique_participants_across,
    visit_figures_by_site,
    visit_service_labels,
    visit_stock_references,
)
from ssp.survey_selectors import (
    BANK,
    answer_choices,
    survey_answer_counts,
    survey_response_counts,
    survey_zip3_areas,
)

from .periods import Period

TOTAL = "TOTAL"
# Figures whose program total is not the sum of the sites (a person visits several).
NON_ADDITIVE = ("unique_participants",)
UNSPECIFIED = "unspecified"

Progress = Callable[[int, str], None]

# One line a coordinator can read for each figure, shown on the report page, in the
# XLSX "Definitions" sheet and in docs/reports.md. Keyed by figure key; a family of
# keys ("referred.<type>") by its prefix + ".*".
DEFINITIONS = {
    "visits": "Encounters in the period (voided visits left out); a street shift logged "
    "in bulk counts as its number of contacts.",
    "identified_visits": "Visits where the person gave their participant code.",
    "anonymous_visits": "Visits without a code, including every contact of a street shift "
    "logged in bulk.",
    "unique_participants": "Different codes with a visit in the period; in the total a "
    "person seen at two sites counts once, so sites do not add up to it.",
    "new_participants": "Codes whose first visit ever (program-wide, voided visits left "
    "out) falls in the period; counted at the site of that visit.",
    "secondary_people": "People the supplies were for, as told by those picking up for "
    "others (secondary distribution).",
    "secondary_visits": "Visits at which the person picked up for others.",
    "overdose_reversals": "Overdoses reversed with naloxone, as reported by participants "
    "at their visits.",
    "syringes_collected": "Used syringes taken back (counted, estimated or weighed), all "
    "disposed of as sharps waste.",
    "collected.*": "Used syringes taken back, by how the number was found.",
    "refills": "Visits at which naloxone was given to replace a kit, with a reason.",
    "refills.*": "Naloxone refills by the reason the person gave.",
    "service_model.*": "Visits by how the service was given (fixed site, mobile, outreach, "
    "mail, peer).",
    "supplies.syringe": "Syringes handed out, every size, kits counted as the syringes in "
    "them. Loose needles are not included (see Needles).",
    "supplies.needle": "Loose needles handed out; not part of syringes distributed.",
    "supplies.naloxone": "Naloxone units handed out: a nasal-spray box, a single injectable "
    "vial or ampoule each count one unit (not kits).",
    "supplies.*": "Units of the category handed out; a kit counts as its components.",
    "naloxone_units.*": "Naloxone units handed out, by formulation.",
    "naloxone_doses": "Naloxone doses handed out: units × the doses each holds (a nasal "
    "2-pack box = 2 doses, a vial = 1).",
    "naloxone_doses.*": "Naloxone doses handed out, by formulation.",
    "strips.fts": "Fentanyl test strips handed out.",
    "strips.xts": "Xylazine test strips handed out.",
    "strips.other": "Other drug-checking strips handed out.",
    "referred": "Referrals made in the period, every type.",
    "referred.*": "Referrals made in the period, by type.",
    "linked": "Referrals confirmed linked during the period (the person started the "
    "service), whenever they were made.",
    "linked.*": "Referrals confirmed linked during the period, by type.",
    "services": "Services given at the period's visits (counselling, tests, wound care, "
    "naloxone training…), each time it was given; a street shift gives its counts.",
    "services.*": "Times the service was given at the period's visits (SSP_VISIT_SERVICES); "
    "a street shift gives its counts.",
    "survey_responses": "Answer sets of the periodic anonymous survey whose survey period "
    "(month or quarter) lies inside the report period; a quarterly survey is not split "
    "into months.",
    "survey_asked.*": "Survey responses that were asked this question (one answer each).",
    "survey.*": "Survey responses that chose this answer; for a choose-all question a "
    "person counts once under every answer they chose, so those lines do not add up.",
    "funding.*": "Units handed out at the period's visits, by the funding source of the lot "
    "they came from (stock ledger, net of corrections).",
    # Program events (events app): counted outside visits, never tied to a person.
    "cleanup_events": "Community clean-ups held in the period (voided records left out).",
    "cleanup_syringes": "Used syringes picked up at community clean-ups; not part of the "
    "syringes collected at visits.",
    "kiosk_syringes": "Syringes in the sharps kiosks and bins emptied in the period, "
    "estimated from their weight at the syringes-per-pound rate in force when each was "
    "weighed; not part of the syringes collected at visits.",
    "needle_sticks": "Needle-stick injuries reported in the period, to staff, volunteers or "
    "community members (no names recorded).",
    "needle_sticks.*": "Needle-stick injuries by who was stuck.",
}


def definition_of(key: str) -> str:
    """The one-line definition of a figure key (its own, else its family's)."""
    if key in DEFINITIONS:
        return DEFINITIONS[key]
    return DEFINITIONS.get(key.split(".", 1)[0] + ".*", "")


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
    progress = progress or (lambda percent, message: None)
    sites = Site.objects.order_by("name")
    if site_ids is not None:
        sites = sites.filter(pk__in=site_ids)
    sites = list(sites)
    site_scope = {site.pk: site.code for site in sites}
    book = _Book([site.code for site in sites] + [TOTAL])
    start, end = period.bounds()
    within = {"start": start, "end": end, "site_ids": list(site_scope)}

    # --- Reach, service model, returns, refills: one pass over the period's visits.
    progress(10, gettext_noop("Counting visits"))
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

    for site_id, figures in visit_figures_by_site(**within).items():
        for key, value in figures.items():
            book.add(site_scope[site_id], key, value)
    # Deduplicated across sites: a person seen at two sites is one participant.
    book.add(TOTAL, "unique_participants", unique_participants_across(**within))

    progress(25, gettext_noop("Finding new participants"))
    for site_id, count in new_participants_by_site(**within, first_day=period.start).items():
        book.add(site_scope[site_id], "new_participants", count)

    # --- Supplies from the visit lines (kits expanded to their components).
    progress(40, gettext_noop("Counting supplies"))
    items = items_by_id()
    for code, label in Category.choices:
        book.key(f"supplies.{code}", label)
    book.key("strips.fts", "Fentanyl test strips (FTS)")
    book.key("strips.xts", "Xylazine test strips (XTS)")
    book.key("strips.other", "Other drug-checking strips")
    book.sum_of("supplies.drug_checking", ["strips.fts", "strips.xts", "strips.other"])
    formulations = [*NaloxoneFormulation.choices, (UNSPECIFIED, "Formulation not recorded")]
    book.key("naloxone_doses", "Naloxone doses")
    for code, label in formulations:
        book.key(f"naloxone_units.{code}", f"Naloxone units: {label}")
        book.key(f"naloxone_doses.{code}", f"Naloxone doses: {label}")
        # Doses are a multiple of units: hiding one must hide the other.
        book.links.append([f"naloxone_units.{code}", f"naloxone_doses.{code}"])
    book.links.append(["supplies.naloxone", "naloxone_doses"])
    book.sum_of("supplies.naloxone", [f"naloxone_units.{code}" for code, _ in formulations])
    book.sum_of("naloxone_doses", [f"naloxone_doses.{code}" for code, _ in formulations])
    for site_id, item_id, units in supply_units_by_site(**within):
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
    progress(55, gettext_noop("Tracing supplies to funding sources"))
    _funding(book, references=visit_stock_references(**within), site_scope=site_scope)

    # --- Services given at visits.
    _services(book, within=within, site_scope=site_scope)

    # --- Referrals, from the referrals app.
    progress(70, gettext_noop("Counting referrals"))
    _referrals(book, period=period, site_scope=site_scope)

    # --- The periodic anonymous survey (answers held apart from visits).
    progress(75, "Counting survey answers")
    _survey(book, period=period, site_scope=site_scope)
    # --- Clean-ups, kiosks and needle-stick injuries, from the events app.
    _events(book, period=period, site_scope=site_scope)

    # Program totals of additive figures are the sum of the sites' aggregates.
    for key in book.keys:
        if key not in NON_ADDITIVE:
            book.values[TOTAL][key] = sum(book.values[code][key] for code in site_scope.values())
    progress(80, gettext_noop("Figures computed"))
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
        "multiples": _dose_multiples(items),
        "non_additive": list(NON_ADDITIVE),
    }


def _dose_multiples(items) -> list[list]:
    """Doses = units × k for each formulation whose products all hold k doses: a reader
    who knows the products knows this, so the suppression must too."""
    doses = defaultdict(set)
    for item in items.values():
        if item.category == Category.NALOXONE:
            doses[item.naloxone_formulation or UNSPECIFIED].add(item.naloxone_doses_per_unit)
    return [
        [f"naloxone_units.{code}", f"naloxone_doses.{code}", next(iter(ks))]
        for code, ks in sorted(doses.items())
        if len(ks) == 1
    ]


def _funding(book: _Book, *, references, site_scope: dict[int, str]) -> None:
    """Units dispensed at the period's visits per funding source and category, net of
    reversals (a corrected or voided visit's movements carry the same reference)."""
    categories = dict(Category.choices)
    sources = {}
    per_source: dict[int, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    for row in funded_dispense_by_source(references=references):
        scope = site_scope.get(row.site_id)
        if scope is None:
            continue
        sources[row.source.pk] = row.source
        per_source[row.source.pk][row.category][scope] = row.units
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


def _services(book: _Book, *, within: dict, site_scope: dict[int, str]) -> None:
    """Services given, per SSP_VISIT_SERVICES code, and their total. A code no longer in
    the setting (a program dropped it) is still counted, under its code."""
    labels = visit_service_labels()
    book.key("services", "Services given (all)")
    rows = list(services_given_by_site(**within))
    codes = list(labels) + sorted({code for _, code, _ in rows} - set(labels))
    for code in codes:
        book.key(f"services.{code}", f"Service: {labels.get(code, code)}")
    book.sum_of("services", [f"services.{code}" for code in codes])
    for site_id, code, times in rows:
        book.add(site_scope[site_id], f"services.{code}", times)
        book.add(site_scope[site_id], "services", times)


def _referrals(book: _Book, *, period: Period, site_scope: dict[int, str]) -> None:
    names = referral_type_names()
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


def _survey(book: _Book, *, period: Period, site_scope: dict[int, str]) -> None:
    """Answer counts of the anonymous survey. Single-answer questions add up to the
    responses asked them (a relation the suppression uses); choose-all ones do not."""
    within = {"start": period.start, "end": period.end, "site_ids": list(site_scope)}
    book.key("survey_responses", "Survey responses")
    for site_id, count in survey_response_counts(**within).items():
        book.add(site_scope[site_id], "survey_responses", count)
    answers = survey_answer_counts(**within)
    areas = survey_zip3_areas()
    for question in BANK.values():
        keys = []
        if not question.multiple:
            book.key(f"survey_asked.{question.code}", f"Asked: {question.text}")
        for code, label in answer_choices(question, zip3_areas=areas):
            key = f"survey.{question.code}.{code}"
            book.key(key, f"{question.text} {label}")
            keys.append(key)
            for site_id, found in answers.items():
                value = found.get((question.code, code), 0)
                book.add(site_scope[site_id], key, value)
                if not question.multiple:
                    book.add(site_scope[site_id], f"survey_asked.{question.code}", value)
        if not question.multiple:
            book.sum_of(f"survey_asked.{question.code}", keys)


def _events(book: _Book, *, period: Period, site_scope: dict[int, str]) -> None:
    """Program events by the day they happened (a date, so no time-zone cut)."""
    book.key("cleanup_events", "Community clean-ups")
    book.key("cleanup_syringes", "Used syringes picked up at community clean-ups")
    book.key("kiosk_syringes", "Syringes from sharps kiosks and bins (estimated from weight)")
    book.key("needle_sticks", "Needle-stick injuries reported")
    for code, label in PersonStuck.choices:
        book.key(f"needle_sticks.{code}", f"Needle-stick injuries: {label.lower()}")
    book.sum_of("needle_sticks", [f"needle_sticks.{code}" for code in PersonStuck.values])
    figures = event_figures_by_site(
        start=period.start, end_exclusive=period.end_exclusive, site_ids=list(site_scope)
    )
    for site_id, values in figures.items():
        for key, value in values.items():
            book.add(site_scope[site_id], key, value)
