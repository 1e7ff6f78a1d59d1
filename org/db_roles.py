"""The app's PostgreSQL role: what web, worker and beat may do to each table.

Migrations run as the tables' owner (the `owner` database alias, MIGRATE_DATABASE_URL);
the app runs as DATABASE_URL's role, which owns nothing, so it can neither alter, drop
or truncate a table nor disable a trigger, and is refused the writes that would rewrite
history. Which tables allow what is set in settings (DB_APP_*); every table not listed
there gets SELECT, INSERT, UPDATE.
"""

from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.db import connections, transaction
from psycopg import sql

READ = ("SELECT",)
APPEND = ("SELECT", "INSERT")
WRITE = ("SELECT", "INSERT", "UPDATE")
WRITE_DELETE = ("SELECT", "INSERT", "UPDATE", "DELETE")


class RoleError(Exception):
    pass


@dataclass(frozen=True)
class Plan:
    app_role: str
    owner_role: str
    tables: dict[str, tuple[str, ...]]


def _table(label: str) -> str:
    return apps.get_model(label)._meta.db_table


def table_privileges(table_names) -> dict[str, tuple[str, ...]]:
    """Each table's privileges for the app role, from the DB_APP_* settings."""
    append_only = {_table(label) for label in settings.DB_APP_APPEND_ONLY}
    deletes = {_table(label) for label in settings.DB_APP_DELETES}
    # Many-to-many rows (staff sites, groups, permissions) are removed when an admin
    # unticks one: the link is deleted, never the things it links.
    for model in apps.get_models(include_auto_created=True):
        if model._meta.auto_created:
            deletes.add(model._meta.db_table)
    read_only = set(settings.DB_APP_READ_ONLY_TABLES)
    plan = {}
    for name in table_names:
        if name in read_only:
            plan[name] = READ
        elif name in append_only:
            plan[name] = APPEND
        elif name in deletes:
            plan[name] = WRITE_DELETE
        else:
            plan[name] = WRITE
    return plan


def _one(cursor, query, params=()):
    cursor.execute(query, params)
    row = cursor.fetchone()
    return row[0] if row else None


def grant(*, app_role: str, app_password: str = "", owner_alias: str = "owner") -> Plan | None:
    """Create the app role if it is missing, then set its grants to exactly the plan.

    None where there is nothing to do: SQLite, or the app connecting as the owner
    (a simple setup, which then keeps the owner's rights).
    """
    owner = connections[owner_alias]
    if owner.vendor != "postgresql":
        return None
    with owner.cursor() as cursor:
        owner_role = _one(cursor, "SELECT current_user")
        if not app_role or app_role == owner_role:
            return None
        exists = _one(cursor, "SELECT count(*) FROM pg_roles WHERE rolname = %s", [app_role])
        app = sql.Identifier(app_role)
        with transaction.atomic(using=owner_alias):
            if not exists:
                cursor.execute(
                    sql.SQL(
                        "CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION"
                    ).format(app)
                )
            if app_password:
                cursor.execute(
                    sql.SQL("ALTER ROLE {} PASSWORD {}").format(app, sql.Literal(app_password))
                )
            _refuse_mighty(cursor, app_role, owner_role)
            tables = owner.introspection.table_names(cursor)
            plan = table_privileges(tables)
            database = sql.Identifier(owner.settings_dict["NAME"])
            cursor.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(database, app))
            cursor.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(app))
            cursor.execute(sql.SQL("REVOKE CREATE ON SCHEMA public FROM {}").format(app))
            cursor.execute(sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {}").format(app))
            for table, privileges in sorted(plan.items()):
                cursor.execute(
                    sql.SQL("GRANT {} ON TABLE {} TO {}").format(
                        sql.SQL(", ").join(sql.SQL(p) for p in privileges),
                        sql.Identifier(table),
                        app,
                    )
                )
            # Inserts draw ids from the tables' sequences.
            cursor.execute(
                sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(app)
            )
            # A table a later migration adds is usable before this runs again, and never
            # deletable until it is listed.
            cursor.execute(
                sql.SQL(
                    "ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA public "
                    "GRANT SELECT, INSERT, UPDATE ON TABLES TO {}"
                ).format(sql.Identifier(owner_role), app)
            )
            cursor.execute(
                sql.SQL(
                    "ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA public "
                    "GRANT USAGE, SELECT ON SEQUENCES TO {}"
                ).format(sql.Identifier(owner_role), app)
            )
    return Plan(app_role=app_role, owner_role=owner_role, tables=plan)


def _refuse_mighty(cursor, app_role: str, owner_role: str) -> None:
    """Grants limit nothing for a superuser, nor for a member of the owner role."""
    cursor.execute(
        "SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb FROM pg_roles "
        "WHERE rolname = %s",
        [app_role],
    )
    superuser, bypassrls, createrole, createdb = cursor.fetchone()
    if superuser or bypassrls or createrole or createdb:
        raise RoleError(
            f"The app role {app_role} is a superuser or may create roles or databases; "
            f"give DATABASE_URL a plain login role (ALTER ROLE {app_role} NOSUPERUSER "
            "NOBYPASSRLS NOCREATEROLE NOCREATEDB)."
        )
    if _one(cursor, "SELECT pg_has_role(%s, %s, 'MEMBER')", [app_role, owner_role]):
        raise RoleError(
            f"The app role {app_role} is a member of the owner role {owner_role}: "
            f"REVOKE {owner_role} FROM {app_role}."
        )
