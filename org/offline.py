"""The installable app's server side: which pages a phone keeps for offline use.

A page opts in with `@available_offline`; the service worker (`/sw.js`) keeps the last
copy of such a page (per site) and shows it when there is no connection. Every other
page needs the network. The ground floor knows no upper app's pages: each marks its own.
"""

from functools import wraps

OFFLINE_HEADER = "X-SSP-Offline"


def available_offline(view):
    """Mark a page's successful GET answers as kept on the device for offline use."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if request.method == "GET" and response.status_code == 200:
            response[OFFLINE_HEADER] = "page"
        return response

    return wrapper
