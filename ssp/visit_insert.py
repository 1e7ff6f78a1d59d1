"""Writing a new visit's row and its supply lines, the part of recording a visit that
runs on every visit.

On PostgreSQL both go in one prepared statement (org/lookups.py `prepared_cursor`):
one round trip, parsed and planned once per connection, where the ORM's save and
bulk_create cost two round trips and about 4 ms of building and compiling queries on
the bench machine (bench/README.md). The signals a save sends are sent as a save sends
them, so the audit trail records the new visit as before (django-auditlog's post_save).
Elsewhere (SQLite) the ORM writes them.
"""

from collections.abc import Sequence
from functools import cache

from django.db import connection
from django.db.models.signals import post_save, pre_save

from inventory.services import DispenseLine
from org.lookups import prepared_cursor

from .models import Visit, VisitSupply


def visit_insert(visit: Visit, lines: Sequence[DispenseLine]) -> list[VisitSupply]:
    """Insert `visit` (unsaved) and a supply line per dispense line; return the lines,
    saved. A visit whose uuid is taken raises IntegrityError, writing nothing."""
    if connection.vendor != "postgresql":
        visit.save(force_insert=True)
        return VisitSupply.objects.bulk_create(
            VisitSupply(visit=visit, item=line.item, kit=line.kit, quantity=line.quantity)
            for line in lines
        )
    sql, fields = _insert_statement()
    alias = connection.alias
    pre_save.send(sender=Visit, instance=visit, raw=False, using=alias, update_fields=None)
    params = [field.get_db_prep_save(field.pre_save(visit, True), connection) for field in fields]
    params += [
        [line.item.pk if line.item else None for line in lines],
        [line.kit.pk if line.kit else None for line in lines],
        [line.quantity for line in lines],
    ]
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
        visit.pk, supply_ids = cursor.fetchone()
    visit._state.adding, visit._state.db = False, alias
    post_save.send(
        sender=Visit, instance=visit, created=True, update_fields=None, raw=False, using=alias
    )
    supplies = []
    for pk, line in zip(supply_ids, lines, strict=True):
        supply = VisitSupply(
            pk=pk, visit=visit, item=line.item, kit=line.kit, quantity=line.quantity
        )
        supply._state.adding, supply._state.db = False, alias
        supplies.append(supply)
    return supplies


@cache
def _insert_statement() -> tuple[str, tuple]:
    """The statement's text (built from the models, so a new column is written too)
    and the visit fields whose values it takes, in order."""
    quote = connection.ops.quote_name
    fields = tuple(field for field in Visit._meta.concrete_fields if not field.primary_key)
    columns = ", ".join(quote(field.column) for field in fields)
    values = ", ".join(["%s"] * len(fields))
    supply = {
        name: quote(VisitSupply._meta.get_field(name).column)
        for name in ("visit", "item", "kit", "quantity")
    }
    sql = f"""
WITH visit AS (
    INSERT INTO {quote(Visit._meta.db_table)} ({columns}) VALUES ({values}) RETURNING id
), supplies AS (
    INSERT INTO {quote(VisitSupply._meta.db_table)}
        ({supply["visit"]}, {supply["item"]}, {supply["kit"]}, {supply["quantity"]})
    SELECT visit.id, line.item_id, line.kit_id, line.quantity
      FROM visit,
           unnest(%s::bigint[], %s::bigint[], %s::integer[])
               WITH ORDINALITY AS line (item_id, kit_id, quantity, position)
     ORDER BY line.position
    RETURNING id
)
SELECT (SELECT id FROM visit), ARRAY(SELECT id FROM supplies ORDER BY id)
"""
    return sql, fields
