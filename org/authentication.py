"""API authentication that also names the person in the audit trail."""

from rest_framework.authentication import TokenAuthentication

from .audit import audit_actor_set


class AuditedTokenAuthentication(TokenAuthentication):
    """DRF token authentication whose user is the actor of the request's audit entries."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None:
            audit_actor_set(result[0])
        return result
