"""Writes of the ground floor: roles and staff accounts."""

from importlib import import_module

from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import transaction

from .models import User
from .roles import ADMIN, ROLES


def _declared_capabilities() -> dict[str, Permission]:
    """Every capability of every installed app ("app.codename" → Permission), created
    where missing: each is declared on one of its app's models (Meta.permissions)."""
    found = {}
    for config in apps.get_app_configs():
        for model in config.get_models():
            for codename, description in model._meta.permissions:
                permission, _ = Permission.objects.get_or_create(
                    content_type=ContentType.objects.get_for_model(model),
                    codename=codename,
                    defaults={"name": description},
                )
                found[f"{config.label}.{codename}"] = permission
    return found


def _grants() -> dict[str, set[str]]:
    """role → {"app.codename"} from each app's capabilities.py."""
    grants = {role: set() for role in ROLES}
    for config in apps.get_app_configs():
        try:
            module = import_module(f"{config.name}.capabilities")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.capabilities":
                raise
            continue
        for role, codenames in module.GRANTS.items():
            grants[role].update(f"{config.label}.{codename}" for codename in codenames)
    return grants


@transaction.atomic
def roles_sync() -> None:
    """Create the role groups and give each exactly its capabilities. Idempotent."""
    permissions = _declared_capabilities()
    grants = _grants()
    grants[ADMIN] = set(permissions)
    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set([permissions[name] for name in sorted(grants[role])])


@transaction.atomic(durable=True)
def staff_create(
    *, username: str, password: str, role: str, sites=(), is_superuser: bool = False
) -> User:
    """A staff account in one role group, belonging to the given sites."""
    roles_sync()
    user = User.objects.create_user(
        username=username, password=password, is_staff=is_superuser, is_superuser=is_superuser
    )
    user.groups.add(Group.objects.get(name=role))
    user.sites.set(sites)
    return user
