from importlib import import_module

from django.apps import apps


def _navigation_modules():
    # The core app's Home and front desk lead the menu, whatever the INSTALLED_APPS order.
    configs = sorted(apps.get_app_configs(), key=lambda config: config.name != "ssp")
    for config in configs:
        try:
            yield import_module(f"{config.name}.navigation")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.navigation":
                raise


def navigation(request):
    """The menu for the signed-in person: entries from every app's navigation.py."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {"nav_items": []}
    entries = []
    for module in _navigation_modules():
        entries.extend(module.items(request))
    return {"nav_items": entries}
