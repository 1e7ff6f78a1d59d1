"""Hostile input: schemathesis drives every API operation from the OpenAPI schema, with
all its checks, as every role (front desk, manager, coordinator, admin) and anonymous.

Per operation and role: the examples and coverage phases (schema examples, boundary
values, and negative cases such as wrong types and unknown query parameters), then
SSP_FUZZ_EXAMPLES generated cases, derandomized, without shrinking: 5 in `make test`
(the suite's time budget), 50 in `make fuzz`.
Promises: no server error, every response matches the schema (status, content type,
headers, body), invalid input is refused, and malformed or oversized bodies get 4xx.

Two documented false positives (docs/operations.md, "API fuzzing"). `positive_data_acceptance`
also accepts 400. A request the schema allows can still name a record that does not
exist (`"location": 0`) or break a rule a schema cannot state (stock on hand, what a
funding source may buy, personal details in a note, a date within the last week); the
API then answers 400 with field messages, which `response_schema_conformance` checks
against the documented error body.
"""

import os

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, settings
from rest_framework.authtoken.models import Token
from schemathesis.config import SchemathesisConfig

from org import roles

from ..factories import SiteFactory, make_staff
from ..support.module_data import module_transaction

EXAMPLES = int(os.environ.get("SSP_FUZZ_EXAMPLES", "5"))
# What positive_data_acceptance accepts: its defaults, plus 400 (see the docstring).
ACCEPTED = ["2xx", "400", "401", "403", "404", "409", "429"]


def _json_bodies_only(raw: dict) -> dict:
    """The schema with JSON request bodies only (second documented false positive): a
    form-encoded body carries no types, so DRF reads a multipart `is_active=0` as false
    and an empty field as one not sent, as it must for HTML forms, where
    negative_data_rejection expects a 400. Form bodies still meet org/parsers.py's checks."""
    for operations in raw["paths"].values():
        for operation in operations.values():
            content = (
                operation.get("requestBody", {}).get("content")
                if isinstance(operation, dict)
                else None
            )
            if content and "application/json" in content:
                for media_type in [m for m in content if m != "application/json"]:
                    del content[media_type]
    return raw


schema = schemathesis.openapi.from_dict(
    _json_bodies_only(SchemaGenerator().get_schema(request=None, public=True)),
    config=SchemathesisConfig.from_dict(
        {"checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED}}}
    ),
)
schema.app = get_wsgi_application()

# Each role with the sites it works at (program-wide roles have none); None: no login.
ROLES = {
    "front_desk": roles.FRONT_DESK,
    "manager": roles.MANAGER,
    "coordinator": roles.COORDINATOR,
    "admin": roles.ADMIN,
    "anonymous": None,
}


@pytest.fixture
def keep_test_connection():
    """Like Django's test client: the app must not close the test transaction's connection."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture(scope="module")
def auth_headers(request, django_db_setup, django_db_blocker):
    """The role's account and token (and site A), made once for all the role's cases, in a
    transaction rolled back when they are done: each case's own transaction nests in it
    as a savepoint, so every case starts from the same rows, as before from a fresh set."""
    role = ROLES[request.param]
    with module_transaction(django_db_blocker):
        site_a = SiteFactory(name="Downtown drop-in", code="DTWN")  # conftest's site_a
        headers = {}
        if role is not None:
            sites = [site_a] if role in (roles.FRONT_DESK, roles.MANAGER) else []
            user = make_staff(f"fuzz-{request.param}", role, sites)
            headers = {"Authorization": f"Token {Token.objects.create(user=user).key}"}
        yield headers


@pytest.mark.django_db
@pytest.mark.usefixtures("keep_test_connection")
@pytest.mark.parametrize("auth_headers", list(ROLES), indirect=True)
@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    # No shrinking: a failure is reported as found, which keeps the run inside its budget.
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_api_never_errors_and_always_matches_its_schema(case, auth_headers):
    case.call_and_validate(headers=auth_headers)


@pytest.mark.django_db
def test_malformed_json_is_a_400(client, admin_ada):
    # An admin may post everywhere, so a refusal can only come from the parser.
    client.force_login(admin_ada)
    for path in _post_paths():
        response = client.post(path, data="{not json", content_type="application/json")
        assert response.status_code == 400, (path, response.status_code)
        assert set(response.json()) == {"detail", "code", "errors"}, path


@pytest.mark.django_db
def test_oversized_body_is_refused(client, admin_ada, settings):
    client.force_login(admin_ada)
    body = '{"padding": "' + "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10) + '"}'
    for path in _post_paths():
        response = client.post(path, data=body, content_type="application/json")
        assert 400 <= response.status_code < 500, (path, response.status_code)


@pytest.mark.django_db
def test_an_unknown_query_parameter_is_a_400_naming_it(client, front_desk_ana):
    client.force_login(front_desk_ana)
    response = client.get("/api/v1/visits/", {"stie": "2", "page": "1"})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["stie"]
    assert client.get("/api/v1/visits/", {"site": "2", "page": "1"}).status_code == 200
    # A value not of its parameter's type is refused too, rather than ignored.
    for name, value in (("occurred_to", "2020-13-01"), ("include_void", "null"), ("page", "x")):
        refused = client.get("/api/v1/visits/", {name: value})
        assert refused.status_code == 400, (name, value)
        assert list(refused.json()["errors"]) == [name]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path,name",
    [
        ("/api/v1/visits/", "site"),
        ("/api/v1/events/", "site"),
        ("/api/v1/inventory/balances/", "funding_source"),
        ("/api/v1/inventory/movements/", "funding_source"),
    ],
)
def test_a_record_id_filter_takes_only_an_id_a_database_can_hold(client, admin_ada, path, name):
    # Found by the fuzzer on SQLite: ?site=-3.3e171 reached the database and overflowed.
    client.force_login(admin_ada)
    for value in ("-3.34526535477905e+171", "1.5", "0", str(2**63), "99999999999999999999"):
        refused = client.get(path, {name: value})
        assert refused.status_code == 400, (path, value, refused.status_code)
        assert list(refused.json()["errors"]) == [name], (path, value)
    assert client.get(path, {name: "2"}).status_code == 200


def _post_paths() -> list[str]:
    paths = [
        path
        for path, operations in schema.raw_schema["paths"].items()
        if "post" in operations and "{" not in path
    ]
    assert len(paths) >= 8, paths  # visits, stock operations, referrals, reports...
    return paths
