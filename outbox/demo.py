"""The outbox's part in `manage.py seed_demo`: while every app seeds, the jobs their
writes queue are held back (see outbox.services.jobs_deferred)."""

from .services import jobs_deferred


def seeding():
    return jobs_deferred()
