"""Reads of the ssp app, always scoped to what the person may see."""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count, Max, Prefetch, QuerySet
from django.utils import timezone

from inventory.selectors import supply_catalog, supply_items, supply_kits
from org.models import Site, User

from .codes import matches_recipe, near_variants, normalise
from .models import Participant, Visit, VisitSupply

# Followed when resolving a merged code; merges re-point older merges, so chains stay short.
MAX_MERGE_HOPS = 10


# --- Participants --------------------------------------------------------------------


def participant_by_code(code: str) -> Participant | None:
    """The participant a code stands for, following merges to the code now in use."""
    normal = normalise(code)
    if not normal:
        return None
    participant = Participant.objects.filter(code=normal).first()
    hops = 0
    while participant is not None and participant.merged_into_id and hops < MAX_MERGE_HOPS:
        participant = Participant.objects.get(pk=participant.merged_into_id)
        hops += 1
    return participant


def participants_by_prefix(prefix: str, *, limit: int = 10) -> list[Participant]:
    """Codes in use that start with what has been typed so far (pattern index)."""
    normal = normalise(prefix)
    if len(normal) < 2:
        return []
    return list(
        Participant.objects.filter(code__startswith=normal, merged_into__isnull=True).order_by(
            "code"
        )[:limit]
    )


@dataclass
class Suggestion:
    code: str
    first_seen_on: date
    last_visit_at: datetime | None
    reason: str  # why it is offered, in staff words


def _last_visits(participant_ids, *, user: User | None) -> dict[int, datetime]:
    visits = Visit.objects.filter(participant_id__in=participant_ids, voided_at__isnull=True)
    if user is not None:
        visits = visits.filter(site_id__in=user.accessible_site_ids())
    # Served by the (participant, occurred_at) index.
    return dict(
        visits.values("participant_id")
        .annotate(last=Max("occurred_at"))
        .values_list("participant_id", "last")
    )


def near_matches(code: str, *, user: User | None = None, limit: int = 8) -> list[Suggestion]:
    """Existing codes one edit or one birth year away from `code`.

    The variants are built in Python and looked up in one `code IN (...)` query on
    the unique index, so the cost does not grow with the number of participants.
    """
    normal = normalise(code)
    if len(normal) < 3:
        return []
    variants = near_variants(normal)
    found = list(
        Participant.objects.filter(code__in=variants).only("code", "first_seen_on", "merged_into")
    )
    # A hit on a merged-away code offers the code now in use instead.
    resolved: dict[int, tuple[Participant, str]] = {}
    for hit in found:
        target = participant_by_code(hit.code) if hit.merged_into_id else hit
        if target is None or target.code == normal or target.pk in resolved:
            continue
        reason = _edit_reason(normal, hit.code)
        if hit.merged_into_id:
            reason += f" (merged into {target.code})"
        resolved[target.pk] = (target, reason)
    last = _last_visits(resolved.keys(), user=user)
    suggestions = [
        Suggestion(p.code, p.first_seen_on, last.get(p.pk), reason)
        for p, reason in resolved.values()
    ]
    # People seen recently first: the likeliest to be standing at the desk.
    suggestions.sort(
        key=lambda s: (s.last_visit_at is None, -(s.last_visit_at or timezone.now()).timestamp())
    )
    return suggestions[:limit]


def _edit_reason(typed: str, existing: str) -> str:
    if len(typed) == len(existing):
        diffs = [i for i, (a, b) in enumerate(zip(typed, existing, strict=True)) if a != b]
        if len(diffs) == 2 and diffs[1] == diffs[0] + 1:
            return "swapped letters"
        if len(diffs) == 1:
            return "one character different"
        return "birth year ±1"
    return "one character missing" if len(typed) < len(existing) else "one character extra"


@dataclass
class CodeLookup:
    """What the front desk learns from a typed code."""

    code: str
    matches_recipe: bool
    participant: Participant | None = None
    typed_code_merged: bool = False
    last_visit: Visit | None = None
    visit_count: int = 0
    usual_lines: list[dict] = field(default_factory=list)
    suggestions: list[Suggestion] = field(default_factory=list)


def code_lookup(code: str, *, user: User, with_suggestions: bool = True) -> CodeLookup:
    normal = normalise(code)
    result = CodeLookup(code=normal, matches_recipe=matches_recipe(normal))
    participant = participant_by_code(normal)
    if participant is None:
        if with_suggestions:
            result.suggestions = near_matches(normal, user=user)
        return result
    result.participant = participant
    result.typed_code_merged = participant.code != normal
    visits = visits_for_user(user).filter(participant=participant, voided_at__isnull=True)
    recent = list(
        visits.select_related("site")
        .prefetch_related(_supplies_prefetch())
        .order_by("-occurred_at")[:10]
    )
    result.visit_count = visits.count() if len(recent) == 10 else len(recent)
    result.last_visit = recent[0] if recent else None
    result.usual_lines = usual_lines(recent)
    return result


def _supplies_prefetch() -> Prefetch:
    return Prefetch(
        "supplies", queryset=VisitSupply.objects.select_related("item", "kit").order_by("pk")
    )


def usual_lines(recent_visits: list[Visit]) -> list[dict]:
    """The supply set this person took most often in their recent visits (ties: latest)."""
    signatures = []
    for visit in recent_visits:
        lines = supply_lines_of(visit)
        if lines:
            signatures.append(tuple((ln["kind"], ln["id"], ln["quantity"]) for ln in lines))
    if not signatures:
        return []
    counts = Counter(signatures)
    best = max(signatures, key=lambda s: (counts[s], -signatures.index(s)))
    by_key = {(ln["kind"], ln["id"]): ln for v in recent_visits for ln in supply_lines_of(v)}
    return [{**by_key[(kind, pk)], "quantity": qty} for kind, pk, qty in best]


def supply_lines_of(visit: Visit) -> list[dict]:
    """A visit's supplies as plain lines: {kind, id, code, name, quantity}."""
    lines = []
    for supply in visit.supplies.all():
        thing = supply.kit or supply.item
        kind = "kit" if supply.kit_id else "item"
        lines.append(
            {
                "kind": kind,
                "id": thing.pk,
                "code": thing.code,
                "name": thing.name,
                "quantity": supply.quantity,
            }
        )
    lines.sort(key=lambda ln: (ln["kind"], ln["id"]))
    return lines


def participant_visible_to(participant: Participant, user: User) -> bool:
    """Staff see a code if it has a visit at one of their sites (or none at all yet)."""
    if user.is_program_wide:
        return True
    visits = Visit.objects.filter(participant=participant)
    if not visits.exists():
        return True
    return visits.filter(site_id__in=user.accessible_site_ids()).exists()


# --- Visits --------------------------------------------------------------------------


def visits_for_user(user: User) -> QuerySet[Visit]:
    """Visits at the sites this person may see."""
    return Visit.objects.filter(site_id__in=user.accessible_site_ids())


def visit_list(
    *,
    user: User,
    site_id: int | None = None,
    code: str = "",
    occurred_from: date | None = None,
    occurred_to: date | None = None,
    service_model: str = "",
    include_void: bool = False,
    mine: bool = False,
    bulk: bool | None = None,
) -> QuerySet[Visit]:
    visits = visits_for_user(user)
    if site_id:
        visits = visits.filter(site_id=site_id)
    if code:
        participant = participant_by_code(code)
        visits = visits.filter(participant=participant) if participant else visits.none()
    if occurred_from:
        visits = visits.filter(occurred_at__gte=_day_start(occurred_from))
    if occurred_to:
        visits = visits.filter(occurred_at__lt=_day_start(occurred_to + timedelta(days=1)))
    if service_model:
        visits = visits.filter(service_model=service_model)
    if not include_void:
        visits = visits.filter(voided_at__isnull=True)
    if mine:
        visits = visits.filter(recorded_by=user)
    if bulk is not None:
        visits = visits.filter(contacts__gt=1) if bulk else visits.filter(contacts=1)
    return visits.select_related(
        "site", "location", "participant", "recorded_by", "voided_by"
    ).prefetch_related(_supplies_prefetch())


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


def visits_today(*, user: User, site: Site) -> list[Visit]:
    """Today's visits at one site for the front-desk list, newest first, voids included."""
    today = timezone.localdate()
    return list(
        visit_list(user=user, site_id=site.pk, occurred_from=today, occurred_to=today,
                   include_void=True).order_by("-occurred_at", "-pk")
    )  # fmt: skip


def visit_for_user(*, user: User, uuid) -> Visit | None:
    return visit_list(user=user, include_void=True).filter(uuid=uuid).first()


def quick_supplies(*, site: Site, limit: int = 8) -> dict:
    """Kits and the items most handed out at this site in the last 90 days."""
    kits = supply_kits()
    since = timezone.now() - timedelta(days=90)
    popular = (
        VisitSupply.objects.filter(
            visit__site=site, visit__occurred_at__gte=since, item__isnull=False
        )
        .values("item_id")
        .annotate(times=Count("id"))
        .order_by("-times")[:limit]
    )
    ids = [row["item_id"] for row in popular]
    items = {i.pk: i for i in supply_items(ids=ids)}
    common = [items[pk] for pk in ids if pk in items]
    if len(common) < limit:
        common += supply_items(exclude=[i.pk for i in common], limit=limit - len(common))
    return {"kits": kits, "items": common}


def all_supplies() -> dict:
    return supply_catalog()


def participant_merge_preview(*, user: User, merged: Participant, kept: Participant) -> dict:
    counts = dict(
        Visit.objects.filter(participant__in=[merged, kept])
        .values("participant_id")
        .annotate(n=Count("id"))
        .values_list("participant_id", "n")
    )
    return {
        "merged_visits": counts.get(merged.pk, 0),
        "kept_visits": counts.get(kept.pk, 0),
        "merged_referrals": merged.referrals.count() if hasattr(merged, "referrals") else 0,
    }


def visit_is_open_to(visit: Visit, user: User, *, now: datetime | None = None) -> bool:
    """Whether this person may still correct or void the visit (see services)."""
    from .services import visit_edit_refusal

    return visit_edit_refusal(visit=visit, by=user, now=now) is None
