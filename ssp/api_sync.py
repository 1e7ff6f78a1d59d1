"""POST /api/v1/sync/: the records a device queued offline, in one request, answered
record by record. Thin: read each record as POST /api/v1/visits/ reads a visit, hand
them to ssp.sync, write the answers."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import APIView

from inventory.models import Item, Location
from org import api_errors
from org.permissions import capability

from .intake_catalog import kits_by_code, sites_with_default_location
from .selectors import visit_list
from .serializers import (
    VisitCreateSerializer,
    VisitSerializer,
    visit_record_arguments,
)
from .sync import (
    SYNC_MAX_RECORDS,
    SyncRecord,
    SyncStatus,
    SyncTooLarge,
    sync_size_check,
    visits_sync,
)
from .visit_extras import visits_described

api_errors.domain_error(SyncTooLarge, status=413, code="too_many_records")

RECORD_KINDS = ["visit"]
# A client UUID is 36 characters; anything longer is not one and is not echoed whole.
ECHO_MAX = 64


# --- The batch's catalog: each site, location, item and kit it names, read once -------


class _FromCatalog:
    """A related field that takes its value from the batch's catalog (serializer context)
    when the catalog holds it, and otherwise looks it up (and words its errors) as usual."""

    kind = ""

    def to_internal_value(self, data):
        catalog = self.context.get("catalog") or {}
        if isinstance(data, str | int) and not isinstance(data, bool):
            found = catalog.get((self.kind, data))
            if found is not None:
                return found
        return super().to_internal_value(data)


def _from_catalog(field, kind: str):
    """The same field (same arguments and messages), reading the batch's catalog first."""
    cls = type(f"Catalog{type(field).__name__}", (_FromCatalog, type(field)), {"kind": kind})
    return cls(*field._args, **field._kwargs)


class SyncVisitBodySerializer(VisitCreateSerializer):
    """A visit as POST /api/v1/visits/ reads it (VisitCreate), names looked up once a batch."""

    site = _from_catalog(VisitCreateSerializer._declared_fields["site"], "site")
    location = _from_catalog(VisitCreateSerializer._declared_fields["location"], "location")


def _catalog(raw: list) -> dict:
    """Four queries for the whole batch instead of one per site, item and kit a record
    names: {(kind, key): row}. Keys are as sent (site and location by id, items and
    kits by code); anything not found here is looked up, and refused, as usual."""
    wanted: dict[str, set] = {"site": set(), "location": set(), "item": set(), "kit": set()}
    for record in raw:
        body = record.get("body") if isinstance(record, dict) else None
        if not isinstance(body, dict):
            continue
        for kind in ("site", "location"):
            if type(body.get(kind)) is int:
                wanted[kind].add(body[kind])
        for line in body.get("supplies") if isinstance(body.get("supplies"), list) else ():
            for kind in ("item", "kit"):
                if isinstance(line, dict) and isinstance(line.get(kind), str):
                    wanted[kind].add(line[kind])
    catalog = {}
    for kind, rows, key in (
        # Each site with its default location, each kit with its components: the records
        # share these objects, so no record reads them again (ssp/intake_catalog.py).
        ("site", sites_with_default_location(), "pk"),
        ("location", Location.objects.all(), "pk"),
        ("item", Item.objects.all(), "code"),
    ):
        # Ids beyond a 64-bit integer are not looked up here (the field refuses them).
        keys = [k for k in wanted[kind] if not isinstance(k, int) or 0 < k < 2**63]
        if keys:
            for row in rows.filter(**{f"{key}__in": keys}):
                catalog[(kind, getattr(row, key))] = row
    if wanted["kit"]:
        for code, kit in kits_by_code(wanted["kit"]).items():
            catalog[("kit", code)] = kit
    return catalog


class SyncRecordSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=RECORD_KINDS,
        help_text="visit (a street shift is a visit with contacts > 1).",
        error_messages={"invalid_choice": "Unknown kind “{input}”: only visits are synced."},
    )
    client_uuid = serializers.UUIDField(help_text="The same as body.client_uuid.")
    body = SyncVisitBodySerializer(help_text="Exactly what POST /api/v1/visits/ accepts.")

    def validate(self, attrs):
        if attrs["body"]["client_uuid"] != attrs["client_uuid"]:
            raise ValidationError(
                {"client_uuid": ["The record's client_uuid differs from its body's."]}
            )
        return attrs


RECORD_DESCRIPTION = (
    "{kind: 'visit', client_uuid, body: what POST /api/v1/visits/ takes}; a record not of "
    "that shape is refused in its own result, not the batch."
)


class SyncRequestSerializer(serializers.Serializer):
    """The request as the schema shows it: records are free objects, because each one is
    read on its own (SyncRecordSerializer) and a bad one is refused in its own result."""

    records = serializers.ListField(
        child=serializers.JSONField(help_text=RECORD_DESCRIPTION),
        # No maxItems here: more than SYNC_MAX_RECORDS is answered 413 (too_many_records).
        help_text=f"In the order they happened; at most {SYNC_MAX_RECORDS} (else 413).",
    )


class SyncResultSerializer(serializers.Serializer):
    client_uuid = serializers.CharField(
        allow_null=True, help_text="The record's client_uuid as sent (null if it sent none)."
    )
    status = serializers.ChoiceField(
        choices=[SyncStatus.CREATED, SyncStatus.DUPLICATE, SyncStatus.REFUSED],
        help_text="created; duplicate (already recorded: nothing changed); refused "
        "(nothing saved; see errors).",
    )
    visit = VisitSerializer(
        allow_null=True, help_text="As GET /api/v1/visits/{uuid}/ returns it; null if refused."
    )
    errors = serializers.DictField(
        allow_null=True,
        child=serializers.JSONField(),
        help_text="Refused: {field: [messages]}, as the API's error body has them.",
    )
    notice = serializers.CharField(
        allow_null=True,
        help_text="Something staff should know though the record was saved, e.g. supplies "
        "the books did not hold (recorded as found at dispense).",
    )


class SyncResponseSerializer(serializers.Serializer):
    results = SyncResultSerializer(many=True, help_text="One per record, in the order sent.")


def _echo(raw) -> str | None:
    value = raw.get("client_uuid") if isinstance(raw, dict) else None
    return value[:ECHO_MAX] if isinstance(value, str) else None


def _flattened(errors: dict) -> dict:
    """The body's field errors at the top, as a refused POST /api/v1/visits/ has them."""
    flat = {key: value for key, value in errors.items() if key != "body"}
    body = errors.get("body")
    if isinstance(body, dict):
        flat.update(body)
    elif body:
        flat["body"] = body
    return flat


def _read(raw, *, reader: SyncRecordSerializer) -> SyncRecord:
    client_uuid = _echo(raw)
    if not isinstance(raw, dict):
        errors = {"non_field_errors": ["Each record is an object: kind, client_uuid, body."]}
        return SyncRecord(client_uuid, errors=errors)
    # One reader for the batch, as a ListSerializer reuses its child: its fields are built
    # once, not once a record; each record is validated, and refused, on its own.
    try:
        validated = reader.run_validation(raw)
    except ValidationError as exc:
        return SyncRecord(client_uuid, errors=_flattened(as_serializer_error(exc)))
    fields = visit_record_arguments(validated["body"])
    # The contact happened and no one is at the desk to ask "new person?": never refuse it
    # for that; a split is merged later.
    fields["confirm_new_person"] = True
    return SyncRecord(client_uuid, fields=fields)


class VisitSyncView(APIView):
    """Apply the visits and street shifts a device queued offline, each in its own
    transaction, and answer per record: created, duplicate (a replay changes nothing)
    or refused with field errors. A refused record does not affect the others."""

    permission_classes = [IsAuthenticated, capability("ssp.log_visit")]

    @extend_schema(
        request=SyncRequestSerializer,
        responses={
            200: SyncResponseSerializer,
            400: OpenApiResponse(description="The body is not {records: [...]}."),
            413: OpenApiResponse(description=f"More than {SYNC_MAX_RECORDS} records."),
        },
        operation_id="sync_create",
    )
    def post(self, request):
        raw = request.data.get("records") if isinstance(request.data, dict) else None
        if not isinstance(raw, list):
            raise ValidationError({"records": ["Send {records: [...]}: a list of records."]})
        sync_size_check(len(raw))
        reader = SyncRecordSerializer(context={"catalog": _catalog(raw)})
        records = [_read(item, reader=reader) for item in raw]
        results = visits_sync(by=request.user, records=records)
        # A visit created now is answered as written, as POST /api/v1/visits/ answers it
        # (no read back); those held already (duplicates) are read with what the answer
        # shows in one query (and their supplies in one more).
        held = [r.visit.pk for r in results if r.visit and r.status != SyncStatus.CREATED]
        read = visit_list(user=request.user, include_void=True).in_bulk(held) if held else {}
        visits = [read.get(r.visit.pk, r.visit) if r.visit else None for r in results]
        # What upper apps made with them (referrals), where not known yet: one query per app.
        visits_described(v for v in visits if v is not None and not hasattr(v, "described"))
        rows = [
            {
                "client_uuid": result.client_uuid,
                "status": result.status,
                "visit": visit,
                "errors": result.errors,
                "notice": result.notice,
            }
            for result, visit in zip(results, visits, strict=True)
        ]
        return Response(SyncResponseSerializer({"results": rows}).data)
