"""The menu. Each app may have a `navigation.py` with `items(request) -> list[NavItem]`;
`org.context_processors.navigation` gathers them, so each role's menu shows only what
it may use. `order` places an entry whatever the INSTALLED_APPS order: Home and the
front desk lead. `secondary` entries (set-up and oversight pages, used now and then) sit
under "More", so that every role's menu keeps to one line at 1280 px."""

from dataclasses import dataclass

from django.urls import reverse


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    badge: int | None = None
    order: int = 50
    # The page works without a connection (org.offline): the phone keeps a copy of it.
    offline: bool = False
    secondary: bool = False


def items(request) -> list[NavItem]:
    user = request.user
    entries = [
        NavItem("Home", reverse("home"), order=0, offline=True),
        NavItem("Sites", reverse("org:site-list"), order=30, secondary=True),
    ]
    if user.has_perm("org.view_audit"):
        entries.append(NavItem("Audit trail", reverse("org:audit-list"), order=90, secondary=True))
    if user.has_perm("org.manage_staff"):
        entries.append(
            NavItem("Staff accounts", reverse("org:staff-list"), order=92, secondary=True)
        )
    entries.append(NavItem("My account", reverse("org:account"), order=95, secondary=True))
    return entries
