"""The services given at a visit (counselling, wound care, an HIV test…): a program
setting, SSP_VISIT_SERVICES, as "code:KEY:label". The code is what is stored
(VisitService.service) and reported; KEY toggles the service at the front desk."""

from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_noop

# Keys the front desk already uses outside a field: U the usual supplies, R returns,
# P picking up for others, A the naloxone refill reason ("again"), O reversals, F a
# referral (intake.js); L, N, D answer a referral follow-up (referrals/follow-ups.js);
# digits add quick supplies and "/" goes back to the code.
RESERVED_KEYS = frozenset("URPAOFLND/0123456789")

# The default labels, so that makemessages finds them; a program's own labels show as set.
DEFAULT_LABELS = (
    gettext_noop("Counselling"),
    gettext_noop("Wound care"),
    gettext_noop("HIV test"),
    gettext_noop("HCV test"),
    gettext_noop("Vaccination"),
    gettext_noop("Education"),
    gettext_noop("Naloxone training given"),
    gettext_noop("Drug checking done"),
    gettext_noop("Other service"),
)


@dataclass(frozen=True)
class VisitServiceChoice:
    code: str
    key: str
    label: str


def _parsed(entries) -> tuple[VisitServiceChoice, ...]:
    choices, codes, keys = [], set(), set()
    for entry in entries:
        code, _, rest = str(entry).partition(":")
        key, _, label = rest.partition(":")
        code, key, label = code.strip(), key.strip().upper(), label.strip()
        if not code or len(key) != 1 or not label:
            raise ImproperlyConfigured(
                f"SSP_VISIT_SERVICES entry {entry!r}: write code:KEY:label, "
                "e.g. hiv_test:H:HIV test."
            )
        if key in RESERVED_KEYS or key in keys:
            raise ImproperlyConfigured(
                f"SSP_VISIT_SERVICES: the key {key} of {code} is already taken at the front desk."
            )
        if code in codes:
            raise ImproperlyConfigured(f"SSP_VISIT_SERVICES: {code} is listed twice.")
        codes.add(code)
        keys.add(key)
        choices.append(VisitServiceChoice(code, key, label))
    return tuple(choices)


@cache
def _cached(entries: tuple) -> tuple[VisitServiceChoice, ...]:
    return _parsed(entries)


def visit_services() -> tuple[VisitServiceChoice, ...]:
    """The program's services in the order staff see them."""
    return _cached(tuple(settings.SSP_VISIT_SERVICES))


def visit_service_codes() -> list[str]:
    return [choice.code for choice in visit_services()]


def visit_service_labels() -> dict[str, str]:
    return {choice.code: choice.label for choice in visit_services()}
