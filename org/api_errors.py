"""One error body for the whole API.

    {"detail": "readable sentence", "code": "machine_code", "errors": {"field": ["message"]}}

Domain errors are plain exceptions raised by services, which know nothing of HTTP.
Each app's API module says at import time which status and code each of its error
classes becomes (`domain_error(InsufficientStock, status=409, code="insufficient_stock")`);
the most specific registered class of an exception wins. A domain error may carry
`field_errors`.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

# Exception class -> (HTTP status, error code). Filled by each app's API module.
_DOMAIN_ERRORS: dict[type[Exception], tuple[int, str]] = {}


def domain_error(exc_class: type[Exception], *, status: int, code: str) -> None:
    _DOMAIN_ERRORS[exc_class] = (status, code)


def domain_error_response(exc: Exception) -> tuple[int, str] | None:
    """(status, code) of the most specific registered class of `exc`, else None."""
    for klass in type(exc).__mro__:
        if klass in _DOMAIN_ERRORS:
            return _DOMAIN_ERRORS[klass]
    return None


def _first_message(errors) -> str:
    if isinstance(errors, dict):
        for field, value in errors.items():
            message = _first_message(value)
            if message:
                return (
                    message if field in ("non_field_errors", "__all__") else f"{field}: {message}"
                )
    elif isinstance(errors, list):
        for value in errors:
            message = _first_message(value)
            if message:
                return message
    elif errors:
        return str(errors)
    return ""


def error_body(detail: str, code: str, errors=None) -> dict:
    return {"detail": detail, "code": code, "errors": errors or {}}


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        errors = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        exc = exceptions.ValidationError(errors)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    registered = domain_error_response(exc)
    if registered is not None:
        status_code, code = registered
        errors = getattr(exc, "field_errors", None) or {}
        return Response(error_body(str(exc), code, errors), status=status_code)

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response.data = error_body(
            _first_message(errors) or gettext("Invalid input."), "invalid", errors
        )
        response.status_code = status.HTTP_400_BAD_REQUEST
    else:
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else ""
        code = getattr(getattr(exc, "detail", None), "code", None) or getattr(
            exc, "default_code", "error"
        )
        response.data = error_body(str(detail), str(code))
    return response
