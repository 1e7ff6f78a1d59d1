"""The dashboard's words for its charts (reports/static/reports/dashboard.js), gathered
by org.context_processors.js_strings. The reports' files keep their funder's language;
these are the page's words around them."""

from django.utils.translation import gettext as _


def strings() -> dict:
    return {
        "reports.so_far": _("so far"),
        "reports.suppressed": _("suppressed"),
    }
