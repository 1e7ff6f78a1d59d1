"""What the stock pages share: who may look, and showing a refused operation."""

from django.core.exceptions import PermissionDenied

from .. import selectors, services


def can_view_stock(user) -> bool:
    return user.has_perm("inventory.manage_stock") or user.is_program_wide


def require_viewer(request) -> None:
    if not can_view_stock(request.user):
        raise PermissionDenied


def visible_locations(request):
    return selectors.locations_visible_to(request.user)


def managed_locations(request):
    return selectors.locations_managed_by(request.user)


def show_stock_error(exc: services.StockError, form, line_forms=()) -> None:
    """Put a refused operation's messages next to the fields they are about."""
    placed = False
    for field, problems in exc.field_errors.items():
        if field == "lines" and isinstance(problems, dict):
            for index, line_problems in problems.items():
                target = line_forms[index] if index < len(line_forms) else form
                for line_field, texts in line_problems.items():
                    for text in texts:
                        target.add_error(line_field if line_field in target.fields else None, text)
                        placed = True
            continue
        for text in problems:
            form.add_error(field if field in form.fields else None, text)
            placed = True
    if not placed:
        # InsufficientStock and other whole-operation refusals name the item themselves.
        form.add_error(None, str(exc))


def filled_forms(formset) -> list:
    """The line forms someone typed into (empty extra lines are ignored)."""
    return [f for f in formset.forms if f.has_changed() and f.cleaned_data]


def int_or_none(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
