"""Writes of the ground floor: roles, staff accounts, passwords and API tokens."""

import secrets
from collections import defaultdict

from auditlog.models import LogEntry
from django.apps import apps
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework.authtoken.models import Token

from .audit import attributed
from .models import User
from .plugins import app_modules
from .roles import ADMIN, ROLES
from .selectors import token_expires_at


class AccountError(Exception):
    """A refused change to a staff account."""


def _declared_capabilities() -> dict[str, Permission]:
    """Every capability of every installed app ("app.codename" → Permission), created
    where missing: each is declared on one of its app's models (Meta.permissions)."""
    declared = {}
    for config in apps.get_app_configs():
        for model in config.get_models():
            for codename, description in model._meta.permissions:
                content_type = ContentType.objects.get_for_model(model)
                declared[f"{config.label}.{codename}"] = (content_type, codename, description)
    # One read for those already there (every run after the first), not one per capability.
    existing = {
        (p.content_type_id, p.codename): p
        for p in Permission.objects.filter(
            content_type__in={ct for ct, _, _ in declared.values()},
            codename__in={codename for _, codename, _ in declared.values()},
        )
    }
    found = {}
    for name, (content_type, codename, description) in declared.items():
        permission = existing.get((content_type.pk, codename))
        if permission is None:
            permission, _ = Permission.objects.get_or_create(
                content_type=content_type, codename=codename, defaults={"name": description}
            )
            existing[(content_type.pk, codename)] = permission
        found[name] = permission
    return found


def _grants() -> dict[str, set[str]]:
    """role → {"app.codename"} from each app's capabilities.py."""
    grants = {role: set() for role in ROLES}
    for module in app_modules("capabilities"):
        label = apps.get_containing_app_config(module.__name__).label
        for role, codenames in module.GRANTS.items():
            grants[role].update(f"{label}.{codename}" for codename in codenames)
    return grants


@transaction.atomic
def roles_sync() -> None:
    """Create the role groups and give each exactly its capabilities. Idempotent."""
    permissions = _declared_capabilities()
    grants = _grants()
    grants[ADMIN] = set(permissions)
    groups = {group.name: group for group in Group.objects.filter(name__in=ROLES)}
    held = defaultdict(set)
    for group_id, permission_id in Group.permissions.through.objects.filter(
        group__in=groups.values()
    ).values_list("group_id", "permission_id"):
        held[group_id].add(permission_id)
    for role in ROLES:
        group = groups.get(role) or Group.objects.get_or_create(name=role)[0]
        wanted = [permissions[name] for name in sorted(grants[role])]
        # Left alone when it already holds exactly these (set() would change nothing).
        if held[group.pk] != {p.pk for p in wanted}:
            group.permissions.set(wanted)


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


# --- Accounts: passwords and API tokens -------------------------------------------------
# A token's key is its primary key, so the token row itself is never put in the audit
# log (config/settings.py leaves "authtoken" out); each creation and revocation is
# logged against the person whose token it is, with who did it.


def _token_logged(*, user: User, by: User, change: str) -> None:
    LogEntry.objects.log_create(
        user, action=LogEntry.Action.UPDATE, changes={"api_token": ["", change]}, actor=by
    )


def _tokens_revoke(*, user: User, by: User, why: str) -> bool:
    deleted, _ = Token.objects.filter(user=user).delete()
    if deleted:
        _token_logged(user=user, by=by, change=f"revoked ({why})")
    return bool(deleted)


@transaction.atomic(durable=True)
def token_create(*, user: User, by: User) -> Token:
    """A new API token for `user`, replacing any they had (DRF keeps one per person).
    The caller shows its key once; it expires after SSP_TOKEN_HOURS."""
    _tokens_revoke(user=user, by=by, why="replaced")
    token = Token.objects.create(user=user)
    _token_logged(user=user, by=by, change=f"created, expires {token_expires_at(token):%c}")
    return token


@transaction.atomic(durable=True)
def language_set(*, user: User, language: str, by: User) -> None:
    """The language `user`'s pages are shown in ("" for the browser's own); one of
    settings.LANGUAGES, else AccountError."""
    if language and language not in dict(settings.LANGUAGES):
        raise AccountError(_("That language is not offered."))
    with attributed(by):
        user.language = language
        user.save(update_fields=["language"])


@transaction.atomic(durable=True)
def token_revoke(*, user: User, by: User) -> bool:
    """Revoke `user`'s API token; False if they had none."""
    return _tokens_revoke(user=user, by=by, why=f"by {by.username}")


def _password_set(*, user: User, password: str, by: User, must_change: bool) -> None:
    password_validation.validate_password(password, user)
    with attributed(by):
        user.set_password(password)
        user.password_changed_at = timezone.now()  # also when the old one was unusable
        user.must_change_password = must_change
        user.save(update_fields=["password", "password_changed_at", "must_change_password"])
    _tokens_revoke(user=user, by=by, why="password changed")


@transaction.atomic(durable=True)
def password_change(*, user: User, password: str, by: User) -> None:
    """A new password chosen by the person (or set for them by `by`). Their API tokens
    stop working; raises ValidationError with the password validators' messages."""
    _password_set(user=user, password=password, by=by, must_change=False)


@transaction.atomic(durable=True)
def password_reset(*, user: User, by: User) -> str:
    """An admin's reset: a temporary password, returned to be shown once and handed over
    in person (never emailed), which the person must replace at their next page."""
    # Four groups of four from an alphabet without look-alikes (0/O, 1/l/I): read aloud
    # or copied by hand at a front desk.
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    temporary = "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(4))
    _password_set(user=user, password=temporary, by=by, must_change=True)
    return temporary


@transaction.atomic(durable=True)
def staff_deactivate(*, user: User, by: User) -> None:
    """Close an account: no more logins, and its API token is revoked."""
    if user == by:
        raise AccountError(_("You cannot deactivate your own account."))
    with attributed(by):
        user.is_active = False
        user.save(update_fields=["is_active"])
    _tokens_revoke(user=user, by=by, why="account deactivated")
