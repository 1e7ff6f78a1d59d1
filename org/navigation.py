"""The menu. Each app may have a `navigation.py` with `items(request) -> list[NavItem]`;
`org.context_processors.navigation` gathers them, so each role's menu shows only what
it may use. `order` places an entry whatever the INSTALLED_APPS order: Home and the
front desk lead. `secondary` entries (set-up and oversight pages, used now and then) sit
under "More", so that every role's menu keeps to one line at 1280 px."""

from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class NavItem:
    label: str  # gettext_lazy: read in the language of the page that shows it
    url: str
    badge: int | None = None
    order: int = 50
    # The page works without a connection (org.offline): the phone keeps a copy of it.
    offline: bool = False
    secondary: bool = False


def items(request) -> list[NavItem]:
    user = request.user
    entries = [
        NavItem(_("Home"), reverse("home"), order=0, offline=True),
        NavItem(_("Sites"), reverse("org:site-list"), order=30, secondary=True),
    ]
    if user.has_perm("org.view_audit"):
        entries.append(
            NavItem(_("Audit trail"), reverse("org:audit-list"), order=90, secondary=True)
        )
    if user.has_perm("org.manage_staff"):
        entries.append(
            NavItem(_("Staff accounts"), reverse("org:staff-list"), order=92, secondary=True)
        )
    entries.append(NavItem(_("My account"), reverse("org:account"), order=95, secondary=True))
    return entries
