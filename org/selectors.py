"""Reads of the ground floor, always scoped to what the person may see."""

from django.db.models import QuerySet

from .models import Site, User


def sites_for_user(user: User) -> QuerySet[Site]:
    """The sites a person sees: all for program-wide roles, otherwise their own."""
    return Site.objects.filter(pk__in=user.accessible_site_ids())


def recording_sites_for_user(user: User) -> QuerySet[Site]:
    """The active sites where this person may log a visit."""
    return sites_for_user(user).filter(is_active=True)
