"""Query parameters are held to the OpenAPI schema: one it does not name, or a value
not of its type (a date that is not YYYY-MM-DD, a boolean other than true/false, a
value outside its choices), is a 400 naming it. A misspelt filter (`?stie=2`) or an
unreadable one (`?is_active=null`) would otherwise be ignored silently and answer with
everything."""

import math
import re
import threading
from datetime import date
from functools import cache

import django_filters
from django import forms
from django.utils.translation import gettext, gettext_noop
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

UNKNOWN_MESSAGE = gettext_noop(
    "This query parameter is not one this address takes (see /api/schema/)."
)
_INTEGER = re.compile(r"-?[0-9]+")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


# The largest id a bigint column holds; a larger one would overflow SQLite's integer.
ID_MAX = 2**63 - 1


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    """A record's id as a filter (`?site=3`): a whole number a database id can be, else a
    400 naming the parameter. NumberFilter alone takes 1e171 and hands it to the
    database."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", ID_MAX)
        super().__init__(*args, **kwargs)


def _is_date(text: str) -> bool:
    try:
        return bool(_DATE.fullmatch(text)) and date.fromisoformat(text) is not None
    except ValueError:
        return False


def _is_number(text: str) -> bool:
    try:
        return text.strip() == text and math.isfinite(float(text))
    except ValueError:
        return False


def value_error(schema: dict, value: str) -> str | None:
    """What is wrong with one query value by its parameter's schema, or None."""
    if schema.get("type") == "array":
        return value_error(schema.get("items", {}), value)
    kind = schema.get("type")
    if "enum" in schema and value not in schema["enum"]:
        choices = ", ".join(str(choice) for choice in schema["enum"])
        return gettext("Choose one of: %(choices)s.") % {"choices": choices}
    if kind == "integer" and not _INTEGER.fullmatch(value):
        return gettext("Enter a whole number.")
    if kind == "number" and not _is_number(value):
        return gettext("Enter a number.")
    if kind == "boolean" and value not in ("true", "false"):
        return gettext("Enter true or false.")
    if kind == "string" and schema.get("format") == "date" and not _is_date(value):
        return gettext("Enter a date as YYYY-MM-DD.")
    if kind == "string" and len(value) < schema.get("minLength", 0):
        return gettext("Enter a value.")
    return None


def _path_regex(path: str) -> re.Pattern:
    parts = re.split(r"\{[^}]+\}", path)
    return re.compile("^" + "[^/]+".join(re.escape(part) for part in parts) + "$")


# drf-spectacular's generator is not safe to run in several threads at once (it probes
# optional integrations by import): the first requests of a threaded server wait here.
_table_lock = threading.Lock()


def query_parameters_table() -> list[tuple[re.Pattern, dict[str, dict[str, dict]]]]:
    """Each path of the schema with the query parameters of each of its methods; built
    once per process from the same generator as /api/schema/."""
    with _table_lock:
        return _query_parameters_table()


@cache
def _query_parameters_table() -> list[tuple[re.Pattern, dict[str, dict[str, dict]]]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    found = []
    for path, operations in schema["paths"].items():
        shared = _query_schemas(operations)
        methods = {
            method: {**shared, **_query_schemas(operation)}
            for method, operation in operations.items()
            if isinstance(operation, dict) and method != "parameters"
        }
        found.append((path.count("{"), _path_regex(path), methods))
    # Fixed paths first: /participants/lookup/ before /participants/{code}/.
    found.sort(key=lambda entry: entry[0])
    return [(regex, methods) for _, regex, methods in found]


def _query_schemas(operation: dict) -> dict[str, dict]:
    return {
        p["name"]: p.get("schema", {})
        for p in operation.get("parameters", [])
        if p["in"] == "query"
    }


def query_errors(path: str, method: str, query) -> dict[str, list[str]]:
    """Field messages for the query parameters (a QueryDict) that the schema's operation
    for `path` and `method` does not take or whose values are not of their type; {}
    when the schema has no such operation (the view answers 404 or 405)."""
    for regex, methods in query_parameters_table():
        if regex.match(path):
            taken = methods.get(method.lower())
            if taken is None:
                return {}
            errors = {}
            for name in query:
                if name not in taken:
                    errors[name] = [gettext(UNKNOWN_MESSAGE)]
                    continue
                found = {value_error(taken[name], value) for value in query.getlist(name)}
                found.discard(None)
                if found:
                    errors[name] = sorted(found)
            return errors
    return {}
