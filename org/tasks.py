"""The ground floor's scheduled jobs."""

from celery import shared_task

from .backups import backup_create, backups_prune


@shared_task
def backup_database() -> dict:
    # Prune only after a new backup exists, so a failing dump never eats the old ones.
    path = backup_create()
    removed = backups_prune()
    return {"backup": path.name, "bytes": path.stat().st_size, "pruned": len(removed)}
