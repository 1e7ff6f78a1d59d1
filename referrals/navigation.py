"""Menu entries of the referrals app (gathered by ssp.context_processors.navigation)."""

from django.urls import reverse

from ssp.navigation import NavItem

from .selectors import overdue_count


def items(request) -> list[NavItem]:
    user = request.user
    if not user.accessible_site_ids():
        return []
    entries = [
        # The badge: open referrals at the person's sites whose follow-up date has come.
        NavItem("Referrals", reverse("referrals:list"), overdue_count(user=user) or None),
        NavItem("Partners", reverse("referrals:partner-list")),
    ]
    if user.has_perm("ssp.manage_referrals") or user.has_perm("ssp.view_reports"):
        entries.append(NavItem("Linkage", reverse("referrals:linkage")))
    return entries
