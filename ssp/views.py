import contextlib
import json
from uuid import uuid4

from auditlog.models import LogEntry
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from inventory.services import StockError
from org.forms import form_errors_from
from org.models import Site
from org.offline import available_offline
from org.selectors import recording_sites_for_user, sites_for_user, street_site_for_user

from . import selectors, services
from .codes import CodeError, build_code, current_recipe, normalise
from .forms import (
    SERVICE_FIELD,
    CorrectionForm,
    IntakeForm,
    MergeForm,
    PostedLine,
    ShiftForm,
    VisitFilterForm,
    VoidForm,
    parse_lines,
    parse_services,
)
from .models import ParticipantMerge, Visit
from .throttles import lookup_wait
from .visit_extras import visit_extra_fields, visit_extras, visits_described
from .visit_services import visit_services

# --- Intake: the front desk ----------------------------------------------------------

SITE_SESSION_KEY = "intake_site_id"


def _chosen_site(request, sites) -> Site | None:
    """The site the person works at right now: ?site=, else the last one, else the first."""
    wanted = (
        request.GET.get("site") or request.POST.get("site") or request.session.get(SITE_SESSION_KEY)
    )
    site = None
    if str(wanted or "").isdigit():
        site = sites.filter(pk=int(wanted)).first()
    site = site or sites.first()
    if site is not None:
        request.session[SITE_SESSION_KEY] = site.pk
    return site


def _supply_choices():
    return selectors.all_supplies()


def _quick_supplies(site):
    """The quick-add buttons of a supply form (none before the person has a site)."""
    return selectors.quick_supplies(site=site) if site else {"kits": [], "items": []}


@permission_required("ssp.log_visit", raise_exception=True)
@available_offline
def intake(request):
    """The front-desk screen: code → person, supplies, Enter saves; today's visits below."""
    sites = recording_sites_for_user(request.user)
    site = _chosen_site(request, sites)
    posted_lines, line_errors, service_error = [], [], None
    posted_services = {}
    posting = request.method == "POST" and site is not None
    # The upper apps' sections (a referral made at the visit): ssp/visit_extras.py.
    sections = [
        module.intake_section(user=request.user, post=request.POST if posting else None)
        for module in visit_extras()
        if hasattr(module, "intake_section")
    ]
    if posting:
        form = IntakeForm(request.POST, sites=sites)
        lines, posted_lines, line_errors = parse_lines(request.POST)
        services_given, posted_services, service_errors = parse_services(request.POST)
        line_errors += service_errors
        extras = {section.name: section.value for section in sections if section.value}
        sections_valid = not any(section.errors for section in sections)
        if form.is_valid() and not line_errors and sections_valid:
            data = form.cleaned_data
            try:
                visit, _created = services.visit_record(
                    site=data["site"],
                    location=data.get("location"),
                    by=request.user,
                    client_uuid=data["client_uuid"],
                    code=data["code"],
                    lines=lines,
                    age_band=data.get("age_band") or "",
                    confirm_large_quantity=data.get("confirm_large_quantity", False),
                    confirm_new_person=data.get("confirm_new_person", False),
                    services=services_given,
                    extras=extras,
                    **form.visit_fields(),
                )
            except (services.VisitError, StockError, CodeError) as exc:
                service_error = exc
            else:
                _notice_after_save(request, visit)
                return redirect(f"{reverse('ssp:intake')}?site={visit.site_id}&saved={visit.uuid}")
    else:
        form = IntakeForm(
            initial={"client_uuid": uuid4(), "site": site, "code": request.GET.get("code", "")},
            sites=sites,
        )
    if service_error is not None:
        form_errors_from(form, service_error)
    saved = None
    if request.GET.get("saved"):
        with contextlib.suppress(ValueError, ValidationError):
            saved = selectors.visit_for_user(user=request.user, uuid=request.GET["saved"])
    large = isinstance(service_error, services.LargeQuantityNotConfirmed)
    ask_new_person = isinstance(service_error, services.NewPersonNotConfirmed)
    context = {
        "ask_new_person": ask_new_person,
        "form": form,
        "site": site,
        "sites": sites,
        "recipe": current_recipe(),
        "quick": _quick_supplies(site),
        "choices": _supply_choices(),
        "posted_lines": posted_lines,
        "line_errors": line_errors,
        "ask_confirm_large": large or bool(request.POST.get("confirm_large_quantity")),
        "saved": saved,
        "today": _today_rows(request.user, site) if site else [],
        "services": _service_rows(posted_services),
        "sections": sections,
    }
    status_code = 400 if request.method == "POST" else 200
    return render(request, "ssp/intake.html", context, status=status_code)


def _service_rows(posted: dict) -> list[dict]:
    """The program's services with what was posted for each (re-shown on errors)."""
    return [
        {
            "choice": choice,
            "name": f"{SERVICE_FIELD}{choice.code}",
            "value": posted.get(choice.code, ""),
        }
        for choice in visit_services()
    ]


def _notice_after_save(request, visit) -> None:
    """Supplies the books did not hold: a notice after the save, never an error."""
    if visit.stock_notice:
        messages.warning(request, visit.stock_notice)


def _today_rows(user, site):
    rows = []
    for visit in selectors.visits_today(user=user, site=site):
        visit.lines = selectors.supply_lines_of(visit)
        visit.can_change = selectors.visit_edit_refusal(visit=visit, by=user) is None
        rows.append(visit)
    return rows


def _lookup_refused(request, template: str, context: dict):
    """The page for a look-up over SSP_LOOKUP_RATE (429), or None to go ahead."""
    wait = lookup_wait(request)
    if wait is None:
        return None
    response = render(request, template, {**context, "limited_for": wait}, status=429)
    response["Retry-After"] = str(wait)
    return response


@permission_required("ssp.log_visit", raise_exception=True)
@require_GET
def intake_lookup(request):
    """The participant panel for a typed code (htmx fragment)."""
    refused = _lookup_refused(request, "ssp/_participant_panel.html", {})
    if refused is not None:
        return refused
    result = selectors.code_lookup(request.GET.get("code", "")[:40], user=request.user)
    prefix = (
        selectors.participants_by_prefix(result.code, user=request.user)
        if result.participant is None and not result.known_elsewhere and not result.matches_recipe
        else []
    )
    return render(
        request,
        "ssp/_participant_panel.html",
        {
            "lookup": result,
            "recipe": current_recipe(),
            "prefix_matches": prefix,
            "usual_json": json.dumps(result.usual_lines),
        },
    )


@permission_required("ssp.log_visit", raise_exception=True)
@require_POST
def intake_build_code(request):
    """Build a code from the parts the person says (htmx fragment). Nothing is stored."""
    recipe = current_recipe()
    parts = {p.key: request.POST.get(f"part_{p.key}", "")[:40] for p in recipe.input_parts}
    try:
        code, error = build_code(parts), None
    except CodeError as exc:
        code, error = "", exc
    return render(request, "ssp/_built_code.html", {"code": code, "error": error})


def _shift_site(request, sites) -> Site | None:
    """A street shift's site: ?site=, else the person's street-outreach site, else the
    front desk's. The choice is not remembered: the front desk keeps its own site."""
    wanted = request.GET.get("site", "")
    chosen = sites.filter(pk=int(wanted)).first() if wanted.isdigit() else None
    return chosen or street_site_for_user(request.user) or _chosen_site(request, sites)


@permission_required("ssp.log_visit", raise_exception=True)
@available_offline
def intake_shift(request):
    """A street-outreach shift logged afterwards in bulk: anonymous contacts, totals."""
    sites = recording_sites_for_user(request.user)
    site = _shift_site(request, sites)
    posted_lines, line_errors, service_error = [], [], None
    posted_services = {}
    if request.method == "POST":
        form = ShiftForm(request.POST, sites=sites)
        lines, posted_lines, line_errors = parse_lines(request.POST)
        services_given, posted_services, service_errors = parse_services(request.POST)
        line_errors += service_errors
        if form.is_valid() and not line_errors:
            data = form.cleaned_data
            try:
                visit, _created = services.visit_record(
                    site=data["site"],
                    location=data.get("location"),
                    by=request.user,
                    client_uuid=data["client_uuid"],
                    contacts=data["contacts"],
                    service_model=data["service_model"],
                    lines=lines,
                    services=services_given,
                    confirm_large_quantity=data.get("confirm_large_quantity", False),
                    **form.visit_fields(),
                )
            except (services.VisitError, StockError) as exc:
                service_error = exc
            else:
                messages.success(
                    request,
                    ngettext(
                        "Shift saved: %(contacts)s contact at %(site)s.",
                        "Shift saved: %(contacts)s contacts at %(site)s.",
                        visit.contacts,
                    )
                    % {"contacts": visit.contacts, "site": visit.site},
                )
                _notice_after_save(request, visit)
                return redirect("ssp:visit-detail", uuid=visit.uuid)
        if service_error is not None:
            form_errors_from(form, service_error)
    else:
        form = ShiftForm(initial={"client_uuid": uuid4(), "site": site}, sites=sites)
    large = isinstance(service_error, services.LargeQuantityNotConfirmed)
    return render(
        request,
        "ssp/shift_form.html",
        {
            "form": form,
            "quick": _quick_supplies(site),
            "choices": _supply_choices(),
            "posted_lines": posted_lines,
            "line_errors": line_errors,
            "ask_confirm_large": large or bool(request.POST.get("confirm_large_quantity")),
            "services": _service_rows(posted_services),
        },
        status=400 if request.method == "POST" else 200,
    )


@permission_required("ssp.log_visit", raise_exception=True)
@require_GET
def visit_list(request):
    sites = sites_for_user(request.user)
    filters = VisitFilterForm(request.GET or None, sites=sites)
    visits = Visit.objects.none()
    if filters.is_valid() or not request.GET:
        data = filters.cleaned_data if request.GET else {}
        visits = selectors.visit_list(
            user=request.user,
            site_id=data["site"].pk if data.get("site") else None,
            code=data.get("code") or "",
            occurred_from=data.get("occurred_from"),
            occurred_to=data.get("occurred_to"),
            include_void=bool(data.get("include_void")),
            mine=bool(data.get("mine")),
        ).order_by("-occurred_at", "-pk")
    page = Paginator(visits, 50).get_page(request.GET.get("page"))
    for visit in page:
        visit.lines = selectors.supply_lines_of(visit)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "ssp/visit_list.html",
        {"filters": filters, "page": page, "query": query.urlencode()},
    )


def _visit_or_404(request, uuid):
    visit = selectors.visit_for_user(user=request.user, uuid=uuid)
    if visit is None:
        raise Http404
    return visit


@permission_required("ssp.log_visit", raise_exception=True)
@require_GET
def visit_detail(request, uuid):
    visit = _visit_or_404(request, uuid)
    visit.lines = selectors.supply_lines_of(visit)
    visit.services_given = selectors.services_of(visit)
    # What upper apps made with the visit (referrals), each in its own fragment.
    visits_described([visit])
    described = [
        {"template": module.DETAIL_TEMPLATE, "rows": visit.described[module.NAME]}
        for module in visit_extra_fields()
        if hasattr(module, "DETAIL_TEMPLATE")
    ]
    refusal = selectors.visit_edit_refusal(visit=visit, by=request.user)
    history = LogEntry.objects.get_for_object(visit).select_related("actor").order_by("timestamp")
    return render(
        request,
        "ssp/visit_detail.html",
        {
            "visit": visit,
            "refusal": refusal,
            "history": history if request.user.has_perm("org.view_audit") else None,
            "void_form": VoidForm(),
            "described": described,
        },
    )


@permission_required("ssp.log_visit", raise_exception=True)
def visit_edit(request, uuid):
    visit = _visit_or_404(request, uuid)
    refusal = selectors.visit_edit_refusal(visit=visit, by=request.user)
    if refusal:
        messages.error(request, refusal)
        return redirect("ssp:visit-detail", uuid=visit.uuid)
    posted_lines, line_errors, service_error = None, [], None
    given = {row["service"]: row["count"] for row in selectors.services_of(visit)}
    posted_services = {code: str(count) for code, count in given.items()}
    service_errors = []
    if request.method == "POST":
        form = CorrectionForm(request.POST, visit=visit)
        lines, posted_lines, line_errors = parse_lines(request.POST)
        services_given, posted_services, service_errors = parse_services(request.POST)
        if form.is_valid() and not line_errors and not service_errors:
            data = form.cleaned_data
            fields = form.visit_fields()
            try:
                visit = services.visit_correct(
                    visit=visit,
                    by=request.user,
                    lines=lines,
                    code=data.get("code") or "",
                    location=data["location"],
                    contacts=data["contacts"],
                    service_model=data["service_model"],
                    occurred_at=fields.pop("occurred_at") or visit.occurred_at,
                    confirm_large_quantity=data.get("confirm_large_quantity", False),
                    services=_services_changed(services_given, given),
                    **fields,
                )
            except (services.VisitError, StockError, CodeError) as exc:
                service_error = exc
            else:
                messages.success(request, _("Visit corrected."))
                _notice_after_save(request, visit)
                return redirect("ssp:visit-detail", uuid=visit.uuid)
        if service_error is not None:
            # A refused service is said next to the services; the rest on the form.
            found = getattr(service_error, "field_errors", None) or {}
            service_errors = [str(message) for message in found.get("services", [])]
            if not service_errors:
                form_errors_from(form, service_error)
    else:
        form = CorrectionForm(
            initial={
                "location": visit.location,
                "code": visit.participant.code if visit.participant_id else "",
                "contacts": visit.contacts,
                "service_model": visit.service_model,
                "occurred_at": timezone.localtime(visit.occurred_at),
                "syringes_collected": visit.syringes_collected,
                "collection_method": visit.collection_method,
                "secondary_people": visit.secondary_people,
                "naloxone_refill_reason": visit.naloxone_refill_reason,
                "overdose_reversals": visit.overdose_reversals,
                "notes": visit.notes,
            },
            visit=visit,
        )
        posted_lines = [
            PostedLine(ln["kind"], ln["id"], ln["name"], ln["quantity"])
            for ln in selectors.supply_lines_of(visit)
        ]
    large = isinstance(service_error, services.LargeQuantityNotConfirmed)
    return render(
        request,
        "ssp/visit_edit.html",
        {
            "visit": visit,
            "form": form,
            "choices": _supply_choices(),
            "posted_lines": posted_lines,
            "line_errors": line_errors,
            "ask_confirm_large": large or bool(request.POST.get("confirm_large_quantity")),
            "services": _service_rows(posted_services),
            "service_errors": service_errors,
            "service_counts": visit.contacts > 1,
        },
        status=400 if request.method == "POST" else 200,
    )


def _services_changed(posted: list[tuple[str, int]], given: dict[str, int]):
    """The posted services, or None when they are the visit's own: the page shows only
    the program's current services, so an unchanged form keeps one it no longer offers."""
    offered = {choice.code for choice in visit_services()}
    shown = {code: count for code, count in given.items() if code in offered}
    return None if dict(posted) == shown else posted


@permission_required("ssp.log_visit", raise_exception=True)
@require_POST
def visit_void(request, uuid):
    """Void (or, from today's list, undo) a visit; its stock goes back."""
    visit = _visit_or_404(request, uuid)
    form = VoidForm(request.POST)
    reason = request.POST.get("reason", "") if form.is_valid() else ""
    if request.POST.get("undo"):
        reason = services.UNDO_REASON
    try:
        voided = services.visit_void(visit=visit, by=request.user, reason=reason)
    except services.VisitError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, _("Visit voided: %(reason)s") % {"reason": _(voided.get_void_reason_display())}
        )
    target = request.POST.get("next", "")
    if target == "intake":
        return redirect(f"{reverse('ssp:intake')}?site={visit.site_id}")
    return redirect("ssp:visit-detail", uuid=visit.uuid)


# --- Participants --------------------------------------------------------------------


@permission_required("ssp.log_visit", raise_exception=True)
@require_GET
def participant_search(request):
    typed = request.GET.get("code", "")[:40]
    if typed:
        refused = _lookup_refused(request, "ssp/participant_search.html", {"typed": typed})
        if refused is not None:
            return refused
    result = selectors.code_lookup(typed, user=request.user) if typed else None
    prefix = (
        selectors.participants_by_prefix(typed, user=request.user)
        if result and not result.known_elsewhere
        else []
    )
    return render(
        request,
        "ssp/participant_search.html",
        {"typed": typed, "lookup": result, "prefix_matches": prefix},
    )


@permission_required("ssp.log_visit", raise_exception=True)
@require_GET
def participant_detail(request, code):
    participant = selectors.participant_for_user(code, user=request.user)
    if participant is None:
        raise Http404
    if participant.code != normalise(code):
        return redirect("ssp:participant-detail", code=participant.code)
    visits = list(
        selectors.visit_list(user=request.user, code=participant.code, include_void=True)[:100]
    )
    for visit in visits:
        visit.lines = selectors.supply_lines_of(visit)
    return render(
        request,
        "ssp/participant_detail.html",
        {
            "participant": participant,
            "visits": visits,
            "merged_codes": participant.merged_codes.order_by("code"),
            "merges": ParticipantMerge.objects.filter(kept=participant).select_related(
                "merged", "merged_by"
            ),
            "suggestions": selectors.near_matches(participant.code, user=request.user),
        },
    )


@permission_required("ssp.merge_participants", raise_exception=True)
def participant_merge(request):
    """Two codes of one person: preview what moves, then confirm."""
    preview = None
    if request.method == "POST":
        form = MergeForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            found = {}
            for field in ("merged", "kept"):
                # As in the API: a code not seen at the manager's sites is unknown here.
                found[field] = selectors.participant_for_user(data[field], user=request.user)
                if found[field] is None:
                    form.add_error(
                        field, _("Unknown code %(code)s at your sites.") % {"code": data[field]}
                    )
            if not form.errors and found["merged"].pk == found["kept"].pk:
                form.add_error(
                    "merged",
                    _("Choose two different codes.")
                    if data["merged"] == data["kept"]
                    else _("%(merged)s was already merged into %(kept)s.")
                    % {"merged": data["merged"], "kept": found["kept"].code},
                )
            if not form.errors:
                # The confirmation names the codes the preview showed, after merges.
                if data.get("confirm") == f"{found['merged'].code}>{found['kept'].code}":
                    try:
                        merge = services.participant_merge(
                            merged=found["merged"],
                            kept=found["kept"],
                            by=request.user,
                            reason=data.get("reason") or "",
                        )
                    except services.VisitError as exc:
                        form_errors_from(form, exc)
                    else:
                        messages.success(
                            request,
                            ngettext(
                                "%(merged)s merged into %(kept)s: %(visits)s visit moved.",
                                "%(merged)s merged into %(kept)s: %(visits)s visits moved.",
                                merge.visits_moved,
                            )
                            % {
                                "merged": merge.merged,
                                "kept": merge.kept,
                                "visits": merge.visits_moved,
                            },
                        )
                        return redirect("ssp:participant-detail", code=merge.kept.code)
                else:
                    preview = {
                        **found,
                        **selectors.participant_merge_preview(
                            user=request.user, merged=found["merged"], kept=found["kept"]
                        ),
                    }
    else:
        form = MergeForm(
            initial={"merged": request.GET.get("merged", ""), "kept": request.GET.get("kept", "")}
        )
    return render(request, "ssp/participant_merge.html", {"form": form, "preview": preview})
