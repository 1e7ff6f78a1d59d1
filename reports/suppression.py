"""Small-cell suppression with complementary (secondary) suppression.

Primary: a count from 1 to threshold−1 is hidden and shown as "<threshold"; zero stays.
Secondary: where figures add up (a total and its parts, a site and the program total),
more cells are hidden, shown as "*", until no hidden cell can be worked out from what
is published. Three attacks are closed:

- subtraction within one sum (one hidden cell in a row or column with its total);
- bounds within one sum: "<11" tells a reader the value is 1…10, so two hidden cells
  of a published total of 20 would both be 10 (the sum is at the edge of its range);
- linear algebra across sums (a hidden cell pinned by combining rows and columns),
  checked exactly by row reduction of the published equations.

Figures that mirror each other (naloxone doses and units) are linked: hiding one hides
the other.

`suppress_linked` (below) is what published reports and the dashboard use: one linked
set of every number released for a period, audited exactly by integer programming;
`suppress` stays as its fast first pass for a single table.
"""

import math
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from scipy.optimize import LinearConstraint, milp

from .metrics import TOTAL

PRIMARY = "primary"
SECONDARY = "secondary"

Cell = Hashable


@dataclass(frozen=True)
class Relation:
    """total = sum(parts), known to every reader of the report."""

    total: Cell
    parts: tuple[Cell, ...]

    @property
    def terms(self) -> list[tuple[int, Cell]]:
        return [(1, self.total)] + [(-1, part) for part in self.parts]


def is_small(value: int, threshold: int) -> bool:
    return 0 < value < threshold


def suppress(
    values: Mapping[Cell, int],
    *,
    threshold: int,
    relations: Iterable[Relation] = (),
    links: Iterable[tuple[Cell, Cell]] = (),
) -> dict[Cell, str]:
    """The cells to hide, each PRIMARY (a small count) or SECONDARY (hidden to protect one)."""
    relations = [r for r in relations if r.parts]
    links = list(links)
    for relation in relations:
        for _, cell in relation.terms:
            if cell not in values:
                raise KeyError(f"relation names an unknown cell {cell!r}")
    hidden = {cell: PRIMARY for cell, value in values.items() if is_small(value, threshold)}
    if not hidden:
        return hidden
    by_cell = defaultdict(list)
    for relation in relations:
        for _, cell in relation.terms:
            by_cell[cell].append(relation)
    hopeless: set[Relation] = set()

    while True:
        changed = _apply_links(links, hidden)
        for relation in relations:
            if relation in hopeless:
                continue
            while _pinned_in(relation, values, hidden, threshold) is not None:
                if not _protect(relation, values, hidden):
                    # Every cell of the sum is hidden and still pinned down: nothing left
                    # to hide here (only happens with all-zero complements).
                    hopeless.add(relation)
                    break
                changed = True
        if changed:
            continue
        cell = _pinned_by_algebra(relations, values, hidden)
        if cell is None:
            return hidden
        # Hide one more cell in a sum that names the pinned cell (or, failing that,
        # any sum of the same tangle that still shows a cell).
        candidates = by_cell[cell] + [r for r in relations if r not in by_cell[cell]]
        if not any(_hide_complement(r, values, hidden) for r in candidates):
            return hidden


def display(value: int, mark: str | None, threshold: int) -> str:
    if mark == PRIMARY:
        return f"<{threshold}"
    if mark == SECONDARY:
        return "*"
    return str(value)


def _apply_links(links, hidden) -> bool:
    changed = False
    for a, b in links:
        if (a in hidden) != (b in hidden):
            hidden[b if a in hidden else a] = SECONDARY
            changed = True
    return changed


def _bounds(cell, hidden, threshold) -> tuple[float, float]:
    """What a reader knows of a hidden cell: "<t" means 1…t−1, "*" anything from 0."""
    if hidden[cell] == PRIMARY:
        return 1, threshold - 1
    return 0, math.inf


def _pinned_in(relation: Relation, values, hidden, threshold) -> Cell | None:
    """A hidden cell whose value this one sum pins to a single number, if any."""
    unknown = [(sign, cell) for sign, cell in relation.terms if cell in hidden]
    if not unknown:
        return None
    # Σ sign·x over hidden cells equals −Σ sign·value over published ones.
    target = -sum(sign * values[cell] for sign, cell in relation.terms if cell not in hidden)
    ranges = []
    for sign, cell in unknown:
        low, high = _bounds(cell, hidden, threshold)
        ranges.append((low, high) if sign > 0 else (-high, -low))
    for index, (sign, cell) in enumerate(unknown):
        others_low = sum(r[0] for i, r in enumerate(ranges) if i != index)
        others_high = sum(r[1] for i, r in enumerate(ranges) if i != index)
        # sign·x = target − others  ⇒  x within these limits, and within its own bounds.
        term_low, term_high = target - others_high, target - others_low
        low, high = (term_low, term_high) if sign > 0 else (-term_high, -term_low)
        own_low, own_high = _bounds(cell, hidden, threshold)
        if max(low, own_low) == min(high, own_high):
            return cell
    return None


def _protect(relation: Relation, values, hidden) -> bool:
    """Hide a published cell of the sum; if none is left, widen a "<t" cell to "*"."""
    if _hide_complement(relation, values, hidden):
        return True
    primaries = [cell for _, cell in relation.terms if hidden.get(cell) == PRIMARY]
    if not primaries:
        return False
    hidden[max(primaries, key=lambda cell: values[cell])] = SECONDARY
    return True


def _hide_complement(relation: Relation, values, hidden) -> bool:
    """Hide the published cell that costs least: the smallest non-zero part, then the
    total; a zero only as a last resort (a hidden zero protects nothing)."""
    shown = [(sign, cell) for sign, cell in relation.terms if cell not in hidden]
    if not shown:
        return False

    def cost(term):
        sign, cell = term
        return (values[cell] == 0, sign > 0, values[cell], str(cell))

    _, cell = min(shown, key=cost)
    hidden[cell] = SECONDARY
    return True


def _pinned_by_algebra(relations, values, hidden) -> Cell | None:
    """A hidden cell fixed by some combination of the published sums, if any.

    Row-reduces the equations over the hidden cells, one tangle (connected group of
    sums) at a time; a reduced row with a single non-zero entry pins that cell.
    """
    equations = []
    for relation in relations:
        row = {cell: sign for sign, cell in relation.terms if cell in hidden}
        if row:
            equations.append(row)
    for group in _tangles(equations):
        cell = _rref_pinned(group)
        if cell is not None:
            return cell
    return None


def _tangles(equations: list[dict]) -> list[list[dict]]:
    parent: dict = {}

    def find(x):
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for row in equations:
        cells = list(row)
        for other in cells[1:]:
            parent[find(other)] = find(cells[0])
    groups = defaultdict(list)
    for row in equations:
        groups[find(next(iter(row)))].append(row)
    return list(groups.values())


def _rref_pinned(rows: list[dict]) -> Cell | None:
    columns = sorted({cell for row in rows for cell in row}, key=str)
    index = {cell: i for i, cell in enumerate(columns)}
    matrix = []
    for row in rows:
        dense = [Fraction(0)] * len(columns)
        for cell, sign in row.items():
            dense[index[cell]] = Fraction(sign)
        matrix.append(dense)
    pivot_row = 0
    for col in range(len(columns)):
        pivot = next((r for r in range(pivot_row, len(matrix)) if matrix[r][col] != 0), None)
        if pivot is None:
            continue
        matrix[pivot_row], matrix[pivot] = matrix[pivot], matrix[pivot_row]
        lead = matrix[pivot_row][col]
        matrix[pivot_row] = [value / lead for value in matrix[pivot_row]]
        for r in range(len(matrix)):
            if r != pivot_row and matrix[r][col] != 0:
                factor = matrix[r][col]
                matrix[r] = [
                    a - factor * b for a, b in zip(matrix[r], matrix[pivot_row], strict=True)
                ]
        pivot_row += 1
        if pivot_row == len(matrix):
            break
    for row in matrix:
        nonzero = [i for i, value in enumerate(row) if value != 0]
        if len(nonzero) == 1:
            return columns[nonzero[0]]
    return None


# --- Report figures ------------------------------------------------------------------


def figure_relations(figures: dict) -> tuple[list[Relation], list[tuple[Cell, Cell]]]:
    """The sums and links a reader of these figures knows, over (scope, key) cells."""
    scopes = [scope["key"] for scope in figures["scopes"]]
    sites = [scope for scope in scopes if scope != TOTAL]
    relations = [
        Relation((scope, rel["total"]), tuple((scope, part) for part in rel["parts"]))
        for rel in figures["relations"]
        for scope in scopes
    ]
    non_additive = set(figures.get("non_additive", ()))
    for key in figures["keys"]:
        if key not in non_additive or len(sites) == 1:
            relations.append(Relation((TOTAL, key), tuple((site, key) for site in sites)))
    links = [((scope, a), (scope, b)) for a, b in figures["links"] for scope in scopes]
    return relations, links


def figures_mask(figures: dict, *, threshold: int) -> dict[Cell, str]:
    """Hidden (scope, key) cells of a report's figures at this threshold."""
    values = {
        (scope, key): value
        for scope, row in figures["values"].items()
        for key, value in row.items()
    }
    relations, links = figure_relations(figures)
    return suppress(values, threshold=threshold, relations=relations, links=links)


# --- Linked-set suppression over everything released for a period ----------------
#
# The cells are every number released for a period (any template, site grouping, the
# dashboard); the equations are what a reader knows about them: breakdowns, totals
# over sites and known multiples (doses = units × doses per unit). Complements are
# chosen until an exact integer program (scipy's milp, HiGHS) shows, for every hidden
# cell, a solution of the published equations where the cell is not its true value and
# one where it is 0 or at least the threshold: a reader can narrow no hidden count
# down to one value, nor to 1 … threshold − 1.

Equation = tuple[tuple[int, Cell], ...]  # Σ coefficient · cell = 0

# A bound far above any count, so that every integer program is bounded.
_CEILING = 10**9


def relation_equation(relation: Relation) -> Equation:
    return tuple(relation.terms)


def suppress_linked(
    values: Mapping[Cell, int],
    *,
    threshold: int,
    equations: Iterable[Equation],
    hidden: Mapping[Cell, str] = (),
    released: Iterable[Cell] = (),
    shown: Iterable[Cell] = (),
) -> dict[Cell, str]:
    """The cells to hide: the small ones, those already hidden for the period, and
    complements chosen among cells never released, until no hidden cell is exposed.
    `shown`: the cells this release shows unless hidden (a reader's knowledge after it)."""
    equations = [eq for eq in equations if len(eq) > 1]
    released = set(released)
    mask = {cell: PRIMARY for cell, value in values.items() if is_small(value, threshold)}
    for cell in hidden:
        if cell in values:
            mask.setdefault(cell, SECONDARY)
    if not mask:
        return mask
    by_cell = defaultdict(list)
    for eq in equations:
        for _, cell in eq:
            by_cell[cell].append(eq)

    def given_away(cell) -> bool:
        # Hiding a cell that one equation fixes from released cells alone protects
        # nothing: a reader works it out (a one-site total beside its site, say).
        return any(
            all(other in released for _, other in eq if other != cell) for eq in by_cell[cell]
        )

    def eligible(cell) -> bool:
        # A hidden zero protects nothing (and is itself worked out as 0): never chosen.
        return (
            cell not in mask and cell not in released and values[cell] != 0 and not given_away(cell)
        )

    def cost(cell):
        return (values[cell], str(cell))  # the least informative: the smallest count

    def hide_near(cell) -> bool:
        """Hide the cheapest eligible cell sharing an equation with `cell`, looking
        further out (equations of those cells, and so on) when its own have none."""
        seen, frontier = {cell}, [cell]
        while frontier:
            around = {other for current in frontier for eq in by_cell[current] for _, other in eq}
            candidates = [other for other in around if eligible(other)]
            if candidates:
                mask[min(candidates, key=cost)] = SECONDARY
                return True
            frontier = [other for other in around if other not in seen]
            seen.update(frontier)
        return False

    while True:
        _close_single_unknowns(equations, mask, eligible, cost)
        exposed = _exposed_cells(values, mask, equations, threshold)
        if not exposed:
            return mask
        if [cell for cell in sorted(exposed, key=str) if hide_near(cell)]:
            continue
        # Nothing left to hide near them. The audit above is pessimistic: it takes every
        # cell not hidden as known, released or not. A complement (never a small count)
        # that a reader really works out from what is published, this release's cells
        # included, is shown rather than marked "*": showing it tells the reader nothing
        # and moves no other cell's range. One the reader cannot work out stays hidden.
        known = (released | set(shown)) - set(mask)
        for cell in sorted(exposed, key=str):
            if mask[cell] == SECONDARY and _worked_out_by_reader(cell, values, by_cell, known):
                del mask[cell]
                known.add(cell)
        return mask  # a small count left exposed would fail the audit test


def _worked_out_by_reader(cell, values, by_cell, known) -> bool:
    """Whether a reader who knows only the `known` cells pins `cell` to its value: every
    other cell of the equations it is tied to (however far) is an unknown non-negative
    integer, and the smallest and largest value the cell can take are both its own."""
    tied, frontier, equations = {cell}, [cell], set()
    while frontier:
        found = []
        for current in frontier:
            for eq in by_cell[current]:
                if eq in equations:
                    continue
                equations.add(eq)
                found += [other for _, other in eq if other not in known and other not in tied]
        tied.update(found)
        frontier = found
    cells = sorted(tied, key=str)
    index = {c: i for i, c in enumerate(cells)}
    matrix = np.zeros((len(equations), len(cells)))
    rhs = np.zeros(len(equations))
    for r, eq in enumerate(equations):
        for coefficient, other in eq:
            if other in known:
                rhs[r] -= coefficient * values[other]
            else:
                matrix[r, index[other]] += coefficient
    constraints = [LinearConstraint(matrix, rhs, rhs)]
    for sign in (1, -1):
        objective = np.zeros(len(cells))
        objective[index[cell]] = sign
        result = milp(
            objective,
            constraints=constraints,
            integrality=np.ones(len(cells)),
            bounds=(0, _CEILING),
        )
        if result.x is None or round(result.x[index[cell]]) != values[cell]:
            return False
    return True


def _close_single_unknowns(equations, mask, eligible, cost) -> None:
    """Cheap first pass: an equation with one hidden cell gives it away; hide another."""
    changed = True
    while changed:
        changed = False
        for eq in equations:
            hidden = [cell for _, cell in eq if cell in mask]
            if len(hidden) != 1:
                continue
            candidates = [cell for _, cell in eq if eligible(cell)]
            if candidates:
                mask[min(candidates, key=cost)] = SECONDARY
                changed = True


def _exposed_cells(values, mask, equations, threshold) -> set:
    """Hidden cells an exact reader pins to one value or to 1 … threshold − 1.

    A cell is safe once some solution of the published equations (non-negative
    integers) gives it another value than its own, and a value of 0 or ≥ threshold
    (for a cell whose own value is already 0 or ≥ threshold, any other value). Each
    solve looks for one solution that moves many unproven cells at once; cells no
    combined solve moves are tried one by one.
    """
    rows = []
    for eq in equations:
        unknown = [(c, cell) for c, cell in eq if cell in mask]
        if unknown:
            constant = sum(c * values[cell] for c, cell in eq if cell not in mask)
            rows.append((unknown, -constant))
    # Hidden cells tied by no chain of equations are independent: each tangle is its own
    # (much smaller) integer program, with the same answer as one program over all.
    parent = {}

    def find(x):
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for unknown, _ in rows:
        first = unknown[0][1]
        for _, cell in unknown[1:]:
            parent[find(cell)] = find(first)
    tangles = defaultdict(list)
    for row in rows:
        tangles[find(row[0][0][1])].append(row)
    exposed = set()
    for tangle in tangles.values():
        exposed |= _exposed_in(tangle, values, threshold)
    return exposed


def _exposed_in(rows, values, threshold) -> set:
    """`_exposed_cells` over one tangle: `rows` ([(coefficient, cell)], constant)."""
    cells = sorted({cell for unknown, _ in rows for _, cell in unknown}, key=str)
    index = {cell: i for i, cell in enumerate(cells)}
    matrix = np.zeros((len(rows), len(cells)))
    rhs = np.zeros(len(rows))
    for r, (unknown, constant) in enumerate(rows):
        for c, cell in unknown:
            matrix[r, index[cell]] += c
        rhs[r] = constant
    constraints = [LinearConstraint(matrix, rhs, rhs)] if rows else []
    truth = np.array([values[cell] for cell in cells], dtype=float)
    small = np.array([is_small(values[cell], threshold) for cell in cells])

    def proven_by(x) -> set:
        moved = np.abs(x - truth) > 0.5
        escapes = (x < 0.5) | (x > threshold - 0.5) | ~small
        return {cells[i] for i in np.flatnonzero(moved & escapes)}

    def solve(objective):
        result = milp(
            objective,
            constraints=constraints,
            integrality=np.ones(len(cells)),
            bounds=(0, _CEILING),
        )
        return np.round(result.x) if result.x is not None else None

    unproven = set(cells)
    while unproven:
        objective = np.zeros(len(cells))
        for cell in unproven:
            # Push small cells to 0 and large ones up: either proves them.
            objective[index[cell]] = 1 if small[index[cell]] else -1
        x = solve(objective)
        proven = proven_by(x) & unproven if x is not None else set()
        if not proven:
            break
        unproven -= proven
    exposed = set()
    for cell in sorted(unproven, key=str):
        if cell not in unproven:
            continue  # moved by an earlier cell's solution
        i = index[cell]
        found = False
        for sign in (1, -1):
            objective = np.zeros(len(cells))
            objective[i] = sign
            x = solve(objective)
            if x is not None and cell in proven_by(x):
                unproven -= proven_by(x)
                found = True
                break
        if not found:
            exposed.add(cell)
    return exposed
