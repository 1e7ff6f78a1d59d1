"""Reads of the ground floor, always scoped to what the person may see."""

from datetime import datetime, timedelta

from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from rest_framework.authtoken.models import Token

from .models import ServiceModel, Site, User


def sites_for_user(user: User) -> QuerySet[Site]:
    """The sites a person sees: all for program-wide roles, otherwise their own."""
    return Site.objects.filter(pk__in=user.accessible_site_ids())


def recording_sites_for_user(user: User) -> QuerySet[Site]:
    """The active sites where this person may log a visit."""
    return sites_for_user(user).filter(is_active=True)


def street_site_for_user(user: User) -> Site | None:
    """The person's street-outreach site (the first by name), where shifts are logged."""
    return (
        recording_sites_for_user(user)
        .filter(service_model=ServiceModel.OUTREACH)
        .order_by("name")
        .first()
    )


# --- API tokens ---------------------------------------------------------------------------


def token_expires_at(token: Token) -> datetime:
    return token.created + timedelta(hours=settings.SSP_TOKEN_HOURS)


def token_is_expired(token: Token) -> bool:
    return timezone.now() >= token_expires_at(token)


def tokens_visible_to(user: User) -> QuerySet[Token]:
    """The API tokens a person may see and revoke: their own; everyone's for those who
    manage staff. Keys are never read from here into a page or an answer."""
    tokens = Token.objects.select_related("user").order_by("user__username")
    if user.has_perm("org.manage_staff"):
        return tokens
    return tokens.filter(user=user)


def staff_accounts() -> QuerySet[User]:
    """Every staff account with its token (if any), for the staff-accounts page."""
    return (
        User.objects.select_related("auth_token")
        .prefetch_related("groups", "sites")
        .order_by("-is_active", "username")
    )


# --- Home page figures (org/home.py) ------------------------------------------------------


def active_staff_count() -> int:
    return User.objects.filter(is_active=True).count()


def locked_out_usernames(*, now: datetime | None = None) -> list[str]:
    """Usernames django-axes refuses now: AXES_FAILURE_LIMIT failures or more, the
    last within AXES_COOLOFF_TIME (a lock-out then lifts by itself)."""
    now = now or timezone.now()
    return sorted(
        set(
            AccessAttempt.objects.filter(
                failures_since_start__gte=settings.AXES_FAILURE_LIMIT,
                attempt_time__gte=now - settings.AXES_COOLOFF_TIME,
            ).values_list("username", flat=True)
        )
    )
