"""Menu entries of intake (gathered by org.context_processors.navigation)."""

from django.urls import reverse

from org.navigation import NavItem


def items(request) -> list[NavItem]:
    if not request.user.has_perm("ssp.log_visit"):
        return []
    return [
        NavItem("Front desk", reverse("ssp:intake"), order=10, offline=True),
        NavItem("Street shift", reverse("ssp:intake-shift"), order=11, offline=True),
        NavItem("Visits", reverse("ssp:visit-list"), order=12),
        NavItem("Participants", reverse("ssp:participant-search"), order=13),
    ]
