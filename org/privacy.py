"""Refusing personal details in free text (notes, reasons, references).

Participants are anonymous: the program never keeps a phone number, an email address,
a Social Security number, a street address or a date of birth. Staff type free text in
a hurry, so every free-text field is checked where the text enters: the model field's
validator (picked up by ModelForm and ModelSerializer) and `refuse_personal_details`
in the services, so a management command or another caller cannot bypass it.

Names cannot be detected reliably; fields that need no free text are choices instead
(docs/privacy.md lists every field, its limit and what is refused).

The patterns lean towards refusing: a refused note costs the desk a retyped sentence,
a kept phone number cannot be taken back. What the program writes itself must pass:
quantities, lot numbers ("LOT 2026-11A"), item sizes, "visit:<uuid>" / "transfer:<hex>" /
"count:<n>" references and recent dates ("counted 2026-11-30", expiries).
"""

import re
from datetime import date

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext, gettext_noop

# The kinds are keys too (a field's `allow`, kept in migrations): English in the code,
# shown in the page's language by personal_detail_message.
PHONE = gettext_noop("a phone number")
EMAIL = gettext_noop("an email address")
SSN = gettext_noop("a Social Security number")
STREET_ADDRESS = gettext_noop("a street address")
DATE_OF_BIRTH = gettext_noop("a date of birth")
KINDS = (PHONE, EMAIL, SSN, STREET_ADDRESS, DATE_OF_BIRTH)

# A full date this many years back is taken for a birth date even without "born" or
# "DOB": nothing else a syringe program types is that old (visits and counts are dated
# within days, expiries lie ahead).
BIRTH_DATE_YEARS = 10

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_MONTH = "(?:" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"

# The program's own references carry ids that are digits and dashes; they are removed
# before looking, so "visit:<uuid>" never reads as a number.
_OWN_REFERENCES = re.compile(
    r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"
    r"|\btransfer:[0-9a-f]{12}\b"
    r"|\bcount:\d{1,9}\b",
    re.IGNORECASE,
)

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|[\w.+-]+\s*\[at\]\s*[\w-]+\s*\[dot\]\s*\w+")

_SSN = re.compile(
    # 123-45-6789 / 123 45 6789 / 123.45.6789 (one separator throughout), never 000/666/9xx
    r"(?<![\w-])(?!000|666|9\d\d)\d{3}([-. ])(?!00)\d{2}\1(?!0000)\d{4}(?![\w-])"
    # nine bare digits only after a cue: an invoice number may be nine digits
    r"|\b(?:ssn|ss#|soc(?:ial)?\s+sec(?:urity)?(?:\s+(?:no|number|#))?)\W{0,3}\d{9}\b",
    re.IGNORECASE,
)

# North American numbers: area code and exchange start with 2-9, which keeps most
# invoice and order numbers (1234567890) out.
_PHONE = re.compile(
    r"(?<![\w+])(?:\+?1[-. ]?)?(?:\([2-9]\d{2}\)\s?|[2-9]\d{2}[-. ]?)[2-9]\d{2}[-. ]?\d{4}(?!\w)"
    # a seven-digit local number only after a cue: lot numbers look like 445-2231
    r"|\b(?:phone|ph|tel|cell|mobile|call|text|number|no|#)\W{0,3}[2-9]\d{2}[-. ]\d{4}(?!\w)",
    re.IGNORECASE,
)

_UNAMBIGUOUS_SUFFIX = (
    r"(?:street|st|avenue|ave|av|road|rd|boulevard|blvd|lane|ln|parkway|pkwy|highway|hwy"
    r"|terrace|ter)"
)
# Words that are also ordinary English ("on the way", "drive safe") count only in
# Title Case, as an address is written.
_AMBIGUOUS_SUFFIX = r"(?:Way|Drive|Dr|Court|Ct|Place|Pl|Circle|Cir|Square|Sq|Trail|Row|Alley)"
_STREET = re.compile(
    r"\b\d{1,6}[A-Za-z]?\s+"
    r"(?:(?:[NSEW]\.?|North|South|East|West)\s+)?"
    r"(?:[A-Za-z][\w'.-]*|(?:[A-Z][\w'.-]*\s+){1,2}[A-Z][\w'.-]*|\d{1,3}(?:st|nd|rd|th))\s+"
    r"(?:(?i:" + _UNAMBIGUOUS_SUFFIX + r")|" + _AMBIGUOUS_SUFFIX + r")\b\.?"
    r"|(?i:\b(?:apt|apartment)\.?\s*#?\s*\d+\w?\b)"
    r"|(?i:\bp\.?\s?o\.?\s?box\s*\d+)"
)

_BIRTH_CUE = re.compile(r"\b(?:dob|d\.o\.b\.?|date\s+of\s+birth|born|birth\w*|b-?day)\b", re.I)
# "DOB" followed by anything date-like, even a partial date.
_CUE_THEN_DIGITS = re.compile(r"\b(?:dob|d\.o\.b\.?|date\s+of\s+birth)\W{0,3}\d", re.I)
_DATES = (
    # 04/12/1985, 4-12-85, 12.04.1985 (month and day order unknown)
    (re.compile(r"(?<![\w/.-])(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})(?![\w/.-])"), "dmy"),
    # 1985-04-12
    (re.compile(r"(?<![\w/.-])(\d{4})([/.-])(\d{1,2})\2(\d{1,2})(?![\w/.-])"), "ymd"),
    # 12 April 1985, 12th Apr. 1985
    (re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+(" + _MONTH + r"),?\s+(\d{4})\b", re.I), "d_m_y"),
    # April 12, 1985
    (re.compile(r"\b(" + _MONTH + r")\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b", re.I), "m_d_y"),
)


def _full_year(text: str, today: date) -> int:
    year = int(text)
    if len(text) == 2:
        year += 2000 if year <= today.year % 100 else 1900
    return year


def _dates(text: str, today: date):
    """(start, year) of every full date (day, month and year) in the text."""
    for pattern, order in _DATES:
        for match in pattern.finditer(text):
            groups = match.groups()
            if order == "dmy":
                first, second, year = int(groups[0]), int(groups[2]), groups[3]
                if not (min(first, second) >= 1 and max(first, second) <= 31):
                    continue
                if min(first, second) > 12:
                    continue
            elif order == "ymd":
                year, month, day = groups[0], int(groups[2]), int(groups[3])
                if not (1 <= month <= 12 and 1 <= day <= 31):
                    continue
            elif order == "d_m_y":
                day, year = int(groups[0]), groups[2]
                if not 1 <= day <= 31:
                    continue
            else:
                day, year = int(groups[1]), groups[2]
                if not 1 <= day <= 31:
                    continue
            yield match.start(), _full_year(year, today)


def _has_birth_date(text: str, today: date) -> bool:
    if _CUE_THEN_DIGITS.search(text):
        return True
    cues = [m.end() for m in _BIRTH_CUE.finditer(text)]
    for start, year in _dates(text, today):
        if year <= today.year - BIRTH_DATE_YEARS:
            return True
        # "born" (or "DOB", "birthday") shortly before the date
        if any(0 <= start - end <= 20 for end in cues):
            return True
    return False


def personal_detail_in(text: str, *, allow: tuple[str, ...] = ()) -> str | None:
    """The kind of personal detail the text seems to hold ("a phone number"), or None.
    `allow` names kinds a field may hold (a partner organisation's own phone)."""
    if not text:
        return None
    text = _OWN_REFERENCES.sub(" ", str(text))
    checks = (
        (EMAIL, lambda: _EMAIL.search(text)),
        (SSN, lambda: _SSN.search(text)),
        (PHONE, lambda: _PHONE.search(text)),
        (STREET_ADDRESS, lambda: _STREET.search(text)),
        (DATE_OF_BIRTH, lambda: _has_birth_date(text, timezone.localdate())),
    )
    for kind, found in checks:
        if kind not in allow and found():
            return kind
    return None


def personal_detail_message(kind: str) -> str:
    return gettext("This looks like %(kind)s; never record personal details.") % {
        "kind": gettext(kind)
    }


def refuse_personal_details(
    text: str, *, field: str | None = None, allow: tuple[str, ...] = ()
) -> None:
    """Raise ValidationError (on `field` when given) if the text holds a personal detail."""
    kind = personal_detail_in(text, allow=allow)
    if kind is None:
        return
    error = ValidationError(
        personal_detail_message(kind), code="personal_details", params={"kind": kind}
    )
    if field:
        raise ValidationError({field: [error]})
    raise error


@deconstructible
class NoPersonalDetails:
    """Model and form field validator: refuses text that looks like a personal detail."""

    def __init__(self, allow: tuple[str, ...] = ()):
        self.allow = tuple(allow)

    def __call__(self, value):
        refuse_personal_details(value, allow=self.allow)

    def __eq__(self, other):
        return isinstance(other, NoPersonalDetails) and self.allow == other.allow

    def __hash__(self):
        return hash(self.allow)


no_personal_details = NoPersonalDetails()


def personal_detail_error(text: str, *, allow: tuple[str, ...] = ()) -> str | None:
    """The message to show when the text holds a personal detail, else None; for
    services that raise their own domain errors."""
    kind = personal_detail_in(text, allow=allow)
    return personal_detail_message(kind) if kind else None


def choice_value(value: str, choices) -> str | None:
    """A TextChoices value given as its value or its label (any case), else None."""
    typed = (value or "").strip()
    for choice_value_, label in choices.choices:
        # The English label, or the label as the person's pages show it.
        if typed == choice_value_ or typed.lower() in (
            str(label).lower(),
            gettext(str(label)).lower(),
        ):
            return choice_value_
    return None
