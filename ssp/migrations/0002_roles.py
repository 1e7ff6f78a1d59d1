"""Create the role groups (front desk, manager, coordinator, admin) with their capabilities."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLE_CAPABILITIES = {
    "Front desk": ["log_visit"],
    "Manager": ["log_visit", "correct_any_visit", "merge_participants", "manage_stock"],
    "Coordinator": ["view_reports", "view_unsuppressed", "program_wide", "manage_referrals"],
    "Admin": [
        "log_visit",
        "correct_any_visit",
        "merge_participants",
        "manage_stock",
        "manage_referrals",
        "view_reports",
        "view_unsuppressed",
        "program_wide",
        "view_audit",
    ],
}


def create_roles(apps, schema_editor):
    # Permissions are normally made after all migrations; make ssp's now.
    app_config = apps.get_app_config("ssp")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in ROLE_CAPABILITIES.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set(
            Permission.objects.filter(content_type__app_label="ssp", codename__in=codenames)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("ssp", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
