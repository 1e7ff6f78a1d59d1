"""The forms of every page: text that cannot be stored refused next to its field, and
a refused service call put onto the form that asked for it."""

from collections.abc import Sequence

from django import forms

from .validators import printable_text


class PrintableTextMixin:
    """Every text field refuses control characters and direction marks with a field
    message, as the API does (org.validators.printable_text). Added when the form is
    cleaned, so fields a form builds in its own __init__ (the code recipe's parts) are
    covered too."""

    def full_clean(self):
        for field in self.fields.values():
            if isinstance(field, forms.CharField) and printable_text not in field.validators:
                field.validators.append(printable_text)
        super().full_clean()


class Form(PrintableTextMixin, forms.Form):
    """The base of every page form (tests/org/test_forms.py checks that each one is)."""


class ModelForm(PrintableTextMixin, forms.ModelForm):
    """The base of every model form of the pages and the Django admin."""


def _messages(found) -> list[str]:
    if isinstance(found, dict):
        # Per-line errors keyed by line index, e.g. {0: {"quantity": [...]}}.
        return [m for line in found.values() for m in _messages(line)]
    if isinstance(found, (list, tuple)):
        return [m for one in found for m in _messages(one)]
    return [str(found)]


def _add(form: forms.Form, field, messages: list[str]) -> bool:
    target = field if field in form.fields else None
    for message in messages:
        form.add_error(target, message)
    return bool(messages)


def form_errors_from(
    form: forms.Form,
    exc: Exception,
    *,
    rename: dict[str, str] | None = None,
    line_forms: Sequence[forms.Form] = (),
) -> None:
    """Add a domain error's `field_errors` to the form, each next to its field.

    Messages about fields the form lacks, and an error without field_errors, go on top
    of the form, so a refusal is never silent. `rename` maps a service's field name
    onto the form's (e.g. "type" → "referral_type"); "lines" errors keyed by line index
    go onto `line_forms` when given."""
    rename = rename or {}
    placed = False
    for field, found in (getattr(exc, "field_errors", None) or {}).items():
        if field == "lines" and isinstance(found, dict) and line_forms:
            for index, line_errors in found.items():
                target = line_forms[index] if index < len(line_forms) else form
                for line_field, texts in line_errors.items():
                    placed |= _add(target, line_field, _messages(texts))
            continue
        placed |= _add(form, rename.get(field, field), _messages(found))
    if not placed:
        form.add_error(None, str(exc))
