"""Navigation entries of the ssp app. Each app may have a `navigation.py` with
`items(request) -> list[NavItem]`; `ssp.context_processors.navigation` gathers them
in INSTALLED_APPS order, so each role's menu shows only what it may use."""

from dataclasses import dataclass

from django.urls import reverse


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    badge: int | None = None


def items(request) -> list[NavItem]:
    user = request.user
    entries = [NavItem("Home", reverse("home"))]
    if user.has_perm("ssp.log_visit"):
        entries += [
            NavItem("Front desk", reverse("ssp:intake")),
            NavItem("Street shift", reverse("ssp:intake-shift")),
            NavItem("Visits", reverse("ssp:visit-list")),
            NavItem("Participants", reverse("ssp:participant-search")),
        ]
    entries.append(NavItem("Sites", reverse("ssp:site-list")))
    if user.has_perm("ssp.view_reports"):
        entries.append(NavItem("Reports", reverse("ssp:reports:list")))
        entries.append(NavItem("Dashboard", reverse("ssp:reports:dashboard")))
    if user.has_perm("ssp.view_audit"):
        entries.append(NavItem("Audit trail", reverse("ssp:audit-list")))
    return entries
