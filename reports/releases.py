"""Releases of a period's figures: every report (any template, any site grouping) and
the dashboard publish into one linked set per period (`PeriodSuppression`), and their
hidden cells come from it.

A cell is named "scope|figure": scope a site code, or "TOTAL:" and the sorted codes of
the sites a total covers (the same total whichever report or dashboard shows it).
"""

from django.db import IntegrityError, transaction

from .funder_templates import ReportTemplate
from .metrics import NON_ADDITIVE, TOTAL
from .models import PeriodSuppression
from .periods import Period
from .rendering import template_cells
from .suppression import PRIMARY, SECONDARY, Equation, figure_relations, is_small, suppress_linked

# The dashboard's series, named by the report figure they count (the same definition),
# so that the same number is the same cell in the dashboard and in every report.
TREND_FIGURES = {
    "visits": "visits",
    "unique_participants": "unique_participants",
    "syringes_distributed": "supplies.syringe",
    "syringes_collected": "syringes_collected",
    "naloxone_doses": "naloxone_doses",
    "referred": "referred",
    "linked": "linked",
}


def group_scope(codes) -> str:
    return "TOTAL:" + ",".join(sorted(codes))


def cell_name(scope: str, key: str) -> str:
    return f"{scope}|{key}"


def _scope_names(figures: dict) -> dict[str, str]:
    codes = [s["key"] for s in figures["scopes"] if s["key"] != TOTAL]
    return {**{code: code for code in codes}, TOTAL: group_scope(codes)}


def figures_release(figures: dict) -> tuple[dict[str, int], list[Equation]]:
    """A report's counts as named cells, and what a reader knows of them: its sums in
    every scope, totals over its sites, doses as a multiple of units."""
    names = _scope_names(figures)
    values = {
        cell_name(names[scope], key): value
        for scope, row in figures["values"].items()
        for key, value in row.items()
    }
    relations, _links = figure_relations(figures)
    equations = [
        tuple((sign, cell_name(names[scope], key)) for sign, (scope, key) in relation.terms)
        for relation in relations
    ]
    for units, doses, per_unit in figures.get("multiples", ()):
        for name in names.values():
            equations.append(((1, cell_name(name, doses)), (-per_unit, cell_name(name, units))))
    return values, equations


def marks_for(figures: dict, hidden: set[str], *, threshold: int) -> dict:
    """The (scope, key) marks of one report's figures under the period's hidden cells."""
    names = _scope_names(figures)
    mask = {}
    for scope, row in figures["values"].items():
        for key, value in row.items():
            if cell_name(names[scope], key) in hidden:
                mask[(scope, key)] = PRIMARY if is_small(value, threshold) else SECONDARY
    return mask


def figures_shown(figures: dict, cells) -> set[str]:
    names = _scope_names(figures)
    return {cell_name(names[scope], key) for scope, key in cells}


def _canonical(equation) -> tuple:
    return tuple(sorted((cell, coefficient) for coefficient, cell in equation))


def _suppression_row(period: Period) -> PeriodSuppression:
    lookup = {"period_start": period.start, "period_end": period.end}
    try:
        with transaction.atomic():
            PeriodSuppression.objects.get_or_create(**lookup)
    except IntegrityError:
        pass  # created by a concurrent release: lock that one
    return PeriodSuppression.objects.select_for_update().get(**lookup)


@transaction.atomic
def period_release(
    *,
    period: Period,
    values: dict[str, int],
    equations: list[Equation],
    threshold: int,
    shown: set[str] | None = None,
) -> set[str]:
    """Add a release to the period's linked set and return the period's hidden cells.

    `shown`: the cells this release publishes (default: all of `values`); those not
    hidden are recorded as released, and are never chosen as complements later (a
    reader has them already). Hidden cells only grow.
    """
    row = _suppression_row(period)
    shown = set(values) if shown is None else set(shown)
    known = {_canonical(eq) for eq in row.equations}
    new = [eq for eq in equations if _canonical(eq) not in known]
    changed = {cell: v for cell, v in values.items() if row.values.get(cell) != v}
    small = {cell for cell, v in values.items() if is_small(v, threshold)}
    if not new and not changed and small <= set(row.hidden):
        # Nothing a reader did not have: the set and its audit stand as they are.
        released = shown - set(row.hidden)
        if not released <= set(row.released):
            row.released = sorted(set(row.released) | released)
            row.save(update_fields=["released", "updated_at"])
        return set(row.hidden)
    all_values = {**row.values, **values}
    all_equations = [*(tuple(map(tuple, eq)) for eq in row.equations), *new]
    mask = suppress_linked(
        all_values,
        threshold=threshold,
        equations=all_equations,
        hidden=row.hidden,
        released=row.released,
        shown=shown,
    )
    row.values = all_values
    row.equations = [[list(term) for term in eq] for eq in all_equations]
    row.hidden = dict(sorted(mask.items()))
    row.released = sorted(set(row.released) | (shown - set(mask)))
    row.save()
    return set(mask)


def report_release(
    *, figures: dict, template: ReportTemplate, threshold: int, period: Period
) -> dict:
    """Release a report of these figures: its counts join the period's linked set; the
    (scope, key) marks it is to be published with."""
    values, equations = figures_release(figures)
    hidden = period_release(
        period=period,
        values=values,
        equations=equations,
        threshold=threshold,
        shown=figures_shown(figures, template_cells(figures, template)),
    )
    return marks_for(figures, hidden, threshold=threshold)


def trends_release(*, series: dict, scopes: list[str], month: Period, index: int, threshold: int):
    """Release one month of the dashboard: {(series, scope)} hidden. The series are named
    by the report figure they count, so the same number is the same cell everywhere."""
    sites = [scope for scope in scopes if scope != TOTAL]
    names = {**{code: code for code in sites}, TOTAL: group_scope(sites)}
    values, equations = {}, []
    for name, by_scope in series.items():
        key = TREND_FIGURES.get(name, f"dashboard.{name}")
        for scope in scopes:
            values[cell_name(names[scope], key)] = by_scope[scope][index]
        if name not in NON_ADDITIVE or len(sites) == 1:
            parts = [(-1, cell_name(code, key)) for code in sites]
            equations.append(((1, cell_name(names[TOTAL], key)), *parts))
    hidden = period_release(period=month, values=values, equations=equations, threshold=threshold)
    return {
        (name, scope)
        for name in series
        for scope in scopes
        if cell_name(names[scope], TREND_FIGURES.get(name, f"dashboard.{name}")) in hidden
    }
