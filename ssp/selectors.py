"""Reads of the ssp app, always scoped to what the person may see."""

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache, partial

from django.conf import settings
from django.db import connection
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Concat, Replace, Substr, TruncMonth
from django.db.models.lookups import Exact
from django.utils import timezone
from django.utils.translation import gettext as _

from inventory.selectors import supply_catalog, supply_items, supply_kits
from org.lookups import AnyOf, CompiledRead
from org.models import ServiceModel, Site, User

from .codes import matches_recipe, near_difference, near_variants, normalise

# CollectionMethod and NaloxoneRefillReason are also read by the reports, to label figures.
from .models import (
    CollectionMethod,
    NaloxoneRefillReason,
    Participant,
    Visit,
    VisitService,
    VisitSupply,
)
from .visit_services import visit_service_labels

# Followed when resolving a merged code; merges re-point older merges, so chains stay short.
MAX_MERGE_HOPS = 10


# --- Participants --------------------------------------------------------------------


# Stand-ins for the values of the look-ups compiled once per process (CompiledRead):
# building and compiling the queryset costs more than running it (1.6 ms against 0.6 ms
# for the near-match query at 1M participants).
_CODE = "CODESMARK"  # codes are letters and digits (normalise): no clash
_CODES = [_CODE]
_SITES = [-1]  # no site has this id


def participant_by_code(code: str) -> Participant | None:
    """The participant a code stands for, however intake would accept it typed (case,
    dashes, spaces, accents: see codes.normalise), following merges to the code now in
    use. Every entry point that takes a code resolves it here (many at once:
    participants_by_code)."""
    return participants_by_code([code]).get(normalise(code))


def participants_by_code(codes: Iterable[str]) -> dict[str, Participant]:
    """The participants these codes stand for (a sync batch's), in one query:
    {normalised code: participant, merges followed}; codes no one has are left out."""
    normals = sorted({normalise(code) for code in codes} - {""})
    if not normals:
        return {}
    columns = _participant_columns()
    found = (
        Participant.from_db(connection.alias, columns, row)
        for row in _BY_CODE_READ.rows(codes=normals)
    )
    return {participant.code: participant_surviving(participant) for participant in found}


def _participant_columns() -> list[str]:
    return [field.attname for field in Participant._meta.concrete_fields]


def _by_code_query(codes: list[str]) -> QuerySet:
    return Participant.objects.filter(AnyOf(F("code"), codes)).values_list(*_participant_columns())


# Every visit reads its code: compiled once per process (org/lookups.py).
_BY_CODE_READ = CompiledRead(_by_code_query, codes=_CODES)


def participant_for_user(code: str, *, user: User) -> Participant | None:
    """participant_by_code for one person: None when they may not see the participant
    (participant_visible_to). A code seen only at other sites, or merged into such a
    code, is no one to them: never the code it became, nor its visits or referrals."""
    participant = participant_by_code(code)
    if participant is None or not participant_visible_to(participant, user):
        return None
    return participant


def participant_surviving(participant: Participant) -> Participant:
    """The participant itself, or the code it was merged into (followed to the end)."""
    hops = 0
    while participant.merged_into_id and hops < MAX_MERGE_HOPS:
        participant = Participant.objects.get(pk=participant.merged_into_id)
        hops += 1
    return participant


def participants_by_prefix(prefix: str, *, user: User, limit: int = 10) -> list[Participant]:
    """Codes in use that start with what has been typed so far (pattern index), among
    those this person may see: a prefix must not list the codes of other sites."""
    normal = normalise(prefix)
    if len(normal) < 2:
        return []
    site_ids, program_wide = user.accessible_site_ids(), user.is_program_wide
    rows = _prefix_read(program_wide, limit).rows(normal=normal, site_ids=sorted(site_ids))
    columns = _participant_columns()
    return [Participant.from_db(connection.alias, columns, row) for row in rows]


@cache
def _prefix_read(program_wide: bool, limit: int) -> CompiledRead:
    """The prefix look-up compiled once per process for each shape of the statement."""
    if program_wide:
        return CompiledRead(partial(_by_prefix_query, program_wide=True, limit=limit), normal=_CODE)
    build = partial(_by_prefix_query, program_wide=False, limit=limit)
    return CompiledRead(build, normal=_CODE, site_ids=_SITES)


def _by_prefix_query(*, normal: str, site_ids=(), program_wide: bool, limit: int) -> QuerySet:
    found = Participant.objects.filter(code__startswith=normal, merged_into__isnull=True)
    if not program_wide:
        found = found.filter(_seen_at_sites(site_ids))  # seen_by
    return found.order_by("code").values_list(*_participant_columns())[:limit]


def seen_by(participants: QuerySet[Participant], *, user: User) -> QuerySet[Participant]:
    """The participants this person may see, by the rule of participant_visible_to: a
    visit at one of their sites, or no visit anywhere yet. Program-wide roles see all."""
    if user.is_program_wide:
        return participants
    return participants.filter(_seen_at_sites(user.accessible_site_ids()))


def _seen_at_sites(site_ids) -> Q:
    """seen_by's rule as a filter expression, for queries that combine it with others.

    Read from the participant's own visits (the participant index), one participant at
    a time: 1 if one is at these sites, 0 if none is, nothing (seen by no one yet) if
    there are none. Written as EXISTS … OR NOT EXISTS, PostgreSQL hashes every visit at
    the person's sites for each query instead (all 9,709 of the bench's: 4.97 ms to
    run the near-match statement against 0.98 ms, growing with the visits)."""
    at_their_sites = Case(When(AnyOf(F("site_id"), site_ids), then=Value(1)), default=Value(0))
    seen = (
        Visit.objects.filter(participant=OuterRef("pk"))
        .order_by()
        .values("participant")
        .annotate(seen=Max(at_their_sites))
        .values("seen")
    )
    return Q(Exact(Coalesce(Subquery(seen), Value(1)), 1))


@dataclass
class Suggestion:
    code: str
    first_seen_on: date
    last_visit_at: datetime | None
    reason: str  # why it is offered, in staff words


def _visits_counted_as_last(site_ids) -> QuerySet[Visit]:
    return Visit.objects.filter(AnyOf(F("site_id"), site_ids), voided_at__isnull=True)


def _last_visits(participant_ids, *, user: User) -> dict[int, datetime]:
    visits = _visits_counted_as_last(user.accessible_site_ids()).filter(
        participant_id__in=participant_ids
    )
    # Served by the (participant, occurred_at) index.
    return dict(
        visits.values("participant_id")
        .annotate(last=Max("occurred_at"))
        .values_list("participant_id", "last")
    )


def _near_hits_query(*, variants, site_ids, program_wide: bool) -> QuerySet:
    """The participants with one of these codes, (id, code, first seen, merged into, last
    visit at these sites), keeping only those seen at these sites (seen_by) unless the
    person is program-wide, and merged-away codes whoever saw them."""
    found = Participant.objects.filter(AnyOf(F("code"), variants))
    if not program_wide:
        found = found.filter(Q(merged_into__isnull=False) | _seen_at_sites(site_ids))
    last = (
        _visits_counted_as_last(site_ids)
        .filter(participant_id=OuterRef("pk"))
        .order_by("-occurred_at")
        .values("occurred_at")[:1]
    )
    return found.annotate(last=Subquery(last)).values_list(
        "pk", "code", "first_seen_on", "merged_into_id", "last"
    )


def _near_hits(variants: set[str], *, user: User) -> list[tuple]:
    site_ids, program_wide = user.accessible_site_ids(), user.is_program_wide
    return _near_hits_read(program_wide).rows(variants=sorted(variants), site_ids=sorted(site_ids))


@cache
def _near_hits_read(program_wide: bool) -> CompiledRead:
    # The sites count for the last visit even for a program-wide person.
    build = partial(_near_hits_query, program_wide=program_wide)
    return CompiledRead(build, variants=_CODES, site_ids=_SITES)


def near_matches(code: str, *, user: User, limit: int = 8) -> list[Suggestion]:
    """Existing codes one edit or one birth year away from `code`, among those this
    person may see (seen_by): a near match must not reveal another site's codes.

    The variants are built in Python and looked up in one query on the unique index, as
    one array parameter (AnyOf), so the cost does not grow with the number of participants.
    The same query keeps only the hits this person may see and reads their last visit;
    a merged-away hit is kept whoever saw it, and its survivor is checked apart (rare).
    """
    normal = normalise(code)
    if len(normal) < 3:
        return []
    hits = _near_hits(near_variants(normal), user=user)
    # A hit on a merged-away code offers the code now in use instead.
    resolved: dict[int, tuple[str, date, str]] = {}
    last: dict[int, datetime] = {}
    survivors: set[int] = set()
    for pk, hit_code, first_seen_on, merged_into_id, last_visit_at in hits:
        if merged_into_id:
            target = participant_by_code(hit_code)
            if target is None:
                continue
            pk, target_code, first_seen_on = target.pk, target.code, target.first_seen_on
        else:
            target_code = hit_code
        if target_code == normal or pk in resolved:
            continue
        reason = near_difference(normal, hit_code)
        if merged_into_id:
            reason = _("%(reason)s (merged into %(code)s)") % {
                "reason": reason,
                "code": target_code,
            }
            survivors.add(pk)
        else:
            last[pk] = last_visit_at
        resolved[pk] = (target_code, first_seen_on, reason)
    if survivors:
        if not user.is_program_wide:
            # Checked on the code now in use: a merged-away code offers its survivor.
            visible = set(
                seen_by(Participant.objects.filter(pk__in=list(survivors)), user=user).values_list(
                    "pk", flat=True
                )
            )
            resolved = {
                pk: hit for pk, hit in resolved.items() if pk not in survivors or pk in visible
            }
        last.update(_last_visits([pk for pk in survivors if pk in resolved], user=user))
    suggestions = [
        Suggestion(code, first_seen_on, last.get(pk), reason)
        for pk, (code, first_seen_on, reason) in resolved.items()
    ]
    # People seen recently first: the likeliest to be standing at the desk.
    suggestions.sort(
        key=lambda s: (s.last_visit_at is None, -(s.last_visit_at or timezone.now()).timestamp())
    )
    return suggestions[:limit]


@dataclass
class CodeLookup:
    """What the front desk learns from a typed code. For a code not seen at the
    person's sites, only that it exists (`known_elsewhere`): enough not to count the
    person new, nothing about them or the other site."""

    code: str
    matches_recipe: bool
    participant: Participant | None = None
    known_elsewhere: bool = False
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
    if not participant_visible_to(participant, user):
        # Not even the code it was merged into: that would name another site's code.
        result.known_elsewhere = True
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


def services_of(visit: Visit) -> list[dict]:
    """A visit's services: {service, label, count}, in the program's order."""
    labels = visit_service_labels()
    order = {code: index for index, code in enumerate(labels)}
    rows = sorted(
        visit.services.all(), key=lambda row: (order.get(row.service, len(order)), row.pk)
    )
    return [
        {"service": row.service, "label": labels.get(row.service, row.service), "count": row.count}
        for row in rows
    ]


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
    ).prefetch_related(_supplies_prefetch(), "services")


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


def visits_today(*, user: User, site: Site) -> list[Visit]:
    """Today's visits at one site for the front-desk list, newest first, voids included."""
    today = timezone.localdate()
    return list(
        visit_list(user=user, site_id=site.pk, occurred_from=today, occurred_to=today,
                   include_void=True).order_by("-occurred_at", "-pk")
    )  # fmt: skip


def my_visits_today(*, user: User, today: date | None = None) -> int:
    """Visits this person logged for today (program time), voids left out; a street
    shift counts as its contacts, as in the funder figures."""
    today = today or timezone.localdate()
    visits = visit_list(user=user, occurred_from=today, occurred_to=today, mine=True)
    return visits.aggregate(n=Sum("contacts"))["n"] or 0


def visit_edit_refusal(*, visit: Visit, by: User, now: datetime | None = None) -> str | None:
    """Why this person may not correct or void the visit, or None if they may."""
    if not by.can_access_site(visit.site_id):
        return _("You do not work at %(site)s.") % {"site": visit.site}
    if visit.is_void:
        return _("This visit was voided; it can no longer be changed.")
    if by.has_perm("ssp.correct_any_visit"):
        return None
    hours = settings.SSP_VISIT_EDIT_HOURS
    if visit.recorded_by_id == by.pk and by.has_perm("ssp.log_visit"):
        if (now or timezone.now()) - visit.recorded_at <= timedelta(hours=hours):
            return None
        return _(
            "Your own visits can be corrected for %(hours)s hours after logging them; "
            "ask a manager."
        ) % {"hours": hours}
    return _(
        "Only the person who logged this visit (within %(hours)s hours) or a manager can change it."
    ) % {"hours": hours}


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


def device_codes(*, user: User, days: int) -> list[str]:
    """The codes a phone keeps for offline near-match suggestions: those with a visit at
    this person's own sites in the last `days` days, the code now in use after merges
    (merges move the visits). Codes only; a code seen only at other sites is never listed."""
    since = timezone.now() - timedelta(days=days)
    visits = Visit.objects.filter(
        site_id__in=user.accessible_site_ids(), voided_at__isnull=True, occurred_at__gte=since
    )
    return list(
        Participant.objects.filter(
            merged_into__isnull=True,
            pk__in=visits.filter(participant__isnull=False).values("participant_id"),
        )
        .order_by("code")
        .values_list("code", flat=True)
    )


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


# --- Figures for funder reports (read by reports/) ---
# Aggregates over visits, computed in the database: one query each (two where said)
# whatever the number of visits. Voided visits never count; a corrected visit counts as corrected
# (its row holds the corrected values). Periods are half-open [start, end) datetimes.


def _period_visits(*, start: datetime, end: datetime, site_ids) -> QuerySet[Visit]:
    # Served by the (site, occurred_at) index.
    return Visit.objects.filter(
        site_id__in=list(site_ids),
        occurred_at__gte=start,
        occurred_at__lt=end,
        voided_at__isnull=True,
    )


def visit_figures_by_site(*, start: datetime, end: datetime, site_ids) -> dict[int, dict]:
    """Per site: {figure: int} for the period's visits, keyed as the funder reports are.

    visits, identified_visits, anonymous_visits (a street shift logged in bulk counts as
    its contacts), unique_participants (per site), secondary_people, secondary_visits,
    overdose_reversals, syringes_collected, refills, and the families
    service_model.<code>, collected.<collection method>, refills.<reason>.
    """
    expressions = {
        "visits": Sum("contacts"),
        "identified_visits": Sum("contacts", filter=Q(participant__isnull=False)),
        "anonymous_visits": Sum("contacts", filter=Q(participant__isnull=True)),
        "unique_participants": Count("participant", distinct=True),
        "secondary_people": Sum("secondary_people"),
        "secondary_visits": Count("pk", filter=Q(secondary_people__gt=0)),
        "overdose_reversals": Sum("overdose_reversals"),
        "syringes_collected": Sum("syringes_collected"),
        "refills": Count("pk", filter=~Q(naloxone_refill_reason="")),
    }
    for code in ServiceModel.values:
        expressions[f"service_model.{code}"] = Sum("contacts", filter=Q(service_model=code))
    for code in CollectionMethod.values:
        expressions[f"collected.{code}"] = Sum(
            "syringes_collected", filter=Q(collection_method=code)
        )
    for code in NaloxoneRefillReason.values:
        expressions[f"refills.{code}"] = Count("pk", filter=Q(naloxone_refill_reason=code))
    # Dotted keys are not SQL-friendly aliases: annotate as f0, f1, … and map back.
    aliases = {f"f{i}": key for i, key in enumerate(expressions)}
    rows = (
        _period_visits(start=start, end=end, site_ids=site_ids)
        .order_by()
        .values("site_id")
        .annotate(**{alias: expressions[key] for alias, key in aliases.items()})
    )
    return {
        row["site_id"]: {key: row[alias] or 0 for alias, key in aliases.items()} for row in rows
    }


def unique_participants_across(*, start: datetime, end: datetime, site_ids) -> int:
    """People with a code seen in the period, a person seen at two sites counted once."""
    visits = _period_visits(start=start, end=end, site_ids=site_ids)
    return visits.aggregate(n=Count("participant", distinct=True))["n"] or 0


def new_participants_by_site(
    *, start: datetime, end: datetime, first_day: date, site_ids
) -> dict[int, int]:
    """Per site: people whose first non-void visit ever (program-wide) is in the period.

    Ties at the same instant go to the lower id, so a person is new at exactly one visit.
    A code first seen before `first_day` (e.g. carried over from paper records) is not
    new. Probes the (participant, occurred_at) index once per visit of the period.
    """
    earlier = Visit.objects.filter(
        participant_id=OuterRef("participant_id"), voided_at__isnull=True
    ).filter(
        Q(occurred_at__lt=OuterRef("occurred_at"))
        | Q(occurred_at=OuterRef("occurred_at"), pk__lt=OuterRef("pk"))
    )
    firsts = (
        _period_visits(start=start, end=end, site_ids=site_ids)
        .filter(participant__isnull=False, participant__first_seen_on__gte=first_day)
        .filter(~Exists(earlier))
    )
    rows = firsts.values("site_id").annotate(n=Count("pk")).order_by()
    return {row["site_id"]: row["n"] for row in rows}


def services_given_by_site(
    *, start: datetime, end: datetime, site_ids
) -> Iterator[tuple[int, str, int]]:
    """(site id, service code, times given) at the period's visits, voided visits left
    out; a street shift gives its counts. One query."""
    rows = (
        VisitService.objects.filter(
            visit__site_id__in=list(site_ids),
            visit__occurred_at__gte=start,
            visit__occurred_at__lt=end,
            visit__voided_at__isnull=True,
        )
        .order_by()
        .values("visit__site_id", "service")
        .annotate(times=Sum("count"))
    )
    for row in rows:
        yield row["visit__site_id"], row["service"], row["times"]


def supply_units_by_site(
    *, start: datetime, end: datetime, site_ids
) -> Iterator[tuple[int, int, int]]:
    """(site id, item id, units) handed out at the period's visits, kits expanded to
    their components. Two queries: items given as such, and kits' components."""
    lines = VisitSupply.objects.filter(
        visit__site_id__in=list(site_ids),
        visit__occurred_at__gte=start,
        visit__occurred_at__lt=end,
        visit__voided_at__isnull=True,
    ).order_by()
    direct = (
        lines.filter(item__isnull=False)
        .values("visit__site_id", "item_id")
        .annotate(units=Sum("quantity"))
    )
    for row in direct:
        yield row["visit__site_id"], row["item_id"], row["units"]
    kits = (
        lines.filter(kit__isnull=False)
        .values("visit__site_id", "kit__components__item_id")
        .annotate(units=Sum(F("quantity") * F("kit__components__quantity")))
    )
    for row in kits:
        if row["kit__components__item_id"] is not None:  # a kit without components
            yield row["visit__site_id"], row["kit__components__item_id"], row["units"]


# Where the hyphens go in a uuid's canonical text: 8-4-4-4-12 hex digits.
UUID_GROUPS = ((1, 8), (9, 4), (13, 4), (17, 4), (21, 12))


def _stock_reference():
    """`Visit.stock_reference` ("visit:" + the uuid's canonical 8-4-4-4-12 text, as the
    ledger holds it) as one SQL expression. PostgreSQL's uuid text is that form already;
    SQLite's is the 32 hex digits, so the hyphens are put back where the canonical form
    has them (one string built per visit: at a million visits, rebuilding PostgreSQL's
    text the same way costs a second of the report)."""
    text = Cast("uuid", output_field=CharField())
    if connection.vendor == "postgresql":
        return Concat(Value("visit:"), text, output_field=CharField())
    digits = Replace(text, Value("-"), Value(""))
    parts = []
    for begin, length in UUID_GROUPS:
        parts += [Value("-"), Substr(digits, begin, length)]
    return Concat(Value("visit:"), *parts[1:], output_field=CharField())


def visit_stock_references(*, start: datetime, end: datetime, site_ids) -> QuerySet:
    """The ledger references of the period's visits, as a subquery (one "ref" column)
    to hand to inventory, which knows a reference but not what a visit is."""
    visits = _period_visits(start=start, end=end, site_ids=site_ids)
    return visits.annotate(ref=_stock_reference()).values("ref")


def visit_records_between(*, start: datetime, end: datetime) -> int:
    """Visit records made for the period at every site, voided ones included."""
    return Visit.objects.filter(occurred_at__gte=start, occurred_at__lt=end).count()


def visit_figures_by_month(*, start: datetime, end: datetime, site_ids) -> list[dict]:
    """Per site and month (program time zone): visits, unique (participants, per site)
    and collected (syringes). The month is the first instant of the month."""
    rows = (
        _period_visits(start=start, end=end, site_ids=site_ids)
        .annotate(month=TruncMonth("occurred_at", tzinfo=timezone.get_default_timezone()))
        .order_by()
        .values("site_id", "month")
        .annotate(
            visits=Sum("contacts"),
            unique=Count("participant", distinct=True),
            collected=Sum("syringes_collected"),
        )
    )
    return list(rows)


def unique_participants_by_month(*, start: datetime, end: datetime, site_ids) -> list[dict]:
    """Per month: {"month", "unique"}, a person seen at several of the sites counted once."""
    rows = (
        _period_visits(start=start, end=end, site_ids=site_ids)
        .annotate(month=TruncMonth("occurred_at", tzinfo=timezone.get_default_timezone()))
        .order_by()
        .values("month")
        .annotate(unique=Count("participant", distinct=True))
    )
    return list(rows)


def supplies_by_month(*, start: datetime, end: datetime, site_ids) -> Iterator[dict]:
    """Per site, month and supply category: {"site_id", "month", "category", "units",
    "doses"} (naloxone doses; kits expanded to their components). Two queries."""
    lines = VisitSupply.objects.filter(
        visit__site_id__in=list(site_ids),
        visit__occurred_at__gte=start,
        visit__occurred_at__lt=end,
        visit__voided_at=None,
    ).annotate(month=TruncMonth("visit__occurred_at", tzinfo=timezone.get_default_timezone()))
    direct = (
        lines.filter(item__isnull=False)
        .order_by()
        .values("visit__site_id", "month", "item__category")
        .annotate(
            units=Sum("quantity"), doses=Sum(F("quantity") * F("item__naloxone_doses_per_unit"))
        )
    )
    for row in direct:
        yield {
            "site_id": row["visit__site_id"],
            "month": row["month"],
            "category": row["item__category"],
            "units": row["units"],
            "doses": row["doses"],
        }
    kits = (
        lines.filter(kit__isnull=False)
        .order_by()
        .values("visit__site_id", "month", "kit__components__item__category")
        .annotate(
            units=Sum(F("quantity") * F("kit__components__quantity")),
            doses=Sum(
                F("quantity")
                * F("kit__components__quantity")
                * F("kit__components__item__naloxone_doses_per_unit")
            ),
        )
    )
    for row in kits:
        yield {
            "site_id": row["visit__site_id"],
            "month": row["month"],
            "category": row["kit__components__item__category"],
            "units": row["units"],
            "doses": row["doses"],
        }
