"""Figures + template + threshold → the tables people read (web page, CSV, XLSX)."""

from dataclasses import dataclass, field
from datetime import date

from .funder_templates import Family, Line, Ratio, ReportTemplate
from .indicators import COVERAGE_DEFINITION, Coverage, Rate, coverage_band, per_year
from .metrics import TOTAL, definition_of
from .suppression import PRIMARY, SECONDARY, figures_mask


@dataclass(frozen=True)
class Cell:
    value: int | float | None  # None: not computable (a ratio over zero)
    text: str
    mark: str | None = None  # PRIMARY / SECONDARY: hidden in published output

    @property
    def is_hidden(self) -> bool:
        return self.mark is not None


@dataclass(frozen=True)
class Row:
    label: str
    cells: list[Cell]
    key: str = ""


@dataclass(frozen=True)
class Table:
    title: str
    columns: list[str]
    rows: list[Row]
    note: str = ""


@dataclass(frozen=True)
class Rendered:
    template: ReportTemplate
    period_label: str
    threshold: int
    suppressed: bool
    tables: list[Table]
    footnotes: list[str] = field(default_factory=list)
    # (line, one-line definition) for every line of the template, in its order.
    definitions: list[tuple[str, str]] = field(default_factory=list)

    @property
    def hidden_count(self) -> int:
        return sum(c.is_hidden for t in self.tables for r in t.rows for c in r.cells)


def template_scopes(figures: dict, template: ReportTemplate) -> list[dict]:
    if template.per_site:
        return figures["scopes"]
    return [s for s in figures["scopes"] if s["key"] == TOTAL]


def family_keys(figures: dict, line: Family) -> list[str]:
    """The keys a family line expands to, in the figures' order."""
    values = figures["values"]
    return [
        key
        for key in figures["keys"]
        if key.startswith(line.prefix + ".")
        and key not in line.skip
        and not (line.nonzero_only and not any(values[s][key] for s in values))
    ]


def template_cells(figures: dict, template: ReportTemplate) -> set[tuple[str, str]]:
    """The (scope, key) counts the template publishes. The counts of a ratio or rate
    count as published: a ratio is shown only when both are, and gives them away
    together."""
    keys = set()
    for section in template.sections:
        for line in section.lines:
            if isinstance(line, Line):
                keys.add(line.key)
            elif isinstance(line, Family):
                keys.update(family_keys(figures, line))
            elif isinstance(line, Ratio | Rate):
                keys.update((line.numerator, line.denominator))
            elif isinstance(line, Coverage):
                keys.update((line.syringes, line.people))
    scopes = [s["key"] for s in template_scopes(figures, template)]
    return {(scope, key) for scope in scopes for key in keys}


def render(
    figures: dict,
    template: ReportTemplate,
    *,
    threshold: int,
    suppressed: bool = True,
    mask: dict | None = None,
) -> Rendered:
    """The template's tables over these figures. `suppressed=False` shows every value
    (in the app, for people allowed to) but still marks the cells that would be hidden.
    `mask`: the hidden (scope, key) cells of the period's linked set; without it, the
    figures' own suppression (one report on its own)."""
    if mask is None:
        mask = figures_mask(figures, threshold=threshold)
    scopes = template_scopes(figures, template)
    columns = [s["label"] if s["key"] != TOTAL else "Total" for s in scopes]
    values, labels = figures["values"], figures["labels"]

    def count_cell(scope: str, key: str) -> Cell:
        value = values[scope].get(key, 0)
        mark = mask.get((scope, key))
        if suppressed and mark == PRIMARY:
            return Cell(value, f"<{threshold}", mark)
        if suppressed and mark == SECONDARY:
            return Cell(value, "*", mark)
        return Cell(value, f"{value:,}", mark)

    def hidden_input(scope: str, *keys: str) -> bool:
        return any((scope, key) in mask for key in keys)

    def ratio_cell(scope: str, line: Ratio | Rate) -> Cell:
        numerator, denominator = (
            values[scope].get(line.numerator, 0),
            values[scope].get(line.denominator, 0),
        )
        value = numerator / denominator if denominator else None
        if value is not None and isinstance(line, Rate):
            value *= line.per
        # A ratio over a hidden count would give the count away: hidden with it.
        mark = SECONDARY if hidden_input(scope, line.numerator, line.denominator) else None
        if suppressed and mark:
            return Cell(value, "*", mark)
        if value is None:
            return Cell(None, "–", mark)
        if isinstance(line, Rate):
            return Cell(value, f"{value:.1f}", mark)
        return Cell(value, f"{value:.0%}" if line.percent else f"{value:.2f}", mark)

    period = figures["period"]
    days = (date.fromisoformat(period["end"]) - date.fromisoformat(period["start"])).days + 1

    def coverage_cells(scope: str, line: Coverage) -> tuple[Cell, Cell]:
        syringes, people = values[scope].get(line.syringes, 0), values[scope].get(line.people, 0)
        mark = SECONDARY if hidden_input(scope, line.syringes, line.people) else None
        if suppressed and mark:
            return Cell(None, "*", mark), Cell(None, "*", mark)
        if not people:
            return Cell(None, "–", mark), Cell(None, "–", mark)
        yearly = per_year(syringes / people, days=days)
        return Cell(yearly, f"{yearly:,.0f}", mark), Cell(None, coverage_band(yearly), mark)

    def label_of(key: str) -> str:
        return labels.get(key, key)

    tables, definitions = [], []
    for section in template.sections:
        rows = []
        for line in section.lines:
            if isinstance(line, Line):
                label = line.label or label_of(line.key)
                rows.append(Row(label, [count_cell(s["key"], line.key) for s in scopes], line.key))
                definitions.append((label, definition_of(line.key)))
            elif isinstance(line, Family):
                family = []
                for key in family_keys(figures, line):
                    label = label_of(key)
                    if line.label_prefix and label.startswith(line.label_prefix):
                        label = label[len(line.label_prefix) :]
                    family.append(Row(label, [count_cell(s["key"], key) for s in scopes], key))
                rows += family
                if family:
                    definitions.append(
                        (f"{section.title}: each line", definition_of(f"{line.prefix}.*"))
                    )
            elif isinstance(line, Ratio | Rate):
                rows.append(Row(line.label, [ratio_cell(s["key"], line) for s in scopes]))
                if isinstance(line, Rate):
                    text = (
                        f"{label_of(line.numerator)} × {line.per} ÷ {label_of(line.denominator)}."
                    )
                else:
                    text = f"{label_of(line.numerator)} ÷ {label_of(line.denominator)}" + (
                        ", as a percentage." if line.percent else "."
                    )
                definitions.append((line.label, text + " Hidden where either count is hidden."))
            elif isinstance(line, Coverage):
                pairs = [coverage_cells(s["key"], line) for s in scopes]
                rows.append(Row(line.label, [yearly for yearly, _band in pairs]))
                rows.append(Row(line.band_label, [band for _yearly, band in pairs]))
                definitions.append(
                    (line.label, COVERAGE_DEFINITION + " Hidden where either count is hidden.")
                )
        tables.append(Table(section.title, columns, rows, section.note))
    # The marks' legend only where marks are shown (the unsuppressed view explains its own).
    legend = [
        f"<{threshold}: a count from 1 to {threshold - 1}, suppressed to protect privacy.",
        "*: hidden so that a suppressed count cannot be worked out from the totals.",
    ]
    footnotes = [
        *(legend if suppressed else []),
        "Voided visits are excluded; corrected visits count as corrected; a street shift "
        "logged in bulk counts as that many anonymous visits.",
        *template.footnotes,
    ]
    return Rendered(
        template,
        figures["period"]["label"],
        threshold,
        suppressed,
        tables,
        footnotes,
        [(label, text) for label, text in dict(definitions).items() if text],
    )
