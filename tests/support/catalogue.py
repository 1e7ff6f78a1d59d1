"""A reader of gettext .po files (no package needed): the catalogue test checks that
every entry is translated, none is fuzzy, and the committed .mo says the same."""

import ast
from dataclasses import dataclass, field
from pathlib import Path

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
