"""A cheaper end to a transactional test on PostgreSQL: the same empty tables, by DELETE.

After each transactional test (`django_db(transaction=True)`, every browser and Celery
worker test) Django empties every table with one `TRUNCATE` of all of them. PostgreSQL
gives each truncated table and index a new file (about 280 of them here), which cost
about a second a test on the shared 2-core machine; deleting the few rows a test wrote
costs a few milliseconds. The result is the same: every table empty, sequences not
reset (Django's flush does not reset them either), and the post_migrate signal sent
afterwards as before (content types, permissions, the role groups), by Django's own
flush command, which still runs; only the SQL it executes is replaced.

Two cases keep TRUNCATE: tables guarded by a row trigger (the ledger's append-only
triggers refuse DELETE; TRUNCATE fires no row trigger), and a test that wrote more than a
few thousand rows (a seed), where one TRUNCATE is the cheaper way.
"""

from django.db.backends.postgresql.operations import DatabaseOperations

# Above this many rows in all, the original TRUNCATE of every table is used.
DELETE_AT_MOST = 5000

_truncate_all = DatabaseOperations.sql_flush


def _row_counts(connection, tables: list[str]) -> dict[str, int]:
    """Rows per table, each counted up to DELETE_AT_MOST + 1."""
    quote = connection.ops.quote_name
    parts = [
        f"SELECT %s, (SELECT count(*) FROM (SELECT 1 FROM {quote(t)} LIMIT {DELETE_AT_MOST + 1}) s)"
        for t in tables
    ]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), tables)
        return dict(cursor.fetchall())


def _triggered(connection) -> set[str]:
    """Tables with a trigger of their own (not a foreign key's)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE NOT t.tgisinternal AND c.relnamespace = 'public'::regnamespace"
        )
        return {name for (name,) in cursor.fetchall()}


def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
    if not tables or reset_sequences or allow_cascade:
        return _truncate_all(
            self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
        )
    rows = _row_counts(self.connection, tables)
    if sum(rows.values()) > DELETE_AT_MOST:
        return _truncate_all(self, style, tables)
    holding = [t for t in tables if rows[t]]
    if not holding:
        return []
    quote = self.quote_name
    triggered = _triggered(self.connection)
    # Foreign keys are DEFERRABLE INITIALLY DEFERRED (Django's): checked at commit, when
    # every row is gone, so the order of the deletes does not matter.
    sql = ["SET CONSTRAINTS ALL DEFERRED;"]
    guarded = [t for t in holding if t in triggered]
    if guarded:
        # CASCADE: a table referencing one of them is emptied too, as it would be anyway.
        sql.append(f"TRUNCATE {', '.join(quote(t) for t in guarded)} CASCADE;")
    sql += [f"DELETE FROM {quote(t)};" for t in holding if t not in triggered]
    return sql


def install() -> None:
    """Used by the test process only (tests/conftest.py); `manage.py flush` is untouched."""
    DatabaseOperations.sql_flush = sql_flush
