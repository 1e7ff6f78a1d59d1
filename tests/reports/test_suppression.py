"""Small-cell suppression: property tests over random tables with row and column totals,
checked by an attacker written here (row reduction and bounds), not by the report code."""

import math
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reports.suppression import PRIMARY, SECONDARY, Relation, display, suppress

T = "T"  # the margin index: (i, T) is row i's total, (T, j) column j's, (T, T) the grand


def table_with_totals(inner: list[list[int]]):
    rows, cols = len(inner), len(inner[0])
    values = {(i, j): inner[i][j] for i in range(rows) for j in range(cols)}
    for i in range(rows):
        values[(i, T)] = sum(inner[i])
    for j in range(cols):
        values[(T, j)] = sum(inner[i][j] for i in range(rows))
    values[(T, T)] = sum(values[(i, T)] for i in range(rows))
    relations = [Relation((i, T), tuple((i, j) for j in range(cols))) for i in range(rows)]
    relations += [Relation((T, j), tuple((i, j) for i in range(rows))) for j in range(cols)]
    relations.append(Relation((T, T), tuple((i, T) for i in range(rows))))
    relations.append(Relation((T, T), tuple((T, j) for j in range(cols))))
    return values, relations


def rank(rows: list[list[Fraction]]) -> int:
    matrix = [list(r) for r in rows]
    rank_, width = 0, len(matrix[0]) if matrix else 0
    for col in range(width):
        pivot = next((r for r in range(rank_, len(matrix)) if matrix[r][col]), None)
        if pivot is None:
            continue
        matrix[rank_], matrix[pivot] = matrix[pivot], matrix[rank_]
        for r in range(len(matrix)):
            if r != rank_ and matrix[r][col]:
                f = matrix[r][col] / matrix[rank_][col]
                matrix[r] = [a - f * b for a, b in zip(matrix[r], matrix[rank_], strict=True)]
        rank_ += 1
    return rank_


def recoverable_by_equations(values, relations, hidden) -> list:
    """Hidden cells whose value the published totals determine (exact linear algebra:
    the cell's unit vector lies in the row space of the equations over hidden cells)."""
    unknown = sorted(hidden, key=str)
    if not unknown:
        return []
    column = {c: k for k, c in enumerate(unknown)}
    equations = []
    for rel in relations:
        row = [Fraction(0)] * len(unknown)
        for sign, cell in [(1, rel.total)] + [(-1, p) for p in rel.parts]:
            if cell in hidden:
                row[column[cell]] += sign
        if any(row):
            equations.append(row)
    base = rank(equations) if equations else 0
    found = []
    for cell in unknown:
        unit = [Fraction(0)] * len(unknown)
        unit[column[cell]] = Fraction(1)
        if rank([*equations, unit]) == base:
            found.append(cell)
    return found


def pinned_by_bounds(values, relations, hidden, threshold) -> list:
    """Hidden cells that one total pins down once a reader uses what the marks say:
    "<t" is 1…t−1, "*" is anything from 0."""

    def bounds(cell):
        return (1, threshold - 1) if hidden[cell] == PRIMARY else (0, math.inf)

    found = []
    for rel in relations:
        terms = [(1, rel.total)] + [(-1, p) for p in rel.parts]
        known = sum(s * values[c] for s, c in terms if c not in hidden)
        unknown = [(s, c) for s, c in terms if c in hidden]
        for s, cell in unknown:
            # s·x = −known − Σ other s'·x'
            rest_low = sum(
                s2 * (bounds(c2)[0] if s2 > 0 else bounds(c2)[1])
                for s2, c2 in unknown
                if c2 != cell
            )
            rest_high = sum(
                s2 * (bounds(c2)[1] if s2 > 0 else bounds(c2)[0])
                for s2, c2 in unknown
                if c2 != cell
            )
            low, high = -known - rest_high, -known - rest_low
            if s < 0:
                low, high = -high, -low
            low, high = max(low, bounds(cell)[0]), min(high, bounds(cell)[1])
            if low == high:
                found.append(cell)
    return found


small_counts = st.one_of(st.just(0), st.integers(1, 12), st.integers(0, 60))
tables = st.integers(1, 4).flatmap(
    lambda rows: st.integers(1, 4).flatmap(
        lambda cols: st.lists(
            st.lists(small_counts, min_size=cols, max_size=cols), min_size=rows, max_size=rows
        )
    )
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inner=tables, threshold=st.sampled_from([3, 5, 6, 10, 11]))
def test_no_small_count_is_published_or_recoverable_from_the_totals(inner, threshold):
    values, relations = table_with_totals(inner)
    hidden = suppress(values, threshold=threshold, relations=relations)

    for cell, value in values.items():
        if 0 < value < threshold:
            # Never published: "<t", or "*" where even "<t" would give it away.
            assert cell in hidden, (cell, value)
        if value == 0:
            assert hidden.get(cell) != PRIMARY  # zero stays (unless hidden to protect)
        if hidden.get(cell) == PRIMARY:
            assert display(value, PRIMARY, threshold) == f"<{threshold}"
    assert recoverable_by_equations(values, relations, hidden) == []
    assert pinned_by_bounds(values, relations, hidden, threshold) == []


@settings(max_examples=150, deadline=None)
@given(
    units=st.lists(st.integers(0, 30), min_size=2, max_size=4),
    per_unit=st.lists(st.integers(1, 3), min_size=4, max_size=4),
)
def test_linked_figures_are_hidden_together(units, per_unit):
    """Naloxone doses are a multiple of units: one hidden means both hidden."""
    values, relations, links = {}, [], []
    for k, n in enumerate(units):
        values[("units", k)] = n
        values[("doses", k)] = n * per_unit[k]
        links.append((("units", k), ("doses", k)))
    values[("units", T)] = sum(units)
    values[("doses", T)] = sum(values[("doses", k)] for k in range(len(units)))
    for name in ("units", "doses"):
        relations.append(Relation((name, T), tuple((name, k) for k in range(len(units)))))
    hidden = suppress(values, threshold=11, relations=relations, links=links)
    for a, b in links:
        assert (a in hidden) == (b in hidden)
    assert recoverable_by_equations(values, relations, hidden) == []


def test_a_lone_small_cell_takes_its_smallest_neighbour_with_it():
    values, relations = table_with_totals([[3, 20, 40], [15, 30, 25]])
    hidden = suppress(values, threshold=11, relations=relations)
    assert hidden[(0, 0)] == PRIMARY
    # Row 0: the smallest other part (20) goes; column 0: the 15 below it.
    assert hidden[(0, 1)] == SECONDARY and hidden[(1, 0)] == SECONDARY
    assert (0, T) not in hidden and (T, T) not in hidden
    assert display(20, SECONDARY, 11) == "*" and display(0, None, 11) == "0"


def test_two_small_cells_at_the_edge_of_their_range_are_not_given_away():
    # "<11" + "<11" = 20 would make both exactly 10.
    values = {"a": 10, "b": 10, "c": 35, "total": 55}
    relations = [Relation("total", ("a", "b", "c"))]
    hidden = suppress(values, threshold=11, relations=relations)
    assert hidden["a"] == hidden["b"] == PRIMARY
    assert "c" in hidden


def test_nothing_is_hidden_when_nothing_is_small():
    values, relations = table_with_totals([[0, 20], [30, 0]])
    assert suppress(values, threshold=11, relations=relations) == {}


def test_a_relation_must_name_known_cells():
    with pytest.raises(KeyError):
        suppress({"a": 1}, threshold=11, relations=[Relation("a", ("missing",))])


def test_the_attacker_finds_what_primary_suppression_alone_gives_away():
    """The checks above are not vacuous: with only the small cell hidden, a row total
    gives it away by subtraction, and two "<11" of a total of 20 are both 10."""
    values, relations = table_with_totals([[3, 20, 40], [15, 30, 25]])
    assert recoverable_by_equations(values, relations, {(0, 0): PRIMARY}) == [(0, 0)]
    values = {"a": 10, "b": 10, "c": 35, "total": 55}
    relations = [Relation("total", ("a", "b", "c"))]
    only_primary = {"a": PRIMARY, "b": PRIMARY}
    assert recoverable_by_equations(values, relations, only_primary) == []
    assert sorted(pinned_by_bounds(values, relations, only_primary, 11)) == ["a", "b"]


site_rows = st.lists(
    st.tuples(st.integers(0, 40), st.integers(0, 40), st.integers(0, 40)), min_size=1, max_size=4
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=site_rows, threshold=st.sampled_from([5, 11]), data=st.data())
def test_report_figures_keep_no_small_count_recoverable(rows, threshold, data):
    """Figures shaped like a report's (sites and a total; visits = with a code +
    anonymous; unique participants not additive across sites), masked by the report's
    own figures_mask and attacked with the sums a reader knows, written out here."""
    from reports.metrics import TOTAL
    from reports.suppression import figures_mask

    sites = [f"S{n}" for n in range(len(rows))]
    values = {}
    for site, (identified, anonymous, people) in zip(sites, rows, strict=True):
        people = min(people, identified)  # a person has at least one visit
        values[site] = {
            "visits": identified + anonymous,
            "identified_visits": identified,
            "anonymous_visits": anonymous,
            "unique_participants": people,
        }
    values[TOTAL] = {
        key: sum(values[s][key] for s in sites)
        for key in ("visits", "identified_visits", "anonymous_visits")
    }
    site_people = [values[s]["unique_participants"] for s in sites]
    values[TOTAL]["unique_participants"] = data.draw(
        st.integers(max(site_people), sum(site_people)), label="people in total"
    )
    keys = list(values[TOTAL])
    figures = {
        "scopes": [{"key": s} for s in [*sites, TOTAL]],
        "keys": keys,
        "values": values,
        "relations": [{"total": "visits", "parts": ["identified_visits", "anonymous_visits"]}],
        "links": [],
        "non_additive": ["unique_participants"],
    }
    hidden = figures_mask(figures, threshold=threshold)

    cells = {(scope, key): value for scope, row in values.items() for key, value in row.items()}
    known = [
        Relation((scope, "visits"), ((scope, "identified_visits"), (scope, "anonymous_visits")))
        for scope in [*sites, TOTAL]
    ]
    additive = keys if len(sites) == 1 else [k for k in keys if k != "unique_participants"]
    known += [Relation((TOTAL, key), tuple((s, key) for s in sites)) for key in additive]
    for cell, value in cells.items():
        if 0 < value < threshold:
            assert cell in hidden, (cell, value)
    assert recoverable_by_equations(cells, known, hidden) == []
    assert pinned_by_bounds(cells, known, hidden, threshold) == []
