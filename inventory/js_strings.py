"""The stock pages' words for their scripts (inventory/static/inventory/item_trend.js),
gathered by org.context_processors.js_strings."""

from django.utils.translation import gettext as _


def strings() -> dict:
    return {
        "stock.on_hand": _("On hand"),
        "stock.dispensed": _("Dispensed"),
    }
