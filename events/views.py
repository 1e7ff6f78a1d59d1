"""Staff pages for program events. Thin: forms validate, services write, selectors read."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from org.forms import form_errors_from
from org.selectors import recording_sites_for_user, sites_for_user

from . import selectors, services
from .forms import FORMS, EventFilterForm, EventVoidForm
from .models import EventKind, ProgramEvent


@permission_required("events.view_events", raise_exception=True)
def event_list(request):
    """Recent events at the person's sites, newest first, by site and kind."""
    sites = sites_for_user(request.user).order_by("name")
    filters = EventFilterForm(request.GET or None, sites=sites)
    events = ProgramEvent.objects.none()
    if filters.is_valid() or not request.GET:
        data = filters.cleaned_data if request.GET else {}
        events = selectors.events_for_user(user=request.user).filter(voided_at__isnull=True)
        if data.get("site"):
            events = events.filter(site=data["site"])
        if data.get("kind"):
            events = events.filter(kind=data["kind"])
    page = Paginator(events.order_by("-occurred_on", "-pk"), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "events/event_list.html",
        {
            "filters": filters,
            "page": page,
            "kinds": EventKind.choices,
            "can_record": request.user.has_perm("events.record_events"),
        },
    )


def _kind_or_404(kind: str) -> str:
    if kind not in EventKind.values:
        raise Http404("No such kind of event.")
    return kind


@permission_required("events.record_events", raise_exception=True)
def event_create(request, kind):
    kind = _kind_or_404(kind)
    sites = recording_sites_for_user(request.user).order_by("name")
    form = FORMS[kind](
        request.POST or None, sites=sites, initial={"occurred_on": timezone.localdate()}
    )
    if request.method == "POST" and form.is_valid():
        try:
            event = services.event_record(kind=kind, by=request.user, **form.cleaned_data)
        except services.EventError as exc:
            form_errors_from(form, exc)
        else:
            messages.success(request, _("Event recorded: %(event)s.") % {"event": _describe(event)})
            return redirect("events:list")
    return render(
        request,
        "events/event_form.html",
        {"form": form, "kind": kind, "kind_label": EventKind(kind).label},
        status=400 if form.is_bound and form.errors else 200,
    )


def _describe(event: ProgramEvent) -> str:
    return f"{_(event.get_kind_display())}, {event.site.name}, {event.occurred_on:%Y-%m-%d}"


def _event_or_404(request, uuid) -> ProgramEvent:
    return get_object_or_404(selectors.events_for_user(user=request.user), uuid=uuid)


@permission_required("events.view_events", raise_exception=True)
def event_detail(request, uuid):
    """An event's facts; its recorder (within the edit window) or a manager corrects
    or voids it here."""
    event = _event_or_404(request, uuid)
    refusal = selectors.event_edit_refusal(event=event, by=request.user)
    form_class = FORMS[event.kind]
    names = [name for name in form_class.base_fields if name != "site"]
    form = form_class(
        request.POST or None,
        sites=None,
        initial={name: getattr(event, name) for name in names},
    )
    if request.method == "POST":
        if refusal:
            messages.error(request, refusal)
            return redirect(event)
        if form.is_valid():
            try:
                services.event_correct(event=event, by=request.user, **form.cleaned_data)
            except services.EventError as exc:
                form_errors_from(form, exc)
            else:
                messages.success(request, _("Event corrected."))
                return redirect(event)
    return render(
        request,
        "events/event_detail.html",
        {
            "event": event,
            "form": form,
            "void_form": EventVoidForm(),
            "refusal": refusal,
        },
        status=400 if form.is_bound and form.errors else 200,
    )


@permission_required("events.record_events", raise_exception=True)
@require_POST
def event_void(request, uuid):
    event = _event_or_404(request, uuid)
    form = EventVoidForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        services.event_void(event=event, by=request.user, reason=reason)
    except services.EventError as exc:
        messages.error(request, str(exc))
        return redirect(event)
    messages.success(request, _("Event voided."))
    return redirect("events:list")
