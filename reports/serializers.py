from django.urls import reverse
from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from org.validators import EARLIEST_DATE

from .funder_templates import TEMPLATES, template_choices
from .models import ReportSnapshot
from .periods import Period, PeriodError
from .selectors import snapshot_changed_since
from .services import MAX_THRESHOLD


class ReportRequestSerializer(serializers.Serializer):
    """An on-demand report: a template, a period (a month, quarter, year or two dates) and
    optionally sites (default: every site you can see) and a suppression threshold."""

    template = serializers.ChoiceField(choices=template_choices())
    period = serializers.CharField(
        required=False,
        help_text="A month as YYYY-MM, a quarter as YYYY-Q1 … YYYY-Q4, a calendar year as "
        "YYYY or a fiscal year as FYYYYY (the year it ends in).",
    )
    period_start = serializers.DateField(required=False, help_text="First day (with period_end).")
    period_end = serializers.DateField(required=False, help_text="Last day, inclusive.")
    site_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, allow_empty=True
    )
    threshold = serializers.IntegerField(required=False, min_value=2, max_value=MAX_THRESHOLD)

    def validate(self, attrs):
        has_dates = "period_start" in attrs or "period_end" in attrs
        if attrs.get("period") and has_dates:
            raise serializers.ValidationError(
                {
                    "period": [
                        gettext("Give either period or period_start and period_end, not both.")
                    ]
                }
            )
        try:
            if attrs.get("period"):
                attrs["resolved_period"] = Period.parse(attrs["period"])
            elif "period_start" in attrs and "period_end" in attrs:
                attrs["resolved_period"] = Period.between(
                    attrs["period_start"], attrs["period_end"]
                )
            else:
                raise serializers.ValidationError(
                    {
                        "period": [
                            gettext(
                                "Give a period (YYYY-MM, YYYY-Qn, YYYY or FYYYYY) or period_start "
                                "and period_end."
                            )
                        ]
                    }
                )
        except PeriodError as exc:
            field = "period" if attrs.get("period") else "period_end"
            raise serializers.ValidationError({field: [str(exc)]}) from exc
        if attrs["resolved_period"].start < EARLIEST_DATE:
            field = "period" if attrs.get("period") else "period_start"
            raise serializers.ValidationError(
                {
                    field: [
                        gettext("Reports start from %(day)s.")
                        % {"day": f"{EARLIEST_DATE:%Y-%m-%d}"}
                    ]
                }
            )
        return attrs


class ReportFilesSerializer(serializers.Serializer):
    csv = serializers.CharField(allow_null=True, help_text="API path of the suppressed CSV.")
    xlsx = serializers.CharField(allow_null=True, help_text="API path of the suppressed XLSX.")


class ReportSnapshotSerializer(serializers.ModelSerializer):
    template_name = serializers.SerializerMethodField()
    period_label = serializers.SerializerMethodField()
    sites = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    requested_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    files = serializers.SerializerMethodField()
    page = serializers.SerializerMethodField(help_text="The staff web page of this report.")

    class Meta:
        model = ReportSnapshot
        fields = [
            "id",
            "template",
            "template_name",
            "period_start",
            "period_end",
            "period_label",
            "site_key",
            "sites",
            "suppression_threshold",
            "version",
            "trigger",
            "status",
            "progress",
            "progress_message",
            "error",
            "content_hash",
            "requested_by",
            "requested_at",
            "generated_at",
            "files",
            "page",
        ]
        read_only_fields = fields

    def get_template_name(self, obj) -> str:
        template = TEMPLATES.get(obj.template)
        return template.name if template else obj.template

    def get_period_label(self, obj) -> str:
        return Period.between(obj.period_start, obj.period_end).label

    @extend_schema_field(ReportFilesSerializer)
    def get_files(self, obj):
        ready = obj.is_ready

        def path(fmt, field):
            return reverse("report-files", args=[obj.pk, fmt]) if ready and field else None

        return {"csv": path("csv", obj.csv_file), "xlsx": path("xlsx", obj.xlsx_file)}

    def get_page(self, obj) -> str:
        return reverse("reports:detail", args=[obj.pk])


class ReportCellSerializer(serializers.Serializer):
    text = serializers.CharField(help_text='As published: a number, "<11", "*" or "–".')
    value = serializers.FloatField(
        allow_null=True, help_text="The number; null where suppressed (unless unsuppressed)."
    )
    suppressed = serializers.BooleanField(help_text="Hidden in published output.")


class ReportRowSerializer(serializers.Serializer):
    label = serializers.CharField()
    key = serializers.CharField(help_text="Figure key; empty for ratios.")
    cells = ReportCellSerializer(many=True)


class ReportTableSerializer(serializers.Serializer):
    title = serializers.CharField()
    note = serializers.CharField()
    columns = serializers.ListField(child=serializers.CharField())
    rows = ReportRowSerializer(many=True)


class ReportDefinitionSerializer(serializers.Serializer):
    line = serializers.CharField()
    definition = serializers.CharField()


class ReportDetailSerializer(ReportSnapshotSerializer):
    unsuppressed = serializers.SerializerMethodField()
    tables = serializers.SerializerMethodField()
    definitions = serializers.SerializerMethodField()
    cells_changed = serializers.SerializerMethodField(
        help_text="Cells that differ from the period's figures at the last daily re-check "
        "(0: none, or not checked); build a new version to publish the corrected figures."
    )

    class Meta(ReportSnapshotSerializer.Meta):
        fields = [
            *ReportSnapshotSerializer.Meta.fields,
            "unsuppressed",
            "tables",
            "definitions",
            "cells_changed",
        ]
        read_only_fields = fields

    def get_unsuppressed(self, obj) -> bool:
        return bool(self.context.get("unsuppressed"))

    @extend_schema_field(ReportDefinitionSerializer(many=True))
    def get_definitions(self, obj):
        rendered = self.context.get("rendered")
        if rendered is None:
            return []
        return [{"line": line, "definition": text} for line, text in rendered.definitions]

    def get_cells_changed(self, obj) -> int:
        return snapshot_changed_since(obj)

    @extend_schema_field(ReportTableSerializer(many=True))
    def get_tables(self, obj):
        rendered = self.context.get("rendered")
        if rendered is None:
            return []
        unsuppressed = not rendered.suppressed
        return [
            {
                "title": table.title,
                "note": table.note,
                "columns": table.columns,
                "rows": [
                    {
                        "label": row.label,
                        "key": row.key,
                        "cells": [
                            {
                                "text": cell.text,
                                "value": cell.value if unsuppressed or not cell.is_hidden else None,
                                "suppressed": cell.is_hidden,
                            }
                            for cell in row.cells
                        ],
                    }
                    for row in table.rows
                ],
            }
            for table in rendered.tables
        ]


class ReportProgressSerializer(serializers.ModelSerializer):
    files = serializers.SerializerMethodField()

    class Meta:
        model = ReportSnapshot
        fields = ["id", "status", "progress", "progress_message", "error", "files"]
        read_only_fields = fields

    @extend_schema_field(ReportFilesSerializer)
    def get_files(self, obj):
        return ReportSnapshotSerializer().get_files(obj)


class ReportTemplateSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    sections = serializers.ListField(child=serializers.CharField())


class TrendScopeSerializer(serializers.Serializer):
    key = serializers.CharField(help_text='A site code, or "TOTAL".')
    label = serializers.CharField()


class TrendsSerializer(serializers.Serializer):
    months = serializers.ListField(
        child=serializers.CharField(), help_text="YYYY-MM, oldest first."
    )
    month_labels = serializers.ListField(child=serializers.CharField())
    partial = serializers.ListField(
        child=serializers.BooleanField(),
        help_text="Per month: true for the month still running (its figures are so far).",
    )
    days_so_far = serializers.IntegerField(
        allow_null=True, help_text="Days of the running month so far, today included."
    )
    withheld = serializers.CharField(
        allow_null=True,
        help_text="Suppressed figures stop at the last whole month: the running month, "
        "left out until it ends (with unsuppressed=true it is shown so far).",
    )
    scopes = TrendScopeSerializer(many=True)
    series = serializers.DictField(
        child=serializers.DictField(
            child=serializers.ListField(child=serializers.FloatField(allow_null=True))
        ),
        help_text="series[figure][scope] = one value per month; null where suppressed.",
    )
    series_labels = serializers.DictField(child=serializers.CharField())
    suppressed = serializers.BooleanField()
    threshold = serializers.IntegerField()
