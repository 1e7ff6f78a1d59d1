"""An exact attacker of published figures, written here and not by the report code.

It reads what was released for a period — every report's CSV file and its page in the
API, and the dashboard's trend API — the way a reader would, and names each published
number by what it counts: (scope, figure), where a scope is a site code or the total
of a set of sites. What every reader knows about the numbers becomes constraints:

- a figure and its breakdown (visits by kind and by service model, collected syringes
  by method, refills by reason, strips, naloxone by formulation, funding by category,
  referrals by type) add up, in every scope;
- a total over a set of sites is the sum of those sites (unique participants excepted,
  unless the set is one site);
- naloxone doses are units times the doses per unit of the formulation's product (the
  products are public);
- every count is a non-negative integer.

For each hidden number, an integer program (scipy `milp`, HiGHS) finds the smallest
and largest value it can take given everything published.
"""

import csv
import io
import math
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import LinearConstraint, milp

from inventory.models import Item
from org.models import Site

TOTAL = "TOTAL"

# Breakdowns by the prefix of their parts -> the figure they add up to.
BREAKDOWNS = {
    "service_model": "visits",
    "collected": "syringes_collected",
    "refills": "refills",
    "strips": "supplies.drug_checking",
    "naloxone_units": "supplies.naloxone",
    "naloxone_doses": "naloxone_doses",
    "referred": "referred",
    "linked": "linked",
}
# The dashboard's series, named by the report figure they count (the same definition).
TREND_FIGURES = {
    "visits": "visits",
    "unique_participants": "unique_participants",
    "syringes_distributed": "supplies.syringe",
    "syringes_collected": "syringes_collected",
    "naloxone_doses": "naloxone_doses",
    "referred": "referred",
    "linked": "linked",
}
NOT_ADDITIVE = {"unique_participants"}


@dataclass
class Release:
    """The numbers one publication shows: {(scope, key): int or None (hidden)}."""

    cells: dict = field(default_factory=dict)
    groups: dict = field(default_factory=dict)  # total scope -> its site codes


@dataclass
class Finding:
    cell: tuple
    low: float
    high: float

    @property
    def width(self) -> float:
        return self.high - self.low


def group_scope(codes) -> tuple:
    return (TOTAL, tuple(sorted(codes)))


def truth_of(snapshot) -> dict:
    """A report snapshot's every figure, unsuppressed, named as the attacker names cells:
    (scope, figure) with the program total's scope named by its sites."""
    snapshot.refresh_from_db()
    figures = snapshot.figures
    codes = [s["key"] for s in figures["scopes"] if s["key"] != TOTAL]
    out = {}
    for scope, row in figures["values"].items():
        name = group_scope(codes) if scope == TOTAL else scope
        out.update({(name, key): value for key, value in row.items()})
    return out


def report_release(detail: dict, csv_bytes: bytes | None = None) -> Release:
    """A report as published: its page (rows carry figure keys) and its CSV file (the
    same rows in the same order)."""
    names = {s.name: s.code for s in Site.objects.all()}
    sites = [names[column] for column in detail["tables"][0]["columns"] if column != "Total"]
    if detail["sites"]:
        codes = detail["sites"]
    else:
        codes = list(Site.objects.values_list("code", flat=True))
    release = Release()
    total = group_scope(codes)
    release.groups[total] = tuple(sorted(codes))
    scopes = [*sites, total] if sites else [total]
    csv_rows = _csv_rows(csv_bytes) if csv_bytes else None
    for table in detail["tables"]:
        for row in table["rows"]:
            texts = [[cell["text"] for cell in row["cells"]]]
            if csv_rows is not None:
                texts.append(csv_rows.pop(0)[1:])
            if not row["key"]:
                continue  # a ratio: published only when both its counts are
            for shown in texts:
                for scope, text in zip(scopes, shown, strict=True):
                    _record(release, (scope, row["key"]), _number(text))
    return release


def _csv_rows(csv_bytes: bytes) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(csv_bytes.decode("utf-8-sig"))))
    # Figure rows are those after a "Figure" header and before the blank line closing
    # each table (notes start with "Note:").
    out, inside = [], False
    for row in rows:
        if row and row[0] == "Figure":
            inside = True
        elif not row:
            inside = False
        elif inside and not row[0].startswith("Note:"):
            out.append(row)
    return out


def trend_release(trends: dict, month: str) -> Release:
    """One month of the dashboard's trend API."""
    i = trends["months"].index(month)
    codes = [s["key"] for s in trends["scopes"] if s["key"] != TOTAL]
    release = Release()
    total = group_scope(codes)
    release.groups[total] = tuple(sorted(codes))
    for series, key in TREND_FIGURES.items():
        for scope in [*codes, TOTAL]:
            value = trends["series"][series][scope][i]
            name = total if scope == TOTAL else scope
            _record(release, (name, key), None if value is None else int(value))
    return release


def _number(text: str) -> int | None:
    text = text.replace(",", "").strip()
    return int(text) if text.isdigit() else None


def _record(release: Release, cell, value) -> None:
    known = release.cells.get(cell)
    release.cells[cell] = value if value is not None else known


def _breakdown_equations(scopes, keys) -> list[dict]:
    """Σ coefficient·cell = 0 for every breakdown a reader knows, in every scope."""
    equations = []
    families = defaultdict(list)
    for key in keys:
        prefix, _, rest = key.partition(".")
        if prefix == "funding" and rest.count(".") == 1:
            families[("funding." + rest.split(".")[0],)].append(key)
        elif prefix in BREAKDOWNS and rest:
            families[(BREAKDOWNS[prefix],)].append(key)
    for scope in scopes:
        for (total,), parts in families.items():
            equations.append({(scope, total): 1, **{(scope, p): -1 for p in parts}})
        equations.append(
            {
                (scope, "visits"): 1,
                (scope, "identified_visits"): -1,
                (scope, "anonymous_visits"): -1,
            }
        )
    return equations


def _multiple_equations(scopes) -> list[dict]:
    per_formulation = defaultdict(set)
    for item in Item.objects.filter(category="naloxone"):
        per_formulation[item.naloxone_formulation or "unspecified"].add(
            item.naloxone_doses_per_unit
        )
    equations = []
    for formulation, doses in per_formulation.items():
        if len(doses) != 1:
            continue  # products of one formulation differ: no fixed multiple to use
        (multiple,) = doses
        for scope in scopes:
            equations.append(
                {
                    (scope, f"naloxone_doses.{formulation}"): 1,
                    (scope, f"naloxone_units.{formulation}"): -multiple,
                }
            )
    return equations


def attack(releases: list[Release], *, keys: list[str], truth: dict | None = None):
    """Every hidden cell of the releases with the smallest and largest value it can take.

    `keys` is the catalogue of figures (public: the templates list them). With `truth`
    (cell -> actual value), the constraints are first checked to hold for the actual
    values, so that the attacker cannot be "exact" about a wrong model.
    """
    published, hidden, groups = {}, set(), {}
    for release in releases:
        groups.update(release.groups)
        for cell, value in release.cells.items():
            if value is None:
                hidden.add(cell)
            else:
                if cell in published:
                    assert published[cell] == value, f"two releases disagree on {cell}"
                published[cell] = value
    hidden -= set(published)
    sites = sorted({code for codes in groups.values() for code in codes})
    scopes = [*sites, *groups]
    equations = _breakdown_equations(scopes, keys) + _multiple_equations(scopes)
    for total, codes in groups.items():
        for key in keys:
            if key in NOT_ADDITIVE and len(codes) > 1:
                continue
            equations.append({(total, key): 1, **{(code, key): -1 for code in codes}})
    if truth is not None:
        for equation in equations:
            if all(cell in truth for cell in equation):
                assert sum(c * truth[cell] for cell, c in equation.items()) == 0, equation
    return _ranges(equations, published, hidden)


def _ranges(equations, published, hidden) -> list[Finding]:
    # Substitute the published numbers; what is left are equations over unknowns.
    reduced = []
    for equation in equations:
        rest = {cell: c for cell, c in equation.items() if cell not in published}
        constant = sum(c * published[cell] for cell, c in equation.items() if cell in published)
        if rest:
            reduced.append((rest, -constant))
    unknowns = sorted({cell for rest, _ in reduced for cell in rest} | hidden, key=str)
    index = {cell: i for i, cell in enumerate(unknowns)}
    findings = []
    for group in _components(reduced, unknowns):
        rows = [(rest, rhs) for rest, rhs in reduced if next(iter(rest)) in group]
        cells = sorted(group, key=str)
        local = {cell: i for i, cell in enumerate(cells)}
        matrix = np.zeros((len(rows), len(cells)))
        rhs = np.zeros(len(rows))
        for r, (rest, value) in enumerate(rows):
            for cell, c in rest.items():
                matrix[r, local[cell]] = c
            rhs[r] = value
        constraints = [LinearConstraint(matrix, rhs, rhs)] if rows else []
        for cell in cells:
            if cell not in hidden:
                continue
            objective = np.zeros(len(cells))
            objective[local[cell]] = 1
            low = _optimum(objective, constraints)
            high = -_optimum(-objective, constraints)
            findings.append(Finding(cell, low, high))
    assert len(findings) == len(hidden) and all(c in index for c in hidden)
    return findings


# Far above any count of a month: a cell that reaches it is unbounded for the reader.
CEILING = 10**7


def _optimum(objective, constraints) -> float:
    result = milp(
        objective,
        constraints=constraints,
        integrality=np.ones(len(objective)),
        bounds=(0, CEILING),
    )
    assert result.status == 0, result.message
    value = round(result.fun)
    return -math.inf if value <= -CEILING else value


def _components(reduced, unknowns) -> list[set]:
    parent = {cell: cell for cell in unknowns}

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for rest, _ in reduced:
        first, *others = rest
        for other in others:
            parent[find(other)] = find(first)
    groups = defaultdict(set)
    for cell in unknowns:
        groups[find(cell)].add(cell)
    return list(groups.values())


def exposed(findings: list[Finding], *, threshold: int) -> list[Finding]:
    """Hidden cells pinned to one value, or to a range inside 1 … threshold − 1 (a reader
    learns the count is small and not zero)."""
    return [f for f in findings if f.low == f.high or (f.low >= 1 and f.high <= threshold - 1)]
