"""The funder report and county report pages, and their downloads.

Figures only, already de-identified and suppressed by ``reports.py``: so a program's figures are
open to its agency's supervisors, administrators and analysts (``can_view_program_figures``), and
the county's to supervisors and analysts (``can_view_county_figures``). Each page view and each
download is audited, naming the program or county and never a youth. A bad choice of program or
period shows the form again with the user's input and the message (400).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from io import BytesIO
from typing import Any, cast
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from safeharbor.access.policy import can_view_county_figures, can_view_program_figures
from safeharbor.accounts.http import AuthenticatedHttpRequest
from safeharbor.accounts.models import User
from safeharbor.audit.choices import AuditAction
from safeharbor.audit.services import record
from safeharbor.core import clock
from safeharbor.core.forms import add_service_errors

from . import charts, exports, reports
from .models import Program

PARAMETERS = ("program", "start", "end")
DATE_FORMAT = "%Y-%m-%d"


def _date_field(label: Any) -> forms.DateField:
    return forms.DateField(
        label=label,
        input_formats=[DATE_FORMAT],
        widget=forms.DateInput(attrs={"type": "date"}, format=DATE_FORMAT),
        error_messages={
            "required": gettext_lazy("Enter a date."),
            "invalid": gettext_lazy("Enter a date as year-month-day, such as 2025-07-01."),
        },
    )


class PeriodForm(forms.Form):
    start = _date_field(gettext_lazy("From (first day)"))
    end = _date_field(gettext_lazy("To (last day)"))


class ProgramPeriodForm(PeriodForm):
    program = forms.TypedChoiceField(
        label=gettext_lazy("Program"),
        coerce=int,
        empty_value=None,
        error_messages={
            "required": gettext_lazy("Choose a program."),
            "invalid_choice": gettext_lazy(
                "There is no such program. Choose one of your agency's programs."
            ),
        },
    )
    field_order = ["program", "start", "end"]

    def __init__(self, *args: Any, programs: list[Program], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.TypedChoiceField, self.fields["program"])
        field.choices = [("", _("Choose a program")), *((p.pk, p.name) for p in programs)]


@dataclass(frozen=True)
class Cell:
    text: str
    suppressed: bool


@dataclass(frozen=True)
class Row:
    label: str
    cells: list[Cell]


@dataclass(frozen=True)
class Section:
    """A table of the report as the page shows it, with its chart."""

    table: reports.Table
    rows: list[Row]
    total: Row
    chart: SafeString


def _row(line: reports.Line) -> Row:
    return Row(line.label, [Cell(reports.format_cell(v), v is None) for v in line.values])


def _sections(report: reports.Report) -> list[Section]:
    sections = []
    for table in report.tables:
        svg = ""
        if table.lines:
            drawing = charts.bar_chart(table.chart_items(), title=table.title)
            # Our own markup: every text in it was escaped when the SVG was serialised.
            svg = charts.to_svg(drawing)
        sections.append(
            Section(
                table=table,
                rows=[_row(line) for line in table.lines],
                total=_row(table.total),
                chart=mark_safe(svg),  # noqa: S308
            )
        )
    return sections


def _initial() -> dict[str, datetime.date]:
    today = clock.today()
    return {"start": today.replace(month=1, day=1), "end": today}


def _submitted(request: AuthenticatedHttpRequest) -> bool:
    return any(name in request.GET for name in PARAMETERS)


def _program_figures_user(request: AuthenticatedHttpRequest) -> User:
    actor = request.user
    if not can_view_program_figures(actor, actor.agency_id_or_none):
        raise PermissionDenied
    return actor


def _county_figures_user(request: AuthenticatedHttpRequest) -> User:
    actor = request.user
    if not can_view_county_figures(actor):
        raise PermissionDenied
    return actor


def _program_report(
    request: AuthenticatedHttpRequest, actor: User
) -> tuple[ProgramPeriodForm, reports.Report | None]:
    agency_id = actor.agency_id_or_none
    programs = [] if agency_id is None else list(Program.objects.filter(agency_id=agency_id))
    if not _submitted(request):
        return ProgramPeriodForm(programs=programs, initial=_initial()), None
    form = ProgramPeriodForm(request.GET, programs=programs)
    if not form.is_valid():
        return form, None
    program = next(p for p in programs if p.pk == form.cleaned_data["program"])
    if not can_view_program_figures(actor, program.agency_id):
        raise PermissionDenied
    try:
        report = reports.funder_report(
            program, form.cleaned_data["start"], form.cleaned_data["end"]
        )
    except ValidationError as exc:
        add_service_errors(form, exc)
        return form, None
    return form, report


def _county_report(
    request: AuthenticatedHttpRequest, actor: User
) -> tuple[PeriodForm, reports.Report | None, str]:
    membership = actor.agency_membership
    county = membership.agency.county if membership is not None else ""
    if not _submitted(request):
        return PeriodForm(initial=_initial()), None, county
    form = PeriodForm(request.GET)
    if not form.is_valid():
        return form, None, county
    try:
        report = reports.county_report(county, form.cleaned_data["start"], form.cleaned_data["end"])
    except ValidationError as exc:
        add_service_errors(form, exc)
        return form, None, county
    return form, report, county


def _download_labels() -> list[tuple[str, str]]:
    return [
        ("csv", _("Spreadsheet (CSV)")),
        ("xlsx", _("Excel workbook (XLSX)")),
        ("pdf", _("PDF with charts")),
    ]


def _query(report: reports.Report) -> str:
    values = {"start": report.start.isoformat(), "end": report.end.isoformat()}
    if report.program_id is not None:
        values = {"program": str(report.program_id), **values}
    return urlencode(values)


def _audit_view(request: AuthenticatedHttpRequest, report: reports.Report) -> None:
    if report.kind == "program":
        object_type, object_id = "outcomes.program", str(report.program_id)
    else:
        object_type, object_id = "outcomes.county", report.county
    record(
        actor=request.user,
        action=AuditAction.VIEW,
        object_type=object_type,
        object_id=object_id,
        reason=f"{report.kind} report {report.start.isoformat()}..{report.end.isoformat()}",
        request=request,
    )


def _page(
    request: AuthenticatedHttpRequest,
    template: str,
    form: forms.Form,
    report: reports.Report | None,
    *,
    refused: bool = False,
    **extra: Any,
) -> HttpResponse:
    """The page; 400 when the parameters were refused (or a download was asked without them)."""
    context: dict[str, Any] = {"form": form, "report": report, **extra}
    if report is not None:
        _audit_view(request, report)
        name = f"outcome_reports:{report.kind}_export"
        query = _query(report)
        downloads = [
            (label, f"{reverse(name, args=[fmt])}?{query}") for fmt, label in _download_labels()
        ]
        context |= {"sections": _sections(report), "downloads": downloads}
    status = 400 if report is None and (form.is_bound or refused) else 200
    return render(request, template, context, status=status)


def _download(request: AuthenticatedHttpRequest, report: reports.Report, fmt: str) -> FileResponse:
    finished = exports.export(report, fmt, actor=request.user, request=request)
    return FileResponse(
        BytesIO(finished.body),
        as_attachment=True,
        filename=finished.filename,
        content_type=finished.content_type,
    )


@login_required
@require_GET
def program_report(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Choose a program and a period; see its tables and charts, and download them."""
    actor = _program_figures_user(request)
    form, report = _program_report(request, actor)
    return _page(request, "outcomes/report.html", form, report)


@login_required
@require_GET
def program_export(request: AuthenticatedHttpRequest, fmt: str) -> HttpResponseBase:
    if fmt not in exports.FORMATS:
        raise Http404
    actor = _program_figures_user(request)
    form, report = _program_report(request, actor)
    if report is None:
        return _page(request, "outcomes/report.html", form, None, refused=True)
    return _download(request, report, fmt)


@login_required
@require_GET
def county_report(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The county across its agencies, for the user's own agency's county."""
    actor = _county_figures_user(request)
    form, report, county = _county_report(request, actor)
    return _page(request, "outcomes/county.html", form, report, county=county)


@login_required
@require_GET
def county_export(request: AuthenticatedHttpRequest, fmt: str) -> HttpResponseBase:
    if fmt not in exports.FORMATS:
        raise Http404
    actor = _county_figures_user(request)
    form, report, county = _county_report(request, actor)
    if report is None:
        return _page(request, "outcomes/county.html", form, None, refused=True, county=county)
    return _download(request, report, fmt)
