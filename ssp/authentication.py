"""API authentication that also names the person in the audit trail."""

from auditlog.context import auditlog_value
from rest_framework.authentication import TokenAuthentication


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


class AuditedTokenAuthentication(TokenAuthentication):
    """DRF token authentication whose user is the actor of the request's audit entries."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None:
            audit_actor_set(result[0])
        return result
