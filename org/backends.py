"""Capabilities and site scoping read once per request, in one query.

Django's ModelBackend reads a person's own permissions and their roles' permissions in
two queries, and the site scoping needs a third; `org.models.access_load` reads all
three at once and keeps them on the user object.
"""

from django.contrib.auth.backends import ModelBackend

from .models import access_load


class CapabilityBackend(ModelBackend):
    """ModelBackend whose permission check costs one query per request (see above)."""

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            access_load(user_obj)
        return user_obj._perm_cache
