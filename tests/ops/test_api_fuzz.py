"""Hostile input: schemathesis drives every API operation from the OpenAPI schema.

Bounded budget (SSP_FUZZ_EXAMPLES, default 15 per operation). Promises: no server
error, every response matches the schema, and malformed or oversized bodies get 4xx.
"""

import os

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import CHECKS, load_all_checks

from org import roles

from ..factories import make_staff

EXAMPLES = int(os.environ.get("SSP_FUZZ_EXAMPLES", "15"))

schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
wsgi_app = get_wsgi_application()
load_all_checks()
# No 5xx, and every response body matches what the schema promises.
CHECKED = CHECKS.get_by_names(["not_a_server_error", "response_schema_conformance"])


@pytest.fixture
def keep_test_connection():
    """Like Django's test client: the app must not close the test transaction's connection."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def admin_token(db, site_a, keep_test_connection):
    user = make_staff("fuzz-admin", roles.ADMIN, [site_a])
    return Token.objects.create(user=user).key


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_never_errors_and_always_matches_its_schema(case, admin_token):
    case.call_and_validate(
        app=wsgi_app,
        headers={"Authorization": f"Token {admin_token}"},
        checks=CHECKED,
    )


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


def _post_paths() -> list[str]:
    paths = [
        path
        for path, operations in schema.raw_schema["paths"].items()
        if "post" in operations and "{" not in path
    ]
    assert len(paths) >= 8, paths  # visits, stock operations, referrals, reports...
    return paths
