"""DRF permission classes in the program's words."""

from rest_framework.permissions import BasePermission


def capability(codename: str) -> type[BasePermission]:
    """A DRF permission class that requires `ssp.<codename>` (see ssp/roles.py)."""

    class HasCapability(BasePermission):
        message = "Your role does not allow this."

        def has_permission(self, request, view):
            return bool(request.user and request.user.has_perm(f"ssp.{codename}"))

    HasCapability.__name__ = f"Can_{codename}"
    return HasCapability
