"""No personal details from free text: every notes, reason and reference field refuses a
phone number, an email address, an SSN, a street address or a date of birth, on the
pages, on the API and in the services, and the program's own words still pass."""

from types import SimpleNamespace

import pytest
from django.core.management import call_command

from inventory.forms import AdjustForm, ReceiptLineForm, ReceiveForm, TransferForm
from inventory.models import Location, Lot, StockMovement
from inventory.services import ReceiptLine, StockError, stock_adjust, stock_receive
from org.privacy import (
    DATE_OF_BIRTH,
    EMAIL,
    PHONE,
    SSN,
    STREET_ADDRESS,
    personal_detail_in,
    personal_detail_message,
)
from referrals import services as referral_services
from referrals.defaults import default_types_ensure
from referrals.forms import PartnerForm, ReferralForm, StatusChangeForm
from referrals.models import Partner, Referral, ReferralStatusChange, ReferralType
from ssp.forms import MergeForm, VisitDetailsForm, VoidForm
from ssp.models import ParticipantMerge, Visit, VoidReason
from ssp.services import VisitError, visit_correct, visit_record, visit_void

from ..factories import LocationFactory, ParticipantFactory
from ..support.intake import item_line, new_uuid

# One sample of each kind, short enough for the shortest free-text field (a lot, 60).
PERSONAL = {
    PHONE: "call her at (555) 867-5309",
    EMAIL: "john.smith@example.com",
    SSN: "SSN 123-45-6789",
    STREET_ADDRESS: "lives at 45 Elm Avenue Apt 3",
    DATE_OF_BIRTH: "DOB 04/12/1985",
}
KINDS = list(PERSONAL)


def message(kind):
    return personal_detail_message(kind)


# --- The detector -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("John Smith 555-867-5309", PHONE),
        ("5558675309", PHONE),
        ("+1 555 867 5309", PHONE),
        ("+15558675309", PHONE),
        ("1-555-867-5309", PHONE),
        ("(555) 867-5309", PHONE),
        ("555.867.5309", PHONE),
        ("cell 867-5309", PHONE),
        ("john.smith@example.com", EMAIL),
        ("reach her at jo [at] mail [dot] com", EMAIL),
        ("123-45-6789", SSN),
        ("123 45 6789", SSN),
        ("ssn: 123456789", SSN),
        ("123 Main St", STREET_ADDRESS),
        ("45 Elm Avenue Apt 3", STREET_ADDRESS),
        ("7 N Maple Ave.", STREET_ADDRESS),
        ("staying at 12 Oak street", STREET_ADDRESS),
        ("PO Box 44", STREET_ADDRESS),
        ("apt 5B", STREET_ADDRESS),
        ("DOB 04/12/1985", DATE_OF_BIRTH),
        ("dob: 4/12", DATE_OF_BIRTH),
        ("born 12 April 1985", DATE_OF_BIRTH),
        ("born April 12, 1985", DATE_OF_BIRTH),
        ("04/12/1985", DATE_OF_BIRTH),
        ("1985-04-12", DATE_OF_BIRTH),
        ("birthday 3/4/2024", DATE_OF_BIRTH),
    ],
)
def test_each_kind_of_personal_detail_is_recognised(text, kind):
    assert personal_detail_in(text) == kind


def test_the_reported_sentence_is_refused():
    assert personal_detail_in(
        "John Smith 555-867-5309 john.smith@example.com SSN 123-45-6789"
    ) in set(KINDS)


@pytest.mark.parametrize(
    "text",
    [
        "LOT 2026-11A",
        "NX24-0931",
        "visit:0f8fa4e2-5558-4867-9309-123456789012",
        "transfer:555867530912",
        "count:12",
        "counted 2026-11-30",
        "exp 2027-03-31",
        "restock 11/30/2026",
        "Packing slip 2026/11/30",
        "PO-2291",
        "INV-1234567890",
        "Invoice 123456789",
        "SYR-1ML-28G",
        '1 mL 28G ½" syringe',
        '3 mL 25G 1"',
        "40 people, 1,200 syringes, 30 naloxone kits",
        "10 syringes, 2 cookers, 2 cottons, 1 water",
        "10 syringes at Main St",
        "2 kits on the way",
        "wants PrEP info; ask about HCV test next visit",
        "naloxone used on someone 2 days ago",
        "Mon–Fri 9–17, walk-in",
        "Intake by phone first; bring ID for benefits",
        "event:health-fair",
    ],
)
def test_the_programs_own_words_are_not_personal_details(text):
    assert personal_detail_in(text) is None


def test_a_recent_date_passes_but_an_old_one_reads_as_a_birth_date(today):
    assert personal_detail_in(f"counted {today:%Y-%m-%d}") is None
    assert personal_detail_in(f"counted {today.year - 11}-01-15") == DATE_OF_BIRTH


# --- Page forms ----------------------------------------------------------------------


def _visit_notes(text):
    return VisitDetailsForm({"notes": text}), "notes"


def _referral_note(text):
    return ReferralForm({"note": text}, with_visit=True, sites=None), "note"


def _status_note(text):
    referral = SimpleNamespace(is_open=True, allowed_next=lambda: ["declined"])
    return StatusChangeForm({"to_status": "declined", "note": text}, referral=referral), "note"


def _partner(field):
    def build(text):
        data = {"name": "Harbor Clinic", "types": [], "is_active": True, field: text}
        return PartnerForm(data), field

    return build


def _inventory(form_class, field):
    def build(text):
        return form_class({field: text}, managed=Location.objects.none()), field

    return build


def _lot_number(text):
    return ReceiptLineForm({"lot_number": text}), "lot_number"


PAGE_FIELDS = {
    "visit notes": _visit_notes,
    "referral note": _referral_note,
    "status-change note": _status_note,
    "partner name": _partner("name"),
    "partner hours": _partner("hours"),
    "partner notes": _partner("notes"),
    "receipt reference": _inventory(ReceiveForm, "reference"),
    "transfer reference": _inventory(TransferForm, "reference"),
    "adjustment reference": _inventory(AdjustForm, "reference"),
    "lot number": _lot_number,
}


@pytest.mark.django_db
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("field", list(PAGE_FIELDS))
def test_page_forms_refuse_personal_details(field, kind):
    form, name = PAGE_FIELDS[field](PERSONAL[kind])
    assert not form.is_valid()
    assert message(kind) in form.errors[name], form.errors


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "kinds_kept"),
    [("address", {STREET_ADDRESS}), ("phone", {PHONE})],
)
def test_a_partners_own_address_and_phone_hold_only_what_they_are_for(field, kinds_kept):
    for kind, text in PERSONAL.items():
        form, name = _partner(field)(text)
        form.is_valid()
        if kind in kinds_kept:
            assert name not in form.errors, (kind, form.errors)
        else:
            assert message(kind) in form.errors[name], (kind, form.errors)


@pytest.mark.parametrize(
    ("form_class", "data"), [(VoidForm, {}), (MergeForm, {"merged": "A", "kept": "B"})]
)
def test_void_and_merge_reasons_are_choices_not_free_text(form_class, data):
    form = form_class({**data, "reason": "John Smith asked, 555-867-5309"})
    assert not form.is_valid()
    assert "Select a valid choice" in form.errors["reason"][0]


@pytest.mark.django_db
@pytest.mark.parametrize("kind", KINDS)
def test_the_front_desk_page_refuses_personal_details_and_saves_nothing(
    client, front_desk_ana, site_a, stocked, supplies, kind
):
    client.force_login(front_desk_ana)
    response = client.post(
        "/intake/",
        {
            "client_uuid": new_uuid(),
            "site": site_a.pk,
            "code": "MAKO1993F",
            "line": [f"item:{supplies['pad'].pk}"],
            "qty": ["1"],
            "notes": PERSONAL[kind],
        },
    )
    assert response.status_code == 400
    assert message(kind) in response.content.decode()
    assert not Visit.objects.exists()


@pytest.mark.django_db
def test_the_adjust_page_shows_the_refusal_on_the_reference(client, manager_sam, stocked, supplies):
    client.force_login(manager_sam)
    lot = Lot.objects.get(item=supplies["pad"])
    before = StockMovement.objects.count()
    response = client.post(
        "/inventory/adjust/",
        {
            "location": stocked.pk,
            "lot": lot.pk,
            "reason": "lost",
            "quantity": "-1",
            "reference": PERSONAL[PHONE],
        },
    )
    assert message(PHONE) in response.context["form"].errors["reference"]
    assert StockMovement.objects.count() == before


@pytest.mark.django_db
def test_the_visit_page_offers_void_reasons_as_a_list(
    client, front_desk_ana, site_a, stocked, supplies
):
    visit, _ = visit_record(
        site=site_a,
        by=front_desk_ana,
        client_uuid=new_uuid(),
        lines=[item_line(supplies["pad"], 1)],
    )
    client.force_login(front_desk_ana)
    page = client.get(f"/intake/visits/{visit.uuid}/").content.decode()
    assert '<select name="reason"' in page and "Entered twice" in page
    client.post(f"/intake/visits/{visit.uuid}/void/", {"reason": "wrong_site"})
    visit.refresh_from_db()
    assert visit.void_reason == VoidReason.WRONG_SITE
    assert "Wrong site" in client.get(f"/intake/visits/{visit.uuid}/").content.decode()


# --- API -----------------------------------------------------------------------------


@pytest.fixture
def partner_api(api_as, coordinator_cleo):
    return api_as(coordinator_cleo)


@pytest.fixture
def referral_at_a(front_desk_ana, site_a, stocked, supplies):
    default_types_ensure(ReferralType)
    visit, _ = visit_record(
        site=site_a,
        by=front_desk_ana,
        client_uuid=new_uuid(),
        code="MAKO1993F",
        lines=[item_line(supplies["pad"], 1)],
    )
    return referral_services.referral_create(
        referral_type=ReferralType.objects.get(code="hcv-testing"), visit=visit, by=front_desk_ana
    )


def _post_visit(ctx, text):
    body = {
        "client_uuid": new_uuid(),
        "site": ctx.site_a.pk,
        "code": "MAKO1993F",
        "supplies": [{"item": "alcohol-pad", "quantity": 1}],
        "notes": text,
    }
    return ctx.api(ctx.front_desk_ana).post("/api/v1/visits/", body, format="json"), "notes"


def _correct_visit(ctx, text):
    visit, _ = visit_record(
        site=ctx.site_a,
        by=ctx.front_desk_ana,
        client_uuid=new_uuid(),
        lines=[item_line(ctx.supplies["pad"], 1)],
    )
    response = ctx.api(ctx.front_desk_ana).patch(
        f"/api/v1/visits/{visit.uuid}/", {"notes": text}, format="json"
    )
    return response, "notes"


def _referral(ctx, text):
    body = {"code": "MAKO1993F", "site": ctx.site_a.pk, "type": "food", "note": text}
    return ctx.api(ctx.front_desk_ana).post("/api/v1/referrals/", body, format="json"), "note"


def _status_change(ctx, text):
    url = f"/api/v1/referrals/{ctx.referral.pk}/status-changes/"
    body = {"to_status": "declined", "note": text}
    return ctx.api(ctx.front_desk_ana).post(url, body, format="json"), "note"


def _partner_api(field):
    def post(ctx, text):
        body = {"name": "Harbor Clinic", "types": ["food"], field: text}
        response = ctx.api(ctx.coordinator_cleo).post(
            "/api/v1/referrals/partners/", body, format="json"
        )
        return response, field

    return post


def _receipt(field):
    def post(ctx, text):
        line = {"item": ctx.supplies["pad"].pk, "quantity": 1}
        body = {"location": ctx.stocked.pk, "funding_source": ctx.fund.pk, "lines": [line]}
        if field == "lot_number":
            line["lot_number"] = text
        else:
            body["reference"] = text
        response = ctx.api(ctx.manager_sam).post("/api/v1/inventory/receipts/", body, format="json")
        # A receipt line's errors are keyed by line: lines → 0 → lot_number.
        return response, ("lines", "0", "lot_number") if field == "lot_number" else field

    return post


def _transfer(ctx, text):
    van = LocationFactory(name="Van 2", kind="van", site=ctx.site_a)
    body = {
        "from_location": ctx.stocked.pk,
        "to_location": van.pk,
        "reference": text,
        "lines": [{"item": ctx.supplies["pad"].pk, "quantity": 1}],
    }
    return ctx.api(ctx.manager_sam).post(
        "/api/v1/inventory/transfers/", body, format="json"
    ), "reference"


def _adjustment(ctx, text):
    body = {
        "location": ctx.stocked.pk,
        "lot": Lot.objects.get(item=ctx.supplies["pad"]).pk,
        "quantity": -1,
        "reason": "lost",
        "reference": text,
    }
    return ctx.api(ctx.manager_sam).post(
        "/api/v1/inventory/adjustments/", body, format="json"
    ), "reference"


def _dispense(ctx, text):
    body = {
        "location": ctx.stocked.pk,
        "reference": text,
        "lines": [{"item": ctx.supplies["pad"].pk, "quantity": 1}],
    }
    return ctx.api(ctx.manager_sam).post(
        "/api/v1/inventory/dispenses/", body, format="json"
    ), "reference"


API_FIELDS = {
    "visit notes": _post_visit,
    "visit notes (correction)": _correct_visit,
    "referral note": _referral,
    "status-change note": _status_change,
    "partner name": _partner_api("name"),
    "partner hours": _partner_api("hours"),
    "partner notes": _partner_api("notes"),
    "receipt reference": _receipt("reference"),
    "lot number": _receipt("lot_number"),
    "transfer reference": _transfer,
    "adjustment reference": _adjustment,
    "dispense reference": _dispense,
}


def _stored_texts():
    """Every free-text value the program keeps, to prove nothing was stored."""
    return [
        *Visit.objects.values_list("notes", flat=True),
        *ReferralStatusChange.objects.values_list("note", flat=True),
        *Partner.objects.values_list("notes", flat=True),
        *Partner.objects.values_list("name", flat=True),
        *Partner.objects.values_list("hours", flat=True),
        *StockMovement.objects.values_list("reference", flat=True),
        *Lot.objects.values_list("lot_number", flat=True),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("field", list(API_FIELDS))
def test_the_api_refuses_personal_details(
    api_as,
    front_desk_ana,
    manager_sam,
    coordinator_cleo,
    site_a,
    stocked,
    supplies,
    fund,
    referral_at_a,
    field,
    kind,
):
    ctx = SimpleNamespace(
        api=api_as,
        front_desk_ana=front_desk_ana,
        manager_sam=manager_sam,
        coordinator_cleo=coordinator_cleo,
        site_a=site_a,
        stocked=stocked,
        supplies=supplies,
        fund=fund,
        referral=referral_at_a,
    )
    response, name = API_FIELDS[field](ctx, PERSONAL[kind])
    assert response.status_code == 400, response.json()
    body = response.json()
    errors = body["errors"]
    for key in name if isinstance(name, tuple) else (name,):
        errors = errors[key]
    assert message(kind) in str(errors), body
    assert body["detail"]
    assert PERSONAL[kind] not in _stored_texts()


@pytest.mark.django_db
def test_the_api_takes_void_and_merge_reasons_from_their_lists(
    api_as, front_desk_ana, manager_sam, site_a, stocked, supplies
):
    visit, _ = visit_record(
        site=site_a,
        by=front_desk_ana,
        client_uuid=new_uuid(),
        code="MAKO1939F",
        lines=[item_line(supplies["pad"], 1)],
    )
    ParticipantFactory(code="MAKO1993F")
    api = api_as(front_desk_ana)
    refused = api.post(
        f"/api/v1/visits/{visit.uuid}/void/", {"reason": "John Smith, wrong code"}, format="json"
    )
    assert refused.status_code == 400 and "reason" in refused.json()["errors"]
    voided = api.post(f"/api/v1/visits/{visit.uuid}/void/", {"reason": "wrong_code"})
    assert voided.status_code == 200 and voided.json()["void_reason"] == "wrong_code"

    merge = api_as(manager_sam)
    body = {"merged": "MAKO1939F", "kept": "MAKO1993F", "reason": "same person, 555-867-5309"}
    refused = merge.post("/api/v1/participants/merge/", body, format="json")
    assert refused.status_code == 400 and "reason" in refused.json()["errors"]
    assert not ParticipantMerge.objects.exists()


# --- Services: no caller bypasses the check ---------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("kind", KINDS)
def test_services_refuse_personal_details_from_any_caller(
    front_desk_ana, manager_sam, site_a, stocked, supplies, fund, referral_at_a, kind
):
    text = PERSONAL[kind]
    with pytest.raises(VisitError, match="never record personal details") as caught:
        visit_record(
            site=site_a,
            by=front_desk_ana,
            client_uuid=new_uuid(),
            lines=[item_line(supplies["pad"], 1)],
            notes=text,
        )
    assert "notes" in caught.value.field_errors
    visit = Visit.objects.get()  # the referral fixture's visit
    with pytest.raises(VisitError, match="never record personal details"):
        visit_correct(visit=visit, by=front_desk_ana, notes=text)
    with pytest.raises(referral_services.ReferralError, match="never record personal details"):
        referral_services.referral_mark_declined(
            referral=referral_at_a, by=front_desk_ana, note=text
        )
    with pytest.raises(referral_services.ReferralError, match="never record personal details"):
        referral_services.referral_not_yet(referral=referral_at_a, by=front_desk_ana, note=text)
    lot = Lot.objects.get(item=supplies["pad"])
    with pytest.raises(StockError, match="never record personal details"):
        stock_adjust(
            location=stocked, lot=lot, quantity=-1, reason="lost", by=manager_sam, reference=text
        )
    with pytest.raises(StockError, match="never record personal details"):
        stock_receive(
            location=stocked,
            lines=[ReceiptLine(item=supplies["pad"], quantity=1, lot_number=text)],
            funding_source=fund,
            by=manager_sam,
        )
    assert text not in _stored_texts()
    assert Referral.objects.get().history.count() == 1


@pytest.mark.django_db
def test_services_take_void_reasons_by_value_or_label_only(
    front_desk_ana, site_a, stocked, supplies
):
    visit, _ = visit_record(
        site=site_a,
        by=front_desk_ana,
        client_uuid=new_uuid(),
        lines=[item_line(supplies["pad"], 1)],
    )
    with pytest.raises(VisitError, match="Choose one of the reasons"):
        visit_void(visit=visit, by=front_desk_ana, reason="Logged for John Smith by mistake")
    visit_void(visit=visit, by=front_desk_ana, reason="Test entry")
    visit.refresh_from_db()
    assert visit.void_reason == VoidReason.TEST_ENTRY


# --- The demo's own words ---------------------------------------------------------------


@pytest.mark.django_db
def test_a_month_of_demo_data_seeds_and_nothing_it_writes_looks_personal(settings):
    default_types_ensure(ReferralType)
    call_command("seed_demo", "--days", "30", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Visit.objects.exists() and StockMovement.objects.exists()
    looks_personal = {
        text: personal_detail_in(text)
        for text in {*_stored_texts(), *Partner.objects.values_list("address", flat=True)}
        if personal_detail_in(text)
    }
    # A partner's address is its own; every other free text passes unchanged.
    own_addresses = set(Partner.objects.values_list("address", flat=True))
    assert {text for text in looks_personal if text not in own_addresses} == set()
    reasons = set(Visit.objects.exclude(void_reason="").values_list("void_reason", flat=True))
    assert reasons <= set(VoidReason.values)
