"""Query helpers every floor may use."""

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
