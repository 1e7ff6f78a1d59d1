import logging

from django.apps import AppConfig
from django.conf import settings

logger = logging.getLogger(__name__)


class OrgConfig(AppConfig):
    name = "org"
    verbose_name = "Staff and sites"

    def ready(self):
        # Django's idiom: receivers are registered once the app registry is ready.
        # Model booleans and text in every ModelSerializer read only JSON booleans and
        # strings (see the fields).
        from django.db import models
        from rest_framework.serializers import ModelSerializer

        from . import signals  # noqa: F401
        from .serializers import StrictBooleanField, StrictCharField, StrictSlugField

        ModelSerializer.serializer_field_mapping[models.BooleanField] = StrictBooleanField
        ModelSerializer.serializer_field_mapping[models.CharField] = StrictCharField
        ModelSerializer.serializer_field_mapping[models.SlugField] = StrictSlugField

        if not settings.USE_CELERY_WORKER:
            logger.warning(
                "No Redis answered at %s: background jobs run in-process (no worker, no beat).",
                settings.REDIS_URL,
            )
