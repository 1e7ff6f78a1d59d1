"""Staff pages of the periodic anonymous survey. Thin: forms validate, services write."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from org.forms import form_errors_from

from . import selectors
from . import survey_selectors as survey_reads
from .models import OfferOutcome, Survey
from .survey_bank import BANK
from .survey_forms import AnswerForm, OfferForm, SurveyForm
from .survey_services import SurveyError, survey_answers_record, survey_offer_record, survey_save


@permission_required("ssp.manage_surveys", raise_exception=True)
def survey_list(request):
    found = list(survey_reads.surveys())
    for survey in found:
        survey.question_texts = [BANK[code].text for code in survey.questions]
    return render(
        request, "ssp/survey_list.html", {"surveys": found, "today": timezone.localdate()}
    )


@permission_required("ssp.manage_surveys", raise_exception=True)
def survey_edit(request, pk=None):
    survey = get_object_or_404(Survey, pk=pk) if pk else None
    initial = SurveyForm.initial_of(survey) if survey else {"active_from": timezone.localdate()}
    form = SurveyForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            survey = survey_save(survey=survey, by=request.user, **form.cleaned_data)
        except SurveyError as error:
            form_errors_from(form, error)
        else:
            messages.success(request, _("Survey “%(name)s” saved.") % {"name": survey.name})
            return redirect("ssp:survey-list")
    return render(
        request,
        "ssp/survey_form.html",
        {"form": form, "survey": survey},
        status=400 if form.is_bound and form.errors else 200,
    )


@permission_required("ssp.log_visit", raise_exception=True)
@require_GET
def survey_due(request):
    """The "survey due" note at the desk (htmx fragment): ?visit=<uuid> after saving a
    visit (with the offer link), or ?code=<CODE> while typing one."""
    visit, participant = None, None
    if request.GET.get("visit"):
        try:
            visit = selectors.visit_for_user(user=request.user, uuid=request.GET["visit"])
        except (ValueError, TypeError):
            visit = None
        participant = visit.participant if visit and visit.contacts == 1 else None
        day = survey_reads.visit_day(visit) if visit else None
    else:
        participant = selectors.participant_for_user(request.GET.get("code", ""), user=request.user)
        day = timezone.localdate()
    due = survey_reads.surveys_due(participant=participant, day=day) if participant else []
    if visit is not None and visit.voided_at is not None:
        due = []
    return render(request, "ssp/_survey_due.html", {"due": due, "visit": visit})


def _visit_or_404(request, uuid):
    visit = selectors.visit_for_user(user=request.user, uuid=uuid)
    if visit is None:
        raise Http404
    return visit


@permission_required("ssp.log_visit", raise_exception=True)
def visit_survey_offer(request, uuid):
    """Offer the due surveys of a visit: the person takes one now, or declines it."""
    visit = _visit_or_404(request, uuid)
    due = survey_reads.surveys_due(
        participant=visit.participant if visit.contacts == 1 else None,
        day=survey_reads.visit_day(visit),
    )
    form = OfferForm(request.POST or None, surveys=due)
    if request.method == "POST" and form.is_valid():
        try:
            offer = survey_offer_record(
                visit=visit,
                survey=form.cleaned_data["survey"],
                outcome=form.cleaned_data["outcome"],
                by=request.user,
            )
        except SurveyError as error:
            form_errors_from(form, error)
        else:
            if offer.outcome == OfferOutcome.ACCEPTED:
                return redirect("ssp:survey-answer", uuid=offer.uuid)
            messages.success(request, _("Noted: the survey was declined."))
            return redirect("ssp:visit-detail", uuid=visit.uuid)
    return render(
        request,
        "ssp/survey_offer.html",
        {"visit": visit, "due": due, "form": form, "offers": survey_reads.offers_of(visit)},
        status=400 if form.is_bound and form.errors else 200,
    )


@permission_required("ssp.log_visit", raise_exception=True)
def survey_answer(request, uuid):
    """The answer screen (phone-friendly): the person taps their answers. What is
    stored names the survey, the site and the period only."""
    offer = survey_reads.offer_for_user(uuid=uuid, visits=selectors.visits_for_user(request.user))
    if offer is None:
        raise Http404
    if offer.outcome != OfferOutcome.ACCEPTED:
        messages.info(request, _("These answers are already recorded."))
        return redirect(f"{reverse('ssp:intake')}?site={offer.visit.site_id}")
    form = AnswerForm(request.POST or None, survey=offer.survey)
    if request.method == "POST" and form.is_valid():
        try:
            survey_answers_record(offer=offer, answers=form.cleaned_data, by=request.user)
        except SurveyError as error:
            form_errors_from(form, error)
        else:
            messages.success(request, _("Thank you. The answers are saved without the code."))
            return redirect(f"{reverse('ssp:intake')}?site={offer.visit.site_id}")
    return render(
        request,
        "ssp/survey_answer.html",
        {"offer": offer, "form": form},
        status=400 if form.is_bound and form.errors else 200,
    )
