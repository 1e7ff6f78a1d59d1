"""Privacy guard: no model of the project may hold what could identify a participant.

Participants are anonymous (../shared/DOMAIN.md, Privacy): no names, birth dates,
addresses, phone numbers, e-mail, ID or insurance numbers, precise locations. The only
person-shaped records allowed are staff accounts; organisations (sites, suppliers,
referral partners) may have names, addresses and phone numbers. Each exception is
listed below with its reason, so adding one is a visible decision in review.
"""

import re
from pathlib import Path

import pytest
from django.apps import apps
from django.db import models

ROOT = Path(__file__).resolve().parents[2]

# Words that, as part of a field name, mean the field could hold personal information.
PII_WORDS = {
    "name",
    "names",
    "firstname",
    "lastname",
    "surname",
    "forename",
    "fullname",
    "maiden",
    "nickname",
    "alias",
    "initials",
    "birth",
    "birthday",
    "birthdate",
    "dob",
    "born",
    "address",
    "street",
    "city",
    "town",
    "zip",
    "zipcode",
    "postal",
    "postcode",
    "phone",
    "telephone",
    "mobile",
    "cell",
    "fax",
    "email",
    "ssn",
    "sin",
    "passport",
    "license",
    "licence",
    "medicaid",
    "medicare",
    "insurance",
    "mrn",
    "ip",
    "photo",
    "picture",
    "signature",
    "fingerprint",
    "biometric",
    "latitude",
    "longitude",
    "lat",
    "lng",
    "gps",
    "geolocation",
    "coordinates",
}
PII_PATTERNS = [
    re.compile(p)
    for p in (
        r"id_?(num|no\b|number)",
        r"social_?security",
        r"date_of_birth",
        r"drivers?_",
        r"national_?id",
        r"health_?card",
        r"record_?(num|number)",
        r"e_?mail",
    )
]

# Whole models that are not about participants.
ALLOWED_MODELS = {
    "org.User": "staff accounts: staff log in by name, and Django's user has name and e-mail",
}
# (model, field): reason. Organisation data, never a participant's.
ALLOWED_FIELDS = {
    ("org.Site", "name"): "a place or programme arm of the program (Downtown drop-in)",
    ("inventory.Item", "name"): "a supply in the catalogue",
    ("inventory.PackSize", "name"): "how a supply is packed (box of 100)",
    ("inventory.Kit", "name"): "a named bundle of supplies",
    ("inventory.Location", "name"): "a storeroom, site shelf or van",
    ("inventory.FundingSource", "name"): "a grant or funder",
    ("referrals.ReferralType", "name"): "a kind of service (PrEP, methadone)",
    ("referrals.Partner", "name"): "a partner organisation",
    ("ssp.Survey", "name"): "the title of a periodic survey, chosen by a coordinator",
    ("referrals.Partner", "address"): "a partner organisation's public address",
    ("referrals.Partner", "phone"): "a partner organisation's public phone number",
    ("outbox.OutboxJob", "task_name"): "the dotted path of a Celery task",
    ("inventory.AlertDigest", "email_count"): "how many digest e-mails a run sent to staff",
}

# The participant record holds the code and coarse facts only.
PARTICIPANT_FIELDS = {
    "id",
    "code",
    "first_seen_on",
    "gender",
    "age_band",
    "zip3",
    "merged_into",
    "created_at",
}

PII_WARNING = re.compile(r"never enter names.*identify", re.I | re.S)
FREE_TEXT_WORDS = {"note", "notes", "comment", "comments", "remark", "remarks"}


def looks_personal(field_name: str) -> bool:
    name = field_name.lower()
    return bool(set(name.split("_")) & PII_WORDS) or any(p.search(name) for p in PII_PATTERNS)


def project_models() -> list[type[models.Model]]:
    """Models of the project's own apps (top-level folders of this repository)."""
    found = []
    for config in apps.get_app_configs():
        if Path(config.path).resolve().parent == ROOT:
            found += config.get_models()
    return found


def test_the_guard_covers_every_app_of_the_project():
    labels = {model._meta.app_label for model in project_models()}
    assert {"ssp", "inventory", "referrals"} <= labels


@pytest.mark.parametrize(
    "field_name",
    [
        "first_name",
        "last_name",
        "mother_name",
        "date_of_birth",
        "dob",
        "birth_year",
        "home_address",
        "street",
        "zip_code",
        "postal_code",
        "phone_number",
        "mobile",
        "email",
        "contact_email",
        "ssn",
        "id_number",
        "drivers_license",
        "medicaid_id",
        "insurance_number",
        "ip_address",
        "latitude",
        "photo",
    ],
)
def test_the_guard_recognises_personal_information(field_name):
    assert looks_personal(field_name)


@pytest.mark.parametrize(
    "field_name",
    ["code", "zip3", "age_band", "gender", "lot_number", "first_seen_on", "notes", "site"],
)
def test_the_guard_lets_anonymous_fields_through(field_name):
    assert not looks_personal(field_name)


def test_no_model_has_a_field_that_looks_like_personal_information():
    offending = []
    for model in project_models():
        label = model._meta.label
        if label in ALLOWED_MODELS:
            continue
        for field in model._meta.get_fields():
            if field.auto_created and not field.concrete:
                continue  # reverse relations are named after other models
            if looks_personal(field.name) and (label, field.name) not in ALLOWED_FIELDS:
                offending.append(f"{label}.{field.name}")
    assert not offending, (
        f"fields that look like personal information: {offending}. Participants are "
        "anonymous; if this is organisation data, add it to ALLOWED_FIELDS with a reason."
    )


def test_every_allow_listed_field_still_exists():
    # A stale exception would silently allow the name to come back as something else.
    for label, field_name in ALLOWED_FIELDS:
        apps.get_model(label)._meta.get_field(field_name)


def test_the_participant_holds_only_its_code_and_coarse_facts():
    from ssp.models import Participant

    fields = {f.name for f in Participant._meta.concrete_fields}
    assert fields == PARTICIPANT_FIELDS, (
        f"unexpected participant fields: {sorted(fields - PARTICIPANT_FIELDS)}; "
        f"missing: {sorted(PARTICIPANT_FIELDS - fields)}"
    )
    assert Participant._meta.get_field("zip3").max_length == 3


def test_free_text_notes_warn_against_personal_information():
    unwarned = []
    for model in project_models():
        for field in model._meta.concrete_fields:
            free_text = isinstance(field, models.TextField) or (
                isinstance(field, models.CharField)
                and not field.choices
                and set(field.name.split("_")) & FREE_TEXT_WORDS
            )
            if free_text and not PII_WARNING.search(str(field.help_text)):
                unwarned.append(f"{model._meta.label}.{field.name}")
    assert not unwarned, (
        f"free-text fields without the warning in their help text: {unwarned}. Say "
        '"Never enter names, birth dates, addresses, phone numbers or other details that '
        'could identify the person."'
    )
