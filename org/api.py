"""The ground floor's API: the sites a person works at, their API tokens, and the
audit trail (admins)."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, generics, mixins, status, viewsets
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from .audit_trail import AuditFilter, audit_entries, audit_lines
from .models import Site
from .permissions import capability
from .selectors import sites_for_user, tokens_visible_to
from .serializers import (
    AccountSerializer,
    AuditLineSerializer,
    SiteSerializer,
    TokenCreatedSerializer,
    TokenSerializer,
)
from .services import language_set, token_create, token_revoke

BIGINT_MAX = 2**63 - 1


class SiteViewSet(viewsets.ReadOnlyModelViewSet):
    """Sites the signed-in person belongs to (every site for program-wide roles)."""

    queryset = Site.objects.none()  # schema generation only; requests use get_queryset
    serializer_class = SiteSerializer
    filterset_fields = ["service_model", "is_active"]

    def get_queryset(self):
        return sites_for_user(self.request.user)


class AccountView(generics.GenericAPIView):
    """Your own account: read it, or PATCH the language your pages are shown in."""

    serializer_class = AccountSerializer

    def get(self, request):
        return Response(AccountSerializer(request.user).data)

    def patch(self, request):
        serializer = AccountSerializer(request.user, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        if "language" in serializer.validated_data:
            language_set(
                user=request.user, language=serializer.validated_data["language"], by=request.user
            )
        return Response(AccountSerializer(request.user).data)


class TokenViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """API tokens: your own, or everyone's if you manage staff. One per person, addressed
    by its owner's id; a token expires after SSP_TOKEN_HOURS."""

    queryset = Token.objects.none()  # schema generation only; requests use get_queryset
    serializer_class = TokenSerializer
    lookup_field = "user_id"
    lookup_url_kwarg = "id"
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return tokens_visible_to(self.request.user)

    def get_object(self):
        # An id past the database's bigint would be a DataError (a 500), not a 404.
        if int(self.kwargs["id"]) > BIGINT_MAX:
            raise exceptions.NotFound()
        return super().get_object()

    @extend_schema(request=None, responses={201: TokenCreatedSerializer})
    def create(self, request):
        """A new token for yourself, replacing yours if you had one; its key is in this
        answer only. Sign in with your password to call this: a token cannot make its
        own successor, or it would never expire."""
        if isinstance(request.successful_authenticator, TokenAuthentication):
            raise exceptions.PermissionDenied(
                _("An API token cannot create tokens; sign in with your password."),
                code="token_cannot_create_token",
            )
        # The request has no fields, but a body that is not JSON is still refused (400),
        # as everywhere in the API: reading request.data parses it.
        request.data  # noqa: B018
        token = token_create(user=request.user, by=request.user)
        return Response(TokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None})
    def destroy(self, request, *args, **kwargs):
        """Revoke a token: yours, or anyone's if you manage staff (others' answer 404)."""
        token = self.get_object()
        token_revoke(user=token.user, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AuditViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The audit trail in words, newest first, paginated: who did what to which record,
    at which site, and what changed. Filters: user, site, kind (a content type id),
    action (create, update, delete, access), start and end (program days, end
    included). Admins only (org.view_audit)."""

    queryset = audit_entries()
    serializer_class = AuditLineSerializer
    filterset_class = AuditFilter
    permission_classes = [IsAuthenticated, capability("org.view_audit")]

    def list(self, request, *args, **kwargs):
        entries = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(entries)
        return self.get_paginated_response(AuditLineSerializer(audit_lines(page), many=True).data)
