"""The modules upper apps plug into the ground floor with, found by name so that org
never imports a floor above it (navigation.py, home.py)."""

from collections.abc import Iterator
from functools import cache
from importlib import import_module
from types import ModuleType

from django.apps import apps


def app_modules(name: str) -> Iterator[ModuleType]:
    """Each installed app's `<app>.<name>` module, in INSTALLED_APPS order; apps
    without one are skipped (an import error inside one is not hidden)."""
    yield from _app_modules(name)


@cache
def _app_modules(name: str) -> tuple[ModuleType, ...]:
    # Found once per process: looking for a module an app does not have walks the import
    # path every time, and the visit save asks for its extensions on every record.
    found = []
    for config in apps.get_app_configs():
        try:
            found.append(import_module(f"{config.name}.{name}"))
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.{name}":
                raise
    return tuple(found)
