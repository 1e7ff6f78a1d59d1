"""Menu entries of the stock ledger (gathered by org.context_processors.navigation)."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from org.navigation import NavItem

from .alerts import alerts_needing_attention


def items(request) -> list[NavItem]:
    user = request.user
    entries = []
    if user.has_perm("inventory.manage_stock") or user.is_program_wide:
        # Coordinators look at stock read-only; the write pages check manage_stock.
        entries.append(NavItem(_("Stock"), reverse("inventory:stock"), order=60))
    if user.has_perm("inventory.manage_stock"):
        # The badge counts open alerts nobody has acknowledged yet.
        entries.append(
            NavItem(
                _("Alerts"),
                reverse("inventory:alerts"),
                alerts_needing_attention(user) or None,
                order=61,
            )
        )
    return entries
