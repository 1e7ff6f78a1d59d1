"""Rows made once for a whole test module, rolled back when the module is done."""

import contextlib

from django.db import connection, transaction


@contextlib.contextmanager
def module_transaction(django_db_blocker):
    """A transaction held open over a module's tests and rolled back at its end. Each
    test's own transaction (pytest-django's `db`) nests in it as a savepoint, as with
    Django's TestCase.setUpTestData, so every test starts from the rows made inside it."""
    atomic = transaction.atomic()
    # Marked as Django marks TestCase's own atomics, so durable services may run inside.
    atomic._from_testcase = True
    with django_db_blocker.unblock(), atomic:
        # Only ever the test database: a module without the django_db mark would get the real one.
        assert _is_test_database(), "mark the module django_db"
        yield
        transaction.set_rollback(True)


def _is_test_database() -> bool:
    """Connected to the test database: PostgreSQL's is test_… (Django's default name),
    SQLite's the file settings.py names in TEST (a file beside the app's own)."""
    database = connection.settings_dict
    return database["NAME"].startswith("test_") or database["NAME"] == database["TEST"]["NAME"]
