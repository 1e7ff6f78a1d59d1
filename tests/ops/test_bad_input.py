"""Hostile input over every write endpoint of the API: NUL and control characters,
direction overrides, lone surrogates, 1e400, integer overflow, digits of other
scripts, dates at the edges, deeply nested and oversized bodies.

Each call starts from the valid call of tests/ops/api_calls.py (made by the admin, so
only the input can be refused) and spoils one value of it at a time, or the whole body.
The promise: never a 5xx, always refused with the API's error body, and not one row
written to any table (PostgreSQL's own statistics, see tests/support/world.py).
"""

import json

import pytest
from django.conf import settings
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from ..support.world import rows_written, tables_changed
from .api_calls import schema_operations, write_for

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

WRITES = [op for op in schema_operations() if not op.startswith("GET ")]

# Sent as raw JSON text: Python's json would write Infinity, which is not JSON.
INFINITE = "__1e400__"
TEXT_ATTACKS = [
    "\x00",
    "food\x00",
    "bell\x07ring",
    "esc\x1b[31m",
    "\x7f",
    "\x85next-line",
    "\u202eevil\u202c",
    "\u2066isolate",
    "\ud800",  # a lone surrogate: PostgreSQL cannot encode it
    "٣",
    "３",
    "١٢٣",
]
INTEGER_ATTACKS = [INFINITE, 2**31, -(2**31) - 1, 2**63, 10**30, -(10**30), "٣", "１０"]
DATE_ATTACKS = ["0001-01-01", "9999-12-31", "1899-12-31"]
DATETIME_ATTACKS = [
    "0001-01-01T00:00:00Z",
    "0001-01-01T00:00:00+05:00",
    "9999-12-31T23:59:59-05:00",
    "1999-12-31T12:00:00Z",
]
SCHEMA = SchemaGenerator().get_schema(request=None, public=True)


def _request_schema(op: str) -> dict:
    method, path = op.split(" ", 1)
    body = SCHEMA["paths"][path][method.lower()].get("requestBody")
    if not body:
        return {}
    return _resolve(body["content"]["application/json"]["schema"])


def _resolve(schema: dict) -> dict:
    if "$ref" in schema:
        return _resolve(SCHEMA["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]])
    if "allOf" in schema and len(schema["allOf"]) == 1:
        return _resolve(schema["allOf"][0])
    return schema


def _kind(prop: dict) -> str:
    prop = _resolve(prop)
    if prop.get("format") in ("date", "date-time"):
        return prop["format"]
    return prop.get("type", "string")


def _leaves(body, schema, path=()):
    """(path, kind) of every value the valid body holds, plus each property the schema
    allows that the body leaves out (so optional fields are attacked too)."""
    schema = _resolve(schema or {})
    if isinstance(body, dict):
        props = schema.get("properties", {})
        for key in sorted(set(body) | set(props)):
            prop = _resolve(props.get(key, {}))
            if key in body:
                yield from _leaves(body[key], prop, (*path, key))
            elif _kind(prop) in ("string", "integer", "number", "date", "date-time"):
                yield (*path, key), _kind(prop)
    elif isinstance(body, list):
        items = schema.get("items", {})
        for index, value in enumerate(body):
            yield from _leaves(value, items, (*path, index))
    else:
        kind = _kind(schema) if schema else ("integer" if isinstance(body, int) else "string")
        yield path, kind


def _attacks(kind: str):
    yield INFINITE
    yield from TEXT_ATTACKS if kind not in ("integer", "number") else ()
    yield from INTEGER_ATTACKS if kind in ("integer", "number") else ()
    yield from DATE_ATTACKS if kind == "date" else ()
    yield from DATETIME_ATTACKS if kind == "date-time" else ()


def _spoiled(body, path, value):
    if not path:
        return value
    head, *rest = path
    if isinstance(body, list):
        return [_spoiled(v, rest, value) if i == head else v for i, v in enumerate(body)]
    out = dict(body)
    out[head] = _spoiled(body.get(head, {}), rest, value) if rest else value
    return out


def _text(body) -> str:
    return json.dumps(body, default=str).replace(f'"{INFINITE}"', "1e400")


def _body_attacks() -> list[tuple[str, str]]:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return [
        ("100,000 nested [", "[" * 100_000),
        ("100,000 nested {", '{"a":' * 100_000),
        ("deep but closed", "[" * 50 + "]" * 50),
        ("NUL in a key", '{"\\u0000": 1}'),
        ("bare 1e400", "1e400"),
        ("NaN", '{"quantity": NaN}'),
        ("a 5,000-digit integer", '{"quantity": ' + "9" * 5000 + "}"),
        ("not UTF-8", b'{"reason": "\xff\xfe"}'.decode("latin-1")),
        ("over the size limit", '{"notes": "' + "x" * (limit + 1) + '"}'),
    ]


@pytest.fixture
def admin_api(module_world):
    client = APIClient()
    client.force_authenticate(module_world.people.admin)
    return client


def _send(client, op, call, text, *, content_type="application/json"):
    method, template = op.split(" ", 1)
    path = template.format(**call.path)
    data = text.encode("latin-1") if text.startswith('{"reason": "\xff') else text
    return client.generic(method, path, data=data, content_type=content_type)


# A batch answers 200 with each record's fate: a spoiled record is refused in the answer.
PER_RECORD = {"POST /api/v1/sync/"}


def _refused_and_nothing_written(client, op, call, text, what):
    before = rows_written()
    response = _send(client, op, call, text)
    changed = tables_changed(before, rows_written())
    assert response.status_code < 500, (op, what, response.status_code)
    if op in PER_RECORD and response.status_code == 200:
        results = response.json()["results"]
        assert results and all(r["status"] == "refused" and r["errors"] for r in results), (
            op,
            what,
            results,
        )
        assert not changed, (op, what, changed)
        return response
    assert 400 <= response.status_code < 500, (
        op,
        what,
        response.status_code,
        response.content[:300],
    )
    body = response.json()
    assert set(body) == {"detail", "code", "errors"}, (op, what, body)
    assert not changed, (op, what, changed)
    return response


def test_every_write_operation_of_the_schema_is_covered():
    # The valid call of each comes from api_calls.write_for, which fails on a new one.
    assert len(WRITES) >= 20, WRITES


@pytest.mark.parametrize("op", WRITES)
def test_spoiled_values_are_refused_and_write_nothing(op, module_world, admin_api):
    w = module_world
    call = write_for(op, w, w.A, w.people.admin)
    body = call.data or {}
    schema = _request_schema(op)
    tried = 0
    for path, kind in _leaves(body, schema):
        for value in _attacks(kind):
            text = _text(_spoiled(body, path, value))
            _refused_and_nothing_written(admin_api, op, call, text, (path, value))
            tried += 1
    assert tried >= 10 or not schema, (op, tried)


@pytest.mark.parametrize("op", WRITES)
def test_spoiled_bodies_are_refused_and_write_nothing(op, module_world, admin_api):
    w = module_world
    call = write_for(op, w, w.A, w.people.admin)
    for what, text in _body_attacks():
        response = _refused_and_nothing_written(admin_api, op, call, text, what)
        if what == "over the size limit":
            assert response.status_code == 413, (op, response.status_code)
        else:
            assert response.status_code == 400, (op, what, response.status_code)


@pytest.mark.parametrize("op", [op for op in WRITES if "{" in op])
def test_out_of_range_ids_in_the_path_are_a_404(op, module_world, admin_api):
    w = module_world
    call = write_for(op, w, w.A, w.people.admin)
    for key in call.path:
        for bad in ("99999999999999999999999", "2147483648", "-1"):
            spoiled = type(call)({**call.path, key: bad}, call.data)
            before = rows_written()
            response = _send(admin_api, op, spoiled, _text(call.data or {}))
            assert response.status_code in (400, 404), (op, bad, response.status_code)
            assert not tables_changed(before, rows_written()), (op, bad)


@pytest.mark.parametrize("op", WRITES)
def test_the_unspoiled_call_is_accepted(op, module_world, admin_api):
    # The control: each refusal above comes from the spoiled value, not from the call.
    w = module_world
    call = write_for(op, w, w.A, w.people.admin)
    response = _send(admin_api, op, call, _text(call.data or {}))
    assert 200 <= response.status_code < 300, (op, response.status_code, response.content[:300])


@pytest.mark.parametrize(
    "query", ["funding_source=-1329362643084893342547571809064058880", "code=MA%00KO", "code=%1B"]
)
def test_query_strings_that_no_column_can_hold_are_a_400(query, module_world, admin_api):
    for op in schema_operations():
        if op.startswith("GET ") and "{" not in op:
            response = admin_api.get(f"{op.split(' ', 1)[1]}?{query}")
            assert response.status_code == 400, (op, query, response.status_code)
            assert set(response.json()) == {"detail", "code", "errors"}, op
