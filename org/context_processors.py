from .help import help_section
from .plugins import app_modules


def navigation(request):
    """The menu for the signed-in person: entries from every app's navigation.py."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {"nav_items": [], "nav_badges": 0}
    entries = []
    for module in app_modules("navigation"):
        entries.extend(module.items(request))
    # The entries under More come last, as on screen; sorted() is stable: entries of
    # equal order keep their app's order.
    return {
        "nav_items": sorted(entries, key=lambda entry: (entry.secondary, entry.order)),
        # Shown on the phone's menu button, where the entries' own badges are folded away.
        "nav_badges": sum(entry.badge or 0 for entry in entries),
    }


def help_link(request):
    """The anchor of the help page's section for this screen (the `?` in the top bar)."""
    return {"help_section": help_section(getattr(request, "resolver_match", None))}


def js_strings(request):
    """The words the page's scripts show (every app's js_strings.py), in the request's
    language: base.html puts them in the page as JSON, so a page kept for offline use
    keeps its scripts' words with it and needs no fetch of a catalogue."""

    def gather():
        # Called by the template only where it is used (base.html), not for every
        # fragment htmx asks for.
        words = {}
        for module in app_modules("js_strings"):
            words.update(module.strings())
        return words

    return {"js_strings": gather}
