"""Funder reports' home tiles for coordinators (org/home.py): this month so far
against the same days of last month, and reports ready this month."""

from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from org import roles
from org.home import HomeTile

from .selectors import may_view_unsuppressed, month_to_date, reports_ready


def tiles(request, role) -> list[HomeTile]:
    user = request.user
    if role != roles.COORDINATOR or not user.has_perm("reports.view_reports"):
        return []
    today = timezone.localdate()
    entries = []
    # Raw counts, small ones included: only for those who may see unsuppressed figures.
    if may_view_unsuppressed(user):
        mtd = month_to_date(site_ids=user.accessible_site_ids())
        entries.append(
            HomeTile(
                _("Visits this month so far"),
                mtd.visits,
                url=reverse("reports:dashboard"),
                note=str(
                    _("Day %(days)s of %(month)s, against the same days of %(last)s.")
                    % {
                        "days": mtd.days,
                        # Month names in the person's language, not the funder's label.
                        "month": date_format(mtd.this_month.start, "YEAR_MONTH_FORMAT"),
                        "last": date_format(mtd.last_month.start, "YEAR_MONTH_FORMAT"),
                    }
                ),
                parts=(
                    (_("This month"), mtd.visits),
                    (_("Same days last month"), mtd.last_month_visits),
                ),
                order=10,
            )
        )
    ready = reports_ready(user=user, since=today.replace(day=1)).count()
    entries.append(
        HomeTile(
            _("Reports ready this month"),
            ready,
            url=reverse("reports:list"),
            note=str(_("Built since the 1st, with their CSV and XLSX.")),
            order=11,
        )
    )
    return entries
