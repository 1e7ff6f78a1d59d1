"""Request parsers of the API: JSON and forms that cannot crash the server.

The standard parsers hand Python whatever the client sent: `1e400` becomes
infinity (an OverflowError further in), 100,000 nested `[` a RecursionError, a
NUL byte a PostgreSQL DataError. These refuse such bodies with the API's error body,
naming the field where there is one, before any serializer sees them.
"""

import codecs
import json
import math
import re

from django.conf import settings
from django.http import QueryDict
from django.utils.translation import gettext, gettext_lazy, gettext_noop
from rest_framework import exceptions, parsers, status
from rest_framework.settings import api_settings

from .validators import (
    DIGITS_MESSAGE,
    PRINTABLE_MESSAGE,
    foreign_digits,
    looks_like_number,
    unprintable,
)

# No request of this API nests deeper than a few levels (a visit's supply lines).
MAX_JSON_DEPTH = 20
# Beyond a signed 64-bit integer no field of this API has a meaning.
MAX_JSON_INTEGER = 2**63 - 1
TOO_LARGE_MESSAGE = gettext_noop("That number is too large.")


class BodyTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = gettext_lazy("The request body is too large.")
    default_code = "too_large"


class _OutOfRange:
    """Stands for a number the client sent that no field can hold."""


OUT_OF_RANGE = _OutOfRange()


def body_limit() -> int | None:
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def too_large_detail() -> str:
    return gettext("The request body is larger than %(limit)s bytes.") % {
        "limit": f"{body_limit():,}"
    }


def _parse_float(text: str):
    number = float(text)
    return number if math.isfinite(number) else OUT_OF_RANGE


def _parse_int(text: str):
    # Checked on the digits first: Python refuses to convert very long ones at all.
    if len(text.lstrip("-")) > 19:
        return OUT_OF_RANGE
    number = int(text)
    return number if abs(number) <= MAX_JSON_INTEGER else OUT_OF_RANGE


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows.")


_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")


def json_depth_exceeded(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    depth = 0
    for match in _BRACKETS.finditer(_STRINGS.sub("", text)):
        depth = depth + 1 if match.group() in "[{" else depth - 1
        if depth > limit:
            return True
    return False


def _value_error(value):
    if value is OUT_OF_RANGE:
        return [gettext(TOO_LARGE_MESSAGE)]
    if isinstance(value, str):
        if unprintable(value):
            return [gettext(PRINTABLE_MESSAGE)]
        if foreign_digits(value) and looks_like_number(value):
            return [gettext(DIGITS_MESSAGE)]
        return None
    if isinstance(value, dict):
        errors = {}
        for key, item in value.items():
            if isinstance(key, str) and unprintable(key):
                errors.setdefault("non_field_errors", []).append(gettext(PRINTABLE_MESSAGE))
                continue
            found = _value_error(item)
            if found:
                errors[key] = found
        return errors or None
    if isinstance(value, list):
        found = [_value_error(item) for item in value]
        return [error or {} for error in found] if any(found) else None
    return None


def check_payload(data) -> None:
    """Raise a ValidationError naming every field that holds unusable input."""
    errors = _value_error(data)
    if errors:
        raise exceptions.ValidationError(
            errors
            if isinstance(errors, dict)
            else {"non_field_errors": [gettext(PRINTABLE_MESSAGE)]}
        )


def parse_json_text(text: str):
    if json_depth_exceeded(text):
        raise exceptions.ParseError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels.")
    try:
        data = json.loads(
            text,
            parse_float=_parse_float,
            parse_int=_parse_int,
            parse_constant=_refuse_constant if api_settings.STRICT_JSON else None,
        )
    except (ValueError, RecursionError) as exc:
        raise exceptions.ParseError(f"JSON parse error - {exc}") from exc
    check_payload(data)
    return data


def _read_limited(stream) -> bytes:
    limit = body_limit()
    if stream is None:
        return b""
    body = stream.read() if limit is None else stream.read(limit + 1)
    if limit is not None and len(body) > limit:
        raise BodyTooLarge(too_large_detail())
    return body


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = parsers.get_encoding(parser_context or {})
        body = _read_limited(stream)
        try:
            text = codecs.decode(body, encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from exc
        return parse_json_text(text)


def _check_form(data: QueryDict) -> None:
    check_payload({key: data.getlist(key) for key in data})


_INTEGER = re.compile(r"[+-]?[0-9]+")


def check_query(query: QueryDict) -> None:
    """Query strings as forms, and integers no database column holds refused: a
    filter by id -10**40 is an OverflowError in the database driver otherwise."""
    _check_form(query)
    errors = {
        key: [gettext(TOO_LARGE_MESSAGE)]
        for key in query
        for value in query.getlist(key)
        if _INTEGER.fullmatch(value.strip()) and abs(int(value.strip()[:25])) > MAX_JSON_INTEGER
    }
    if errors:
        raise exceptions.ValidationError(errors)


class FormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        _check_form(data)
        return data


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        result = super().parse(stream, media_type, parser_context)
        _check_form(result.data)
        return result
