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


def adds_up_over_months(key: str) -> bool:
    """Whether a figure of a run of months is the sum of its months'. Not unique
    participants (a person seen in two months counts once in their quarter), nor the
    survey (a quarterly survey's answers count in the quarter, not in its months)."""
    return key not in NON_ADDITIVE and not key.startswith("survey")


def _key_of(row: PeriodSuppression) -> tuple:
    return (row.period_start, row.period_end)


def _prefix(row: PeriodSuppression) -> str:
    return f"{row.period_start:%Y-%m-%d}..{row.period_end:%Y-%m-%d}#"


def _month_number(day) -> int:
    return day.year * 12 + day.month - 1


def _ensure_row(period: Period) -> None:
    lookup = {"period_start": period.start, "period_end": period.end}
    try:
        with transaction.atomic():
            PeriodSuppression.objects.get_or_create(**lookup)
    except IntegrityError:
        pass  # created by a concurrent release


def _overlapping(start, end) -> tuple[set[int], object, object]:
    """Ids of the whole-month periods' rows overlapping [start, end] however far (each
    overlapping the next: Q1, the year, Q4, the fiscal year after …), and their span."""
    while True:
        rows = [
            row
            for row in PeriodSuppression.objects.filter(
                period_start__lte=end, period_end__gte=start
            ).only("pk", "period_start", "period_end")
            if Period(row.period_start, row.period_end).whole_months
        ]
        new_start = min([start, *(row.period_start for row in rows)])
        new_end = max([end, *(row.period_end for row in rows)])
        if (new_start, new_end) == (start, end):
            return {row.pk for row in rows}, start, end
        start, end = new_start, new_end


def _linked_rows(period: Period) -> list[PeriodSuppression]:
    """The rows released together with this period's, locked in pk order (two releases
    of overlapping periods wait for each other rather than deadlock). A period of
    whole months is linked with every whole-month period it overlaps, however far; any
    other range of days (only ever built for people allowed unsuppressed figures) keeps
    a set of its own."""
    lookup = {"period_start": period.start, "period_end": period.end}
    if not period.whole_months:
        return list(PeriodSuppression.objects.select_for_update().filter(**lookup))
    locked: set[int] = set()
    start, end = period.start, period.end
    while True:
        ids, start, end = _overlapping(start, end)
        if ids <= locked:
            break
        locked |= ids
        # Locked, then looked for again: a period released meanwhile joins the set.
        rows = list(
            PeriodSuppression.objects.select_for_update().filter(pk__in=locked).order_by("pk")
        )
    return rows


def _tilings(span: tuple[int, int], spans: dict[tuple[int, int], str]) -> list[list[str]]:
    """Runs of released periods that make up `span` exactly: its months, and the
    coarsest run of other periods (a year as its quarters, a fiscal year as the
    calendar quarters it spans)."""
    first, last = span
    tilings = []
    months = [spans.get((m, m)) for m in range(first, last + 1)]
    if all(months):
        tilings.append(months)
    coarse, at = [], first
    while at <= last:
        ends = [e for (s, e) in spans if s == at and e <= last and (s, e) != span]
        if not ends:
            coarse = None
            break
        coarse.append(spans[(at, max(ends))])
        at = max(ends) + 1
    if coarse and coarse not in tilings:
        tilings.append(coarse)
    return tilings


def _time_equations(rows: list[PeriodSuppression]) -> list[Equation]:
    """A run of months's cells as the sums of its parts' (the months, or coarser
    periods), where the figure adds up over months, every part has the cell, and the
    stored values agree (a month counted again after its release no longer adds up
    exactly: see docs/reports.md)."""
    spans = {
        (_month_number(row.period_start), _month_number(row.period_end)): _prefix(row)
        for row in rows
        if Period(row.period_start, row.period_end).whole_months
    }
    values = {_prefix(row): row.values for row in rows}
    equations = []
    for span, whole in spans.items():
        if span[0] == span[1]:
            continue
        for parts in _tilings(span, spans):
            for cell, total in values[whole].items():
                if not adds_up_over_months(cell.split("|", 1)[1]):
                    continue
                if not all(cell in values[part] for part in parts):
                    continue
                if total != sum(values[part][cell] for part in parts):
                    continue
                equations.append(((1, whole + cell), *((-1, part + cell) for part in parts)))
    return equations


def _adds_to(row: PeriodSuppression, values, equations, threshold: int) -> bool:
    """Whether a release tells a reader more than the row's set has: a new equation, a
    changed count, or a small count not yet hidden."""
    known = {_canonical(eq) for eq in row.equations}
    return (
        any(_canonical(eq) not in known for eq in equations)
        or any(row.values.get(c) != v for c, v in values.items())
        or any(is_small(v, threshold) and c not in row.hidden for c, v in values.items())
    )


@transaction.atomic
def period_release(
    *,
    period: Period,
    values: dict[str, int],
    equations: list[Equation],
    threshold: int,
    shown: set[str] | None = None,
    months: list[tuple[Period, dict[str, int], list[Equation]]] = (),
) -> set[str]:
    """Add a release to the period's linked set and return the period's hidden cells.

    `shown`: the cells this release publishes (default: all of `values`); those not
    hidden are recorded as released, and are never chosen as complements later (a
    reader has them already). Hidden cells only grow.

    Months are the atoms: a run of whole months (quarter, year, fiscal year) is
    suppressed in one set with every whole-month period it overlaps, its cells tied to
    its months' by sums. `months`: its months' cells, released unshown with it, so that
    a month published later hides what its quarter needs hidden.
    """
    releases = [(period, values, equations, set(values) if shown is None else set(shown))]
    releases += [(month, v, e, set()) for month, v, e in months]
    own = PeriodSuppression.objects.filter(period_start=period.start, period_end=period.end)
    current = own.first()
    if not months and current is not None and not _adds_to(current, values, equations, threshold):
        # Nothing a reader did not have (a page shown again, say): the sets stand as
        # they are, and nothing but this row is read or locked.
        released = releases[0][3] - set(current.hidden)
        if not released <= set(current.released):
            row = own.select_for_update().get()
            row.released = sorted(set(row.released) | released)
            row.save(update_fields=["released", "updated_at"])
        return set(current.hidden)
    for released_period, *_rest in releases:
        _ensure_row(released_period)
    rows = _linked_rows(period)
    by_period = {_key_of(row): row for row in rows}
    row = by_period[(period.start, period.end)]
    merged = []
    for released_period, new_values, new_equations, _shown in releases:
        target = by_period[(released_period.start, released_period.end)]
        if _adds_to(target, new_values, new_equations, threshold):
            merged.append(target)
            known = {_canonical(eq) for eq in target.equations}
            new = [eq for eq in new_equations if _canonical(eq) not in known]
            target.values = {**target.values, **new_values}
            target.equations = [*target.equations, *([list(t) for t in eq] for eq in new)]
    shown_now = releases[0][3]
    if not merged:
        # Nothing a reader did not have: the set and its audit stand as they are.
        released = shown_now - set(row.hidden)
        if not released <= set(row.released):
            row.released = sorted(set(row.released) | released)
            row.save(update_fields=["released", "updated_at"])
        return set(row.hidden)
    all_values, all_equations, all_hidden, all_released = {}, [], {}, set()
    for each in rows:
        prefix = _prefix(each)
        all_values.update({prefix + c: v for c, v in each.values.items()})
        all_equations += [tuple((k, prefix + c) for k, c in eq) for eq in each.equations]
        all_hidden.update({prefix + c: mark for c, mark in each.hidden.items()})
        all_released |= {prefix + c for c in each.released}
    all_equations += _time_equations(rows)
    prefix = _prefix(row)
    mask = suppress_linked(
        all_values,
        threshold=threshold,
        equations=all_equations,
        hidden=all_hidden,
        released=all_released,
        shown={prefix + c for c in shown_now},
    )
    for each in rows:
        prefix = _prefix(each)
        hidden = {c[len(prefix) :]: m for c, m in mask.items() if c.startswith(prefix)}
        hidden = dict(sorted(hidden.items()))
        if each is row:
            each.released = sorted(set(each.released) | (shown_now - set(hidden)))
        if each is row or each in merged or hidden != each.hidden:
            each.hidden = hidden
            each.save()
    return set(row.hidden)


def months_to_release(*, period: Period, figures: dict) -> list[Period]:
    """The months of a run of months whose linked set lacks these figures' cells (this
    site grouping not yet released for them): their figures are to be released, unshown,
    with the run's (`report_release(months=...)`)."""
    if period.kind == "month" or not period.whole_months:
        return []
    marker = cell_name(_scope_names(figures)[TOTAL], "visits")
    have = {
        (row.period_start, row.period_end)
        for row in PeriodSuppression.objects.filter(
            period_start__gte=period.start, period_end__lte=period.end
        )
        if marker in row.values
    }
    return [month for month in period.months() if (month.start, month.end) not in have]


def report_release(
    *,
    figures: dict,
    template: ReportTemplate,
    threshold: int,
    period: Period,
    months: list[tuple[Period, dict]] = (),
) -> dict:
    """Release a report of these figures: its counts join the period's linked set; the
    (scope, key) marks it is to be published with. `months`: (month, its figures) of
    the period's months, released unshown with it (`months_to_release`)."""
    values, equations = figures_release(figures)
    hidden = period_release(
        period=period,
        values=values,
        equations=equations,
        threshold=threshold,
        shown=figures_shown(figures, template_cells(figures, template)),
        months=[(month, *figures_release(month_figures)) for month, month_figures in months],
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
