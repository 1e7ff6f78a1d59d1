"""Query helpers every floor may use."""

from functools import cached_property

from django.db import connection
from django.db.backends.postgresql.base import ServerBindingCursor
from django.db.models import Lookup
from django.db.models.query import FlatValuesListIterable


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

    `build(**stand_ins)` returns a `values_list` queryset (flat or not). Each stand-in is a value no
    row holds, of one of these kinds: an int (a pk); a one-element list of an int or of
    a marker string, for `AnyOf` (which sends a list as one parameter, so the statement's
    text does not depend on how many values there are); or a marker string inside a
    parameter (as in the pattern of `code__startswith`), replaced by a value of letters
    and digits only, which needs no escaping. `rows(**values)` fills the values in where
    the stand-ins were; values the compiled text cannot take (an empty list, a string
    with a comma or a sign), and every other database, go through `build(**values)`
    and the ORM.

    Building and compiling a queryset costs more than running a small indexed query
    (about 2 ms against 0.4 ms on the bench machine): a visit's reads of its site, its
    supplies and its participant are paid on every visit.
    """

    def __init__(self, build, **stand_ins):
        self.build = build
        self.stand_ins = stand_ins

    @cached_property
    def _compiled(self):
        queryset = self.build(**self.stand_ins)
        compiler = queryset.query.get_compiler(using=connection.alias)
        sql, params = compiler.as_sql()
        slots = tuple(self._slot(param) for param in params)
        if {slot for slot in slots if slot} != set(self.stand_ins):
            raise ValueError(f"{self.build!r}: a stand-in is not among the parameters")
        flat = queryset._iterable_class is FlatValuesListIterable
        return compiler, sql, tuple(params), slots, flat

    def _slot(self, param) -> str | None:
        """The stand-in a compiled parameter holds, if any."""
        for name, stand_in in self.stand_ins.items():
            if isinstance(stand_in, list):
                # Ints go as an array, strings as one joined text (AnyOf).
                if param == (stand_in if isinstance(stand_in[0], int) else stand_in[0]):
                    return name
            elif isinstance(stand_in, str):
                if isinstance(param, str) and stand_in in param:
                    return name
            elif type(param) is int and param == stand_in:
                return name
        return None

    def rows(self, **values) -> list[tuple]:
        fits = all(_fits(values[name], kind) for name, kind in self.stand_ins.items())
        if connection.vendor != "postgresql" or not fits:
            return list(self.build(**values))
        compiler, sql, marked, slots, flat = self._compiled
        params = [
            param if slot is None else self._sent(param, slot, values[slot])
            for param, slot in zip(marked, slots, strict=True)
        ]
        with prepared_cursor() as cursor:
            cursor.execute(sql, params)
            fetched = cursor.fetchall()
        # The fields' converters, as the queryset applies them (JSON, decimals…).
        rows = compiler.results_iter(results=[fetched], tuple_expected=True)
        return [row[0] for row in rows] if flat else list(rows)

    def _sent(self, param, name, value):
        stand_in = self.stand_ins[name]
        if isinstance(stand_in, str):
            return param.replace(stand_in, value)
        if isinstance(param, list):
            return list(value)
        return ",".join(value) if isinstance(stand_in, list) else value


def _fits(value, stand_in) -> bool:
    """A value the compiled text takes in the place of this stand-in."""
    if isinstance(stand_in, str):
        return isinstance(value, str) and value.isascii() and value.isalnum()
    if not isinstance(stand_in, list):
        return type(value) is int
    values = list(value)
    if not values:
        return False
    if isinstance(stand_in[0], int):
        return all(type(v) is int for v in values)
    return all(isinstance(v, str) and v and "," not in v for v in values)
