"""Receivers of the ground floor, registered by OrgConfig.ready()."""

from django.db.models.signals import post_migrate
from django.dispatch import receiver

from .services import roles_sync


@receiver(post_migrate)
def roles_after_migrate(sender, **kwargs):
    # Groups survive a test-database flush only if re-created after it. post_migrate is
    # sent once per app after every table exists; one sync covers every app.
    if sender.name == "org":
        roles_sync()
