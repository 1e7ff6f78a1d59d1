"""Menu entries of intake (gathered by org.context_processors.navigation)."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from org.navigation import NavItem


def items(request) -> list[NavItem]:
    entries = []
    if request.user.has_perm("ssp.manage_surveys"):
        entries.append(NavItem(_("Surveys"), reverse("ssp:survey-list"), order=14, secondary=True))
    if not request.user.has_perm("ssp.log_visit"):
        return entries
    return [
        *entries,
        NavItem(_("Front desk"), reverse("ssp:intake"), order=10, offline=True),
        NavItem(_("Street shift"), reverse("ssp:intake-shift"), order=11, offline=True),
        NavItem(_("Visits"), reverse("ssp:visit-list"), order=12),
        NavItem(_("Participants"), reverse("ssp:participant-search"), order=13),
    ]
