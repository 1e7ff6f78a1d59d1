"""Attribution of audit-log entries."""

import contextlib

from auditlog.context import auditlog_value, set_actor

from .models import User


@contextlib.contextmanager
def attributed(by: User):
    """Make audit-log entries name `by`, also where no web session did (API tokens,
    commands, tasks)."""
    # auditlog's set_actor replaces the request's context without restoring it;
    # put the request's back so later writes in the same request stay attributed.
    previous = auditlog_value.get(None)
    remote_addr = previous.get("remote_addr") if previous else None
    try:
        with set_actor(by, remote_addr=remote_addr):
            yield
    finally:
        if previous is not None:
            auditlog_value.set(previous)


def audit_actor_set(user) -> None:
    """Attribute the audit entries written for the rest of this request to `user`.

    auditlog's middleware picks the actor before the view runs, when only a session
    login is known. An API token is checked later, inside DRF, so without this every
    change made with a token would be logged with no actor.
    """
    # The middleware's context is a dict read when each entry is saved; filling in its
    # actor (rather than nesting set_actor) keeps its remote address and lets it clean
    # up its own signal receiver at the end of the request.
    context = auditlog_value.get(None)
    if context is not None and context.get("actor") is None:
        context["actor"] = user
