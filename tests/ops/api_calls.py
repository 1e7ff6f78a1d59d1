"""The API call made for each operation at one site's records, shared by the access
matrix (who may make it) and the audit coverage (who is recorded as having made it)."""

import uuid
from dataclasses import dataclass, field

from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework.authtoken.models import Token

from ..support.world import report_period


@dataclass
class Call:
    path: dict = field(default_factory=dict)  # path parameters
    data: dict | None = None  # JSON body (writes) or query string (reads)
    # For LIST operations: is this site's record in the answer?
    shows: object = None


def ids(body) -> set:
    rows = body["results"] if isinstance(body, dict) and "results" in body else body
    return {row.get("id", row.get("uuid")) for row in rows}


def listed(record_id):
    return lambda body: record_id in ids(body)


def write_for(op: str, w, s, caller=None) -> Call:
    """The call of `op` aimed at site records `s` (w: the whole world), made by `caller`
    (None: anonymous)."""
    lines = [{"item": w.syringe.pk, "quantity": 1}]
    match op:
        case "POST /api/v1/visits/":
            return Call(data={"client_uuid": str(uuid.uuid4()), "site": s.site.pk, "code": s.code})
        case "PATCH /api/v1/visits/{uuid}/":
            return Call({"uuid": s.visit.uuid}, {"syringes_collected": 10})
        case "POST /api/v1/visits/{uuid}/void/":
            return Call({"uuid": s.visit.uuid}, {"reason": "twice"})
        case "POST /api/v1/sync/":
            body = {"client_uuid": str(uuid.uuid4()), "site": s.site.pk, "code": s.code}
            record = {"kind": "visit", "client_uuid": body["client_uuid"], "body": body}
            return Call(data={"records": [record]})
        case "POST /api/v1/participants/build-code/":
            parts = {"mother_first_name": "Rosa", "own_first_name": "Lee", "birth_year": "1988"}
            return Call(data={"parts": {**parts, "gender": "f"}})
        case "POST /api/v1/participants/merge/":
            return Call(data={"merged": s.spare_code, "kept": s.code, "reason": "typo"})
        case "POST /api/v1/surveys/":
            body = {"name": "Quarterly", "questions": ["housing"], "period": "quarter"}
            return Call(data={**body, "active_from": "2026-01-01"})
        case "PUT /api/v1/surveys/{id}/":
            body = {"name": "Monthly check-in", "questions": ["housing"], "period": "month"}
            return Call({"id": w.survey.pk}, {**body, "active_from": str(w.survey.active_from)})
        case "PATCH /api/v1/surveys/{id}/":
            return Call({"id": w.survey.pk}, {"name": "Check-in (renamed)"})
        case "POST /api/v1/survey-offers/":
            body = {"visit": str(s.extra["spare_visit"].uuid), "survey": w.survey.pk}
            return Call(data={**body, "outcome": "declined"})
        case "POST /api/v1/survey-offers/{uuid}/answers/":
            answers = {"answers": {"housing": "shelter"}}
            return Call({"uuid": s.extra["survey_offer"].uuid}, answers)
        case "POST /api/v1/referrals/":
            return Call(data={"code": s.code, "site": s.site.pk, "type": "food"})
        case "POST /api/v1/referrals/{id}/status-changes/":
            return Call({"id": s.referral.pk}, {"to_status": "declined"})
        case "POST /api/v1/referrals/types/":
            return Call(
                data={"code": "naloxone-training", "name": "Naloxone training", "group": "care"}
            )
        case "PUT /api/v1/referrals/types/{id}/":
            body = {"code": "food", "name": "Food and meals", "group": "social"}
            return Call({"id": w.referral_type.pk}, body)
        case "PATCH /api/v1/referrals/types/{id}/":
            return Call({"id": w.referral_type.pk}, {"sort_order": 7})
        case "POST /api/v1/referrals/partners/":
            return Call(data={"name": "Northside pantry", "types": ["food"]})
        case "PUT /api/v1/referrals/partners/{id}/":
            return Call({"id": w.partner.pk}, {"name": "Food bank (north)", "types": ["food"]})
        case "PATCH /api/v1/referrals/partners/{id}/":
            return Call({"id": w.partner.pk}, {"hours": "Mon–Sat 9–17"})
        case "POST /api/v1/events/":
            body = {"kind": "needle_stick", "site": s.site.pk, "person_stuck": "staff"}
            return Call(data={**body, "occurred_on": f"{timezone.localdate():%Y-%m-%d}"})
        case "PATCH /api/v1/events/{uuid}/":
            return Call({"uuid": s.event.uuid}, {"syringes_collected": 31})
        case "POST /api/v1/events/{uuid}/void/":
            return Call({"uuid": s.event.uuid}, {"reason": "twice"})
        case "POST /api/v1/inventory/receipts/":
            body = {"location": s.storeroom.pk, "funding_source": w.fund.pk}
            return Call(data={**body, "lines": [{"item": w.syringe.pk, "quantity": 10}]})
        case "POST /api/v1/inventory/transfers/":
            body = {"from_location": s.storeroom.pk, "to_location": w.central.pk}
            return Call(data={**body, "lines": lines})
        case "POST /api/v1/inventory/adjustments/":
            body = {"location": s.storeroom.pk, "lot": s.balance.lot_id, "quantity": -1}
            return Call(data={**body, "reason": "damaged"})
        case "POST /api/v1/inventory/counts/record/":
            counted = [{"item": w.syringe.pk, "counted": 190, "reason": "correction"}]
            return Call(data={"location": s.storeroom.pk, "lines": counted})
        case "POST /api/v1/inventory/dispenses/":
            body = {"location": s.storeroom.pk, "reference": "event:matrix"}
            return Call(data={**body, "lines": lines})
        case "POST /api/v1/inventory/reversals/":
            return Call(data={"reference": s.dispense_reference})
        case "POST /api/v1/inventory/alerts/{id}/acknowledge/":
            return Call({"id": s.alert.pk})
        case "POST /api/v1/reports/":
            period = f"{report_period().start:%Y-%m}"
            return Call(data={"template": "state_ssp", "period": period, "site_ids": [s.site.pk]})
        case "POST /api/v1/reports/{id}/regenerate/":
            return Call({"id": s.snapshot.pk})
        case "POST /api/v1/tokens/":
            return Call()
        case "PATCH /api/v1/account/":
            return Call(data={"language": "es"})
        case "DELETE /api/v1/tokens/{id}/":
            # Each person revokes their own token (another's answers 404: see
            # tests/org/test_tokens.py), so the caller has one to revoke.
            if caller is not None:
                Token.objects.get_or_create(user=caller)
            return Call({"id": caller.pk if caller is not None else 0})
    raise LookupError(op)


def schema_operations() -> list[str]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return sorted(
        f"{method.upper()} {path}"
        for path, operations in schema["paths"].items()
        for method in operations
        if method in ("get", "post", "put", "patch", "delete")
    )


def request(client, op: str, call: Call):
    method, template = op.split(" ", 1)
    path = template.format(**call.path)
    if method == "GET":
        return client.get(path, call.data or {})
    return getattr(client, method.lower())(path, call.data, format="json")
