"""Time rules every floor shares."""

from datetime import datetime, timedelta

# Clocks on tablets and phones drift; a moment a few minutes "ahead" is still now.
FUTURE_TOLERANCE = timedelta(minutes=5)


def is_in_future(when: datetime, *, now: datetime) -> bool:
    return when > now + FUTURE_TOLERANCE
