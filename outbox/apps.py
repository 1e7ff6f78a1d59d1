from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "outbox"
    verbose_name = "Job outbox"

    def ready(self):
        # Django's idiom: receivers are registered once the app registry is ready.
        from . import receivers  # noqa: F401
