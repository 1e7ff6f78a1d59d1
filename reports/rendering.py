"""Figures + template + threshold → the tables people read (web page, CSV, XLSX)."""

from dataclasses import dataclass, field

from .funder_templates import Family, Line, Ratio, ReportTemplate
from .metrics import TOTAL
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

    @property
    def hidden_count(self) -> int:
        return sum(c.is_hidden for t in self.tables for r in t.rows for c in r.cells)


def template_scopes(figures: dict, template: ReportTemplate) -> list[dict]:
    if template.per_site:
        return figures["scopes"]
    return [s for s in figures["scopes"] if s["key"] == TOTAL]


def template_lines(figures: dict, template: ReportTemplate):
    """(section, line, key) of every row the template shows, in order (key "" for a
    ratio): the one expansion of families the page, the files and the suppression use."""
    values = figures["values"]
    for section in template.sections:
        for line in section.lines:
            if isinstance(line, Line):
                yield section, line, line.key
            elif isinstance(line, Family):
                for key in figures["keys"]:
                    if not key.startswith(line.prefix + ".") or key in line.skip:
                        continue
                    if line.nonzero_only and not any(values[s][key] for s in values):
                        continue
                    yield section, line, key
            elif isinstance(line, Ratio):
                yield section, line, ""


def template_cells(figures: dict, template: ReportTemplate) -> set[tuple[str, str]]:
    """The (scope, key) counts the template publishes (ratios show nothing more)."""
    scopes = [s["key"] for s in template_scopes(figures, template)]
    keys = {key for _, _, key in template_lines(figures, template) if key}
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

    def ratio_cell(scope: str, line: Ratio) -> Cell:
        numerator, denominator = (
            values[scope].get(line.numerator, 0),
            values[scope].get(line.denominator, 0),
        )
        value = numerator / denominator if denominator else None
        mark = None
        if (scope, line.numerator) in mask or (scope, line.denominator) in mask:
            mark = SECONDARY
        if suppressed and mark:
            return Cell(value, "*", mark)
        if value is None:
            return Cell(None, "–")
        return Cell(value, f"{value:.0%}" if line.percent else f"{value:.2f}", mark)

    rows_of = {id(section): [] for section in template.sections}
    for section, line, key in template_lines(figures, template):
        rows = rows_of[id(section)]
        if isinstance(line, Line):
            label = line.label or labels.get(key, key)
            rows.append(Row(label, [count_cell(s["key"], key) for s in scopes], key))
        elif isinstance(line, Family):
            label = labels.get(key, key)
            if line.label_prefix and label.startswith(line.label_prefix):
                label = label[len(line.label_prefix) :]
            rows.append(Row(label, [count_cell(s["key"], key) for s in scopes], key))
        elif isinstance(line, Ratio):
            rows.append(Row(line.label, [ratio_cell(s["key"], line) for s in scopes]))
    tables = [
        Table(section.title, columns, rows_of[id(section)], section.note)
        for section in template.sections
    ]
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
    return Rendered(template, figures["period"]["label"], threshold, suppressed, tables, footnotes)
