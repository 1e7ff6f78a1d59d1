"""CSV and XLSX files of a rendered report. Published files are always suppressed.

Every text cell goes through `safe_text`: names people type (sites, referral types,
funding sources) end up in these files, and a spreadsheet must neither run one as a
formula nor refuse to open the file over a control character.
"""

import csv
import io

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from .rendering import Rendered

# What makes Excel, LibreOffice or Sheets read a cell as a formula (OWASP CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_text(text) -> str:
    """Text as written to a file: characters a workbook cannot hold removed, and a
    leading ' before anything a spreadsheet would take for a formula."""
    text = ILLEGAL_CHARACTERS_RE.sub("", str(text))
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _header_rows(rendered: Rendered, about: list[tuple[str, str]]) -> list[list[str]]:
    return [[rendered.template.name], *([label, value] for label, value in about), []]


def to_csv(rendered: Rendered, *, about: list[tuple[str, str]]) -> bytes:
    """One CSV: the parameters, then each section as a block of rows, then footnotes
    and the definitions."""
    rows = [*_header_rows(rendered, about)]
    for table in rendered.tables:
        rows.append([table.title])
        rows.append(["Figure", *table.columns])
        for row in table.rows:
            rows.append([row.label, *(cell.text.replace(",", "") for cell in row.cells)])
        if table.note:
            rows.append([f"Note: {table.note}"])
        rows.append([])
    rows += [[note] for note in rendered.footnotes]
    rows += [[], ["Definitions"], *([label, text] for label, text in rendered.definitions)]
    buffer = io.StringIO()
    csv.writer(buffer).writerows([safe_text(value) for value in row] for row in rows)
    # A byte-order mark so spreadsheet programs open the en dashes and "<" correctly.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(rendered: Rendered, *, about: list[tuple[str, str]]) -> bytes:
    """An XLSX workbook written in openpyxl's write-only (streaming) mode: numbers as
    numbers, suppressed cells as their marks; a second sheet, "Definitions", says what
    each line counts."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Report")
    sheet.column_dimensions["A"].width = 55
    bold = Font(bold=True)

    def strong(text, on=sheet):
        cell = WriteOnlyCell(on, value=safe_text(text))
        cell.font = bold
        return cell

    def plain(*values):
        return [safe_text(v) if isinstance(v, str) else v for v in values]

    sheet.append([strong(rendered.template.name)])
    for label, value in about:
        sheet.append(plain(label, value))
    sheet.append([])
    for table in rendered.tables:
        sheet.append([strong(table.title)])
        sheet.append([strong("Figure"), *(strong(c) for c in table.columns)])
        for row in table.rows:
            out = [row.label]
            for cell in row.cells:
                if (cell.is_hidden and rendered.suppressed) or cell.value is None:
                    out.append(cell.text)
                elif isinstance(cell.value, float):
                    out.append(round(cell.value, 4))
                else:
                    out.append(cell.value)
            sheet.append(plain(*out))
        if table.note:
            sheet.append(plain(f"Note: {table.note}"))
        sheet.append([])
    for note in rendered.footnotes:
        sheet.append(plain(note))

    definitions = workbook.create_sheet("Definitions")
    definitions.column_dimensions["A"].width = 55
    definitions.column_dimensions["B"].width = 100
    definitions.append([strong("Line", definitions), strong("Definition", definitions)])
    for label, text in rendered.definitions:
        definitions.append(plain(label, text))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
