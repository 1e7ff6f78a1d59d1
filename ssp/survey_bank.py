"""The fixed question bank of the periodic anonymous survey (SHaRP-style indicators).

A coordinator picks questions from this bank; nobody writes a question or an answer.
Every question has fixed answer codes and a "prefer not to say" answer, so a person can
always answer without being pushed. Answer codes are what the reports key their figures
by: never rename a code in use (add a new one instead).
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

PREFER_NOT = "prefer_not"


@dataclass(frozen=True)
class Question:
    code: str
    text: str
    choices: tuple[tuple[str, str], ...]
    # Several answers at once (e.g. every substance used); the others take exactly one.
    multiple: bool = False

    def codes(self) -> list[str]:
        return [code for code, _label in self.choices]


def _with_prefer_not(*choices) -> tuple[tuple[str, str], ...]:
    return (*choices, (PREFER_NOT, _("Prefer not to say")))


AGE_BAND = Question(
    "age_band",
    _("How old are you?"),
    _with_prefer_not(
        ("under_18", _("Under 18")),
        ("18_24", "18–24"),
        ("25_34", "25–34"),
        ("35_44", "35–44"),
        ("45_54", "45–54"),
        ("55_plus", _("55 and over")),
    ),
)
GENDER = Question(
    "gender",
    _("What is your gender?"),
    _with_prefer_not(
        ("woman", _("Woman")),
        ("man", _("Man")),
        ("trans_nonbinary", _("Trans / non-binary / two-spirit")),
        ("other", _("Another gender")),
    ),
)
RACE_ETHNICITY = Question(
    "race_ethnicity",
    _("What is your race or ethnicity? (choose all that apply)"),
    _with_prefer_not(
        ("indigenous", _("American Indian, Alaska Native or Indigenous")),
        ("asian", _("Asian")),
        ("black", _("Black or African American")),
        ("hispanic", _("Hispanic or Latino/a/e")),
        ("middle_eastern", _("Middle Eastern or North African")),
        ("pacific", _("Native Hawaiian or Pacific Islander")),
        ("white", _("White")),
        ("other", _("Another race or ethnicity")),
    ),
    multiple=True,
)
# The ZIP3 areas offered are the survey's own list (Survey.zip3_areas); these answers
# follow them.
ZIP3_OUTSIDE = "outside"
ZIP3 = Question(
    "zip3",
    _("Where do you live or stay most nights? (first three ZIP digits)"),
    _with_prefer_not(
        (ZIP3_OUTSIDE, _("Somewhere else")),
    ),
)
SUBSTANCES = Question(
    "substances",
    _("Which substances have you used in the period? (choose all that apply)"),
    _with_prefer_not(
        ("opioids", _("Heroin, fentanyl or other opioids")),
        ("stimulants", _("Methamphetamine or other stimulants")),
        ("cocaine", _("Cocaine or crack")),
        ("benzodiazepines", _("Benzodiazepines")),
        ("xylazine", _("Xylazine (tranq), knowingly")),
        ("alcohol", _("Alcohol")),
        ("other", _("Something else")),
        ("none", _("None of these")),
    ),
    multiple=True,
)
_YES_NO = _with_prefer_not(("yes", _("Yes")), ("no", _("No")))
OVERDOSE_WITNESSED = Question(
    "overdose_witnessed", _("Have you seen someone overdose in the period?"), _YES_NO
)
OVERDOSE_EXPERIENCED = Question(
    "overdose_experienced", _("Have you overdosed yourself in the period?"), _YES_NO
)
HOUSING = Question(
    "housing",
    _("Where do you stay most nights?"),
    _with_prefer_not(
        ("housed", _("My own place or a stable home")),
        ("unstable", _("With others, moving around")),
        ("shelter", _("A shelter or transitional housing")),
        ("unsheltered", _("Outside, a car or a tent")),
        ("institution", _("Hospital, treatment or jail")),
    ),
)

# In the order they are asked (and reported).
BANK: dict[str, Question] = {
    q.code: q
    for q in (
        AGE_BAND,
        GENDER,
        RACE_ETHNICITY,
        ZIP3,
        SUBSTANCES,
        OVERDOSE_WITNESSED,
        OVERDOSE_EXPERIENCED,
        HOUSING,
    )
}


def question_choices() -> list[tuple[str, str]]:
    return [(q.code, q.text) for q in BANK.values()]


def answer_choices(question: Question, *, zip3_areas: list[str]) -> list[tuple[str, str]]:
    """The answers offered for one question of one survey (ZIP3: the survey's areas
    first, then "somewhere else" and "prefer not to say")."""
    if question.code == ZIP3.code:
        return [(area, area) for area in zip3_areas] + list(question.choices)
    return list(question.choices)
