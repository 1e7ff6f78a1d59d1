"""The audit trail read in words: who did what to which record, where, and what
changed ("manager corrected visit KAFA1991M … at DTWN: syringes collected 10 → 20").

django-auditlog stores raw diffs (field names, ids, `None`). This module turns them
into sentences from each model's own metadata (verbose names, choices, the string of
a related record), so org needs to know no upper app by name. An app may choose the
verbs for its records in an `audit_words.py`:

    VERBS = {"ssp.visit": {"create": "logged", "update": "corrected"}}

The page (org/views.py), its CSV and the API (org/api.py) share `AuditFilter` and
`audit_lines`.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

import django_filters
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from .models import Site, User
from .plugins import app_modules

ACTIONS = {
    LogEntry.Action.CREATE: ("create", _("created")),
    LogEntry.Action.UPDATE: ("update", _("changed")),
    LogEntry.Action.DELETE: ("delete", _("deleted")),
    LogEntry.Action.ACCESS: ("access", _("viewed")),
}
ACTION_OF = {key: value for value, (key, _words) in ACTIONS.items()}
ACTION_CHOICES = [
    ("create", _("Created")),
    ("update", _("Changed")),
    ("delete", _("Deleted")),
    ("access", _("Viewed")),
]
# Bookkeeping every record carries: true, but not what a reader of the trail asks.
BOOKKEEPING = {
    "id",
    "uuid",
    "created_at",
    "updated_at",
    "recorded_at",
    "status_changed_at",
    "password_changed_at",
    "updated_by",
}
EMPTY = _("empty")
LONGEST = 80  # a JSON field's value is cut here: the trail says that it changed
# A new record's values that say nothing: zero, no, and what its name already says.
SAYS_NOTHING = {"0", "no", "False"}
CREATE_SHOWS = 6


@dataclass(frozen=True)
class Change:
    field: str
    label: str
    before: str
    after: str

    @property
    def text(self) -> str:
        if self.before == "":
            return f"{self.label} {self.after}"
        return f"{self.label}: {self.before} → {self.after}"


@dataclass
class AuditLine:
    entry: LogEntry
    who: str
    action: str  # create | update | delete | access
    verb: str
    kind: str
    record: str
    site: str
    site_named: bool = False  # the record's name already says where it is
    changes: list[Change] = field(default_factory=list)

    @property
    def when(self) -> datetime:
        return timezone.localtime(self.entry.timestamp)

    @property
    def sentence(self) -> str:
        where = f" at {self.site}" if self.site and not self.site_named else ""
        head = f"{self.who} {self.verb} {self.kind} {self.record}{where}".strip()
        if not self.changes:
            return head
        return f"{head}: " + "; ".join(change.text for change in self.changes)


# --- Words for one entry --------------------------------------------------------------


def _verbs() -> dict[str, dict[str, str]]:
    verbs: dict[str, dict[str, str]] = {}
    for module in app_modules("audit_words"):
        verbs.update(getattr(module, "VERBS", {}))
    return verbs


def _field(model, name: str):
    """The model's own column of that name, or None (reverse and many-to-many
    relations, which auditlog writes as "app.Model.None", are not columns)."""
    if model is None:
        return None
    try:
        found = model._meta.get_field(name)
    except Exception:
        return None
    return found if getattr(found, "concrete", False) and not found.many_to_many else None


def _words(model_field, raw, related: dict) -> str:
    """One stored value as staff would say it."""
    if raw is None or raw == "" or raw == "None":
        return str(EMPTY)
    if model_field.choices:
        # Choice labels are often kept English in the code (gettext_noop): said in the
        # reader's language here.
        return gettext(str(dict(model_field.flatchoices).get(raw, raw)))
    if model_field.many_to_one:
        return related.get((model_field.related_model, str(raw))) or f"#{raw}"
    if isinstance(model_field, models.BooleanField):
        return str(_("yes")) if raw in (True, "True", "true", 1) else str(_("no"))
    if isinstance(model_field, models.DateTimeField):
        moment = parse_datetime(str(raw))
        if moment is not None:
            if timezone.is_naive(moment):
                # auditlog writes the database's value, in UTC, without its offset.
                moment = moment.replace(tzinfo=UTC)
            return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"
    if isinstance(model_field, models.DateField):
        day = parse_date(str(raw))
        return day.isoformat() if day else str(raw)
    text = str(raw)
    return text if len(text) <= LONGEST else text[: LONGEST - 1] + "…"


def _record(entry: LogEntry, kind: str) -> str:
    """The entry's record without its kind repeated ("Visit KAFA…" → "KAFA…")."""
    text = entry.object_repr or f"#{entry.object_pk}"
    if text.lower().startswith(kind.lower() + " "):
        text = text[len(kind) + 1 :]
    return text


def _changes(entry: LogEntry, model, related: dict, said: str = "") -> list[Change]:
    """What changed, in words; for a new record, what its name does not already say."""
    found = []
    for name, values in (entry.changes_dict or {}).items():
        if name in BOOKKEEPING:
            continue
        model_field = _field(model, name)
        label = str(model_field.verbose_name) if model_field else name.replace("_", " ")
        if isinstance(values, dict) and values.get("type") == "m2m":
            # Groups, sites, kit components: a list of the records added or removed.
            objects = ", ".join(str(o) for o in values.get("objects", []))
            objects = objects if len(objects) <= LONGEST else objects[: LONGEST - 1] + "…"
            verb = _("added") if values.get("operation") == "add" else _("removed")
            found.append(Change(name, label, "", f"{verb} {objects}"))
            continue
        if model_field is None or not isinstance(values, list | tuple) or len(values) != 2:
            continue
        before, after = values
        if entry.action == LogEntry.Action.CREATE:
            words = _words(model_field, after, related)
            if (
                after in (None, "", "None")
                or words in SAYS_NOTHING | {str(_("no"))}
                or (model_field.many_to_one and words in said)
                or isinstance(model_field, models.DateTimeField)
                or (model_field.many_to_one and model_field.related_model is User)
            ):
                continue  # the record's name, its author and time are said already
            if len(found) < CREATE_SHOWS:
                found.append(Change(name, label, "", words))
        else:
            found.append(
                Change(
                    name,
                    label,
                    _words(model_field, before, related),
                    _words(model_field, after, related),
                )
            )
    return found


def _related_names(entries: list[LogEntry]) -> dict:
    """(model, pk) → str of every record the page's diffs point at, one query a model."""
    wanted: dict = defaultdict(set)
    for entry in entries:
        model = entry.content_type.model_class()
        for name, values in (entry.changes_dict or {}).items():
            model_field = _field(model, name)
            if model_field is None or not model_field.many_to_one:
                continue
            if isinstance(values, list | tuple):
                for value in values:
                    if value not in (None, "", "None"):
                        wanted[model_field.related_model].add(str(value))
    names = {}
    for model, pks in wanted.items():
        valid = [pk for pk in pks if pk.isdigit()]
        for obj in model._default_manager.filter(pk__in=valid):
            names[(model, str(obj.pk))] = str(obj)
    return names


# --- Where a record is ----------------------------------------------------------------


def site_path(model) -> str | None:
    """The lookup from a record to its site: the record itself for a site, its `site`,
    or the site of a record it points at (a visit's supply line, a location's alert)."""
    if model is None:
        return None
    if model is Site:
        return "pk"

    def site_field(of) -> bool:
        found = _field(of, "site")
        return found is not None and found.many_to_one and found.related_model is Site

    if site_field(model):
        return "site"
    for candidate in model._meta.concrete_fields:
        if candidate.many_to_one and site_field(candidate.related_model):
            return f"{candidate.name}__site"
    return None


def _site_codes(entries: list[LogEntry]) -> dict:
    """(content type id, object id) → (site code, name), one query a kind of record."""
    by_type: dict = defaultdict(set)
    for entry in entries:
        if entry.object_id is not None:
            by_type[entry.content_type_id].add(entry.object_id)
    codes = {}
    for type_id, ids in by_type.items():
        model = ContentType.objects.get_for_id(type_id).model_class()
        path = site_path(model)
        if path is None:
            continue
        prefix = "" if path == "pk" else f"{path}__"
        rows = model._default_manager.filter(pk__in=ids).values_list(
            "pk", f"{prefix}code", f"{prefix}name"
        )
        for pk, site_code, site_name in rows:
            codes[(type_id, pk)] = (site_code or "", site_name or "")
    return codes


def audit_lines(entries) -> list[AuditLine]:
    """The entries (a page of them) in words. A fixed number of queries per page: one
    per kind of record for sites and one per related model for names."""
    entries = list(entries)
    related = _related_names(entries)
    sites = _site_codes(entries)
    verbs = _verbs()
    lines = []
    for entry in entries:
        model = entry.content_type.model_class()
        kind = str(model._meta.verbose_name) if model else entry.content_type.model
        action, verb = ACTIONS.get(entry.action, ("update", _("changed")))
        label = f"{entry.content_type.app_label}.{entry.content_type.model}"
        verb = verbs.get(label, {}).get(action, verb)
        record = _record(entry, kind)
        site_code, site_name = sites.get((entry.content_type_id, entry.object_id), ("", ""))
        lines.append(
            AuditLine(
                entry=entry,
                who=entry.actor.username if entry.actor else str(_("the system")),
                action=action,
                verb=str(verb),
                kind=kind,
                record=record,
                site=site_code,
                site_named=bool(site_name) and site_name in record,
                changes=_changes(entry, model, related, said=f"{record} {site_name}"),
            )
        )
    return lines


# --- Filters: user, site, kind of record, what happened, dates --------------------------


def audit_entries() -> QuerySet[LogEntry]:
    return LogEntry.objects.select_related("actor", "content_type").order_by("-timestamp", "-pk")


def _kinds(request=None):
    used = LogEntry.objects.values("content_type").distinct()
    kinds = []
    for content_type in ContentType.objects.filter(pk__in=used):
        model = content_type.model_class()
        label = str(model._meta.verbose_name) if model else content_type.model
        kinds.append((str(content_type.pk), gettext(label[:1].upper() + label[1:])))
    return sorted(kinds, key=lambda kind: kind[1])


def _program_day_start(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


class AuditFilter(django_filters.FilterSet):
    """The audit trail's filters, shared by the page, its CSV and the API."""

    user = django_filters.ModelChoiceFilter(
        field_name="actor",
        queryset=User.objects.order_by("username"),
        label=_("Who"),
        empty_label=_("All staff"),
    )
    # A site's id in the API schema (the filter's method hides the model field).
    site = extend_schema_field(OpenApiTypes.INT)(
        django_filters.ModelChoiceFilter(
            queryset=Site.objects.order_by("name"),
            method="filter_site",
            label=_("Site"),
            empty_label=_("All sites"),
        )
    )
    kind = django_filters.ChoiceFilter(
        field_name="content_type",
        choices=_kinds,
        label=_("Kind of record"),
        empty_label=_("All kinds"),
    )
    # Words, not LogEntry's integer codes, in the API schema too.
    action = extend_schema_field({"type": "string", "enum": [k for k, _w in ACTION_CHOICES]})(
        django_filters.ChoiceFilter(
            choices=[(key, words) for key, words in ACTION_CHOICES],
            method="filter_action",
            label=_("What happened"),
            empty_label=_("Anything"),
        )
    )
    start = django_filters.DateFilter(method="filter_start", label=_("From"))
    end = django_filters.DateFilter(method="filter_end", label=_("Until (included)"))

    class Meta:
        model = LogEntry
        fields = ["user", "site", "kind", "action", "start", "end"]

    def filter_site(self, queryset, name, value):
        """Entries about a record at that site: the site itself, records with a site,
        and records whose parent has one (a supply line of a visit there)."""
        condition = Q(pk__in=[])
        for content_type in ContentType.objects.filter(
            pk__in=LogEntry.objects.values("content_type").distinct()
        ):
            model = content_type.model_class()
            path = site_path(model)
            if path is None:
                continue
            ids = model._default_manager.filter(**{path: value.pk}).values("pk")
            condition |= Q(content_type=content_type, object_id__in=ids)
        return queryset.filter(condition)

    def filter_action(self, queryset, name, value):
        return queryset.filter(action=ACTION_OF[value])

    def filter_start(self, queryset, name, value):
        return queryset.filter(timestamp__gte=_program_day_start(value))

    def filter_end(self, queryset, name, value):
        return queryset.filter(timestamp__lt=_program_day_start(value + timedelta(days=1)))


CSV_COLUMNS = ["when", "who", "what", "kind", "record", "site", "changes", "sentence"]


def csv_rows(lines: list[AuditLine]):
    for line in lines:
        yield (
            f"{line.when:%Y-%m-%d %H:%M}",
            line.who,
            line.verb,
            line.kind,
            line.record,
            line.site,
            "; ".join(change.text for change in line.changes),
            line.sentence,
        )
