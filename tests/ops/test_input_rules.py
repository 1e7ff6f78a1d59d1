"""The small rules of hostile input: plausible birth years, ASCII digits, dates in a
window, one client UUID per visit, bounded receipts, and a schema that says so."""

import uuid

import pytest
from django.core.exceptions import ValidationError
from drf_spectacular.generators import SchemaGenerator

from inventory.models import StockMovement
from inventory.services.receipts import MAX_RECEIPT_LINE_UNITS, MAX_RECEIPT_UNITS
from ssp.codes import CodeError, build_code, validate_code
from ssp.models import Participant, Visit

pytestmark = pytest.mark.django_db

PARTS = {"mother_first_name": "Maria", "own_first_name": "Kofi", "gender": "f"}


def test_a_birth_year_in_the_future_is_not_a_code():
    with pytest.raises(CodeError, match="2099"):
        validate_code("MAKO2099F")
    with pytest.raises(CodeError):
        build_code({**PARTS, "birth_year": "2099"})
    assert validate_code("MAKO1993F") == "MAKO1993F"


@pytest.mark.parametrize("year", ["١٩٩٣", "１９９３"])
def test_digits_of_other_scripts_are_refused_in_codes(year):
    with pytest.raises(CodeError, match="0–9"):
        validate_code(f"MAKO{year}F")
    with pytest.raises(CodeError):
        build_code({**PARTS, "birth_year": year})


def _visit(api_client, site, client_uuid, code):
    body = {"client_uuid": client_uuid, "site": site.pk, "code": code}
    return api_client.post("/api/v1/visits/", body, format="json")


def test_one_client_uuid_with_another_visit_is_a_409(api_client, front_desk_ana, site_a, downtown):
    api_client.force_authenticate(front_desk_ana)
    client_uuid = str(uuid.uuid4())
    assert _visit(api_client, site_a, client_uuid, "MAKO1993F").status_code == 201
    assert _visit(api_client, site_a, client_uuid, "MAKO1993F").status_code == 200
    response = _visit(api_client, site_a, client_uuid, "ELSA1980F")
    assert response.status_code == 409, response.content
    assert response.json()["code"] == "conflict"
    assert "client_uuid" in response.json()["errors"]
    assert Visit.objects.count() == 1


@pytest.mark.parametrize("not_a_boolean", [0, 1, "yes", "true", None])
def test_booleans_are_json_booleans_only(
    api_client, coordinator_cleo, front_desk_ana, site_a, downtown, not_a_boolean
):
    """The schema says boolean; DRF alone would take 0, 1, "yes" (found by schemathesis)."""
    api_client.force_authenticate(coordinator_cleo)
    new_type = {"code": "drop-in", "name": "Drop-in", "group": "care"}
    response = api_client.post(
        "/api/v1/referrals/types/", {**new_type, "is_active": not_a_boolean}, format="json"
    )
    assert response.status_code == 400, response.content
    assert "is_active" in response.json()["errors"]
    api_client.force_authenticate(front_desk_ana)
    body = {"client_uuid": str(uuid.uuid4()), "site": site_a.pk, "anonymous": not_a_boolean}
    response = api_client.post("/api/v1/visits/", body, format="json")
    assert response.status_code == 400, response.content
    assert "anonymous" in response.json()["errors"]
    assert not Visit.objects.exists()


def test_zip3_takes_ascii_digits_only(api_client, front_desk_ana, site_a, downtown):
    api_client.force_authenticate(front_desk_ana)
    body = {"client_uuid": str(uuid.uuid4()), "site": site_a.pk, "code": "MAKO1993F"}
    response = api_client.post("/api/v1/visits/", {**body, "zip3": "١٢٣"}, format="json")
    assert response.status_code == 400
    assert not Visit.objects.exists()


@pytest.mark.parametrize("zip3", ["١٢٣", "１２３", "12３"])
def test_the_participant_model_takes_ascii_zip3_digits_only(zip3, today):
    # The model's validator is the one the Django admin's form runs.
    participant = Participant(code="MAKO1993F", first_seen_on=today, zip3=zip3)
    with pytest.raises(ValidationError) as refused:
        participant.full_clean()
    assert "zip3" in refused.value.message_dict
    participant.zip3 = "123"
    participant.full_clean()


def test_a_referral_dated_0001_01_01_is_refused(api_client, admin_ada, front_desk_ana, site_a):
    api_client.force_authenticate(front_desk_ana)
    _visit(api_client, site_a, str(uuid.uuid4()), "MAKO1993F")
    body = {"code": "MAKO1993F", "site": site_a.pk, "type": "food", "referred_on": "0001-01-01"}
    response = api_client.post("/api/v1/referrals/", body, format="json")
    assert response.status_code == 400
    assert "referred_on" in response.json()["errors"]


def _receipt(api_client, downtown, fund, lines, **extra):
    body = {"location": downtown.pk, "funding_source": fund.pk, "lines": lines, **extra}
    return api_client.post("/api/v1/inventory/receipts/", body, format="json")


def test_a_large_receipt_asks_for_confirmation(
    api_client, manager_sam, downtown, fund, syringe, settings
):
    api_client.force_authenticate(manager_sam)
    lines = [{"item": syringe.pk, "quantity": settings.SSP_LARGE_QUANTITY + 1}]
    response = _receipt(api_client, downtown, fund, lines)
    assert response.status_code == 400
    assert "confirm_large_quantity" in response.json()["errors"]
    assert not StockMovement.objects.exists()
    confirmed = _receipt(api_client, downtown, fund, lines, confirm_large_quantity=True)
    assert confirmed.status_code == 201, confirmed.content


def test_receipts_beyond_the_documented_maximums_are_refused(
    api_client, manager_sam, downtown, fund, syringe
):
    api_client.force_authenticate(manager_sam)
    box = syringe.pack_sizes.get().pk
    over_a_line = [
        {"item": syringe.pk, "quantity": MAX_RECEIPT_LINE_UNITS // 100 + 1, "pack_size": box}
    ]
    # Every line within its bound, the receipt over its own (and over 2,147,483,647).
    per_line = MAX_RECEIPT_LINE_UNITS // 100
    over_the_receipt = [
        {"item": syringe.pk, "quantity": per_line, "pack_size": box}
        for _ in range(MAX_RECEIPT_UNITS // MAX_RECEIPT_LINE_UNITS + 1)
    ]
    for lines, field in ((over_a_line, "lines"), (over_the_receipt, "lines")):
        response = _receipt(api_client, downtown, fund, lines, confirm_large_quantity=True)
        assert response.status_code == 400, response.content
        assert field in response.json()["errors"], response.content
    assert "more than one receipt line may hold" in str(
        _receipt(api_client, downtown, fund, over_a_line, confirm_large_quantity=True).json()
    )
    assert "more than one receipt may hold" in str(
        _receipt(api_client, downtown, fund, over_the_receipt, confirm_large_quantity=True).json()
    )
    assert not StockMovement.objects.exists()


def test_the_schema_says_what_responses_hold():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]
    assert components["StockAlert"]["properties"]["acknowledged_by"]["nullable"]
    assert components["ReportSnapshot"]["properties"]["requested_by"]["nullable"]
    assert components["Visit"]["properties"]["code"]["nullable"]
    for component, field in (("Visit", "naloxone_refill_reason"), ("Participant", "age_band")):
        choices = components[component]["properties"][field]["oneOf"]
        assert {"$ref": "#/components/schemas/BlankEnum"} in choices, (component, field)
    error = {"$ref": "#/components/schemas/ErrorBody"}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            statuses = {"400", "404"} | ({"409", "413"} if method != "get" else set())
            for status in statuses:
                content = operation["responses"][status]["content"]["application/json"]
                assert content["schema"] == error, (method, path, status)
