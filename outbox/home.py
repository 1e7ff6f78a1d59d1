"""The outbox's home tile: jobs whose task ran and raised, for admins (org/home.py)."""

from django.utils.translation import gettext_lazy as _

from org import roles
from org.home import HomeTile, Tone, tone_for

from .models import JobState
from .selectors import jobs_in_state


def tiles(request, role) -> list[HomeTile]:
    if role != roles.ADMIN:
        return []
    failed = jobs_in_state(JobState.FAILED).count()
    return [
        HomeTile(
            _("Failed background jobs"),
            failed,
            note=str(_("Send them again with manage.py relay_outbox --failed."))
            if failed
            else str(_("Every job ran.")),
            tone=tone_for(failed, Tone.BAD),
            order=20,
        )
    ]
