"""Menu entries of funder reports (gathered by org.context_processors.navigation)."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from org.navigation import NavItem


def items(request) -> list[NavItem]:
    if not request.user.has_perm("reports.view_reports"):
        return []
    return [
        NavItem(_("Reports"), reverse("reports:list"), order=40),
        NavItem(_("Dashboard"), reverse("reports:dashboard"), order=41),
    ]
