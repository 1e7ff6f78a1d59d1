import copy
from datetime import datetime

from django.conf import settings
from django.utils.translation import gettext_lazy
from rest_framework import serializers

from .models import Site
from .selectors import token_expires_at, token_is_expired


class FieldsBuiltOnce:
    """A serializer whose fields are built once per class and copied for each instance.

    DRF builds every field again for each serializer (a ModelSerializer reads its model
    anew, a declared field is deep-copied by running its constructor again): a visit's
    request paid about 2.5 ms of CPU for it, in its body's serializer and its answer's.
    Here the first instance's `get_fields()` is kept unbound and every instance binds
    shallow copies of it: once built, a field's validators, choices and messages are
    only read, and what binding sets (name, parent, source) is set on the copy. Fields
    that bind fields of their own (a nested serializer, a list field's child, a
    many-related field's child relation) are deep-copied as DRF copies them, so what
    they hold reaches this instance's context.

    Only for serializers whose `get_fields` depends on nothing but the class (not the
    instance, the data or the context); a subclass overriding `get_fields` to add such
    fields adds them after calling `super().get_fields()`, as VisitSerializer does."""

    def get_fields(self):
        cls = type(self)
        # Each class its own: a subclass may declare other fields.
        built = cls.__dict__.get("_fields_built")
        if built is None:
            built = super().get_fields()
            cls._fields_built = built
        return {
            name: copy.deepcopy(field) if _holds_fields(field) else copy.copy(field)
            for name, field in built.items()
        }


def _holds_fields(field) -> bool:
    return isinstance(field, serializers.BaseSerializer) or any(
        hasattr(field, name) for name in ("child", "child_relation")
    )


class StrictCharField(serializers.CharField):
    """Text and nothing else: DRF's own turns a number into its digits, which the schema
    (type: string) does not promise. Model text fields in every ModelSerializer are
    these (org/apps.py)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictSlugField(StrictCharField, serializers.SlugField):
    """A slug that is text, as StrictCharField."""


class StrictBooleanField(serializers.BooleanField):
    """A JSON boolean and nothing else: DRF's own takes 0, 1, "yes", "on" and more,
    which the schema (type: boolean) does not promise, and a typo would pass as a
    choice staff never made. Every boolean the API reads is one of these (org/apps.py
    maps model booleans to it)."""

    def to_internal_value(self, data):
        if isinstance(data, bool):
            return data
        self.fail("invalid", input=data)


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
        choices=[("", gettext_lazy("The browser's language")), *settings.LANGUAGES],
        help_text='"en", "es", or "" for the browser\'s own (Accept-Language).',
    )


class AuditChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    label = serializers.CharField(help_text="The field as staff call it.")
    before = serializers.CharField(help_text="In words; empty for a new record's values.")
    after = serializers.CharField()


class AuditLineSerializer(serializers.Serializer):
    """One audit-trail entry in words (org/audit_trail.py)."""

    id = serializers.IntegerField(source="entry.pk")
    timestamp = serializers.DateTimeField(source="entry.timestamp")
    who = serializers.CharField(help_text="Username, or 'the system'.")
    action = serializers.ChoiceField(choices=["create", "update", "delete", "access"])
    verb = serializers.CharField(help_text='In words, e.g. "corrected".')
    kind = serializers.CharField(help_text='The kind of record, e.g. "visit".')
    record = serializers.CharField()
    site = serializers.CharField(help_text="Code of the record's site; empty if none.")
    sentence = serializers.CharField()
    changes = AuditChangeSerializer(many=True)
