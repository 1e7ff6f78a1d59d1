import logging

from django.apps import AppConfig
from django.conf import settings
from django.db.models.signals import post_migrate

logger = logging.getLogger(__name__)


class SspConfig(AppConfig):
    name = "ssp"
    verbose_name = "SSP intake"

    def ready(self):
        from . import services

        # Groups survive a test-database flush only if re-created after it.
        post_migrate.connect(_sync_roles, sender=self)
        if not settings.USE_CELERY_WORKER:
            logger.warning(
                "No Redis answered at %s: background jobs run in-process (no worker, no beat).",
                settings.REDIS_URL,
            )
        del services


def _sync_roles(**kwargs):
    from .services import roles_sync

    roles_sync()
