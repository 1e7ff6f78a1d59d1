"""Visible text of a template that is outside {% translate %} / {% blocktranslate %}:
text between HTML tags and the values of the attributes people see or hear (aria-label,
title, placeholder, alt, label, data-confirm). Used by the catalogue test."""

import re

from django.template.base import Lexer, TokenType

SPOKEN_ATTRIBUTES = {"aria-label", "title", "placeholder", "alt", "label", "data-confirm"}
WORDS = re.compile(r"[A-Za-z]{2,}")
# Not words to translate: the keys' own labels, and the program's short name.
NOT_WORDS = {"Enter", "Esc", "SSP"}


def text_runs(source: str):
    """(kind, text) for each run of visible text not inside a translation tag:
    kind is "text" or the attribute's name."""
    in_tag = quote = None
    attribute, name = "", ""
    inside_blocktranslate = False
    run = []

    def flush(kind):
        text = "".join(run).strip()
        run.clear()
        if text and WORDS.search(text) and text not in NOT_WORDS:
            yield kind, text

    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.BLOCK:
            word = token.contents.split()[0] if token.contents else ""
            if word == "blocktranslate":
                inside_blocktranslate = True
            elif word == "endblocktranslate":
                inside_blocktranslate = False
        if token.token_type != TokenType.TEXT:
            # A variable or tag inside a run breaks it: the text on each side is its own.
            if inside_blocktranslate or (quote and attribute not in SPOKEN_ATTRIBUTES):
                run.clear()
            elif not in_tag or quote:
                yield from flush(attribute if quote else "text")
            continue
        for char in token.contents:
            if not in_tag:
                if char == "<":
                    if not inside_blocktranslate:
                        yield from flush("text")
                    run.clear()
                    in_tag, name = True, ""
                elif not inside_blocktranslate:
                    run.append(char)
            elif quote:
                if char == quote:
                    if attribute in SPOKEN_ATTRIBUTES and not inside_blocktranslate:
                        yield from flush(attribute)
                    run.clear()
                    quote = None
                elif not inside_blocktranslate:
                    run.append(char)
            elif char in "\"'":
                quote, attribute = char, name.strip().lower().rstrip("=").strip()
                run.clear()
            elif char == ">":
                in_tag, name = False, ""
            elif char in " \t\n":
                name = ""
            elif char != "=":
                name += char
    if not in_tag and not inside_blocktranslate:
        yield from flush("text")


def unmarked(source: str) -> list[str]:
    """The visible text of a template that no translation tag covers."""
    source = re.sub(r"<script\b.*?</script>", "", source, flags=re.S)
    return [text for _, text in text_runs(source)]
