"""A reader of gettext .po files (no package needed): the catalogue test checks that
every entry is translated, none is fuzzy, and the committed .mo says the same; the
browser tests find the English left on a translated page."""

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

from auditlog.models import LogEntry

from inventory.models import FundingSource, Item, Kit, Location
from org.models import Site
from referrals.models import Partner, ReferralType

LOCALE = Path(__file__).resolve().parents[2] / "locale"


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str = ""
    msgctxt: str | None = None
    msgstr: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False

    @property
    def key(self) -> str:
        """The entry's key in a compiled catalogue (context EOT msgid)."""
        return self.msgid if self.msgctxt is None else f"{self.msgctxt}\x04{self.msgid}"


def entries(path: Path) -> list[Entry]:
    """The entries of a .po file, the header (msgid "") included first."""
    found, entry, last = [], Entry(), None

    def close():
        nonlocal entry
        if entry.msgstr or entry.msgid:
            found.append(entry)
        entry = Entry()

    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line.startswith("#~"):
            entry.obsolete = True
            continue
        if not line:
            close()
        elif line.startswith("#,"):
            entry.flags |= {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            value = ast.literal_eval(line)
            if last == "msgstr":
                entry.msgstr[-1] += value
            else:
                setattr(entry, last, getattr(entry, last) + value)
        else:
            keyword, _, rest = line.partition(" ")
            value = ast.literal_eval(rest)
            if keyword.startswith("msgstr"):
                entry.msgstr.append(value)
                last = "msgstr"
            else:
                setattr(entry, keyword, value)
                last = keyword
    close()
    return found


def english_msgids(min_length: int = 1) -> set[str]:
    """The Spanish catalogue's English texts whose Spanish differs, as they read on screen
    (tags dropped, entities read), at least min_length long, without placeholders (on
    screen they are filled in)."""
    found = set()
    for entry in entries(LOCALE / "es" / "LC_MESSAGES" / "django.po")[1:]:
        for english, spanish in (
            (entry.msgid, entry.msgstr[0]),
            (entry.msgid_plural, entry.msgstr[-1]),
        ):
            text = re.sub(r"<[^>]+>", "", english).replace("&lt;", "<").replace("&gt;", ">")
            text = text.replace("&amp;", "&").strip()
            placeholder = "%(" in text or "{" in text
            if len(text) >= min_length and not placeholder and english != spanish:
                found.add(text)
    return found


def data_names() -> list[str]:
    """What staff typed and the pages show as it is, longest first: names of sites,
    locations, items, kits, funds, partners and referral types (a program renames or adds
    its own types; "Wound care" is a seeded type's name, not the catalogue's supply
    category), and the audit trail's record names as logged (auditlog's object_repr:
    history, kept in the words of its day, not rewritten in the reader's language)."""
    names = set()
    for model in (Site, Location, Item, Kit, FundingSource, Partner, ReferralType):
        names |= set(model.objects.values_list("name", flat=True))
    names |= set(LogEntry.objects.values_list("object_repr", flat=True))
    return sorted(names, key=len, reverse=True)


def english_on_screen(page, english: set[str], names: list[str]) -> list[str]:
    """The English msgids in the page's visible text once the program's own data is taken
    out: a whole line, or (at least 12 characters, so short words inside others give no
    false alarm) part of one."""
    text = page.evaluate("() => document.body.innerText")
    for name in names:
        text = text.replace(name, "\n")
    lines = {line.strip() for line in text.splitlines()}
    return sorted(
        msgid for msgid in english if msgid in lines or (len(msgid) >= 12 and msgid in text)
    )
