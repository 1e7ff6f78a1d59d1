from datetime import datetime

from django.conf import settings
from rest_framework import serializers

from .models import Site
from .selectors import token_expires_at, token_is_expired


class SiteSerializer(serializers.ModelSerializer):
    class Meta:
        model = Site
        fields = ["id", "name", "code", "service_model", "is_active"]


class TokenSerializer(serializers.Serializer):
    """An API token as its owner and admins see it: never its key, except once."""

    id = serializers.IntegerField(source="user_id", read_only=True, help_text="The owner's id.")
    username = serializers.CharField(source="user.username", read_only=True)
    created = serializers.DateTimeField(read_only=True)
    expires_at = serializers.SerializerMethodField()
    expired = serializers.SerializerMethodField()

    def get_expires_at(self, token) -> datetime:
        return token_expires_at(token)

    def get_expired(self, token) -> bool:
        return token_is_expired(token)


class TokenCreatedSerializer(TokenSerializer):
    key = serializers.CharField(
        read_only=True, help_text="Shown in this answer only: send as `Authorization: Token <key>`."
    )


class AccountSerializer(serializers.Serializer):
    """The signed-in person's own settings: for now the language of their pages."""

    username = serializers.CharField(read_only=True)
    language = serializers.ChoiceField(
        choices=[("", "The browser's language"), *settings.LANGUAGES],
        help_text='"en", "es", or "" for the browser\'s own (Accept-Language).',
    )
