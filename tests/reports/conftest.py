"""Fixtures and personas of the report tests."""

import pytest
from django.contrib.auth.models import Group, Permission

from ..factories import UserFactory


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Report files are written under a fresh MEDIA_ROOT per test."""
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def reporter_rita(db):
    """Program-wide, may view reports, but not the unsuppressed figures."""
    group, _ = Group.objects.get_or_create(name="Funder liaison")
    group.permissions.set(Permission.objects.filter(codename__in=["view_reports", "program_wide"]))
    user = UserFactory(username="rita")
    user.groups.add(group)
    return user
