"""The hand-written reference for POST /api/v1/visits/: bench only, never in the app.

`gunicorn bench.reference_wsgi` serves the project (config.wsgi) and, at
POST /bench/reference-visit/, the least a visit with supplies needs: the token checked,
then in one statement in one transaction the visit row, its supply lines, each item's
balance taken down (one lot with enough units, earliest expiry first) and a ledger row
per balance. No validation, no audit, no outbox, no alert check: it is the floor the
project's visit is measured against, not a second implementation of it.
"""

import json

from django.db import connection, transaction

from config.wsgi import application as project

PATH = "/bench/reference-visit/"

VISIT_SQL = """
WITH who AS (SELECT user_id FROM authtoken_token WHERE key = %(token)s),
lines AS (
    SELECT * FROM jsonb_to_recordset(%(lines)s::jsonb) AS l(item text, kit text, quantity int)
),
place AS (
    SELECT id FROM inventory_location WHERE site_id = %(site)s AND is_active ORDER BY id LIMIT 1
),
visit AS (
    INSERT INTO ssp_visit (uuid, site_id, location_id, occurred_at, recorded_at, recorded_by_id,
                           participant_id, service_model, contacts, syringes_collected,
                           collection_method, secondary_people, naloxone_refill_reason,
                           overdose_reversals, notes, updated_at, void_reason)
    SELECT %(uuid)s, %(site)s, place.id, now(), now(), who.user_id,
           (SELECT id FROM ssp_participant WHERE code = %(code)s), 'fixed', 1,
           %(collected)s, 'counted', 0, '', 0, '', now(), ''
    FROM who, place
    RETURNING id, location_id, recorded_by_id, uuid
),
supplies AS (
    INSERT INTO ssp_visitsupply (visit_id, item_id, kit_id, quantity)
    SELECT visit.id, item.id, kit.id, lines.quantity
    FROM visit CROSS JOIN lines
    LEFT JOIN inventory_item item ON item.code = lines.item
    LEFT JOIN inventory_kit kit ON kit.code = lines.kit
    RETURNING 1
),
demand AS (
    SELECT item_id, sum(units) AS units FROM (
        SELECT item.id AS item_id, lines.quantity AS units
        FROM lines JOIN inventory_item item ON item.code = lines.item
        UNION ALL
        SELECT part.item_id, part.quantity * lines.quantity
        FROM lines JOIN inventory_kit kit ON kit.code = lines.kit
        JOIN inventory_kitcomponent part ON part.kit_id = kit.id
    ) wanted GROUP BY item_id
),
pick AS (
    SELECT DISTINCT ON (balance.item_id) balance.id, balance.lot_id, balance.item_id, demand.units
    FROM demand
    JOIN inventory_stockbalance balance ON balance.item_id = demand.item_id
    JOIN inventory_lot lot ON lot.id = balance.lot_id
    WHERE balance.location_id = (SELECT location_id FROM visit)
      AND balance.quantity >= demand.units
    ORDER BY balance.item_id, lot.expires_on NULLS LAST, balance.id
),
taken AS (
    UPDATE inventory_stockbalance balance SET quantity = balance.quantity - pick.units
    FROM pick WHERE balance.id = pick.id AND balance.quantity >= pick.units
    RETURNING balance.location_id, balance.lot_id, balance.item_id, pick.units
),
ledger AS (
    INSERT INTO inventory_stockmovement (kind, item_id, lot_id, location_id, quantity, reason,
                                         reference, occurred_at, recorded_at, recorded_by_id)
    SELECT 'dispense', taken.item_id, taken.lot_id, taken.location_id, -taken.units, '',
           'visit:' || visit.uuid, now(), now(), visit.recorded_by_id
    FROM taken CROSS JOIN visit
    RETURNING 1
)
SELECT (SELECT count(*) FROM visit), (SELECT count(*) FROM supplies),
       (SELECT count(*) FROM ledger), (SELECT count(*) FROM demand)
"""


def _answer(start_response, status: str, body: dict):
    data = json.dumps(body).encode()
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    )
    return [data]


def reference_visit(environ, start_response):
    size = int(environ.get("CONTENT_LENGTH") or 0)
    body = json.loads(environ["wsgi.input"].read(size) or b"{}")
    token = environ.get("HTTP_AUTHORIZATION", "").removeprefix("Token ").strip()
    parameters = {
        "token": token,
        "uuid": body["client_uuid"],
        "site": body["site"],
        "code": body.get("code", ""),
        "collected": body.get("syringes_collected", 0),
        "lines": json.dumps(body.get("supplies", [])),
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(VISIT_SQL, parameters)
        visits, supplies, moved, wanted = cursor.fetchone()
        if not visits:
            return _answer(start_response, "401 Unauthorized", {"detail": "Invalid token."})
        if moved != wanted:
            transaction.set_rollback(True)
            return _answer(start_response, "409 Conflict", {"detail": "Not enough stock."})
    return _answer(start_response, "201 Created", {"uuid": body["client_uuid"], "lines": supplies})


def application(environ, start_response):
    if environ.get("PATH_INFO") == PATH and environ.get("REQUEST_METHOD") == "POST":
        return reference_visit(environ, start_response)
    return project(environ, start_response)
