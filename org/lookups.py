"""Query helpers every floor may use."""

from functools import cached_property

from django.db import connection
from django.db.backends.postgresql.base import ServerBindingCursor
from django.db.models import Lookup


class AnyOf(Lookup):
    """`field = ANY(%s)` with the values as one array parameter on PostgreSQL; `IN (...)`
    elsewhere. Use as a filter expression: `.filter(AnyOf(F("code"), values))`.

    A list of several hundred values costs milliseconds of placeholder building and
    quoting as an `IN`; as one array it is a single parameter, and the plan (an index
    scan) is the same. Strings without commas go as one comma-joined text that
    `string_to_array` splits: cheaper to send than an array, and still one parameter
    (not a lone empty string, which would split into no value at all).
    """

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = list(self.rhs)
        if not values:
            return "1 = 0", []
        placeholders = ", ".join(["%s"] * len(values))
        return f"{lhs} IN ({placeholders})", [*lhs_params, *values]

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = list(self.rhs)
        joined = ",".join(values) if all(type(value) is str for value in values) else None
        if joined and joined.count(",") == len(values) - 1:
            # Strings without a comma go as one text, split in the database: psycopg
            # quotes a list element by element (0.4 ms for 700 codes), a text at once.
            return f"{lhs} = ANY(string_to_array(%s, ','))", [*lhs_params, joined]
        return f"{lhs} = ANY(%s)", [*lhs_params, values]


def prepared_cursor():
    """A cursor for a few long, hot statements (the dispense): on PostgreSQL it binds
    parameters server-side and runs each statement as a prepared statement of the
    session, so the statement is parsed and planned once per connection, not per call.
    Queries through it are logged, counted and have their errors wrapped as through any
    Django cursor. Elsewhere it is the ordinary cursor.

    Django's psycopg cursors bind client-side and never prepare (it leaves psycopg's
    `prepare_threshold` unset, for poolers that multiplex sessions); parsing and planning
    the 2.5 kB dispense statement cost more than running it (0.98 ms a call against 0.43
    ms prepared, bench/README.md). Only this cursor binds server-side, so the threshold
    set here prepares nothing else. Behind a transaction-mode pooler, use one that keeps
    prepared statements per client (PgBouncer 1.21+, `max_prepared_statements`).
    """
    if connection.vendor != "postgresql":
        return connection.cursor()
    connection.ensure_connection()
    session = connection.connection
    if session.prepare_threshold is None:
        session.prepare_threshold = 0  # prepared at first use
    with connection.wrap_database_errors:
        return connection._prepare_cursor(PreparingCursor(session))


class PreparingCursor(ServerBindingCursor):
    """psycopg's server-side binding cursor, as Django makes it, that keeps the statement
    where Django's query log reads it (psycopg leaves `_query` unset when it runs a
    prepared statement)."""

    def _convert_query(self, query, params=None):
        converted = super()._convert_query(query, params)
        self._query = converted
        return converted


class CompiledRead:
    """A hot read built and compiled once per process, run as a prepared statement
    (PostgreSQL), with the same rows the ORM would give on any database.

    `build(**stand_ins)` returns a `values_list` queryset; each stand-in is a value no row
    holds: an int (a pk), or a one-element list of a marker string (for `AnyOf`, which
    sends strings as one comma-joined text, so the statement's text does not depend on
    how many values there are). `rows(**values)` fills the values in where the stand-ins
    were; values the compiled text cannot take (an empty list, a string with a comma),
    and every other database, go through `build(**values)` and the ORM.

    Building and compiling a queryset costs more than running a small indexed query
    (about 2 ms against 0.4 ms on the bench machine): a visit's reads of its site, its
    supplies and its participant are paid on every visit.
    """

    def __init__(self, build, **stand_ins):
        self.build = build
        self.stand_ins = stand_ins

    @cached_property
    def _compiled(self):
        compiler = self.build(**self.stand_ins).query.get_compiler(using=connection.alias)
        sql, params = compiler.as_sql()
        marks = {}
        for name, stand_in in self.stand_ins.items():
            marks[stand_in[0] if isinstance(stand_in, list) else stand_in] = name
        slots = [marks.get(param) if isinstance(param, (int, str)) else None for param in params]
        if sorted(filter(None, slots)) != sorted(self.stand_ins):
            raise ValueError(f"{self.build.__name__}: each stand-in must be one parameter")
        return compiler, sql, tuple(params), tuple(slots)

    def rows(self, **values) -> list[tuple]:
        if connection.vendor != "postgresql" or not all(map(_fits, values.values())):
            return list(self.build(**values))
        compiler, sql, marked, slots = self._compiled
        params = [
            param if slot is None else _sent(values[slot])
            for param, slot in zip(marked, slots, strict=True)
        ]
        with prepared_cursor() as cursor:
            cursor.execute(sql, params)
            fetched = cursor.fetchall()
        # The fields' converters, as the queryset applies them (JSON, decimals…).
        return list(compiler.results_iter(results=[fetched], tuple_expected=True))


def _fits(value) -> bool:
    """A value the compiled text takes: an int, or strings AnyOf sends as one text."""
    if isinstance(value, int):
        return True
    values = list(value)
    return bool(values) and all(isinstance(v, str) and v and "," not in v for v in values)


def _sent(value):
    return value if isinstance(value, int) else ",".join(value)
