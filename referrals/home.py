"""Referrals' home tiles: follow-ups whose date has come (org/home.py)."""

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from org import roles
from org.home import HomeTile, Tone, tone_for

from .selectors import overdue_count

LABELS = {
    # The front desk asks at the next visit; the coordinator sees what is overdue.
    roles.FRONT_DESK: (_("Follow-ups waiting"), _("Ask at the person's next visit.")),
    roles.COORDINATOR: (
        _("Overdue linkage follow-ups"),
        _("Open referrals whose follow-up date has come."),
    ),
}


def tiles(request, role) -> list[HomeTile]:
    if role not in LABELS:
        return []
    label, note = LABELS[role]
    due = overdue_count(user=request.user, today=timezone.localdate())
    return [
        HomeTile(
            label,
            due,
            url=reverse("referrals:overdue"),
            note=str(note),
            tone=tone_for(due, Tone.WARN),
            order=20,
        )
    ]
