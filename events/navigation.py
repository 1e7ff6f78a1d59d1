"""Menu entries of program events (gathered by org.context_processors.navigation)."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from org.navigation import NavItem


def items(request) -> list[NavItem]:
    if not request.user.has_perm("events.view_events"):
        return []
    # Used now and then (after a clean-up, an injury, a bin run): under More.
    return [NavItem(_("Program events"), reverse("events:list"), order=15, secondary=True)]
