"""Anonymous participant codes: the program's recipe, normalising, building from parts,
and the one-edit variants used for near-match suggestions.

The recipe is `settings.SSP_CODE_RECIPE`, a list of parts in order:

- `<name>:<n>`   the first n letters of a name the person knows, e.g. `mother_first_name:2`
                 (shorter names are padded with X so the person can still rebuild it)
- `birth_year`   four digits; `birth_year:2` the last two
- `birth_month`  two digits, `birth_day` two digits
- `gender`       one letter of `settings.SSP_GENDER_CHOICES` (default F, M, X, U)
- `literal:<T>`  fixed text, e.g. a program letter

The parts a person gives are used to build the code and then thrown away: nothing
here stores them.
"""

import re
import string
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import cache

from django.conf import settings
from django.utils.translation import gettext, gettext_noop, ngettext

ALPHABET = string.ascii_uppercase + string.digits
PAD = "X"


def gender_choices() -> list[tuple[str, str]]:
    """(letter, label) pairs from `SSP_GENDER_CHOICES` ("F:Woman", ...): a program setting."""
    return list(_parsed_gender_choices(tuple(settings.SSP_GENDER_CHOICES)))


@cache
def _parsed_gender_choices(spec: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    # Keyed on the setting's value (as _cached_recipe is): read on every code check.
    pairs = []
    for entry in spec:
        letter, _, label = entry.partition(":")
        pairs.append((normalise(letter)[:1], label.strip() or letter))
    return tuple(pairs)


def gender_letters() -> str:
    return "".join(letter for letter, _ in gender_choices())


# English here; Part.label shows them in the page's language.
KNOWN_LABELS = {
    "mother_first_name": gettext_noop("mother's first name"),
    "father_first_name": gettext_noop("father's first name"),
    "own_first_name": gettext_noop("own first name"),
    "last_name": gettext_noop("last name"),
    "birth_city": gettext_noop("town of birth"),
    "birth_year": gettext_noop("birth year"),
    "birth_month": gettext_noop("birth month"),
    "birth_day": gettext_noop("birth day"),
    "gender": gettext_noop("gender"),
}


class CodeError(ValueError):
    """A code or its parts do not fit the recipe. `field_errors` names the parts."""

    def __init__(self, message: str, field_errors: dict | None = None):
        super().__init__(message)
        self.field_errors = field_errors or {"code": [message]}


@dataclass(frozen=True)
class Part:
    key: str  # form field name for the part, e.g. "mother_first_name"
    kind: str  # letters | year | year2 | month | day | gender | literal
    length: int
    literal: str = ""

    @property
    def label(self) -> str:
        if self.kind == "literal":
            return f"“{self.literal}”"
        # A part the program named itself in SSP_CODE_RECIPE has no translation.
        known = KNOWN_LABELS.get(self.key)
        words = gettext(known) if known else self.key.replace("_", " ")
        if self.kind == "letters":
            return ngettext(
                "first letter of %(words)s", "first %(n)s letters of %(words)s", self.length
            ) % {"n": self.length, "words": words}
        if self.kind == "year2":
            return gettext("last 2 digits of birth year")
        return words

    @property
    def pattern(self) -> str:
        return {
            "letters": f"[A-Z]{{{self.length}}}",
            "year": r"(?:19|20)[0-9][0-9]",
            "year2": r"[0-9][0-9]",
            "month": r"(?:0[1-9]|1[0-2])",
            "day": r"(?:0[1-9]|[12][0-9]|3[01])",
            "gender": f"[{re.escape(gender_letters())}]",
            "literal": re.escape(self.literal),
        }[self.kind]


@dataclass(frozen=True)
class Recipe:
    parts: tuple[Part, ...]

    @property
    def length(self) -> int:
        return sum(part.length for part in self.parts)

    @property
    def regex(self) -> re.Pattern:
        return _recipe_regex(self, gender_letters())

    @property
    def input_parts(self) -> tuple[Part, ...]:
        """The parts staff ask the person for (literals are added by the system)."""
        return tuple(part for part in self.parts if part.kind != "literal")

    def describe(self) -> str:
        return " + ".join(part.label for part in self.parts)

    def example(self) -> str:
        samples = {"year": "1985", "year2": "85", "month": "07", "day": "14", "gender": "F"}
        out = []
        for part in self.parts:
            if part.kind == "letters":
                out.append("MARIA"[: part.length].ljust(part.length, PAD))
            elif part.kind == "literal":
                out.append(part.literal)
            else:
                out.append(samples[part.kind])
        return "".join(out)


@cache
def _recipe_regex(recipe: Recipe, letters: str) -> re.Pattern:
    # Built once per recipe and gender letters (the pattern reads both): a look-up checks
    # the recipe for every near match it offers.
    return re.compile("".join(f"({part.pattern})" for part in recipe.parts))


def parse_recipe(spec: list[str] | tuple[str, ...]) -> Recipe:
    parts = []
    for raw in spec:
        key, _, arg = raw.strip().partition(":")
        key = key.strip().lower()
        if key == "literal":
            text = normalise(arg)
            if not text:
                raise ValueError("SSP_CODE_RECIPE: literal:<TEXT> needs letters or digits")
            parts.append(Part(key="literal", kind="literal", length=len(text), literal=text))
        elif key == "birth_year":
            parts.append(Part(key, "year2", 2) if arg == "2" else Part(key, "year", 4))
        elif key == "birth_month":
            parts.append(Part(key, "month", 2))
        elif key == "birth_day":
            parts.append(Part(key, "day", 2))
        elif key == "gender":
            parts.append(Part(key, "gender", 1))
        elif arg.isdigit() and int(arg) > 0 and re.fullmatch(r"[a-z_]+", key):
            parts.append(Part(key, "letters", int(arg)))
        else:
            raise ValueError(f"SSP_CODE_RECIPE: cannot read the part {raw!r}")
    if not parts:
        raise ValueError("SSP_CODE_RECIPE is empty")
    return Recipe(tuple(parts))


@cache
def _cached_recipe(spec: tuple[str, ...]) -> Recipe:
    return parse_recipe(spec)


def current_recipe() -> Recipe:
    return _cached_recipe(tuple(settings.SSP_CODE_RECIPE))


# Letters that Unicode does not decompose into a base letter plus an accent.
_FOLD = str.maketrans(
    {"ß": "ss", "ẞ": "SS", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "œ": "oe", "Œ": "OE",
     "đ": "d", "Đ": "D", "ł": "l", "Ł": "L", "þ": "th", "Þ": "TH", "ı": "i"}
)  # fmt: skip


def normalise(text: str) -> str:
    """Upper case, diacritics removed (É → E, ß → SS), only letters and digits kept."""
    folded = unicodedata.normalize("NFKD", str(text or "").translate(_FOLD))
    ascii_only = folded.encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^A-Z0-9]", "", ascii_only.upper())


def matches_recipe(code: str, recipe: Recipe | None = None) -> bool:
    recipe = recipe or current_recipe()
    return recipe.regex.fullmatch(code) is not None


def validate_code(code: str) -> str:
    """The normalised code, or CodeError saying what the recipe expects."""
    recipe = current_recipe()
    if _foreign_digits(code):
        raise CodeError(gettext("Use the digits 0–9 in the code."))
    normal = normalise(code)
    if not normal:
        raise CodeError(gettext("Enter the participant's code, or choose anonymous."))
    if not matches_recipe(normal, recipe):
        raise CodeError(
            gettext("“%(code)s” does not match the code recipe: %(describe)s (e.g. %(example)s).")
            % {"code": normal, "describe": recipe.describe(), "example": recipe.example()}
        )
    year = birth_year_of(normal, recipe)
    if year is not None and not plausible_birth_year(year):
        raise CodeError(
            gettext(
                "The birth year %(year)s in “%(code)s” is not possible: "
                "it must be between %(first)s and %(last)s."
            )
            % {"year": year, "code": normal, "first": FIRST_BIRTH_YEAR, "last": date.today().year}
        )
    return normal


# Nobody born before this still visits; a later year cannot be a birth year yet.
FIRST_BIRTH_YEAR = 1900


def plausible_birth_year(year: int) -> bool:
    return FIRST_BIRTH_YEAR <= year <= date.today().year


def birth_year_of(code: str, recipe: Recipe | None = None) -> int | None:
    """The four-digit birth year in a code that fits the recipe, if the recipe has one."""
    recipe = recipe or current_recipe()
    match = recipe.regex.fullmatch(code)
    if not match:
        return None
    for index, part in enumerate(recipe.parts, start=1):
        if part.kind == "year":
            return int(match.group(index))
    return None


def _foreign_digits(text) -> bool:
    # NFKD would turn "３" into "3" and drop "٣": either way not what was typed.
    return any(
        not ("0" <= ch <= "9") and unicodedata.decimal(ch, None) is not None for ch in str(text)
    )


def build_code(parts: dict) -> str:
    """Build the code from the parts the person gives. Parts are never stored."""
    recipe = current_recipe()
    errors: dict[str, list[str]] = {}
    out = []
    this_year = date.today().year
    for part in recipe.parts:
        if part.kind == "literal":
            out.append(part.literal)
            continue
        raw = str(parts.get(part.key) or "").strip()
        if _foreign_digits(raw):
            errors[part.key] = [gettext("Use the digits 0–9.")]
            continue
        if not raw:
            errors[part.key] = [gettext("Enter the %(part)s.") % {"part": part.label}]
            continue
        if part.kind == "letters":
            letters = re.sub(r"[^A-Z]", "", normalise(raw))
            if not letters:
                errors[part.key] = [gettext("Use letters.")]
                continue
            out.append(letters[: part.length].ljust(part.length, PAD))
        elif part.kind in ("year", "year2"):
            if not raw.isdigit() or len(raw) != 4 or not plausible_birth_year(int(raw)):
                errors[part.key] = [
                    gettext("Enter a four-digit year between %(first)s and %(last)s.")
                    % {"first": FIRST_BIRTH_YEAR, "last": this_year}
                ]
                continue
            out.append(raw if part.kind == "year" else raw[2:])
        elif part.kind in ("month", "day"):
            top = 12 if part.kind == "month" else 31
            if not raw.isdigit() or not 1 <= int(raw) <= top:
                errors[part.key] = [gettext("Enter a number from 1 to %(top)s.") % {"top": top}]
                continue
            out.append(f"{int(raw):02d}")
        elif part.kind == "gender":
            letter = normalise(raw)[:1]
            if not letter or letter not in gender_letters():
                errors[part.key] = [
                    gettext("Choose one of %(letters)s.") % {"letters": ", ".join(gender_letters())}
                ]
                continue
            out.append(letter)
    if errors:
        first = next(iter(errors.values()))[0]
        raise CodeError(
            gettext("The code parts are incomplete: %(first)s") % {"first": first}, errors
        )
    return "".join(out)


def near_variants(code: str) -> set[str]:
    """Every code one edit away (substitution, insertion, deletion, swapped neighbours)
    plus, when the code fits the recipe, the same code with the birth year ±1.

    About 700 strings for a 9-character code; callers look them up with one
    `code__in` query on the unique index instead of scanning the table.
    """
    code = normalise(code)
    variants: set[str] = set()
    for i in range(len(code) + 1):
        head, tail = code[:i], code[i:]
        for ch in ALPHABET:
            variants.add(head + ch + tail)  # insertion
            if tail:
                variants.add(head + ch + tail[1:])  # substitution
        if tail:
            variants.add(head + tail[1:])  # deletion
        if len(tail) > 1:
            variants.add(head + tail[1] + tail[0] + tail[2:])  # swapped neighbours
    variants.update(_year_neighbours(code))
    variants.discard(code)
    variants.discard("")
    return variants


def _year_neighbours(code: str) -> set[str]:
    recipe = current_recipe()
    match = recipe.regex.fullmatch(code)
    if not match:
        return set()
    out = set()
    for index, part in enumerate(recipe.parts, start=1):
        if part.kind not in ("year", "year2"):
            continue
        start, end = match.span(index)
        year = int(code[start:end])
        for other in (year - 1, year + 1):
            if other < 0:
                continue
            text = f"{other:0{part.length}d}"[-part.length :]
            out.add(code[:start] + text + code[end:])
    return out


def near_difference(typed: str, existing: str) -> str:
    """What really separates a typed code from an existing near one, in the desk's words
    and the page's language: "birth year ±1", "letters swapped", "one letter different",
    "one letter missing" or "one letter extra" ("digit" for digits). The year is judged
    first: 1989 → 1990 changes two neighbouring digits but is not a swap."""
    typed_year, existing_year = birth_year_of(typed), birth_year_of(existing)
    if typed_year and existing_year and abs(typed_year - existing_year) == 1:
        recipe = current_recipe()
        if _without_year(typed, recipe) == _without_year(existing, recipe):
            return gettext("birth year ±1")
    if len(typed) == len(existing):
        diffs = [i for i, (a, b) in enumerate(zip(typed, existing, strict=True)) if a != b]
        if len(diffs) == 2 and diffs[1] == diffs[0] + 1:
            i = diffs[0]
            if typed[i] == existing[i + 1] and typed[i + 1] == existing[i]:
                swapped_letters = typed[i : i + 2].isalpha()
                return gettext("letters swapped") if swapped_letters else gettext("digits swapped")
        if len(diffs) == 1:
            return _one_char(existing[diffs[0]], "different")
    if len(typed) + 1 == len(existing):
        return _one_char(_extra_char(existing, typed), "missing")
    if len(typed) == len(existing) + 1:
        return _one_char(_extra_char(typed, existing), "extra")
    return gettext("similar code")


def _one_char(char: str, how: str) -> str:
    # Whole sentences, not "one {kind} {how}": Spanish changes the words with the noun.
    digit = char.isdigit()
    return {
        ("different", False): gettext("one letter different"),
        ("different", True): gettext("one digit different"),
        ("missing", False): gettext("one letter missing"),
        ("missing", True): gettext("one digit missing"),
        ("extra", False): gettext("one letter extra"),
        ("extra", True): gettext("one digit extra"),
    }[how, digit]


def _extra_char(longer: str, shorter: str) -> str:
    for i, ch in enumerate(shorter):
        if longer[i] != ch:
            return longer[i]
    return longer[-1]


def _without_year(code: str, recipe: Recipe) -> str:
    match = recipe.regex.fullmatch(code)
    return "".join(
        "" if part.kind == "year" else match.group(index)
        for index, part in enumerate(recipe.parts, start=1)
    )
