"""A funder report as CSV, XLSX or PDF.

An export never half-writes a file: each is built whole in memory and returned as bytes, and
the view sends the finished bytes. Each export is audited (who, which program or county, which
format and period; never a youth). The figures are the report's, already suppressed: a
suppressed count is written as the word "suppressed", never as a number or a range (a count
hidden to protect another may be of any size).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from django.http import HttpRequest
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from safeharbor.audit.choices import AuditAction
from safeharbor.audit.services import record

from . import charts
from .reports import Cell, Report, Table, format_cell, suppressed_label

if TYPE_CHECKING:
    from safeharbor.accounts.models import User

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF_TYPE = "application/pdf"
FORMATS = ("csv", "xlsx", "pdf")


@dataclass(frozen=True)
class Export:
    body: bytes
    content_type: str
    filename: str


def _safe(value: Any) -> Any:
    """Spreadsheet programs run a cell that starts with = + - @ as a formula: neutralise it."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _raw(value: Cell) -> Any:
    """A value for a machine-read file: the number itself, or the word for a hidden count."""
    if value is None:
        return suppressed_label()
    if isinstance(value, Decimal):
        return float(value)
    return value


def _about(report: Report) -> list[tuple[str, str]]:
    """The report's description, as (label, value) pairs: the first lines of every format."""
    subject = _("Program") if report.kind == "program" else _("County")
    lines = [(_("Report"), report.title), (subject, report.subject)]
    if report.agency:
        lines.append((_("Agency"), report.agency))
    lines += [
        (_("Period from"), report.start.isoformat()),
        (_("Period to"), report.end.isoformat()),
        (_("Generated"), timezone.localtime(report.generated_at).isoformat(timespec="minutes")),
    ]
    lines += [(_("Funding"), funding) for funding in report.funding]
    lines.append((_("Suppression threshold"), str(report.threshold)))
    lines += [(_("Note"), note) for note in report.notes]
    return lines


def _rows(table: Table) -> Iterator[list[Any]]:
    yield ["", *table.columns]
    for line in (*table.lines, table.total):
        yield [line.label, *(_raw(value) for value in line.values)]


# --- CSV ------------------------------------------------------------------------------------


def report_csv(report: Report) -> bytes:
    """One section per table (title, header, lines, total, note), blank lines between."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for label, value in _about(report):
        writer.writerow([_safe(label), _safe(value)])
    for table in report.tables:
        writer.writerow([])
        writer.writerow([_safe(table.title)])
        for row in _rows(table):
            writer.writerow([_safe(cell) for cell in row])
        if table.note:
            writer.writerow([_("Note"), _safe(table.note)])
    # UTF-8 with a byte-order mark, so that spreadsheet programs read accents correctly.
    return buffer.getvalue().encode("utf-8-sig")


# --- XLSX -----------------------------------------------------------------------------------


def _sheet_title(title: str, used: set[str]) -> str:
    cleaned = "".join("-" if ch in "[]:*?/\\" else ch for ch in title).strip("' ")[:31]
    candidate, number = cleaned or "Table", 2
    while candidate.casefold() in used:
        suffix = f" ({number})"
        candidate, number = cleaned[: 31 - len(suffix)] + suffix, number + 1
    used.add(candidate.casefold())
    return candidate


def report_xlsx(report: Report) -> bytes:
    """An "About" sheet (the report's description and notes), then one sheet per table."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    bold = Font(bold=True)
    workbook = Workbook()
    workbook.remove(workbook.worksheets[0])  # the default empty sheet
    used: set[str] = set()
    about = workbook.create_sheet(_sheet_title(_("About"), used))
    for label, value in _about(report):
        about.append([_safe(label), _safe(value)])
        about.cell(row=about.max_row, column=1).font = bold
    about.column_dimensions["A"].width = 24
    about.column_dimensions["B"].width = 100
    for table in report.tables:
        sheet = workbook.create_sheet(_sheet_title(table.title, used))
        sheet.append([_safe(table.title)])
        sheet.cell(row=1, column=1).font = Font(bold=True, size=13)
        rows = list(_rows(table))
        for index, row in enumerate(rows):
            sheet.append([_safe(cell) for cell in row])
            if index in (0, len(rows) - 1):  # the header and the total
                for cell in sheet[sheet.max_row]:
                    cell.font = bold
        if table.note:
            sheet.append([])
            sheet.append([_safe(table.note)])
        sheet.column_dimensions["A"].width = 48
        for letter in "BCDE":
            sheet.column_dimensions[letter].width = 18
        sheet.freeze_panes = "B3"
    workbook.properties.creator = "Safe Harbor"
    workbook.properties.title = report.title
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- PDF ------------------------------------------------------------------------------------


def _pdf_table(table: Table, width: float) -> Any:
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_RIGHT
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph, TableStyle
    from reportlab.platypus import Table as PdfTable

    label_style = ParagraphStyle("label", fontName="Helvetica", fontSize=9, leading=11)
    head_style = ParagraphStyle(
        "head", parent=label_style, fontName="Helvetica-Bold", alignment=TA_RIGHT
    )
    data: list[list[Any]] = [
        ["", *(Paragraph(escape(column), head_style) for column in table.columns)]
    ]
    commands: list[tuple[Any, ...]] = [
        ("FONT", (0, 0), (-1, -1), "Helvetica", 9),
        ("TEXTCOLOR", (0, 0), (-1, -1), charts.INK),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#F3F4F8")),
        ("LINEBELOW", (0, 0), (-1, -1), 0.5, charts.GRID),
        ("LINEABOVE", (0, -1), (-1, -1), 1, charts.INK),
        ("FONT", (0, -1), (-1, -1), "Helvetica-Bold", 9),
        ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]
    lines = (*table.lines, table.total)
    for row, line in enumerate(lines, start=1):
        data.append([Paragraph(escape(line.label), label_style), *map(format_cell, line.values)])
        for column, value in enumerate(line.values, start=1):
            if value is None:
                commands.append(("FONT", (column, row), (column, row), "Helvetica-Oblique", 9))
                commands.append(("TEXTCOLOR", (column, row), (column, row), charts.MUTED))
    label_width = width * (0.55 if len(table.columns) < 3 else 0.4)
    value_width = (width - label_width) / len(table.columns)
    pdf_table = PdfTable(
        data, colWidths=[label_width, *([value_width] * len(table.columns))], repeatRows=1
    )
    pdf_table.setStyle(TableStyle(commands))
    return pdf_table


def report_pdf(report: Report) -> bytes:
    """A cover page (what, which program, which period, how figures are suppressed), then one
    page per table with its bar chart."""
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import PageBreak, Paragraph, Spacer

    from safeharbor.core.pdf import MARGIN, letter_document

    styles = getSampleStyleSheet()
    body, small = styles["BodyText"], styles["BodyText"].clone("small", fontSize=9, leading=11)
    buffer = io.BytesIO()
    document = letter_document(
        buffer, title=report.title, subject=_("De-identified figures; small counts suppressed.")
    )
    width, margin = document.width, MARGIN
    story: list[Any] = [Paragraph(escape(report.title), styles["Title"])]
    for label, value in _about(report)[1:]:  # the first is the title, above
        if label == _("Note"):
            continue
        story.append(Paragraph(f"<b>{escape(label)}:</b> {escape(value)}", body))
    story += [Spacer(1, 12), Paragraph(escape(_("About these figures")), styles["Heading2"])]
    story += [Paragraph(escape(note), body) for note in report.notes]
    for table in report.tables:
        story += [
            PageBreak(),
            Paragraph(escape(table.title), styles["Heading2"]),
            _pdf_table(table, width),
            Spacer(1, 8),
        ]
        if table.note:
            story.append(Paragraph(escape(table.note), small))
        if table.lines:
            story += [
                Spacer(1, 12),
                charts.bar_chart(table.chart_items(), title=table.title, width=width),
            ]

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 8)
        canvas.setFillColor(charts.MUTED)
        text = _("%(title)s · page %(page)d · counts under %(threshold)d are suppressed") % {
            "title": report.title,
            "page": doc.page,
            "threshold": report.threshold,
        }
        canvas.drawString(margin, margin / 2, text)
        canvas.restoreState()

    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


# --- Exporting (audited) --------------------------------------------------------------------

_BUILDERS: dict[str, tuple[Callable[[Report], bytes], str]] = {
    "csv": (report_csv, CSV_TYPE),
    "xlsx": (report_xlsx, XLSX_TYPE),
    "pdf": (report_pdf, PDF_TYPE),
}


def filename(report: Report, fmt: str) -> str:
    kind = "funder-report" if report.kind == "program" else "county-report"
    subject = slugify(report.subject) or kind
    return f"{kind}-{subject}-{report.start:%Y%m%d}-{report.end:%Y%m%d}.{fmt}"


def export(report: Report, fmt: str, *, actor: User, request: HttpRequest | None = None) -> Export:
    """The report as a finished file, and the audit event that says who took it out."""
    if fmt not in _BUILDERS:
        raise ValueError(f"unknown export format: {fmt!r}")
    build, content_type = _BUILDERS[fmt]
    body = build(report)
    object_id: int | str | None = report.program_id
    object_type = "outcomes.program"
    if report.kind == "county":
        object_type, object_id = "outcomes.county", report.county
    record(
        actor=actor,
        action=AuditAction.EXPORT,
        object_type=object_type,
        object_id=object_id,
        reason=f"{report.kind} report {fmt} {report.start.isoformat()}..{report.end.isoformat()}",
        request=request,
    )
    return Export(body=body, content_type=content_type, filename=filename(report, fmt))
