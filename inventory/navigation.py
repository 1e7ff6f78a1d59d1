"""Navigation entries of the inventory app (see ssp/navigation.py)."""

from django.urls import reverse

from ssp.navigation import NavItem

from .alerts import alerts_needing_attention


def items(request) -> list[NavItem]:
    user = request.user
    entries = []
    if user.has_perm("ssp.manage_stock") or user.is_program_wide:
        # Coordinators look at stock read-only; the write pages check manage_stock.
        entries.append(NavItem("Stock", reverse("inventory:stock")))
    if user.has_perm("ssp.manage_stock"):
        # The badge counts open alerts nobody has acknowledged yet.
        entries.append(
            NavItem("Alerts", reverse("inventory:alerts"), alerts_needing_attention(user) or None)
        )
    return entries
