"""Funder templates, declared in one place.

A template is a list of sections; a section lists lines. A line names one figure key
(see metrics.py), a family of keys by prefix, or a ratio of two keys. The same figures
fill every template, and the same suppression mask applies to all of them, so two
templates of one period can be read side by side without undoing each other's
suppression. A new funder template is one more `ReportTemplate(...)` below (and its
key in `TEMPLATES`); `schedule` says which period the beat jobs build it for.
"""

from dataclasses import dataclass, field

from ssp.survey_selectors import BANK as SURVEY_BANK

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
    # The period the beat jobs build it for: month (monthly job), quarter, year or
    # fiscal_year (quarterly job, when such a period has just closed).
    schedule: str = "month"
    source: str = ""  # what the layout is modelled on (docs/reports.md cites it)


# Services given at visits (ssp VisitService, issue 14): Ontario's minimum data set asks
# for them per transaction; the program monthly shows them too.
SERVICES_GIVEN = Section(
    "Services given",
    (
        Line("services", "Services given (all)"),
        Family("services", label_prefix="Service: "),
    ),
    note="Each time a service was given at a visit; a street shift gives its counts.",
)


def _survey_section() -> Section:
    """The periodic anonymous survey's answers (SHaRP-style point-in-time indicators)."""
    # Imported here as data, not logic: the bank's question codes name the figure keys.
    lines = [Line("survey_responses", "Survey responses (anonymous, periodic)")]
    for code, question in SURVEY_BANK.items():
        if not question.multiple:
            lines.append(Line(f"survey_asked.{code}"))
        lines.append(Family(f"survey.{code}", nonzero_only=True))
    return Section(
        "Periodic anonymous survey",
        tuple(lines),
        note="Answers are kept apart from codes and visits; a quarterly survey appears "
        "in quarterly and yearly reports only. Answers chosen by no one are left out.",
    )


# --- Program events (events app): clean-ups, kiosks and bins, needle-stick injuries.
# Kept in their own sections so each template that asks for them adds one line here.
EVENTS_SHARPS_OUTSIDE_VISITS = Section(
    "Sharps collected outside visits",
    (
        Line("cleanup_events", "Community clean-ups"),
        Line("cleanup_syringes", "Used syringes picked up at community clean-ups"),
        Line("kiosk_syringes", "Syringes from sharps kiosks and bins (estimated from weight)"),
    ),
    note="Program events, not visits: not part of the syringes returned at visits.",
)
EVENTS_NEEDLE_STICKS = Section(
    "Needle-stick injuries",
    (Line("needle_sticks", "Needle-stick injuries reported"), Family("needle_sticks")),
)

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
        EVENTS_SHARPS_OUTSIDE_VISITS,
        EVENTS_NEEDLE_STICKS,
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
        SERVICES_GIVEN,
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
        _survey_section(),
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

_REFERRALS = Section(
    "Referrals",
    (
        Line("referred", "Referrals made (all types)"),
        Family("referred", label_prefix="Referred: ", nonzero_only=True),
        Line("linked", "Referrals with confirmed linkage"),
    ),
)

CDPH_ANNUAL = ReportTemplate(
    key="cdph_annual",
    name="California CDPH annual SSP report",
    description="The annual report of a CDPH-authorized SSP (Health and Safety Code "
    "§121349(d)(4), 17 CCR §7012(d)(2)): persons served; syringes and needles dispensed, "
    "collected and disposed of; referrals by type. Fiscal year.",
    schedule="fiscal_year",
    per_site=False,
    source="CDPH Office of AIDS, Reporting Requirements for Syringe Services Programs",
    sections=(
        Section(
            "1. Persons served",
            (
                Line("unique_participants", "Total number of persons served"),
                Line("new_participants", "Of whom served for the first time"),
                Line("visits", "Encounters"),
            ),
        ),
        Section(
            "2. Syringes and needles",
            (
                Line("supplies.syringe", "Syringes dispensed (loose needles not included)"),
                Line("supplies.needle", "Needles dispensed (loose)"),
                Line("syringes_collected", "Syringes and needles collected"),
                Line("syringes_collected", "Syringes and needles disposed of"),
            ),
            note="Everything collected is disposed of as sharps waste.",
        ),
        _REFERRALS,
        Section(
            "4. Overdose prevention (not required by the statute)",
            (
                Line("supplies.naloxone", "Naloxone units distributed (boxes, vials)"),
                Line("naloxone_doses", "Naloxone doses distributed"),
                Line("overdose_reversals", "Overdose reversals reported"),
            ),
        ),
    ),
)

SAMHSA_QUARTERLY = ReportTemplate(
    key="samhsa_quarterly",
    name="SAMHSA harm-reduction grant quarterly aggregate",
    description="A grantee's quarterly aggregate: people served, contacts, overdose "
    "reversal medication and drug-checking supplies distributed, syringes, referrals, and "
    "supplies by funding source.",
    schedule="quarter",
    per_site=False,
    source="SAMHSA Harm Reduction Grant Program; SOR/TOR program instrument (OMB 0930-0384)",
    sections=(
        Section(
            "People served",
            (
                Line("unique_participants", "Unduplicated people served"),
                Line("new_participants", "New people served"),
                Line("visits", "Contacts"),
                Line("secondary_people", "People reached through secondary distribution"),
            ),
        ),
        Section(
            "Overdose reversal medication",
            (
                Line("supplies.naloxone", "Naloxone units distributed (boxes, vials)"),
                Family("naloxone_units", nonzero_only=True),
                Line("naloxone_doses", "Naloxone doses distributed"),
                Line("overdose_reversals", "Overdose reversals reported"),
            ),
        ),
        Section(
            "Drug checking and infection prevention",
            (
                Line("strips.fts", "Fentanyl test strips distributed"),
                Line("strips.xts", "Xylazine test strips distributed"),
                Line("supplies.syringe", "Syringes distributed (loose needles not included)"),
                Line("supplies.wound_care", "Wound care supplies distributed"),
                Line("supplies.safer_sex", "Safer sex supplies distributed"),
            ),
        ),
        _REFERRALS,
        Section(
            "Supplies by funding source",
            (Family("funding"),),
            note="From the stock ledger: the lots each visit's supplies were taken from.",
        ),
    ),
)

CDC_NSSPS_ANNUAL = ReportTemplate(
    key="cdc_nssps_annual",
    name="CDC National SSP Survey: annual program items",
    description="The program items of the CDC National Survey of Syringe Services "
    "Programs for a calendar year: syringes distributed, participants, encounters, "
    "delivery models, naloxone, drug checking.",
    schedule="year",
    source="CDC National Survey of Syringe Services Programs (OMB 0920-1359)",
    sections=(
        Section(
            "Participants and encounters",
            (
                Line("unique_participants", "Unduplicated participants"),
                Line("visits", "Participant encounters"),
            ),
        ),
        Section("Encounters by service delivery model", (Family("service_model"),)),
        Section(
            "Syringes",
            (
                Line("supplies.syringe", "Syringes distributed (loose needles not included)"),
                Line("syringes_collected", "Syringes collected"),
            ),
        ),
        Section(
            "Naloxone and drug checking",
            (
                Line("naloxone_doses", "Naloxone doses distributed"),
                Line("overdose_reversals", "Overdose reversals reported"),
                Line("strips.fts", "Fentanyl test strips distributed"),
            ),
        ),
    ),
)

ONTARIO_MONTHLY = ReportTemplate(
    key="ontario_monthly",
    name="Ontario needle syringe program monthly (NEO-style)",
    description="A monthly of the kind Ontario needle syringe programs report: contacts, "
    "new clients, needles and syringes out and returned, other harm-reduction supplies, "
    "naloxone kits by type.",
    source="Ontario harm reduction supply distribution data elements (CAMH/OHRDP)",
    sections=(
        Section(
            "Contacts",
            (
                Line("visits", "Client contacts"),
                Line("new_participants", "New clients"),
                Line("anonymous_visits", "Contacts without a client code"),
                Line("secondary_visits", "Contacts picking up for others"),
            ),
        ),
        Section(
            "Needles and syringes",
            (
                Line("supplies.syringe", "Syringes distributed (loose needles not included)"),
                Line("supplies.needle", "Needles distributed"),
                Line("syringes_collected", "Used needles and syringes returned"),
            ),
        ),
        EVENTS_SHARPS_OUTSIDE_VISITS,
        EVENTS_NEEDLE_STICKS,
        Section(
            "Other supplies",
            (
                Line("supplies.injection", "Safer injection supplies"),
                Line("supplies.smoking", "Safer inhalation supplies"),
            ),
        ),
        Section(
            "Naloxone",
            (
                Line("supplies.naloxone", "Naloxone units distributed (boxes, vials)"),
                Family("naloxone_units", nonzero_only=True),
            ),
        ),
        SERVICES_GIVEN,
        _survey_section(),
    ),
)

TEMPLATES: dict[str, ReportTemplate] = {
    t.key: t
    for t in (
        PROGRAM_MONTHLY,
        STATE_SSP,
        CDPH_ANNUAL,
        SAMHSA_QUARTERLY,
        CDC_NSSPS_ANNUAL,
        ONTARIO_MONTHLY,
    )
}


def template_choices() -> list[tuple[str, str]]:
    return [(t.key, t.name) for t in TEMPLATES.values()]
