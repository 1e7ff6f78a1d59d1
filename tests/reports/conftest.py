"""Personas of the report tests."""

import pytest
from django.contrib.auth.models import Group, Permission

from ..factories import UserFactory


@pytest.fixture
def reporter_rita(db):
    """Program-wide, may view reports, but not the unsuppressed figures."""
    group, _ = Group.objects.get_or_create(name="Funder liaison")
    group.permissions.set(Permission.objects.filter(codename__in=["view_reports", "program_wide"]))
    user = UserFactory(username="rita")
    user.groups.add(group)
    return user
