"""What upper apps record with a visit, in the visit's own transaction.

ssp cannot import the apps above it (referrals, …), yet the front desk takes a
referral in the same save as the visit. So the visit offers an extension point: an
installed app with a `with_visit` module (found by org.plugins.app_modules, as the
menu's navigation.py and the home's home.py are) contributes

- `NAME`: the key of its part of the visit body (POST /api/v1/visits/, sync, the page);
- `api_field()`: the serializer field that reads that part (shown in the schema);
- `intake_section(*, user, post)`: the front desk's form section (an IntakeSection);
- `record_with_visit(*, visit, value, by)`: writes it, inside `visit_record`'s durable
  transaction, after the visit row and its supplies; raising VisitError refuses the
  whole visit, so nothing of either is kept. It must not open a durable transaction.

A part that is absent costs nothing: no module is asked to record it.

The same module may also describe what was made with a visit (read-only, in the visit's
API representation and on its page; found by visit_extra_fields):

- `describe_visits(visits)`: {visit pk: [rows]} for all the visits given, in one query
  (a visit it leaves out has none);
- `api_described_field(*, source)`: the read-only serializer field (many=True) that
  shows those rows in the API, reading them from `source`;
- `DETAIL_TEMPLATE` (optional): the visit page's fragment, included with `rows`.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from org.plugins import app_modules

MODULE = "with_visit"


@dataclass
class IntakeSection:
    """A form section an upper app adds to the front desk: its template (included with
    `section` in the context), what it read from the posted form and its errors."""

    name: str
    template: str
    context: dict = field(default_factory=dict)
    value: Any = None
    errors: list[str] = field(default_factory=list)


def visit_extras() -> Iterator[ModuleType]:
    """The installed apps' `with_visit` modules, in INSTALLED_APPS order."""
    yield from app_modules(MODULE)


def visit_extra(name: str) -> ModuleType | None:
    for module in visit_extras():
        if name == module.NAME:
            return module
    return None


def visit_extra_fields() -> Iterator[ModuleType]:
    """The `with_visit` modules that describe what was made with a visit."""
    for module in visit_extras():
        if hasattr(module, "describe_visits"):
            yield module


def visits_described(visits) -> None:
    """Give each visit `described`: {NAME: rows} of every describer, one query per
    describer for all the visits however many (a list page, a sync batch)."""
    visits = list(visits)
    for visit in visits:
        visit.described = {}
    for module in visit_extra_fields():
        found = module.describe_visits(visits) if visits else {}
        for visit in visits:
            visit.described[module.NAME] = found.get(visit.pk, [])


def nothing_described(visit) -> None:
    """`described` of a visit just recorded without any upper app's part: nothing can
    point at it yet, so each describer has nothing, known without a query."""
    visit.described = {module.NAME: [] for module in visit_extra_fields()}
