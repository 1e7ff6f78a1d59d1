"""DRF permission classes in the program's words."""

from django.utils.translation import gettext_lazy
from rest_framework.permissions import BasePermission


def capability(permission: str) -> type[BasePermission]:
    """A DRF permission class that requires `permission`, e.g. "inventory.manage_stock"
    (each app's capabilities.py declares its own)."""

    class HasCapability(BasePermission):
        message = gettext_lazy("Your role does not allow this.")

        def has_permission(self, request, view):
            return bool(request.user and request.user.has_perm(permission))

    HasCapability.__name__ = f"Can_{permission.replace('.', '_')}"
    return HasCapability
