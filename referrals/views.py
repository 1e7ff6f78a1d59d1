"""Staff pages for referrals. Thin: forms validate, services write, selectors read."""

import uuid
from datetime import date

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from org.csv_download import csv_download
from org.forms import form_errors_from
from org.offline import available_offline
from org.selectors import sites_for_user
from ssp.models import Visit
from ssp.selectors import participant_for_user

from . import selectors, services
from .forms import (
    PartnerForm,
    ReferralFilterForm,
    ReferralForm,
    ReferralTypeForm,
    StatusChangeForm,
    partner_choices,
)
from .models import NO_VISIT_YET, Partner, ReferralStatus, ReferralType

# The services name the referral type "type"; the forms call it "referral_type".
SERVICE_FIELDS = {"type": "referral_type"}


def can_record(user) -> bool:
    return user.has_perm("ssp.log_visit") or user.has_perm("referrals.manage_referrals")


def _require_record(request) -> None:
    if not can_record(request.user):
        raise PermissionDenied


def _intake_url() -> str | None:
    try:
        return reverse("ssp:intake")
    except NoReverseMatch:  # the intake page is another app's; link only if it exists
        return None


# --- Referrals list, CSV, overdue, linkage ------------------------------------------------


def _filters(request):
    form = ReferralFilterForm(request.GET or None, sites=sites_for_user(request.user))
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = selectors.ReferralFilters(
            site_id=data["site"].pk if data["site"] else None,
            type_id=data["type"].pk if data["type"] else None,
            status=data["status"] or None,
            start=data["start"],
            end=data["end"],
            overdue_only=data["overdue"],
        )
    else:
        filters = selectors.ReferralFilters()
    return form, filters


def referral_list(request):
    form, filters = _filters(request)
    referrals = selectors.referral_list(user=request.user, filters=filters)
    page = Paginator(referrals, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "referrals/referral_list.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "today": timezone.localdate(),
            "can_record": can_record(request.user),
            "can_export": _can_export(request.user),
        },
    )


def _can_export(user) -> bool:
    return user.has_perm("referrals.manage_referrals") or user.is_program_wide


CSV_COLUMNS = [
    "id",
    "code",
    "site",
    "type_code",
    "type",
    "group",
    "partner",
    "status",
    "referred_on",
    "follow_up_on",
    "linked_on",
    "visit",
    "created_by",
    "created_at",
]


@require_GET
def referral_export(request):
    """The referrals list as CSV, same filters; for coordinators and report viewers."""
    if not _can_export(request.user):
        raise PermissionDenied
    _form, filters = _filters(request)
    referrals = selectors.referral_list(user=request.user, filters=filters)
    rows = (
        (
            r.pk,
            r.participant.code,
            r.site.code,
            r.type.code,
            r.type.name,
            r.type.group,
            r.partner.name if r.partner_id else "",
            r.status,
            r.referred_on,
            r.follow_up_on,
            r.linked_on,
            r.visit.uuid if r.visit_id else "",
            r.created_by.username,
            timezone.localtime(r.created_at).isoformat(timespec="seconds"),
        )
        for r in referrals.iterator(chunk_size=500)
    )
    return csv_download(name="referrals", columns=CSV_COLUMNS, rows=rows)


@available_offline
def overdue_list(request):
    today = timezone.localdate()
    form, filters = _filters(request)
    referrals = selectors.overdue_referrals(user=request.user, today=today)
    if filters.site_id:
        referrals = referrals.filter(site_id=filters.site_id)
    if filters.type_id:
        referrals = referrals.filter(type_id=filters.type_id)
    page = Paginator(referrals, 50).get_page(request.GET.get("page"))
    for referral in page:
        referral.days_due = (today - referral.follow_up_on).days
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "referrals/overdue_list.html",
        {"form": form, "page": page, "today": today, "query": query.urlencode()},
    )


def _period(request) -> tuple[date, date]:
    today = timezone.localdate()
    form = ReferralFilterForm(request.GET or None, sites=sites_for_user(request.user))
    start = date(today.year, 1, 1)
    end = date.fromordinal(today.toordinal() + 1)
    if form.is_bound and form.is_valid():
        start = form.cleaned_data["start"] or start
        end = form.cleaned_data["end"] or end
    return start, end


def linkage(request):
    """Linkage rate of the referrals made in a period, by type and by site."""
    form, filters = _filters(request)
    start, end = _period(request)
    summary = selectors.linkage_summary(
        user=request.user, start=start, end=end, site_id=filters.site_id, type_id=filters.type_id
    )
    return render(
        request,
        "referrals/linkage.html",
        {
            "form": form,
            "summary": summary,
            "start": start,
            "end": end,
            "tables": [
                (_("By type"), _("Referral type"), summary.by_type),
                (_("By site"), _("Site"), summary.by_site),
            ],
        },
    )


# --- One referral --------------------------------------------------------------------------


def referral_detail(request, pk):
    referral = get_object_or_404(selectors.referrals_for_user(request.user), pk=pk)
    form = None
    if can_record(request.user) and referral.allowed_next() + (
        [ReferralStatus.REFERRED] if referral.is_open else []
    ):
        form = StatusChangeForm(referral=referral)
    return render(
        request,
        "referrals/referral_detail.html",
        {
            "referral": referral,
            "history": selectors.history_for_referral(referral),
            "form": form,
            "today": timezone.localdate(),
        },
    )


@require_POST
def referral_change_status(request, pk):
    _require_record(request)
    referral = get_object_or_404(selectors.referrals_for_user(request.user), pk=pk)
    form = StatusChangeForm(request.POST, referral=referral)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.referral_change_status(
                referral=referral,
                to_status=data["to_status"],
                by=request.user,
                linked_on=data["linked_on"] if data["to_status"] == "linked" else None,
                follow_up_on=data["follow_up_on"] if data["to_status"] == "referred" else None,
                note=data["note"],
            )
        except services.ReferralError as error:
            form_errors_from(form, error, rename=SERVICE_FIELDS)
        else:
            messages.success(request, gettext("Status recorded."))
            return redirect(referral)
    return render(
        request,
        "referrals/referral_detail.html",
        {
            "referral": referral,
            "history": selectors.history_for_referral(referral),
            "form": form,
            "today": timezone.localdate(),
        },
        status=400,
    )


def referral_create(request):
    """New referral, at a visit (?visit=<uuid>) or for a code without a visit."""
    _require_record(request)
    visit = None
    visit_uuid = request.GET.get("visit") or request.POST.get("visit")
    if visit_uuid:
        if not _is_uuid(visit_uuid):
            raise Http404
        visit = get_object_or_404(
            Visit.objects.select_related("participant", "site").filter(
                site_id__in=request.user.accessible_site_ids()
            ),
            uuid=visit_uuid,
        )
    sites = sites_for_user(request.user).filter(is_active=True)
    type_id = request.POST.get("referral_type") or request.GET.get("type")
    form = ReferralForm(
        request.POST or None,
        with_visit=visit is not None,
        sites=sites,
        type_id=type_id if str(type_id or "").isdigit() else None,
        initial={"code": request.GET.get("code", "")},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if visit is not None:
                referral = services.referral_create(
                    referral_type=data["referral_type"],
                    visit=visit,
                    partner=data["partner"],
                    follow_up_on=data["follow_up_on"],
                    note=data["note"],
                    by=request.user,
                )
            else:
                participant = participant_for_user(data["code"], user=request.user)
                if participant is None:
                    raise services.ReferralError(NO_VISIT_YET, field="code")
                referral = services.referral_create(
                    referral_type=data["referral_type"],
                    participant=participant,
                    site=data["site"],
                    partner=data["partner"],
                    follow_up_on=data["follow_up_on"],
                    note=data["note"],
                    by=request.user,
                )
        except services.ReferralError as error:
            form_errors_from(form, error, rename=SERVICE_FIELDS)
        else:
            messages.success(
                request,
                gettext("Referral to %(type)s recorded for %(code)s.")
                % {"type": referral.type, "code": referral.participant},
            )
            if visit is not None:
                return redirect(f"{reverse('referrals:create')}?visit={visit.uuid}")
            return redirect(referral)
    made_at_visit = (
        selectors.referrals_for_user(request.user).filter(visit=visit) if visit else None
    )
    return render(
        request,
        "referrals/referral_form.html",
        {
            "form": form,
            "visit": visit,
            "made_at_visit": made_at_visit,
            "intake_url": _intake_url(),
            "default_days": settings.SSP_REFERRAL_FOLLOW_UP_DAYS,
        },
        status=400 if form.is_bound and form.errors else 200,
    )


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


@require_GET
def partner_options(request):
    """<option>s of the active partners offering a type (htmx, on the referral form)."""
    type_id = request.GET.get("referral_type") or request.GET.get("type")
    partners = Partner.objects.filter(is_active=True)
    partners = partners.filter(types=type_id) if str(type_id or "").isdigit() else partners.none()
    return render(
        request, "referrals/_partner_options.html", {"choices": partner_choices(partners)}
    )


# --- The follow-up prompt (a fragment loaded into the intake page) -------------------------

ANSWERS = {"linked", "not-yet", "declined"}


def _follow_ups_response(request, code, message="", error=""):
    follow_ups = selectors.follow_ups_for_code(user=request.user, code=code)
    if follow_ups.is_empty and not message and not error:
        return HttpResponse("")
    return render(
        request,
        "referrals/_follow_ups.html",
        {
            "follow_ups": follow_ups,
            "code": follow_ups.participant.code if follow_ups.participant else code,
            "message": message,
            "error": error,
            "today": timezone.localdate(),
        },
    )


@require_GET
def follow_ups(request):
    """HTML fragment: the person's open referrals due for follow-up (and the other open
    ones), with one-key answers. Empty when the code has none at the user's sites."""
    _require_record(request)
    return _follow_ups_response(request, request.GET.get("code", ""))


@require_POST
def follow_up_answer(request, pk, answer):
    """Linked / not yet / declined from the prompt; answers with the re-rendered fragment."""
    _require_record(request)
    if answer not in ANSWERS:
        raise PermissionDenied
    referral = get_object_or_404(selectors.referrals_for_user(request.user), pk=pk)
    code = request.POST.get("code") or referral.participant.code
    message = error = ""
    try:
        if answer == "linked":
            linked_on = _parse_date(request.POST.get("linked_on"))
            services.referral_mark_linked(referral=referral, linked_on=linked_on, by=request.user)
            message = gettext("%(type)s: marked linked.") % {"type": referral.type}
        elif answer == "not-yet":
            referral = services.referral_not_yet(referral=referral, by=request.user)
            message = gettext("%(type)s: not yet — we will ask again on %(day)s.") % {
                "type": referral.type,
                # The month named in the person's language ("June 29", "29 de junio").
                "day": date_format(referral.follow_up_on, "MONTH_DAY_FORMAT"),
            }
        else:
            services.referral_mark_declined(referral=referral, by=request.user)
            message = gettext("%(type)s: marked declined.") % {"type": referral.type}
    except services.ReferralError as exc:
        error = str(exc)
    if not request.htmx:
        if error:
            messages.error(request, error)
        else:
            messages.success(request, message)
        return redirect(f"{reverse('referrals:ask')}?code={code}")
    response = _follow_ups_response(request, code, message=message, error=error)
    return response


def _parse_date(value):
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise services.ReferralError(gettext("Enter a valid date."), field="linked_on") from None


def ask(request):
    """A page of its own for the follow-up prompt (outreach, phone follow-up)."""
    _require_record(request)
    return render(request, "referrals/ask.html", {"code": request.GET.get("code", "")})


# --- Partners and types ----------------------------------------------------------------------


def partner_list(request):
    partners = selectors.partners()
    type_id = request.GET.get("type")
    if str(type_id or "").isdigit():
        partners = partners.filter(types=type_id).distinct()
    return render(
        request,
        "referrals/partner_list.html",
        {
            "partners": partners,
            "types": ReferralType.objects.all(),
            "type_id": int(type_id) if str(type_id or "").isdigit() else None,
            "can_manage": request.user.has_perm("referrals.manage_referrals"),
        },
    )


@permission_required("referrals.manage_referrals", raise_exception=True)
def partner_edit(request, pk=None):
    partner = get_object_or_404(Partner, pk=pk) if pk else None
    form = PartnerForm(request.POST or None, instance=partner)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        types = data.pop("types")
        partner = services.partner_save(partner=partner, types=types, **data)
        messages.success(request, gettext("Partner “%(partner)s” saved.") % {"partner": partner})
        return redirect("referrals:partner-list")
    return render(
        request,
        "referrals/partner_form.html",
        {"form": form, "partner": partner},
        status=400 if form.is_bound and form.errors else 200,
    )


@permission_required("referrals.manage_referrals", raise_exception=True)
def type_list(request):
    return render(
        request,
        "referrals/type_list.html",
        {"types": ReferralType.objects.all()},
    )


@permission_required("referrals.manage_referrals", raise_exception=True)
def type_edit(request, pk=None):
    referral_type = get_object_or_404(ReferralType, pk=pk) if pk else None
    form = ReferralTypeForm(request.POST or None, instance=referral_type)
    if request.method == "POST" and form.is_valid():
        try:
            referral_type = services.referral_type_save(
                referral_type=referral_type, **form.cleaned_data
            )
        except services.ReferralError as error:
            form_errors_from(form, error)
        else:
            messages.success(
                request, gettext("Referral type “%(type)s” saved.") % {"type": referral_type}
            )
            return redirect("referrals:type-list")
    return render(
        request,
        "referrals/type_form.html",
        {"form": form, "referral_type": referral_type},
        status=400 if form.is_bound and form.errors else 200,
    )
