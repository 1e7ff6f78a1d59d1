"""The per-person limit on code look-ups (SSP_LOOKUP_RATE), for the API and the pages.

Exact codes can be tried one by one; the limit turns a scan of the code space into
weeks. The count lives in the default cache, shared by the API and the intake panel.
"""

from django.conf import settings
from rest_framework.throttling import UserRateThrottle


class LookupThrottle(UserRateThrottle):
    scope = "ssp_lookup"

    def get_rate(self) -> str:
        # Read per request, not at import as DRF's rates are: the setting can be changed.
        return settings.SSP_LOOKUP_RATE


def lookup_wait(request) -> int | None:
    """Seconds to wait before the next look-up, or None if this one may go ahead
    (and is counted). For the pages; the API's views name LookupThrottle."""
    throttle = LookupThrottle()
    if throttle.allow_request(request, None):
        return None
    return max(1, round(throttle.wait() or 1))
