"""Intake's home tile: the visits the front desk logged today (org/home.py)."""

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from org import roles
from org.home import HomeTile

from .selectors import my_visits_today


def tiles(request, role) -> list[HomeTile]:
    if role != roles.FRONT_DESK or not request.user.has_perm("ssp.log_visit"):
        return []
    today = timezone.localdate()
    return [
        HomeTile(
            _("My visits today"),
            my_visits_today(user=request.user, today=today),
            url=f"{reverse('ssp:visit-list')}?mine=on&occurred_from={today.isoformat()}"
            f"&occurred_to={today.isoformat()}",
            order=10,
        )
    ]
