"""Reads and aggregates of referrals, always scoped to the sites a person may see.

Referrals made at a voided visit are left out everywhere: voiding says the visit
(and what was recorded at it) did not happen.
"""

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone

from org.models import User
from ssp.models import Participant
from ssp.selectors import participant_for_user

from .models import Partner, Referral, ReferralStatus, ReferralStatusChange, ReferralType

NOT_ON_VOIDED_VISIT = Q(visit__isnull=True) | Q(visit__voided_at__isnull=True)


def referral_types(*, active_only: bool = False) -> QuerySet[ReferralType]:
    types = ReferralType.objects.all()
    return types.filter(is_active=True) if active_only else types


def partners(*, active_only: bool = False, type_id: int | None = None) -> QuerySet[Partner]:
    qs = Partner.objects.prefetch_related("types")
    if active_only:
        qs = qs.filter(is_active=True)
    if type_id:
        qs = qs.filter(types=type_id)
    return qs


def referrals_for_user(user: User) -> QuerySet[Referral]:
    """Referrals at the sites this person may see (every site for program-wide roles)."""
    return (
        Referral.objects.filter(site_id__in=user.accessible_site_ids())
        .filter(NOT_ON_VOIDED_VISIT)
        .select_related("participant", "site", "type", "partner", "visit", "created_by")
    )


def history_for_referral(referral: Referral) -> QuerySet[ReferralStatusChange]:
    return referral.history.select_related("changed_by")


@dataclass(frozen=True)
class ReferralFilters:
    site_id: int | None = None
    type_id: int | None = None
    status: str | None = None
    start: date | None = None  # referred_on >= start
    end: date | None = None  # referred_on < end
    overdue_only: bool = False


def referral_list(*, user: User, filters: ReferralFilters, today: date | None = None):
    """The referrals list and its CSV: scoped, filtered, newest first."""
    qs = referrals_for_user(user)
    if filters.site_id:
        qs = qs.filter(site_id=filters.site_id)
    if filters.type_id:
        qs = qs.filter(type_id=filters.type_id)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.start:
        qs = qs.filter(referred_on__gte=filters.start)
    if filters.end:
        qs = qs.filter(referred_on__lt=filters.end)
    if filters.overdue_only:
        qs = qs.filter(
            status=ReferralStatus.REFERRED, follow_up_on__lte=today or timezone.localdate()
        )
    return qs.order_by("-referred_on", "-pk")


def overdue_referrals(*, user: User, today: date | None = None) -> QuerySet[Referral]:
    """Open referrals whose follow-up date has come, oldest follow-up first."""
    return (
        referrals_for_user(user)
        .filter(status=ReferralStatus.REFERRED, follow_up_on__lte=today or timezone.localdate())
        .order_by("follow_up_on", "pk")
    )


def overdue_count(*, user: User, today: date | None = None) -> int:
    return overdue_referrals(user=user, today=today).count()


@dataclass
class FollowUps:
    participant: Participant | None
    due: list[Referral]
    upcoming: list[Referral]

    @property
    def is_empty(self) -> bool:
        return not self.due and not self.upcoming


def follow_ups_for_code(*, user: User, code: str, today: date | None = None) -> FollowUps:
    """A person's open referrals at this user's sites: those due for follow-up first
    (follow-up date today or earlier), then the other open ones."""
    today = today or timezone.localdate()
    # Not participant_by_code: the prompt names the code it shows, which for a code
    # merged into one seen only at other sites would be that other site's code.
    participant = participant_for_user(code, user=user)
    if participant is None:
        return FollowUps(None, [], [])
    open_referrals = list(
        referrals_for_user(user)
        .filter(participant=participant, status=ReferralStatus.REFERRED)
        .order_by("follow_up_on", "pk")
    )
    due = [r for r in open_referrals if r.follow_up_on <= today]
    upcoming = [r for r in open_referrals if r.follow_up_on > today]
    return FollowUps(participant, due, upcoming)


def referral_counts_by_type(
    *, start: date, end: date, site_ids: set[int] | list[int] | None = None
) -> dict[str, dict]:
    """Funder figures per referral type code: {"referred": int, "linked": int}.

    - referred: referrals whose referred_on is in [start, end).
    - linked: referrals now linked whose linked_on (the day the person started the
      service) is in [start, end), whatever the period they were referred in — the
      funder question "linked referrals in the period". For the share of a period's
      referrals that went on to link, see `linkage_summary`.

    Every type appears, zeros included, inactive types too. Referrals at voided
    visits are not counted. `site_ids=None` means every site. Two aggregate queries.
    """
    base = Referral.objects.filter(NOT_ON_VOIDED_VISIT)
    if site_ids is not None:
        base = base.filter(site_id__in=list(site_ids))
    result = {
        code: {"referred": 0, "linked": 0}
        for code in ReferralType.objects.order_by("sort_order", "name").values_list(
            "code", flat=True
        )
    }
    counts = (
        base.filter(
            Q(referred_on__gte=start, referred_on__lt=end)
            | Q(status=ReferralStatus.LINKED, linked_on__gte=start, linked_on__lt=end)
        )
        .values("type__code")
        .annotate(
            referred=Count("pk", filter=Q(referred_on__gte=start, referred_on__lt=end)),
            linked=Count(
                "pk",
                filter=Q(status=ReferralStatus.LINKED, linked_on__gte=start, linked_on__lt=end),
            ),
        )
    )
    for row in counts:
        result[row["type__code"]] = {"referred": row["referred"], "linked": row["linked"]}
    return result


@dataclass
class LinkageRow:
    label: str
    referred: int
    linked: int
    declined: int
    lost: int
    not_needed: int
    open: int
    key: object = None

    @property
    def rate(self) -> float | None:
        """Linked referrals as a share of all referrals made (None when none were made)."""
        return self.linked / self.referred if self.referred else None

    @property
    def rate_percent(self) -> str:
        return "–" if self.rate is None else f"{self.rate * 100:.0f}%"


def _status_counts():
    return {
        "referred": Count("pk"),
        "linked": Count("pk", filter=Q(status=ReferralStatus.LINKED)),
        "declined": Count("pk", filter=Q(status=ReferralStatus.DECLINED)),
        "lost": Count("pk", filter=Q(status=ReferralStatus.LOST)),
        "not_needed": Count("pk", filter=Q(status=ReferralStatus.NOT_NEEDED)),
        "open": Count("pk", filter=Q(status=ReferralStatus.REFERRED)),
    }


def _row(label, key, values) -> LinkageRow:
    return LinkageRow(
        label=label,
        key=key,
        **{k: values.get(k) or 0 for k in _status_counts()},
    )


@dataclass
class LinkageSummary:
    by_type: list[LinkageRow]
    by_site: list[LinkageRow]
    total: LinkageRow


def linkage_summary(
    *, user: User, start: date, end: date, site_id: int | None = None, type_id: int | None = None
) -> LinkageSummary:
    """Linkage of the referrals made in [start, end) (by referred_on), by type and by site.

    The cohort view: each referral made in the period counts once in `referred`, and
    in `linked` if it is linked now (whenever that happened). Rate = linked / referred.
    Three aggregate queries.
    """
    qs = referrals_for_user(user).filter(referred_on__gte=start, referred_on__lt=end)
    if site_id:
        qs = qs.filter(site_id=site_id)
    if type_id:
        qs = qs.filter(type_id=type_id)
    qs = qs.order_by()
    by_type = [
        _row(row["type__name"], row["type_id"], row)
        for row in qs.values("type_id", "type__name", "type__sort_order")
        .annotate(**_status_counts())
        .order_by("type__sort_order", "type__name")
    ]
    by_site = [
        _row(row["site__name"], row["site_id"], row)
        for row in qs.values("site_id", "site__name")
        .annotate(**_status_counts())
        .order_by("site__name")
    ]
    total = _row("All referrals", None, qs.aggregate(**_status_counts()))
    return LinkageSummary(by_type=by_type, by_site=by_site, total=total)


# --- Figures for funder reports (read by reports/) ---
# (`referral_counts_by_type` above gives the period's referred and linked per type.)


def referral_type_names() -> dict[str, str]:
    """Each referral type's name by its code (inactive types too), in display order."""
    return dict(ReferralType.objects.values_list("code", "name"))


def referral_counts_by_month(*, first_day: date, last_day: date, site_ids) -> list[dict]:
    """Per site and month: {"site_id", "month", "referred", "linked"}, as the funder
    reports count them (`referral_counts_by_type`): referred = referrals made in the
    month; linked = referrals confirmed linked during the month (linked_on in it),
    whenever they were made. Days are inclusive; referrals at voided visits are left
    out. Two queries."""
    base = Referral.objects.filter(NOT_ON_VOIDED_VISIT).filter(site_id__in=list(site_ids))
    referred = (
        base.filter(referred_on__gte=first_day, referred_on__lte=last_day)
        .annotate(month=TruncMonth("referred_on"))
        .order_by()
        .values("site_id", "month")
        .annotate(n=Count("pk"))
    )
    linked = (
        base.filter(status=ReferralStatus.LINKED, linked_on__gte=first_day, linked_on__lte=last_day)
        .annotate(month=TruncMonth("linked_on"))
        .order_by()
        .values("site_id", "month")
        .annotate(n=Count("pk"))
    )
    counts: dict[tuple, dict] = {}
    for name, rows in (("referred", referred), ("linked", linked)):
        for row in rows:
            key = (row["site_id"], row["month"])
            counts.setdefault(
                key, {"site_id": key[0], "month": key[1], "referred": 0, "linked": 0}
            )[name] = row["n"]
    return list(counts.values())
