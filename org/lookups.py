"""Query helpers every floor may use."""

from django.db.models import Lookup


class AnyOf(Lookup):
    """`field = ANY(%s)` with the values as one array parameter on PostgreSQL; `IN (...)`
    elsewhere. Use as a filter expression: `.filter(AnyOf(F("code"), values))`.

    A list of several hundred values costs milliseconds of placeholder building and
    quoting as an `IN`; as one array it is a single parameter, and the plan (an index
    scan) is the same.
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
        return f"{lhs} = ANY(%s)", [*lhs_params, list(self.rhs)]
