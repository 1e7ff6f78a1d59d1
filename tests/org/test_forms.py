"""Control characters on the pages: every text field of every form refuses them with a
field message, as the API does (one rule: org.validators.printable_text, applied by
org.forms.PrintableTextMixin)."""

import inspect
from importlib import import_module

import pytest
from django import forms

from inventory.models import Location, Lot, StockMovement
from org.forms import PrintableTextMixin
from org.models import Site
from org.validators import PRINTABLE_MESSAGE
from referrals.models import Partner, Referral, ReferralStatus

from ..factories import LocationFactory, VisitFactory

pytestmark = pytest.mark.django_db

PROJECT_APPS = ("org", "outbox", "inventory", "ssp", "referrals", "reports")
# A bell, a right-to-left override and a NUL: each displays or stores as something else.
HOSTILE = ("ab\x07cd", "ab\u202ecd", "ab\x00cd")


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def project_forms() -> list[type[forms.BaseForm]]:
    for app in PROJECT_APPS:
        for module in ("forms", "admin", "views"):
            try:
                import_module(f"{app}.{module}")
            except ModuleNotFoundError as missing:
                if missing.name != f"{app}.{module}":
                    raise
    found = {
        cls
        for cls in _subclasses(forms.BaseForm)
        if cls.__module__.split(".")[0] in PROJECT_APPS and cls.__module__ != "org.forms"
    }
    return sorted(found, key=lambda cls: f"{cls.__module__}.{cls.__qualname__}")


def test_every_form_of_the_pages_refuses_control_characters():
    found = project_forms()
    assert len(found) >= 20, [cls.__name__ for cls in found]  # intake, stock, referrals, reports
    assert [cls for cls in found if not issubclass(cls, PrintableTextMixin)] == []


@pytest.fixture
def form_kwargs(site_a, admin_ada):
    """What each form's __init__ asks for, by name."""
    LocationFactory(name="Downtown storeroom", site=site_a)
    return {
        "sites": Site.objects.all(),
        "visit": VisitFactory(site=site_a),
        "locations": Location.objects.all(),
        "managed": Location.objects.all(),
        "lots": Lot.objects.all(),
        "sheet_lots": set(),
        "with_visit": False,
        "referral": Referral(status=ReferralStatus.REFERRED),
        "user": admin_ada,
    }


def _build(cls, form_kwargs, data=None):
    wanted = [
        name
        for name, parameter in inspect.signature(cls.__init__).parameters.items()
        if parameter.kind is parameter.KEYWORD_ONLY and parameter.default is parameter.empty
    ]
    return cls(data, **{name: form_kwargs[name] for name in wanted})


def _is_text(field) -> bool:
    # A UUID field parses its text first and answers "Enter a valid UUID." instead.
    return isinstance(field, forms.CharField) and not isinstance(field, forms.UUIDField)


def _has_text(cls) -> bool:
    return any(_is_text(field) for field in cls.base_fields.values())


@pytest.mark.parametrize(
    "form_class", [cls for cls in project_forms() if _has_text(cls)], ids=lambda cls: cls.__name__
)
def test_each_text_field_says_what_is_wrong(form_class, form_kwargs):
    unbound = _build(form_class, form_kwargs)
    # Fields the form adds in its own __init__ (the code recipe's parts) included.
    text_fields = [name for name, field in unbound.fields.items() if _is_text(field)]
    for text in HOSTILE:
        form = _build(
            form_class, form_kwargs, {unbound[name].html_name: text for name in text_fields}
        )
        assert not form.is_valid()
        for name in text_fields:
            messages = form.errors.get(name, [])
            # Django's own check says "Null characters are not allowed." for a NUL.
            assert PRINTABLE_MESSAGE in messages or (
                "\x00" in text and "Null characters are not allowed." in messages
            ), (form_class.__name__, name, repr(text), messages)


def test_the_receive_page_shows_the_message_and_stores_nothing(client, manager_sam, site_a):
    location = LocationFactory(name="Downtown storeroom", site=site_a)
    client.force_login(manager_sam)
    response = client.post(
        "/inventory/receive/",
        {"location": location.pk, "reference": "PO\u202e1922", "lines-TOTAL_FORMS": "1"}
        | {"lines-INITIAL_FORMS": "0", "lines-MIN_NUM_FORMS": "1", "lines-MAX_NUM_FORMS": "9"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["reference"] == [PRINTABLE_MESSAGE]
    assert PRINTABLE_MESSAGE in response.content.decode()
    assert not StockMovement.objects.exists()


def test_the_partner_page_shows_the_message_and_stores_nothing(client, coordinator_cleo):
    client.force_login(coordinator_cleo)
    response = client.post("/referrals/partners/new/", {"name": "Clinic\x1b[31m"})
    assert response.status_code == 400  # this page answers a refused form with 400
    assert PRINTABLE_MESSAGE in response.context["form"].errors["name"]
    assert not Partner.objects.exists()
