"""Query parameters the OpenAPI schema does not name are refused with a 400, as the
schema says (every operation lists its parameters): a misspelt filter (`?stie=2`)
would otherwise be ignored silently and answer with everything."""

import re
from functools import cache

from drf_spectacular.generators import SchemaGenerator

UNKNOWN_MESSAGE = "This query parameter is not one this address takes (see /api/schema/)."


def _path_regex(path: str) -> re.Pattern:
    parts = re.split(r"\{[^}]+\}", path)
    return re.compile("^" + "[^/]+".join(re.escape(part) for part in parts) + "$")


@cache
def query_parameters_table() -> list[tuple[re.Pattern, dict[str, frozenset[str]]]]:
    """Each path of the schema with the query parameters of each of its methods; built
    once per process from the same generator as /api/schema/."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    found = []
    for path, operations in schema["paths"].items():
        shared = {p["name"] for p in operations.get("parameters", []) if p["in"] == "query"}
        methods = {
            method: frozenset(
                shared | {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
            )
            for method, operation in operations.items()
            if isinstance(operation, dict) and method != "parameters"
        }
        found.append((path.count("{"), _path_regex(path), methods))
    # Fixed paths first: /participants/lookup/ before /participants/{code}/.
    found.sort(key=lambda entry: entry[0])
    return [(regex, methods) for _, regex, methods in found]


def unknown_query_parameters(path: str, method: str, names) -> list[str]:
    """The names in `names` that the schema's operation for `path` and `method` does
    not take; [] when the schema has no such operation (the view answers 404 or 405)."""
    for regex, methods in query_parameters_table():
        if regex.match(path):
            allowed = methods.get(method.lower())
            return [] if allowed is None else sorted(set(names) - allowed)
    return []
