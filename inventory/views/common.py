"""What the stock pages share: who may look, and showing a refused operation."""

from django.core.exceptions import PermissionDenied

from .. import selectors


def can_view_stock(user) -> bool:
    return user.has_perm("inventory.manage_stock") or user.is_program_wide


def require_viewer(request) -> None:
    if not can_view_stock(request.user):
        raise PermissionDenied


def visible_locations(request):
    return selectors.locations_visible_to(request.user)


def managed_locations(request):
    return selectors.locations_managed_by(request.user)


def filled_forms(formset) -> list:
    """The line forms someone typed into (empty extra lines are ignored)."""
    return [f for f in formset.forms if f.has_changed() and f.cleaned_data]


def int_or_none(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
