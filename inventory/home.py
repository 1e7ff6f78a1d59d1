"""The stock ledger's home tiles (org/home.py): low stock at the front desk's sites;
alerts, reorders and counts due for managers."""

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from org import roles
from org.home import HomeTile, Tone, tone_for

from . import selectors
from .alerts import open_alerts_by_severity
from .models import AlertSeverity


def tiles(request, role) -> list[HomeTile]:
    user = request.user
    today = timezone.localdate()
    if role == roles.FRONT_DESK:
        low = selectors.low_stock_at_sites(site_ids=user.accessible_site_ids(), today=today)
        return [
            HomeTile(
                _("Low-stock items at my sites"),
                len(low),
                note=", ".join(sorted({level.item.name for level in low}))
                or str(_("Nothing is running short.")),
                tone=tone_for(len(low), Tone.WARN),
                order=30,
            )
        ]
    if role != roles.MANAGER or not user.has_perm("inventory.manage_stock"):
        return []
    managed = selectors.locations_managed_by(user)
    by_severity = open_alerts_by_severity(user)
    open_total = sum(by_severity.values())
    below = selectors.below_reorder_point(locations=managed, today=today)
    due = selectors.counts_due(locations=managed)
    return [
        HomeTile(
            _("Open stock alerts"),
            open_total,
            url=reverse("inventory:alerts"),
            parts=tuple(
                (label, by_severity[value])
                for value, label in AlertSeverity.choices
                if by_severity.get(value)
            ),
            tone=tone_for(
                open_total, Tone.BAD if by_severity.get(AlertSeverity.EMERGENCY) else Tone.WARN
            ),
            order=40,
        ),
        HomeTile(
            _("Items below reorder point"),
            len(below),
            url=reverse("inventory:stock"),
            note=str(_("Usable stock under %(months)s months of use."))
            % {"months": settings.SSP_STOCK_UNDERSTOCK_MONTHS},
            tone=tone_for(len(below), Tone.WARN),
            order=41,
        ),
        HomeTile(
            _("Counts due"),
            len(due),
            url=reverse("inventory:count"),
            note=", ".join(location.name for location in due)
            or str(_("Every location was counted lately.")),
            tone=tone_for(len(due), Tone.WARN),
            order=42,
        ),
    ]
