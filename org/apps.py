import logging

from django.apps import AppConfig
from django.conf import settings

logger = logging.getLogger(__name__)


class OrgConfig(AppConfig):
    name = "org"
    verbose_name = "Staff and sites"

    def ready(self):
        # Django's idiom: receivers are registered once the app registry is ready.
        from . import signals  # noqa: F401

        if not settings.USE_CELERY_WORKER:
            logger.warning(
                "No Redis answered at %s: background jobs run in-process (no worker, no beat).",
                settings.REDIS_URL,
            )
