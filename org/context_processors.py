from .plugins import app_modules


def navigation(request):
    """The menu for the signed-in person: entries from every app's navigation.py."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {"nav_items": []}
    entries = []
    for module in app_modules("navigation"):
        entries.extend(module.items(request))
    # sorted() is stable: entries of equal order keep their app's order.
    return {"nav_items": sorted(entries, key=lambda entry: entry.order)}
