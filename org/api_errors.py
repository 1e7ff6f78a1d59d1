"""One error body for the whole API.

    {"detail": "readable sentence", "code": "machine_code", "errors": {"field": ["message"]}}

Domain errors (plain exceptions raised by services) opt in by carrying an
`api_status` (e.g. 409 for insufficient stock) and optionally `api_code` and
`field_errors`; services never import DRF.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


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


def _body(detail: str, code: str, errors=None) -> dict:
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

    api_status = getattr(exc, "api_status", None)
    if api_status is not None:
        errors = getattr(exc, "field_errors", None) or {}
        return Response(
            _body(str(exc), getattr(exc, "api_code", "domain_error"), errors), status=api_status
        )

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response.data = _body(_first_message(errors) or "Invalid input.", "invalid", errors)
        response.status_code = status.HTTP_400_BAD_REQUEST
    else:
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else ""
        code = getattr(getattr(exc, "detail", None), "code", None) or getattr(
            exc, "default_code", "error"
        )
        response.data = _body(str(detail), str(code))
    return response
