"""Writes of funder reports: request, build (claim → figures → files → ready), the
monthly job, and the email to coordinators. A ready snapshot is never changed."""

import hashlib
import json
import logging
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.mail import send_mass_mail
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop, ngettext

from org.models import Site, User
from outbox.services import job_enqueue

from .exports import to_csv, to_xlsx
from .funder_templates import TEMPLATES
from .metrics import compute_figures
from .models import ReportSnapshot, ReportStatus, ReportTrigger, SnapshotCheck, report_file_path
from .periods import Period
from .releases import months_to_release, report_release
from .rendering import render

logger = logging.getLogger(__name__)

MAX_PERIOD_DAYS = 2 * 366
MAX_THRESHOLD = 100


class ReportRequestError(ValueError):
    """Bad report parameters; carries field messages (shown on the form, 400 in the API)."""

    def __init__(self, field_errors: dict[str, list[str]]):
        self.field_errors = field_errors
        field, messages = next(iter(field_errors.items()))
        super().__init__(messages[0] if field == "non_field_errors" else f"{field}: {messages[0]}")


def site_key_for(site_ids) -> str:
    """The canonical site set of a report: "all", or sorted ids such as "2,7"."""
    return "all" if site_ids is None else ",".join(str(pk) for pk in sorted(set(site_ids)))


def _site_ids_of(snapshot: ReportSnapshot) -> list[int] | None:
    return None if snapshot.site_key == "all" else [int(x) for x in snapshot.site_key.split(",")]


def _validated(
    *, template: str, period: Period, site_ids, threshold, by: User | None, today: date
) -> tuple[list[int] | None, int]:
    errors: dict[str, list[str]] = {}
    if template not in TEMPLATES:
        errors["template"] = [
            gettext("Unknown template. Choose one of: %(templates)s.")
            % {"templates": ", ".join(TEMPLATES)}
        ]
    if period.start > today:
        errors["period_start"] = [gettext("The period has not started yet.")]
    if not period.whole_months and by is not None and not by.has_perm("reports.view_unsuppressed"):
        # Part of a month beside its whole month (Jan 1–15 and Jan 1–16) gives a day's
        # small counts away by subtraction: only whole months are suppressed together.
        errors["period_end"] = [
            gettext(
                "Suppressed reports cover whole months: start on a 1st and end on the last "
                "day of a month (other dates only for people who may see unsuppressed "
                "figures)."
            )
        ]
    if (period.end - period.start).days + 1 > MAX_PERIOD_DAYS:
        errors["period_end"] = [gettext("A report covers at most two years.")]
    threshold = settings.SSP_SUPPRESSION_THRESHOLD if threshold in (None, "") else threshold
    if not isinstance(threshold, int) or not 2 <= threshold <= MAX_THRESHOLD:
        errors["threshold"] = [
            gettext("The suppression threshold is a whole number from 2 to %(most)s.")
            % {"most": MAX_THRESHOLD}
        ]
    if site_ids:
        site_ids = sorted(set(site_ids))
        known = set(Site.objects.filter(pk__in=site_ids).values_list("pk", flat=True))
        allowed = by.accessible_site_ids() if by is not None else known
        refused = [pk for pk in site_ids if pk not in known or pk not in allowed]
        if refused:
            errors["site_ids"] = [
                gettext("Unknown site or not one of yours: %(sites)s.")
                % {"sites": ", ".join(map(str, refused))}
            ]
    elif by is not None and not by.is_program_wide:
        # "Every site" means the person's own sites unless they are program-wide.
        site_ids = sorted(by.accessible_site_ids())
        if not site_ids:
            errors["site_ids"] = [gettext("You do not belong to any site.")]
    else:
        site_ids = None
    if errors:
        raise ReportRequestError(errors)
    return site_ids, threshold


def _next_version(*, template: str, period: Period, site_key: str) -> int:
    latest = ReportSnapshot.objects.filter(
        template=template, period_start=period.start, period_end=period.end, site_key=site_key
    ).aggregate(v=Max("version"))["v"]
    return (latest or 0) + 1


def _create_snapshot(
    *, template: str, period: Period, site_ids, threshold: int, trigger: str, by: User | None
) -> ReportSnapshot:
    site_key = site_key_for(site_ids)
    sites = list(Site.objects.filter(pk__in=site_ids).order_by("name")) if site_ids else []
    parameters = {
        "template": template,
        "template_name": TEMPLATES[template].name,
        "period_start": period.start.isoformat(),
        "period_end": period.end.isoformat(),
        "period_kind": period.kind,
        "period_label": period.label,
        "sites": [s.code for s in sites] or "all",
        "suppression_threshold": threshold,
        "trigger": trigger,
        "requested_by": by.username if by else None,
    }
    # A savepoint: a clash with a concurrent request rolls back only this attempt.
    with transaction.atomic():
        version = _next_version(template=template, period=period, site_key=site_key)
        snapshot = ReportSnapshot.objects.create(
            template=template,
            period_start=period.start,
            period_end=period.end,
            site_key=site_key,
            suppression_threshold=threshold,
            parameters={**parameters, "version": version},
            version=version,
            trigger=trigger,
            requested_by=by,
        )
        snapshot.sites.set(sites)
    return snapshot


@transaction.atomic(durable=True)
def report_request(
    *,
    template: str,
    period: Period,
    by: User,
    site_ids: list[int] | None = None,
    threshold: int | None = None,
    today: date | None = None,
) -> ReportSnapshot:
    """Queue an on-demand report (a new version if the same one exists). The build runs
    on Celery once this transaction has committed."""
    site_ids, threshold = _validated(
        template=template,
        period=period,
        site_ids=site_ids,
        threshold=threshold,
        by=by,
        today=today or timezone.localdate(),
    )
    for _attempt in range(5):
        try:
            snapshot = _create_snapshot(
                template=template,
                period=period,
                site_ids=site_ids,
                threshold=threshold,
                trigger=ReportTrigger.ON_DEMAND,
                by=by,
            )
        except IntegrityError:
            continue  # a concurrent request took this version number: take the next
        _enqueue_build(snapshot.pk)
        return snapshot
    raise ReportRequestError(
        {"non_field_errors": [gettext("Too many requests at once; try again.")]}
    )


def report_regenerate(*, snapshot: ReportSnapshot, by: User) -> ReportSnapshot:
    """The same report again, as the next version (the earlier ones stay as they were)."""
    return report_request(
        template=snapshot.template,
        period=Period.between(snapshot.period_start, snapshot.period_end),
        by=by,
        site_ids=_site_ids_of(snapshot),
        threshold=snapshot.suppression_threshold,
    )


def _enqueue_build(snapshot_id: int) -> None:
    # Through the outbox: the job commits with the snapshot, so a Redis outage delays the
    # build (the relay sends it later) instead of failing the request after commit.
    job_enqueue(task_name="reports.tasks.build_report", kwargs={"snapshot_id": snapshot_id})


def scheduled_snapshot(*, template: str, period: Period) -> tuple[ReportSnapshot, bool]:
    """The monthly job's snapshot of this template and period: found, or created once.
    The partial unique constraint makes a second run (or a concurrent one) find it."""
    lookup = {
        "template": template,
        "period_start": period.start,
        "period_end": period.end,
        "site_key": "all",
        "trigger": ReportTrigger.SCHEDULED,
    }
    for _attempt in range(5):
        existing = ReportSnapshot.objects.filter(**lookup).first()
        if existing:
            return existing, False
        try:
            snapshot = _create_snapshot(
                template=template,
                period=period,
                site_ids=None,
                threshold=settings.SSP_SUPPRESSION_THRESHOLD,
                trigger=ReportTrigger.SCHEDULED,
                by=None,
            )
        except IntegrityError:
            continue  # created by a concurrent run, or a version clash: look again
        return snapshot, True
    raise RuntimeError(f"Could not create the scheduled {template} report for {period.label}")


def _set_progress(snapshot_id: int, percent: int, message: str) -> None:
    # Committed at once (no surrounding transaction), so the polling page sees it.
    ReportSnapshot.objects.filter(pk=snapshot_id, status=ReportStatus.RUNNING).update(
        progress=percent, progress_message=message[:120]
    )


def content_hash(*, parameters: dict, figures: dict) -> str:
    """SHA-256 of the canonical JSON of what the report says (not when it was made)."""
    payload = {
        key: parameters[key]
        for key in ("template", "period_start", "period_end", "sites", "suppression_threshold")
    }
    canonical = json.dumps({"parameters": payload, "figures": figures}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def about_rows(snapshot: ReportSnapshot, figures: dict) -> list[tuple[str, str]]:
    sites = ", ".join(s["label"] for s in figures["scopes"] if s["site_id"] is not None)
    return [
        (
            "Period",
            f"{figures['period']['label']} ({snapshot.period_start} to {snapshot.period_end})",
        ),
        ("Sites", sites if snapshot.site_key != "all" else f"All sites ({sites})"),
        ("Version", str(snapshot.version)),
        (
            "Generated",
            timezone.localtime(snapshot.generated_at or timezone.now()).strftime(
                "%Y-%m-%d %H:%M %Z"
            ),
        ),
        ("Small-cell suppression", f"counts from 1 to {snapshot.suppression_threshold - 1} hidden"),
    ]


def report_build(*, snapshot_id: int) -> ReportSnapshot | None:
    """Build a queued report: figures, suppressed CSV and XLSX, content hash, ready.

    Claims the row first (queued, failed, or running for longer than a task may run),
    so two workers never build the same snapshot; returns None if someone else has it.
    """
    now = timezone.now()
    stale = now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    claimed = (
        ReportSnapshot.objects.filter(pk=snapshot_id)
        .filter(
            Q(status__in=[ReportStatus.QUEUED, ReportStatus.FAILED])
            | Q(status=ReportStatus.RUNNING, started_at__lt=stale)
        )
        .update(
            status=ReportStatus.RUNNING,
            started_at=now,
            progress=1,
            # Stored in English; the progress fragment translates it for whoever looks.
            progress_message=gettext_noop("Starting"),
            error="",
        )
    )
    if not claimed:
        return None
    snapshot = ReportSnapshot.objects.get(pk=snapshot_id)
    try:
        period = Period.between(snapshot.period_start, snapshot.period_end)
        figures = compute_figures(
            period=period,
            site_ids=_site_ids_of(snapshot),
            progress=lambda percent, message: _set_progress(snapshot_id, percent, message),
        )
        _set_progress(snapshot_id, 85, gettext_noop("Writing CSV and XLSX"))
        generated_at = timezone.now()
        snapshot.generated_at = generated_at
        template = TEMPLATES[snapshot.template]
        threshold = snapshot.suppression_threshold
        # Months are the atoms of overlapping periods: a quarter's (year's) suppression
        # is chosen with its months' cells, counted now for months not yet released.
        months = [
            (month, compute_figures(period=month, site_ids=_site_ids_of(snapshot)))
            for month in months_to_release(period=period, figures=figures)
        ]
        mask = report_release(
            figures=figures, template=template, threshold=threshold, period=period, months=months
        )
        rendered = render(figures, template, threshold=threshold, mask=mask)
        about = about_rows(snapshot, figures)
        sites = snapshot.site_key.replace(",", "_")
        stem = f"{snapshot.template}-{period.slug}-{sites}-v{snapshot.version}"
        csv_name = default_storage.save(
            report_file_path(snapshot, f"{stem}.csv"), ContentFile(to_csv(rendered, about=about))
        )
        xlsx_name = default_storage.save(
            report_file_path(snapshot, f"{stem}.xlsx"),
            ContentFile(to_xlsx(rendered, about=about)),
        )
        ReportSnapshot.objects.filter(pk=snapshot_id, status=ReportStatus.RUNNING).update(
            status=ReportStatus.READY,
            progress=100,
            progress_message=gettext_noop("Ready"),
            figures=figures,
            content_hash=content_hash(parameters=snapshot.parameters, figures=figures),
            csv_file=csv_name,
            xlsx_file=xlsx_name,
            generated_at=generated_at,
        )
    except Exception as exc:
        logger.exception("Report %s failed", snapshot_id)
        ReportSnapshot.objects.filter(pk=snapshot_id).update(
            status=ReportStatus.FAILED,
            progress_message=gettext_noop("Failed"),
            error=f"{type(exc).__name__}: {exc}"[:500],
        )
        raise
    return ReportSnapshot.objects.get(pk=snapshot_id)


def _cells(figures: dict, snapshot: ReportSnapshot) -> dict[tuple[str, str, str], object]:
    """The report's cells by (table, line, column), with their unsuppressed values."""
    rendered = render(
        figures,
        TEMPLATES[snapshot.template],
        threshold=snapshot.suppression_threshold,
        suppressed=False,
    )
    return {
        (table.title, row.label, column): cell.value
        for table in rendered.tables
        for row in table.rows
        for column, cell in zip(table.columns, row.cells, strict=True)
    }


def cells_differing(snapshot: ReportSnapshot, figures: dict) -> int:
    """How many of the snapshot's cells (lines and columns of its template) would
    read differently over these figures; a line that appears or goes counts its cells."""
    before, after = _cells(snapshot.figures, snapshot), _cells(figures, snapshot)
    return sum(before.get(key) != after.get(key) for key in before.keys() | after.keys())


def snapshots_recheck(*, today: date | None = None) -> list[SnapshotCheck]:
    """Re-count last month with today's records and compare every ready latest version
    of its reports: corrections, voids and late entries change a month after its report
    was built. Records a SnapshotCheck each, and emails coordinators once about each
    new difference. Returns the checks that found one."""
    period = Period.previous_month(today or timezone.localdate())
    latest = {}
    for snapshot in ReportSnapshot.objects.filter(
        period_start=period.start, period_end=period.end, status=ReportStatus.READY
    ).order_by("version"):
        latest[(snapshot.template, snapshot.site_key)] = snapshot
    fresh: dict[str, dict] = {}  # one computation per site set, shared by the templates
    now, changed = timezone.now(), []
    for (template, site_key), snapshot in sorted(latest.items()):
        if template not in TEMPLATES:
            continue
        if site_key not in fresh:
            fresh[site_key] = compute_figures(period=period, site_ids=_site_ids_of(snapshot))
        differ = cells_differing(snapshot, fresh[site_key])
        previous = snapshot.checks.first()
        check = SnapshotCheck.objects.create(snapshot=snapshot, checked_at=now, cells_differ=differ)
        if differ and (previous is None or previous.cells_differ != differ):
            changed.append(check)
    if changed:
        reports_changed_notify(checks=changed)
        SnapshotCheck.objects.filter(pk__in=[c.pk for c in changed]).update(announced=True)
    return changed


def _changed_lines(checks: list[SnapshotCheck]) -> list[str]:
    base = settings.SITE_BASE_URL.rstrip("/")
    return [
        "- "
        + ngettext(
            "%(report)s (version %(version)s): figures changed since — %(cells)s cell "
            "differs. A new version can be built from %(url)s",
            "%(report)s (version %(version)s): figures changed since — %(cells)s cells "
            "differ. A new version can be built from %(url)s",
            c.cells_differ,
        )
        % {
            "report": c.snapshot.parameters.get("template_name", c.snapshot.template),
            "version": c.snapshot.version,
            "cells": c.cells_differ,
            "url": f"{base}{reverse('reports:detail', args=[c.snapshot.pk])}",
        }
        for c in checks
    ]


def _mail_each(write) -> int:
    """One email per recipient, written by `write()` in that person's language (the
    report names and periods inside stay the funder's)."""
    messages = []
    for user in report_recipients():
        with translation.override(user.language or settings.LANGUAGE_CODE):
            subject, body = write()
        messages.append((subject, body, settings.DEFAULT_FROM_EMAIL, [user.email]))
    return send_mass_mail(messages, fail_silently=False) if messages else 0


def reports_changed_notify(*, checks: list[SnapshotCheck]) -> int:
    """Email coordinators that a published month's figures changed since its report."""
    period = checks[0].snapshot.parameters.get("period_label", str(checks[0].snapshot.period_start))

    def write():
        subject = gettext("Funder reports for %(period)s: figures changed since they were built")
        body = (
            gettext("Records of %(period)s were corrected or added after its reports were built:")
            + "\n\n"
            + "\n".join(_changed_lines(checks))
            + "\n\n"
            + gettext(
                "The versions already sent stay as they were. Sign in to build a new "
                "version if the funder should have the corrected figures."
            )
            + "\n"
        )
        return subject % {"period": period}, body % {"period": period}

    return _mail_each(write)


def monthly_reports_build(*, today: date | None = None) -> list[ReportSnapshot]:
    """Last month's report for every monthly template (program-wide), then one email to
    the coordinators. Safe to run again: existing snapshots are found, not duplicated,
    and only snapshots built by this run are announced."""
    today = today or timezone.localdate()
    return _scheduled_reports_build({"month": Period.previous_month(today)})


def quarterly_reports_build(*, today: date | None = None) -> list[ReportSnapshot]:
    """Nightly (built once; later runs find it): last quarter's report for every quarterly template,
    and, when that quarter closed a calendar or fiscal year, the annual templates too."""
    today = today or timezone.localdate()
    quarter = Period.previous_quarter(today)
    periods = {"quarter": quarter}
    if quarter.end.month == 12:
        periods["year"] = Period.year(quarter.end.year)
    fiscal = Period.previous_fiscal_year(today)
    if fiscal.end == quarter.end:
        periods["fiscal_year"] = fiscal
    return _scheduled_reports_build(periods)


def _scheduled_reports_build(periods: dict[str, Period]) -> list[ReportSnapshot]:
    built = []
    for template in TEMPLATES.values():
        period = periods.get(template.schedule)
        if period is None:
            continue
        snapshot, _created = scheduled_snapshot(template=template.key, period=period)
        if snapshot.status != ReportStatus.READY:
            result = report_build(snapshot_id=snapshot.pk)
            if result is not None and result.status == ReportStatus.READY:
                built.append(result)
    if built:
        reports_notify(snapshots=built)
    return built


def report_recipients():
    """Active staff allowed to view reports who have an email address."""
    permission = Permission.objects.filter(
        content_type__app_label="reports", codename="view_reports"
    ).first()
    condition = Q(is_superuser=True)
    if permission is not None:
        condition |= Q(groups__permissions=permission) | Q(user_permissions=permission)
    return User.objects.filter(condition, is_active=True).exclude(email="").distinct()


def _changed_before(snapshot: ReportSnapshot) -> list[SnapshotCheck]:
    """The month before this snapshot's: its reports' latest checks that found a difference."""
    before = Period.previous_month(snapshot.period_start)
    latest: dict[tuple[str, str], SnapshotCheck] = {}
    for check in (
        SnapshotCheck.objects.filter(
            snapshot__period_start=before.start, snapshot__period_end=before.end
        )
        .select_related("snapshot")
        .order_by("snapshot__version", "checked_at", "pk")
    ):
        # The newest check of the newest version checked: a rebuilt report replaces its
        # predecessor as soon as the daily re-check has looked at it.
        latest[(check.snapshot.template, check.snapshot.site_key)] = check
    return [c for c in latest.values() if c.cells_differ]


def reports_notify(*, snapshots: list[ReportSnapshot]) -> int:
    """Email a link to each new report; figures stay behind the login."""
    if not snapshots:
        return 0
    base = settings.SITE_BASE_URL.rstrip("/")
    labels = list(
        dict.fromkeys(s.parameters.get("period_label", str(s.period_start)) for s in snapshots)
    )
    # Monthly mail: the month before's reports may have changed since (daily re-check).
    monthly = snapshots[0].parameters.get("period_kind") == "month"
    changed = _changed_before(snapshots[0]) if monthly else []

    def write():
        period = gettext(" and ").join(labels)
        lines = [
            "- "
            + gettext("%(report)s, %(period)s (version %(version)s): %(url)s")
            % {
                "report": s.parameters.get("template_name", s.template),
                "period": s.parameters.get("period_label", s.period_start),
                "version": s.version,
                "url": f"{base}{reverse('reports:detail', args=[s.pk])}",
            }
            for s in snapshots
        ]
        subject = gettext("Funder reports for %(period)s are ready") % {"period": period}
        body = (
            gettext("The scheduled funder reports for %(period)s have been generated:")
            % {"period": period}
            + "\n\n"
            + "\n".join(lines)
            + "\n\n"
            + gettext(
                "Sign in to view them and download the CSV and XLSX files. "
                "Published files are small-cell suppressed."
            )
            + "\n"
        )
        if changed:
            body += (
                "\n"
                + gettext("Earlier reports whose figures changed since they were built:")
                + "\n\n"
                + "\n".join(_changed_lines(changed))
                + "\n"
            )
        return subject, body

    return _mail_each(write)
