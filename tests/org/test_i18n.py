"""Spanish: the catalogue is complete and compiled, the marked templates stay marked,
and each person's language follows them from page to page."""

import gettext
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from rest_framework.test import APIClient

from ..support.catalogue import LOCALE, entries
from ..support.unmarked import unmarked

PO = LOCALE / "es" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
ROOT = Path(settings.BASE_DIR)


def test_every_spanish_entry_is_translated_and_none_is_fuzzy():
    found = entries(PO)
    header, messages = found[0], found[1:]
    assert header.msgid == "" and "fuzzy" not in header.flags
    assert messages, "the catalogue is empty"
    untranslated = [e.msgid for e in messages if not all(e.msgstr)]
    fuzzy = [e.msgid for e in messages if "fuzzy" in e.flags]
    assert not untranslated, f"not translated: {untranslated}"
    assert not fuzzy, f"fuzzy: {fuzzy}"


def test_the_committed_mo_is_compiled_from_the_po():
    with MO.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)._catalog
    for entry in entries(PO)[1:]:
        if entry.msgid_plural:
            for index, text in enumerate(entry.msgstr):
                assert compiled[(entry.key, index)] == text, entry.msgid
        else:
            assert compiled[entry.key] == entry.msgstr[0], entry.msgid


@pytest.mark.parametrize(
    "template",
    sorted(
        path.relative_to(ROOT).as_posix()
        for path in ROOT.glob("*/templates/**/*.html")
        if "vendor" not in path.parts
    ),
)
def test_marked_templates_have_no_text_outside_translate_tags(template):
    left = unmarked((ROOT / template).read_text(encoding="utf-8"))
    assert not left, f"{template}: not marked for translation: {left}"


def test_the_scan_finds_text_outside_translate_tags():
    source = (
        '{% load i18n %}<h1 title="Shown">{% translate "Marked" %}</h1>'
        "<p>Plain {{ value }}</p>{% blocktranslate %}Inside {{ x }}{% endblocktranslate %}"
    )
    assert unmarked(source) == ["Shown", "Plain"]


@pytest.mark.django_db
def test_the_menu_and_front_desk_follow_the_persons_language(client, front_desk_ana):
    client.force_login(front_desk_ana)
    english = client.get(reverse("ssp:intake")).content.decode()
    assert '<html lang="en">' in english and "Front desk" in english
    response = client.post(
        reverse("org:account-language"), {"language": "es", "next": reverse("ssp:intake")}
    )
    assert response.status_code == 302 and response["Location"] == reverse("ssp:intake")
    front_desk_ana.refresh_from_db()
    assert front_desk_ana.language == "es"
    spanish = client.get(reverse("ssp:intake")).content.decode()
    assert '<html lang="es">' in spanish
    for word in ("Recepción", "Turno en la calle", "Guardar visita", "Cerrar sesión", "English"):
        assert word in spanish, word
    assert "Save visit" not in spanish


@pytest.mark.django_db
def test_a_language_not_offered_is_refused(client, front_desk_ana):
    client.force_login(front_desk_ana)
    client.post(reverse("org:account-language"), {"language": "xx"})
    front_desk_ana.refresh_from_db()
    assert front_desk_ana.language == ""


@pytest.mark.django_db
def test_the_switch_does_not_send_anyone_off_the_site(client, front_desk_ana):
    client.force_login(front_desk_ana)
    response = client.post(
        reverse("org:account-language"), {"language": "es", "next": "https://example.com/"}
    )
    assert response["Location"] == reverse("org:account")


@pytest.mark.django_db
def test_help_has_a_section_for_each_screen_and_the_front_desk_keys(client, front_desk_ana):
    client.force_login(front_desk_ana)
    intake = client.get(reverse("ssp:intake")).content.decode()
    assert f'href="{reverse("org:help")}#front-desk"' in intake
    page = client.get(reverse("org:help")).content.decode()
    for anchor in ("front-desk", "street-shift", "stock", "reports", "admin", "account"):
        assert f'id="{anchor}"' in page, anchor
    assert '<span class="kbd">U</span>' in page


@pytest.mark.django_db
def test_the_api_reads_and_sets_ones_language(front_desk_ana):
    api = APIClient()
    api.force_authenticate(front_desk_ana)
    assert api.get("/api/v1/account/").json() == {
        "username": front_desk_ana.username,
        "language": "",
    }
    assert api.patch("/api/v1/account/", {"language": "es"}, format="json").status_code == 200
    front_desk_ana.refresh_from_db()
    assert front_desk_ana.language == "es"
    refused = api.patch("/api/v1/account/", {"language": "xx"}, format="json")
    assert refused.status_code == 400
    front_desk_ana.refresh_from_db()
    assert front_desk_ana.language == "es"
