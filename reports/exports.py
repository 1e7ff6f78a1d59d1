"""CSV and XLSX files of a rendered report. Published files are always suppressed."""

import csv
import io

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from .rendering import Rendered


def _header_rows(rendered: Rendered, about: list[tuple[str, str]]) -> list[list[str]]:
    return [[rendered.template.name], *([label, value] for label, value in about), []]


def to_csv(rendered: Rendered, *, about: list[tuple[str, str]]) -> bytes:
    """One CSV: the parameters, then each section as a block of rows, then footnotes."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows(_header_rows(rendered, about))
    for table in rendered.tables:
        writer.writerow([table.title])
        writer.writerow(["Figure", *table.columns])
        for row in table.rows:
            writer.writerow([row.label, *(cell.text.replace(",", "") for cell in row.cells)])
        if table.note:
            writer.writerow([f"Note: {table.note}"])
        writer.writerow([])
    for note in rendered.footnotes:
        writer.writerow([note])
    # A byte-order mark so spreadsheet programs open the en dashes and "<" correctly.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(rendered: Rendered, *, about: list[tuple[str, str]]) -> bytes:
    """An XLSX workbook written in openpyxl's write-only (streaming) mode: numbers as
    numbers, suppressed cells as their marks."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Report")
    sheet.column_dimensions["A"].width = 55
    bold = Font(bold=True)

    def strong(text):
        cell = WriteOnlyCell(sheet, value=text)
        cell.font = bold
        return cell

    sheet.append([strong(rendered.template.name)])
    for label, value in about:
        sheet.append([label, value])
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
            sheet.append(out)
        if table.note:
            sheet.append([f"Note: {table.note}"])
        sheet.append([])
    for note in rendered.footnotes:
        sheet.append([note])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
