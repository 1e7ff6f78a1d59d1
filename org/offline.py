"""The installable app's server side: which pages a phone keeps for offline use.

A page opts in with `@available_offline`; the service worker (`/sw.js`) keeps the last
copy of such a page (per site) and shows it when there is no connection. Every other
page needs the network. The ground floor knows no upper app's pages: each marks its own.
Each kept copy says whose it is, so that a shared phone never shows one person's page
to the next (the worker keeps and shows only the copies of the person the device has).
"""

from functools import wraps

OFFLINE_HEADER = "X-SSP-Offline"
OFFLINE_USER_HEADER = "X-SSP-Offline-User"


def available_offline(view):
    """Mark a page's successful GET answers as kept on the device for offline use."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if request.method == "GET" and response.status_code == 200:
            response[OFFLINE_HEADER] = "page"
            response[OFFLINE_USER_HEADER] = str(request.user.pk or "")
        return response

    return wrapper
