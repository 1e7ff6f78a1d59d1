"""Time rules every floor shares."""

from datetime import datetime, timedelta

from django.utils import timezone

# Clocks on tablets and phones drift; a moment a few minutes "ahead" is still now.
FUTURE_TOLERANCE = timedelta(minutes=5)


def is_in_future(when: datetime, *, now: datetime) -> bool:
    return when > now + FUTURE_TOLERANCE


def moment_label(when: datetime, *, now: datetime) -> str:
    """The time alone on the day it happened; the date too on any other day.

    A backdated visit saved "14:30" reads as today's: staff must see which day it went to.
    """
    local, today = timezone.localtime(when), timezone.localdate(now)
    if local.date() == today:
        return local.strftime("%H:%M")
    return f"{local:%a} {local.day} {local:%b %Y}, {local:%H:%M}"
