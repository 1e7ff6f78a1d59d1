"""The page shell's words for its scripts (org/static/org/offline.js, device.js and the
service worker's "not kept" page), gathered with every app's js_strings.py by
org.context_processors.js_strings and read in the browser by org/static/org/strings.js.

Each app's `strings()` is called in the request's language and returns {key: text} or,
for a phrase with a number, {key: {"one": …, "other": …}} (ngettext for 1 and for 2:
the two forms English and Spanish have). Placeholders are Python's %(name)s, so the
catalogue checks them like any other."""

from collections.abc import Callable

from django.utils.translation import gettext as _
from django.utils.translation import ngettext


def plural(forms: Callable[[int], str]) -> dict[str, str]:
    """Both forms of a counted phrase (`lambda n: ngettext(…, …, n)`, so that
    makemessages finds it), for strings.js to choose by the number."""
    return {"one": forms(1), "other": forms(2)}


def strings() -> dict:
    return {
        "shell.online": _("Online"),
        "shell.offline": _("Offline"),
        "shell.waiting": plural(
            lambda n: ngettext("%(n)s waiting to send", "%(n)s waiting to send", n)
        ),
        "shell.refused": plural(lambda n: ngettext("%(n)s not accepted", "%(n)s not accepted", n)),
        "shell.log_in_again": _("log in again to send"),
        "shell.reload": _("reload the page to send"),
        "shell.logout_confirm": plural(
            lambda n: ngettext(
                "%(n)s record has not reached the server yet. It stays on this device and "
                "is sent when you log in again. Log out?",
                "%(n)s records have not reached the server yet. They stay on this device "
                "and are sent when you log in again. Log out?",
                n,
            )
        ),
        "device.refused": _("The server refused this record."),
        # The service worker's page for an address it has no copy of (no connection).
        "offline.title": _("Offline · SSP intake"),
        "offline.heading": _("No connection"),
        "offline.not_kept": _(
            "This page was not kept on this device. The front desk, the street shift and "
            "the follow-ups work offline once they have been opened with a connection."
        ),
        "offline.home": _("Home"),
    }
