"""Checks on text that comes in from outside, shared by every form and serializer.

Control characters are refused rather than stripped: a NUL byte cannot be stored by
PostgreSQL at all (a DataError, not a message), and bidirectional overrides make a
code or a reference display as something other than what is stored.
"""

import unicodedata
from datetime import UTC, date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

# Tab, line feed and carriage return are ordinary in multi-line notes.
_ALLOWED_CONTROLS = {"\t", "\n", "\r"}
# Embedding, override and isolate marks (U+202A–U+202E, U+2066–U+2069) and the
# implicit direction marks: text that reads differently from what is stored.
_BIDI_CONTROLS = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))} | {
    "\u200e",
    "\u200f",
    "\u061c",
}

# English here (tests and callers compare them); shown through gettext where raised.
PRINTABLE_MESSAGE = gettext_noop(
    "Remove the control characters (such as NUL or direction marks) from this text."
)
DIGITS_MESSAGE = gettext_noop("Use the digits 0–9.")


def unprintable(text: str) -> bool:
    """True when `text` holds a control character, a direction override or a lone
    surrogate (which PostgreSQL cannot encode)."""
    for ch in text:
        if ch in _ALLOWED_CONTROLS:
            continue
        if ch in _BIDI_CONTROLS or unicodedata.category(ch) in ("Cc", "Cs"):
            return True
    return False


def foreign_digits(text: str) -> bool:
    """True when `text` holds a decimal digit other than 0–9 (e.g. "٣", "３")."""
    return any(not ("0" <= ch <= "9") and unicodedata.decimal(ch, None) is not None for ch in text)


def looks_like_number(text: str) -> bool:
    """A string of digits (any script), perhaps signed or with a decimal point:
    what a client sends when it means a number."""
    body = text.strip().lstrip("+-")
    return bool(body) and all(
        unicodedata.decimal(ch, None) is not None or ch in ".," for ch in body
    )


def printable_text(value) -> None:
    if isinstance(value, str) and unprintable(value):
        raise ValidationError(gettext(PRINTABLE_MESSAGE), code="unprintable")


def ascii_digits(value) -> None:
    if isinstance(value, str) and foreign_digits(value):
        raise ValidationError(gettext(DIGITS_MESSAGE), code="digits")


# No program records anything from before this; earlier dates are typing mistakes
# (0001-01-01) that would otherwise fill a report period of two thousand years.
EARLIEST_DATE = date(2000, 1, 1)


def date_window(*, future: timedelta = timedelta(0)):
    """A validator for a date or datetime: from EARLIEST_DATE to today + `future`."""

    def check(value) -> None:
        if value is None:
            return
        # A moment is judged by its UTC day, which is how the schema writes it, against
        # today's UTC day: in the evening west of Greenwich the UTC day is already
        # tomorrow, and "tomorrow at this time" must reach the service's own rule.
        moment = isinstance(value, datetime)
        day = value.astimezone(UTC).date() if moment else value
        if day < EARLIEST_DATE:
            raise ValidationError(
                gettext("Enter a date from %(earliest)s on.")
                % {"earliest": f"{EARLIEST_DATE:%Y-%m-%d}"},
                code="too_early",
            )
        latest = (
            timezone.now().astimezone(UTC).date() if moment else timezone.localdate()
        ) + future
        if day > latest:
            message = (
                gettext("This date is in the future.")
                if not future
                else gettext("Enter a date no later than %(latest)s.")
                % {"latest": f"{latest:%Y-%m-%d}"}
            )
            raise ValidationError(message, code="too_late")

    return check
