from importlib import import_module

from django.apps import apps

from .help import help_section


def _navigation_modules():
    for config in apps.get_app_configs():
        try:
            yield import_module(f"{config.name}.navigation")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.navigation":
                raise


def navigation(request):
    """The menu for the signed-in person: entries from every app's navigation.py."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {"nav_items": [], "nav_badges": 0}
    entries = []
    for module in _navigation_modules():
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
