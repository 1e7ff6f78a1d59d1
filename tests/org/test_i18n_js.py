"""The scripts' words: every page carries them as JSON in the person's language (so a
page kept for offline use keeps them), the scripts ask only for words that exist, each
Spanish text keeps its English placeholders, and the service worker's English fallback
is the catalogue's English."""

import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from org.context_processors import js_strings

ROOT = Path(settings.BASE_DIR)
SCRIPTS = sorted(
    path
    for path in [*ROOT.glob("*/static/*/*.js"), ROOT / "org" / "templates" / "org" / "sw.js"]
    if "vendor" not in path.parts
)
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def words(language: str) -> dict:
    with translation.override(language):
        return js_strings(None)["js_strings"]()


def texts(value) -> list[str]:
    return list(value.values()) if isinstance(value, dict) else [value]


def page_words(html: str) -> dict:
    found = re.search(r'<script id="js-strings" type="application/json">(.*?)</script>', html)
    assert found, "the page carries no js-strings"
    return json.loads(found.group(1))


@pytest.mark.django_db
def test_the_page_carries_its_scripts_words_in_the_persons_language(client, front_desk_ana):
    client.force_login(front_desk_ana)
    english = page_words(client.get(reverse("ssp:intake")).content.decode())
    assert english["shell.offline"] == "Offline"
    assert english["outbox.visit_kept"] == "Visit kept on this device at %(time)s: waiting to send."

    front_desk_ana.language = "es"
    front_desk_ana.save()
    spanish = page_words(client.get(reverse("ssp:intake")).content.decode())
    assert spanish["shell.offline"] == "Sin conexión"
    assert spanish["shell.waiting"] == {
        "one": "%(n)s en espera de envío",
        "other": "%(n)s en espera de envío",
    }
    assert spanish["shell.refused"] == {"one": "%(n)s no aceptado", "other": "%(n)s no aceptados"}
    assert spanish["outbox.birth_year"] == "año de nacimiento ±1"
    assert spanish["offline.heading"] == "Sin conexión"
    assert spanish["stock.on_hand"] == "En existencia"


def test_every_word_a_script_asks_for_exists_and_every_word_is_asked_for():
    known = set(words("en"))
    quoted = set()
    for path in SCRIPTS:
        source = path.read_text()
        for key in re.findall(r"""\bt\(\s*["'`]([\w.]+)["'`]""", source):
            assert key in known, f"{path.relative_to(ROOT)} asks for {key!r}"
        quoted |= set(re.findall(r"""["'`]([a-z]+\.[a-z_]+)["'`]""", source))
    # A word no script names (t("key") or a table of keys) is a word left behind.
    assert not known - quoted, f"words no script uses: {sorted(known - quoted)}"


def test_each_spanish_word_keeps_the_english_placeholders():
    english, spanish = words("en"), words("es")
    assert english.keys() == spanish.keys()
    for key, value in english.items():
        for en, es in zip(texts(value), texts(spanish[key]), strict=True):
            assert set(PLACEHOLDER.findall(en)) == set(PLACEHOLDER.findall(es)), key
            assert es, key


def test_the_workers_english_fallback_is_the_catalogues_english():
    source = (ROOT / "org" / "templates" / "org" / "sw.js").read_text()
    english = words("en")
    fallbacks = re.findall(r'say\("([\w.]+)", "([^"]+)"\)', source)
    assert {key for key, _ in fallbacks} == {k for k in english if k.startswith("offline.")}
    for key, text in fallbacks:
        assert english[key] == text, key
