"""Reads of funder reports: snapshots a person may see, and the dashboard's trends."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db.models import DateField, ExpressionWrapper, F, QuerySet
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext, gettext_lazy

from inventory.selectors import Category
from org.models import Site, User
from referrals.selectors import referral_counts_by_month
from ssp.selectors import (
    supplies_by_month,
    unique_participants_by_month,
    visit_figures_by_month,
    visit_figures_by_site,
)

from .funder_templates import TEMPLATES
from .metrics import TOTAL
from .models import ReportSnapshot, ReportStatus
from .periods import Period, months_back
from .releases import report_release, trends_release
from .rendering import Rendered, render


def snapshots_for_user(user: User) -> QuerySet[ReportSnapshot]:
    """Program-wide people see every report; others only reports of their own sites.
    Reports of part of a month only for people who may see unsuppressed figures: their
    suppressed files beside the whole month's would give small counts away."""
    snapshots = ReportSnapshot.objects.select_related("requested_by")
    if not may_view_unsuppressed(user):
        snapshots = snapshots.annotate(
            day_after=ExpressionWrapper(F("period_end") + timedelta(days=1), DateField())
        ).filter(period_start__day=1, day_after__day=1)
    if user.is_program_wide:
        return snapshots
    others = Site.objects.exclude(pk__in=user.accessible_site_ids())
    return snapshots.exclude(site_key="all").exclude(sites__in=others)


def snapshot_versions(snapshot: ReportSnapshot) -> QuerySet[ReportSnapshot]:
    return ReportSnapshot.objects.filter(
        template=snapshot.template,
        period_start=snapshot.period_start,
        period_end=snapshot.period_end,
        site_key=snapshot.site_key,
    ).order_by("-version")


def snapshot_changed_since(snapshot: ReportSnapshot) -> int:
    """Cells of this snapshot that differ from its period's figures as last re-counted
    (the daily re-check of last month, reports.services.snapshots_recheck); 0 if none
    or never checked."""
    check = snapshot.checks.first()
    return check.cells_differ if check else 0


def may_view_unsuppressed(user: User) -> bool:
    return user.has_perm("reports.view_unsuppressed")


def snapshot_rendered(snapshot: ReportSnapshot, *, unsuppressed: bool = False) -> Rendered | None:
    if not snapshot.figures or snapshot.template not in TEMPLATES:
        return None
    template = TEMPLATES[snapshot.template]
    # The period's linked set, which may have grown since the files were written: the
    # page shows no cell that a later release of the period hides.
    mask = report_release(
        figures=snapshot.figures,
        template=template,
        threshold=snapshot.suppression_threshold,
        period=Period.between(snapshot.period_start, snapshot.period_end),
    )
    return render(
        snapshot.figures,
        template,
        threshold=snapshot.suppression_threshold,
        suppressed=not unsuppressed,
        mask=mask,
    )


# --- Dashboard ---------------------------------------------------------------------

# The dashboard's own words, in the person's language (the funder files have theirs).
TREND_SERIES = {
    "visits": gettext_lazy("Visits"),
    "unique_participants": gettext_lazy("Unique participants"),
    "syringes_distributed": gettext_lazy("Syringes distributed"),
    "syringes_collected": gettext_lazy("Syringes collected"),
    "naloxone_doses": gettext_lazy("Naloxone doses distributed"),
    "referred": gettext_lazy("Referrals made"),
    "linked": gettext_lazy("Linked during the month"),
}


@dataclass(frozen=True)
class MonthToDate:
    """Visits this month so far against the same first days of last month."""

    this_month: Period
    last_month: Period
    days: int  # days of this month so far, today included
    visits: int
    last_month_visits: int


def month_to_date(*, site_ids, now: datetime | None = None) -> MonthToDate:
    """This month's visits up to `now` beside last month's first as many days (all of
    last month when it is shorter), so a month one day old is not compared with a
    whole one. Visits as the funder reports count them (a street shift's contacts)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    this_month = Period.month(today.year, today.month)
    last_month = Period.previous_month(today)
    days = today.day
    same_days = Period(
        last_month.start,
        last_month.start + timedelta(days=min(days, last_month.end.day) - 1),
    )

    def visits(start, end) -> int:
        by_site = visit_figures_by_site(start=start, end=end, site_ids=site_ids)
        return sum(row["visits"] for row in by_site.values())

    return MonthToDate(
        this_month=this_month,
        last_month=last_month,
        days=days,
        visits=visits(this_month.bounds()[0], now),
        last_month_visits=visits(*same_days.bounds()),
    )


def reports_ready(*, user: User, since: date) -> QuerySet[ReportSnapshot]:
    """Ready snapshots this person may see, generated on or after `since`."""
    start = timezone.make_aware(datetime.combine(since, time.min))
    return snapshots_for_user(user).filter(status=ReportStatus.READY, generated_at__gte=start)


def monthly_trends(
    *,
    site_ids: list[int],
    months: int = 12,
    today: date | None = None,
    suppressed: bool = True,
    threshold: int | None = None,
) -> dict:
    """Month-by-month figures for the dashboard, per site and in total.

    Six aggregate queries whatever the number of months or sites. Linkage rate is the
    report's: referrals linked during the month ÷ referrals made in the month (the
    definitions of "linked" and "referred" in reports/metrics.py). With `suppressed`,
    each month is released into that month's linked set (reports/releases.py), and its
    hidden cells — counts from 1 to threshold−1, their complements, and anything a report
    of the month hides — are None.
    `partial[i]` marks the month still running: its figures are "so far". Suppressed
    figures stop at the last whole month (`withheld` names the running one): a month's
    figures published day after day would give, by subtraction, one day's counts at a
    site, however each day's release were suppressed.
    """
    threshold = threshold or settings.SSP_SUPPRESSION_THRESHOLD
    today = today or timezone.localdate()
    running = Period.month(today.year, today.month)
    last = Period.previous_month(today).start if suppressed else today
    periods = months_back(count=months, today=last)
    start, end = periods[0].bounds()[0], periods[-1].bounds()[1]
    month_keys = [p.start.strftime("%Y-%m") for p in periods]
    sites = list(Site.objects.filter(pk__in=site_ids).order_by("name"))
    scope_of = {site.pk: site.code for site in sites}
    scopes = [site.code for site in sites] + [TOTAL]
    series = {name: {s: [0] * len(periods) for s in scopes} for name in TREND_SERIES}
    index = {key: i for i, key in enumerate(month_keys)}
    within = {"start": start, "end": end, "site_ids": list(scope_of)}

    def add(name, site_id, month, value):
        i = index.get(month.strftime("%Y-%m"))
        if i is not None and value:
            series[name][scope_of[site_id]][i] += value
            if name != "unique_participants":
                series[name][TOTAL][i] += value

    for row in visit_figures_by_month(**within):
        add("visits", row["site_id"], row["month"], row["visits"])
        add("unique_participants", row["site_id"], row["month"], row["unique"])
        add("syringes_collected", row["site_id"], row["month"], row["collected"])
    for row in unique_participants_by_month(**within):
        i = index.get(row["month"].strftime("%Y-%m"))
        if i is not None:
            series["unique_participants"][TOTAL][i] = row["unique"]

    for row in supplies_by_month(**within):
        if row["category"] == Category.SYRINGE:
            add("syringes_distributed", row["site_id"], row["month"], row["units"])
        elif row["category"] == Category.NALOXONE:
            add("naloxone_doses", row["site_id"], row["month"], row["doses"])

    for row in referral_counts_by_month(
        first_day=periods[0].start, last_day=periods[-1].end, site_ids=list(scope_of)
    ):
        add("referred", row["site_id"], row["month"], row["referred"])
        add("linked", row["site_id"], row["month"], row["linked"])

    hidden = set()
    if suppressed:
        for i, month in enumerate(periods):
            hidden |= {
                (name, scope, i)
                for name, scope in trends_release(
                    series=series, scopes=scopes, month=month, index=i, threshold=threshold
                )
            }
    out = {
        name: {
            scope: [None if (name, scope, i) in hidden else v for i, v in enumerate(values)]
            for scope, values in by_scope.items()
        }
        for name, by_scope in series.items()
    }
    out["linkage_rate"] = {
        scope: [
            None
            if referred is None or linked is None or not referred
            else round(linked / referred, 4)
            for referred, linked in zip(out["referred"][scope], out["linked"][scope], strict=True)
        ]
        for scope in scopes
    }
    # The running month is drawn as "so far" (dashed), never as a drop to its end.
    partial = [p.start <= today <= p.end for p in periods]
    return {
        "months": month_keys,
        # Month names in the person's language ("Dec 2026", "Dic 2026").
        "month_labels": [date_format(p.start, "M Y") for p in periods],
        "partial": partial,
        "days_so_far": today.day if any(partial) else None,
        "withheld": None if any(partial) else date_format(running.start, "YEAR_MONTH_FORMAT"),
        "scopes": [{"key": s.code, "label": s.name} for s in sites]
        + [{"key": TOTAL, "label": gettext("All selected sites")}],
        "series": out,
        "series_labels": {
            **{name: str(label) for name, label in TREND_SERIES.items()},
            "linkage_rate": gettext("Linkage rate"),
        },
        "suppressed": suppressed,
        "threshold": threshold,
    }


def trend_table(trends: dict) -> list[dict]:
    """The dashboard's figures as rows (month × scope), newest month first."""
    rows = []
    for i in reversed(range(len(trends["months"]))):
        for scope in trends["scopes"]:
            values = []
            for name in trends["series_labels"]:
                value = trends["series"][name][scope["key"]][i]
                if value is None:
                    values.append("–" if name == "linkage_rate" else gettext("suppressed"))
                elif name == "linkage_rate":
                    values.append(f"{value:.0%}")
                else:
                    values.append(number_format(value, force_grouping=True))
            month = trends["month_labels"][i]
            if trends.get("partial", [False] * (i + 1))[i]:
                month = gettext("%(month)s (so far, %(days)s days)") % {
                    "month": month,
                    "days": trends["days_so_far"],
                }
            rows.append({"month": month, "scope": scope["label"], "values": values})
    return rows
