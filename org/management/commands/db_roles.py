"""Give DATABASE_URL's role exactly the rights the app needs; run as the owner after migrate."""

from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from org.db_roles import RoleError, grant


class Command(BaseCommand):
    help = (
        "Create DATABASE_URL's role if missing and set its grants (run as MIGRATE_DATABASE_URL's "
        "owner role, after `migrate --database owner`)."
    )

    def handle(self, *args, **options):
        try:
            app = connections["default"].settings_dict
            plan = grant(app_role=app["USER"], app_password=app.get("PASSWORD") or "")
        except RoleError as error:
            raise CommandError(str(error)) from error
        if plan is None:
            if options["verbosity"] < 1:
                return
            self.stdout.write(
                "Nothing to grant: SQLite, or DATABASE_URL connects as the tables' owner."
            )
            return
        if options["verbosity"] < 1:
            return
        by_rights: dict[tuple[str, ...], list[str]] = {}
        for table, privileges in plan.tables.items():
            by_rights.setdefault(privileges, []).append(table)
        self.stdout.write(f"{plan.app_role} (tables owned by {plan.owner_role}):")
        for privileges, tables in sorted(by_rights.items(), key=lambda kv: len(kv[0])):
            self.stdout.write(f"  {', '.join(privileges)}: {len(tables)} table(s)")
            if len(privileges) < 3:
                self.stdout.write(f"    {', '.join(sorted(tables))}")
