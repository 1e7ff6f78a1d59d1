"""Menu entries of the referrals app (gathered by org.context_processors.navigation)."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from org.navigation import NavItem

from .selectors import overdue_count


def items(request) -> list[NavItem]:
    user = request.user
    if not user.accessible_site_ids():
        return []
    entries = [
        # The badge: open referrals at the person's sites whose follow-up date has come.
        NavItem(
            _("Referrals"), reverse("referrals:list"), overdue_count(user=user) or None, order=70
        ),
        NavItem(_("Partners"), reverse("referrals:partner-list"), order=71, secondary=True),
    ]
    if user.has_perm("referrals.manage_referrals") or user.is_program_wide:
        entries.append(
            NavItem(_("Linkage"), reverse("referrals:linkage"), order=72, secondary=True)
        )
    return entries
