"""The funder report's CSV, XLSX and PDF: each parses back to the report's figures (suppressed
cells written as the word), holds no identifier (searched in the decompressed bytes), and each
export is audited without a youth."""

from __future__ import annotations

import csv
import io
import zipfile
from typing import Any

import pytest
from openpyxl import load_workbook

from safeharbor.audit.models import AuditEvent
from safeharbor.core.tests.pdf import page_count, pdf_text
from safeharbor.core.tests.personas import World
from safeharbor.outcomes import exports, reports
from safeharbor.outcomes.models import Program
from safeharbor.outcomes.reports import Report

from .test_reports import END, START, Dataset, build, on

pytestmark = pytest.mark.django_db


@pytest.fixture
def data(world: World, program: Program) -> Dataset:
    return build(world, program)


def _report(data: Dataset, small: int, settings: Any) -> Report:
    settings.SAFEHARBOR_SMALL_CELL = small
    return reports.funder_report(data.program, START, END)


def _export(data: Dataset, report: Report, fmt: str) -> bytes:
    return exports.export(report, fmt, actor=data.world.county_analyst).body


def _sections(body: bytes) -> tuple[dict[str, str], dict[str, list[list[str]]]]:
    """The CSV's description lines, and each table's rows (header first) by its title."""
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    blank = rows.index([])
    about = {row[0]: row[1] for row in rows[:blank] if row[0] != "Note"}
    tables: dict[str, list[list[str]]] = {}
    current: list[list[str]] | None = None
    for row in rows[blank:]:
        if not row:
            current = None
        elif current is None:
            current = tables.setdefault(row[0], [])
        else:
            current.append(row)
    return about, tables


def test_the_csv_has_one_section_per_table(data: Dataset, settings: Any) -> None:
    report = _report(data, 1, settings)
    about, tables = _sections(_export(data, report, "csv"))
    assert about["Report"] == "Funder report: Harbor Mentoring"
    assert about["Program"] == "Harbor Mentoring"
    assert (about["Period from"], about["Period to"]) == ("2025-01-01", "2025-06-30")
    assert list(tables) == [table.title for table in report.tables]
    services = tables["Services delivered, by service area"]
    assert services[0] == ["", "Youth", "Services", "Hours"]
    assert ["Mental health treatment", "2", "3", "4.5"] in services
    assert services[-2] == ["Total", "5", "7", "16.8"]
    assert services[-1][0] == "Note"
    served = tables["Youth served, by age at the start of the period"]
    assert ["Minor, 15–17", "1", "1", "2"] in served


def test_suppressed_cells_are_written_as_the_word(data: Dataset, settings: Any) -> None:
    report = _report(data, 11, settings)
    about, tables = _sections(_export(data, report, "csv"))
    assert about["Suppression threshold"] == "11"
    gender = tables["Gender identity"]
    assert ["Girl / young woman", "suppressed"] in gender
    assert ["Transgender girl / young woman", "0"] in gender
    assert gender[-1] == ["Total", "suppressed"]
    numbers = [
        cell for rows in tables.values() for row in rows for cell in row[1:] if cell.isdigit()
    ]
    assert set(numbers) == {"0"}  # every count this small is hidden


def test_the_workbook_has_one_sheet_per_table(data: Dataset, settings: Any) -> None:
    report = _report(data, 2, settings)
    book = load_workbook(io.BytesIO(_export(data, report, "xlsx")))
    assert book.sheetnames[0] == "About"
    assert len(book.sheetnames) == 1 + len(report.tables)
    about = {row[0]: row[1] for row in book["About"].iter_rows(values_only=True)}
    assert about["Report"] == "Funder report: Harbor Mentoring"
    sheet = book["Services delivered, by service "]  # titles cut at Excel's 31 characters
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0][0] == "Services delivered, by service area"
    assert rows[1] == [None, "Youth", "Services", "Hours"]  # an empty cell reads as None
    by_label = {row[0]: row[1:] for row in rows[2:] if row and row[0]}
    assert by_label["Mental health treatment"] == [2, 3, 4.5]
    assert by_label["Legal services"] == ["suppressed", "suppressed", "suppressed"]
    assert by_label["Total"] == [5, 7, 16.8]
    assert sheet["A2"].font.b or sheet["B2"].font.b


def test_the_pdf_has_a_cover_and_a_page_per_table(data: Dataset, settings: Any) -> None:
    report = _report(data, 2, settings)
    body = _export(data, report, "pdf")
    assert body.startswith(b"%PDF-")
    assert body.rstrip().endswith(b"%%EOF")
    assert page_count(body) == 1 + len(report.tables)
    text = pdf_text(body)
    assert "Funder report: Harbor Mentoring" in text
    assert "Mental health treatment" in text
    assert "suppressed" in text
    assert "/Author (Safe Harbor)" in text


def _searchable(fmt: str, body: bytes) -> str:
    if fmt == "xlsx":
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            return "\n".join(archive.read(name).decode("utf-8") for name in archive.namelist())
    if fmt == "pdf":
        return pdf_text(body)
    return body.decode("utf-8-sig")


@pytest.mark.parametrize("fmt", exports.FORMATS)
@pytest.mark.parametrize("small", [1, 11])
def test_no_identifier_in_any_export(data: Dataset, settings: Any, fmt: str, small: int) -> None:
    report = _report(data, small, settings)
    text = _searchable(fmt, _export(data, report, fmt))
    assert "Harbor Mentoring" in text  # the search sees the file's text
    for secret in data.secrets:
        assert secret not in text, secret
    for username in ("county_analyst", "county_caseworker", "Tester"):
        assert username not in text


def test_each_export_is_audited_as_the_programs_without_a_youth(
    data: Dataset, settings: Any
) -> None:
    report = _report(data, 11, settings)
    for fmt in exports.FORMATS:
        finished = exports.export(report, fmt, actor=data.world.county_supervisor)
        assert finished.filename == f"funder-report-harbor-mentoring-20250101-20250630.{fmt}"
    events = list(AuditEvent.objects.filter(action="export").order_by("seq"))
    assert [e.reason for e in events] == [
        f"program report {fmt} 2025-01-01..2025-06-30" for fmt in exports.FORMATS
    ]
    for event in events:
        assert (event.object_type, event.object_id) == ("outcomes.program", str(data.program.pk))
        assert event.youth_id is None
        assert event.actor == data.world.county_supervisor
    with pytest.raises(ValueError, match="unknown export format"):
        exports.export(report, "docx", actor=data.world.county_supervisor)
    assert AuditEvent.objects.filter(action="export").count() == len(exports.FORMATS)


def test_a_name_that_looks_like_a_formula_is_neutralised(world: World, settings: Any) -> None:
    from safeharbor.outcomes import services
    from safeharbor.outcomes.choices import ProgramKind

    with on(END):
        program = services.program_create(
            actor=world.county_supervisor,
            name='=HYPERLINK("http://example.invalid","x")',
            kind=ProgramKind.OTHER,
            starts_on=START,
        )
    report = reports.funder_report(program, START, END)
    about, _tables = _sections(exports.export(report, "csv", actor=world.county_analyst).body)
    assert about["Program"].startswith("'=")
    book = load_workbook(
        io.BytesIO(exports.export(report, "xlsx", actor=world.county_analyst).body)
    )
    cell = dict(book["About"].iter_rows(values_only=True))["Program"]
    assert cell.startswith("'=")
    assert book["About"]["B2"].data_type == "s"


def test_the_county_report_exports_too(data: Dataset, settings: Any) -> None:
    settings.SAFEHARBOR_SMALL_CELL = 1
    report = reports.county_report("Harbor", START, END)
    finished = exports.export(report, "csv", actor=data.world.county_analyst)
    assert finished.filename == "county-report-harbor-20250101-20250630.csv"
    about, tables = _sections(finished.body)
    assert about["County"] == "Harbor"
    assert "Youth served, by kind of agency" in tables
    event = AuditEvent.objects.get(action="export")
    assert (event.object_type, event.object_id, event.youth_id) == (
        "outcomes.county",
        "Harbor",
        None,
    )
