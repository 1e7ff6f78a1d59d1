"""Funder templates, declared in one place.

A template is a list of sections; a section lists lines. A line names one figure key
(see metrics.py), a family of keys by prefix, or a ratio of two keys. The same figures
fill every template, and the same suppression mask applies to all of them, so two
templates of one period can be read side by side without undoing each other's
suppression. A new funder template is one more `ReportTemplate(...)` below.
"""

from dataclasses import dataclass, field

from .indicators import Coverage, Rate


@dataclass(frozen=True)
class Line:
    key: str
    label: str = ""  # default: the label stored with the figures


@dataclass(frozen=True)
class Family:
    """Every key starting with `prefix` + ".", in the figures' order."""

    prefix: str
    label_prefix: str = ""  # text removed from the stored labels, e.g. "Referred: "
    skip: tuple[str, ...] = ()  # keys left out (shown elsewhere in the template)
    nonzero_only: bool = False  # leave out lines that are zero everywhere


@dataclass(frozen=True)
class Ratio:
    """numerator ÷ denominator, hidden when either is hidden."""

    label: str
    numerator: str
    denominator: str
    percent: bool = False


@dataclass(frozen=True)
class Section:
    title: str
    lines: tuple
    note: str = ""


@dataclass(frozen=True)
class ReportTemplate:
    key: str
    name: str
    description: str
    sections: tuple[Section, ...]
    per_site: bool = True  # False: only the program total column
    footnotes: tuple[str, ...] = field(default=())


PROGRAM_MONTHLY = ReportTemplate(
    key="program_monthly",
    name="Program monthly summary",
    description="Every figure the program tracks, per site and in total.",
    sections=(
        Section(
            "Reach",
            (
                Line("visits"),
                Line("unique_participants"),
                Line("new_participants"),
                Line("identified_visits"),
                Line("anonymous_visits"),
                Line("secondary_people"),
                Line("secondary_visits"),
            ),
        ),
        Section("Visits by service model", (Family("service_model"),)),
        Section(
            "Syringes",
            (
                Line("supplies.syringe", "Syringes distributed (loose needles not included)"),
                Line("syringes_collected", "Used syringes collected"),
                Family("collected"),
                Ratio(
                    "Collected per syringe distributed", "syringes_collected", "supplies.syringe"
                ),
            ),
        ),
        Section(
            "Naloxone",
            (
                Line("supplies.naloxone", "Naloxone units distributed (boxes, vials)"),
                Family("naloxone_units", nonzero_only=True),
                Line("naloxone_doses", "Naloxone doses distributed"),
                Family("naloxone_doses", nonzero_only=True),
                Line("overdose_reversals"),
                Line("refills", "Naloxone refills"),
                Family("refills"),
            ),
        ),
        Section(
            "Drug checking",
            (Line("strips.fts"), Line("strips.xts"), Line("strips.other")),
        ),
        Section(
            "Other supplies by category",
            (Family("supplies", skip=("supplies.syringe", "supplies.naloxone")),),
            note="Kits are counted as their components.",
        ),
        Section(
            "Referrals by type",
            (
                Line("referred", "Referrals made (all types)"),
                Family("referred", nonzero_only=True),
            ),
            note="Types with no referral and no linkage in the period are left out.",
        ),
        Section(
            "Linked referrals by type",
            (
                Line("linked", "Linked referrals (all types)"),
                Family("linked", nonzero_only=True),
                Ratio("Linked per referral made", "linked", "referred", percent=True),
            ),
            note="Linked: the person started the service in the period, whenever referred.",
        ),
        Section(
            "Supplies by funding source",
            (Family("funding"),),
            note="From the stock ledger: the lots each visit's supplies were taken from.",
        ),
        Section(
            "Indicators",
            (
                Rate(
                    "Overdose reversals reported per 100 naloxone units distributed",
                    "overdose_reversals",
                    "supplies.naloxone",
                ),
                Rate(
                    "Overdose reversals reported per 100 naloxone doses distributed",
                    "overdose_reversals",
                    "naloxone_doses",
                ),
                Ratio(
                    "Syringes distributed per unique participant",
                    "supplies.syringe",
                    "unique_participants",
                ),
                Coverage(),
                Ratio(
                    "Return ratio (used syringes collected per syringe distributed)",
                    "syringes_collected",
                    "supplies.syringe",
                ),
            ),
            note="Each is hidden wherever a count it is computed from is hidden.",
        ),
    ),
)

STATE_SSP = ReportTemplate(
    key="state_ssp",
    name="State SSP report",
    description="The health-department layout: persons served, syringes dispensed, "
    "collected and disposed of, referrals by type, naloxone.",
    sections=(
        Section(
            "1. Persons served",
            (
                Line("unique_participants", "Unduplicated persons served"),
                Line("new_participants", "New enrollees"),
                Line("visits", "Total encounters"),
                Line("anonymous_visits", "Encounters without a participant code"),
                Line("secondary_people", "Persons served through secondary exchange"),
            ),
        ),
        Section(
            "2. Syringes",
            (
                Line("supplies.syringe", "Syringes dispensed (loose needles not included)"),
                Line("syringes_collected", "Syringes collected"),
                Line("syringes_collected", "Syringes disposed of"),
                Ratio("Ratio collected : dispensed", "syringes_collected", "supplies.syringe"),
            ),
            note="All collected syringes are disposed of as sharps waste.",
        ),
        Section(
            "3. Referrals",
            (
                Family("referred", label_prefix="Referred: ", nonzero_only=True),
                Line("referred", "Total referrals"),
                Line("linked", "Referrals with confirmed linkage"),
            ),
        ),
        Section(
            "4. Naloxone",
            (
                Line("supplies.naloxone", "Naloxone units distributed (boxes, vials)"),
                Line("naloxone_doses", "Naloxone doses distributed"),
                Line("overdose_reversals", "Overdose reversals reported by participants"),
                Line("strips.fts", "Fentanyl test strips distributed"),
                Line("strips.xts", "Xylazine test strips distributed"),
            ),
        ),
    ),
)

TEMPLATES: dict[str, ReportTemplate] = {t.key: t for t in (PROGRAM_MONTHLY, STATE_SSP)}


def template_choices() -> list[tuple[str, str]]:
    return [(t.key, t.name) for t in TEMPLATES.values()]
