"""API authentication: tokens that expire, that die with a password change or a closed
account, and whose user is named in the audit trail."""

from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from .audit import audit_actor_set
from .selectors import token_expires_at, token_is_expired


class AuditedTokenAuthentication(TokenAuthentication):
    """DRF token authentication whose user is the actor of the request's audit entries.

    The services revoke tokens when a password changes or an account is closed; these
    checks refuse them too where the change came another way (the Django admin, a
    management command), and refuse a token past its SSP_TOKEN_HOURS.
    """

    def authenticate_credentials(self, key):
        try:
            token = self.get_model().objects.select_related("user").get(key=key)
        except self.get_model().DoesNotExist:
            raise AuthenticationFailed(
                _("Invalid API token: it was revoked, replaced or never existed."),
                code="token_invalid",
            ) from None
        user = token.user
        if not user.is_active:
            raise AuthenticationFailed(_("This account is deactivated."), code="user_inactive")
        if user.password_changed_at and token.created < user.password_changed_at:
            raise AuthenticationFailed(
                _(
                    "This API token was revoked when the password changed; create a new one "
                    "on your account page."
                ),
                code="token_revoked",
            )
        if user.must_change_password:
            raise AuthenticationFailed(
                _("Your password was reset; sign in and choose a new one first."),
                code="password_change_required",
            )
        if token_is_expired(token):
            expired = timezone.localtime(token_expires_at(token))
            raise AuthenticationFailed(
                _("This API token expired at %(when)s; create a new one on your account page.")
                % {"when": f"{expired:%Y-%m-%d %H:%M %Z}"},
                code="token_expired",
            )
        return user, token

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None:
            audit_actor_set(result[0])
        return result
