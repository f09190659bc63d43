"""Exports of a study: segments, codebook and matrix (CSV, XLSX), the REFI-QDA codebook and
project, and the findings draft (.docx). Each is audited as an export; withdrawn participants'
data is never included (the selectors leave it out)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest
from django.utils.translation import gettext as _

from safeharbor.audit.choices import AuditAction
from safeharbor.audit.services import record
from safeharbor.core import clock

from . import refi, selectors
from .choices import AttributeType, InterviewMode, ProfessionalRole, SamplingMethod
from .models import Participant, Segment, SegmentCode, Study, StudyMember, Transcript
from .policy import StudyAction

if TYPE_CHECKING:
    from safeharbor.accounts.models import User


def _audit_export(actor: User, study: Study, what: str, request: HttpRequest | None) -> None:
    record(
        actor=actor,
        action=AuditAction.EXPORT,
        object_type=f"research.{what}",
        object_id=study.pk,
        category="research",
        reason=f"study {study.pk}",
        request=request,
    )


def _study_for_export(actor: User, study_id: int) -> Study:
    study, _access = selectors.study_get(actor=actor, study_id=study_id, action=StudyAction.EXPORT)
    return study


SEGMENT_HEADER = (
    "segment_id",
    "participant",
    "professional_role",
    "transcript",
    "start",
    "end",
    "codes",
    "coder",
    "exemplar",
    "quote",
)


def _segment_rows(study: Study) -> tuple[Sequence[str], list[list[Any]]]:
    codes = dict(study.codes.values_list("id", "name"))
    coders = dict(StudyMember.objects.filter(study=study).values_list("user_id", "user__username"))
    rows = [
        [
            row.segment_id,
            row.participant_code,
            row.professional_role,
            row.transcript_name,
            row.start,
            row.end,
            "; ".join(codes.get(c, "") for c in row.codes),
            coders.get(row.coder_id, str(row.coder_id)),
            "yes" if row.is_exemplar else "",
            row.quote,
        ]
        for row in selectors.all_segments(study=study)
    ]
    return SEGMENT_HEADER, rows


def _matrix_rows(study: Study) -> tuple[list[str], list[list[Any]]]:
    data = selectors.analysis_rows(study=study)
    from . import analysis

    cells = analysis.matrix(data.codes, data.codings, data.participants)
    ordered = [code for code, _depth in analysis.tree_order(data.codes)]
    header = ["participant", "professional_role", *(c.name for c in ordered)]
    rows = [
        [p.code, p.role, *(cells.get((p.id, c.id), 0) for c in ordered)] for p in data.participants
    ]
    return header, rows


def _codebook_rows(study: Study) -> tuple[Sequence[str], list[list[Any]]]:
    entries = selectors.codebook(study=study)
    names = {e.code.pk: e.code.name for e in entries}
    rows = [
        [
            e.code.name,
            names.get(e.code.parent_id or 0, ""),
            e.code.level,
            e.code.color,
            e.code.description,
            e.code.inclusion_criteria,
            e.code.exclusion_criteria,
            e.code.example,
            str(e.code.guid),
            e.segments,
        ]
        for e in entries
    ]
    return refi.CODEBOOK_CSV_HEADER, rows


_TABLES = {"segments": _segment_rows, "matrix": _matrix_rows, "codebook": _codebook_rows}


def table_csv(
    *, actor: User, study_id: int, table: str, request: HttpRequest | None = None
) -> bytes:
    study = _study_for_export(actor, study_id)
    header, rows = _TABLES[table](study)
    _audit_export(actor, study, f"{table}_csv", request)
    return refi.csv_bytes(header, rows)


def table_xlsx(
    *, actor: User, study_id: int, table: str, request: HttpRequest | None = None
) -> bytes:
    from openpyxl import Workbook

    study = _study_for_export(actor, study_id)
    header, rows = _TABLES[table](study)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(table)
    sheet.append(list(header))
    for row in rows:
        sheet.append([refi._escape_cell(v) for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    _audit_export(actor, study, f"{table}_xlsx", request)
    return buffer.getvalue()


def codebook_qdc(*, actor: User, study_id: int, request: HttpRequest | None = None) -> bytes:
    study = _study_for_export(actor, study_id)
    codes = list(study.codes.order_by("position", "name"))
    _audit_export(actor, study, "codebook_qdc", request)
    return refi.codebook_qdc(codes)


_VARIABLE_TYPES = {
    AttributeType.TEXT: "Text",
    AttributeType.NUMBER: "Float",
    AttributeType.DATE: "Date",
    AttributeType.YES_NO: "Boolean",
}
_VALUE_ELEMENT = {
    "Text": "TextValue",
    "Float": "FloatValue",
    "Date": "DateValue",
    "Boolean": "BooleanValue",
    "Integer": "IntegerValue",
}


def project_qdpx(*, actor: User, study_id: int, request: HttpRequest | None = None) -> bytes:
    """The whole study as .qdpx (withdrawn participants left out), valid against Project.xsd."""
    study = _study_for_export(actor, study_id)
    codes = list(study.codes.order_by("position", "name"))
    code_guid = {c.pk: str(c.guid) for c in codes}
    members = {
        m.user_id: m.user.username
        for m in StudyMember.objects.filter(study=study).select_related("user")
    }
    transcripts = list(
        Transcript.objects.filter(study=study, participant__withdrawn_at__isnull=True)
        .select_related("participant")
        .order_by("name")
    )
    kept = Segment.objects.filter(study=study, transcript__participant__withdrawn_at__isnull=True)
    code_ids: dict[int, list[str]] = {}
    for segment_id, code_id in SegmentCode.objects.filter(segment__in=kept).values_list(
        "segment_id", "code_id"
    ):
        code_ids.setdefault(segment_id, []).append(code_guid[code_id])
    by_transcript: dict[int, list[tuple[str, int, int, list[str], str, Any]]] = {}
    user_guids: dict[int, str] = {}
    for pk, transcript_id, start, end, coder_id, created_at, transcript_guid in kept.order_by(
        "transcript_id", "start", "end", "coder_id"
    ).values_list(
        "pk", "transcript_id", "start", "end", "coder_id", "created_at", "transcript__guid"
    ):
        coder = members.get(coder_id, f"user-{coder_id}")
        if coder_id not in user_guids:
            user_guids[coder_id] = refi.user_guid(coder)
        by_transcript.setdefault(transcript_id, []).append(
            (
                refi.segment_guid(transcript_guid, coder, start, end),
                start,
                end,
                sorted(code_ids.get(pk, [])),
                user_guids[coder_id],
                created_at,
            )
        )
    coders = {coder_id: members.get(coder_id, f"user-{coder_id}") for coder_id in user_guids}
    sources = [
        refi.ExportSource(
            guid=str(transcript.guid),
            name=transcript.name,
            text=transcript.text,
            created=transcript.created_at,
            selections=by_transcript.get(transcript.pk, []),
            participant_code=transcript.participant.code,
        )
        for transcript in transcripts
    ]
    variables = [
        (refi.user_guid(f"var:{study.pk}:role"), "Professional role", "Text"),
        (refi.user_guid(f"var:{study.pk}:agency"), "Agency type", "Text"),
        (refi.user_guid(f"var:{study.pk}:years"), "Years of experience", "Integer"),
    ]
    attributes = list(study.attributes.all())
    variables += [
        (
            refi.user_guid(f"var:{study.pk}:attr:{a.pk}"),
            a.name,
            _VARIABLE_TYPES[AttributeType(a.value_type)],
        )
        for a in attributes
    ]
    source_ids: dict[int, list[str]] = {}
    for transcript in transcripts:
        source_ids.setdefault(transcript.participant_id, []).append(str(transcript.guid))
    cases = []
    for participant in (
        Participant.objects.filter(study=study, withdrawn_at__isnull=True)
        .prefetch_related("attribute_values")
        .order_by("code")
    ):
        values: list[tuple[str, str, str]] = [
            (variables[0][0], "TextValue", participant.get_professional_role_display()),
            (variables[1][0], "TextValue", participant.get_agency_type_display()),
        ]
        if participant.years_experience is not None:
            values.append((variables[2][0], "IntegerValue", str(participant.years_experience)))
        by_attribute = {v.attribute_id: v.value for v in participant.attribute_values.all()}
        for attribute, variable in zip(attributes, variables[3:], strict=True):
            if attribute.pk in by_attribute:
                value = by_attribute[attribute.pk]
                if attribute.value_type == AttributeType.YES_NO:
                    value = "true" if value == "yes" else "false"
                values.append((variable[0], _VALUE_ELEMENT[variable[2]], value))
        cases.append(
            (
                refi.user_guid(f"case:{study.pk}:{participant.pk}"),
                participant.code,
                source_ids.get(participant.pk, []),
                values,
            )
        )
    qde = refi.project_qde(
        name=study.title,
        codes=codes,
        users=[(refi.user_guid(name), name) for name in sorted(set(coders.values()))],
        sources=sources,
        cases=cases,
        variables=variables,
        created=study.created_at,
    )
    _audit_export(actor, study, "project_qdpx", request)
    return refi.project_qdpx(qde, sources)


# --------------------------------------------------------------------------- findings draft


def _methods_paragraph(study: Study, page: selectors.AnalysisPage) -> str:
    n = len(page.data.participants)
    roles = ", ".join(f"{count} {label.lower()}" for _v, label, count in page.roles) or _(
        "none yet"
    )
    interviews = list(
        Participant.objects.filter(pk__in=[p.id for p in page.data.participants]).values_list(
            "consent__interview__mode", "consent__method"
        )
    )
    modes = sorted({str(InterviewMode(m).label).lower() for m, _c in interviews if m})
    methods = sorted({c for _m, c in interviews if c})
    sampling = str(SamplingMethod(study.sampling_method).label).lower()
    ethics = (
        _("The study was approved by %(board)s (%(number)s).")
        % {"board": study.ethics_board, "number": study.ethics_number or _("no number given")}
        if study.ethics_board
        else _("No ethics approval is recorded for this study.")
    )
    return (
        _(
            "%(n)s professionals (%(roles)s) were recruited by %(sampling)s sampling, a "
            "non-probability method, towards a target of %(target)s. Each gave %(consent)s "
            "consent before a %(modes)s interview and was debriefed afterwards. Transcripts were "
            "coded with a colour-coded codebook of %(codes)s codes and analysed descriptively. "
        )
        % {
            "n": n,
            "roles": roles,
            "sampling": sampling,
            "target": study.target_sample_size,
            "consent": _(" or ").join(methods) or _("recorded"),
            "modes": _(" or ").join(modes) or _("recorded"),
            "codes": len(page.data.codes),
        }
        + ethics
    )


def _limitations(study: Study, page: selectors.AnalysisPage) -> list[str]:
    n = len(page.data.participants)
    items = [
        _(
            "The sample is small (n = %(n)s) and was chosen by %(method)s sampling, a "
            "non-probability method: the findings describe these participants and cannot be "
            "generalised to all professionals."
        )
        % {"n": n, "method": str(SamplingMethod(study.sampling_method).label).lower()}
    ]
    if n < study.target_sample_size:
        items.append(
            _("Fewer participants were interviewed (%(n)s) than the target of %(target)s.")
            % {"n": n, "target": study.target_sample_size}
        )
    coders = {row.coder_id for row in page.data.codings}
    if len(coders) <= 1:
        items.append(
            _("One person coded the transcripts; no intercoder agreement could be measured.")
        )
    if page.saturation.reached_at is None:
        items.append(_("Saturation was not reached by the criteria set for this study."))
    missing = [
        label
        for value, label in ProfessionalRole.choices
        if value not in {r[0] for r in page.roles}
    ]
    if missing:
        items.append(
            _("No participant held these roles: %(roles)s.")
            % {"roles": ", ".join(str(m) for m in missing)}
        )
    return items


def saturation_sentence(sat: Any) -> str:
    if not sat.enough_interviews:
        return _(
            "Saturation cannot be judged yet: it needs at least %(n)s interviews "
            "(base %(b)s + run %(r)s)."
        ) % {"n": sat.base_size + sat.run_length, "b": sat.base_size, "r": sat.run_length}
    if sat.reached_at is None:
        return _(
            "Saturation was not reached: no run of %(r)s interviews added %(t)s%% or less new "
            "codes relative to the %(base)s codes of the first %(b)s interviews."
        ) % {
            "r": sat.run_length,
            "t": sat.threshold_percent,
            "base": sat.base_codes,
            "b": sat.base_size,
        }
    step = sat.steps[sat.reached_at - 1]
    return _(
        "Saturation was reached at interview %(at)s: the run of %(r)s interviews ending there "
        "added %(ratio)s%% new codes relative to the %(base)s codes of the first %(b)s interviews "
        "(threshold %(t)s%%)."
    ) % {
        "at": sat.reached_at,
        "r": sat.run_length,
        "ratio": step.run_ratio_percent,
        "base": sat.base_codes,
        "b": sat.base_size,
        "t": sat.threshold_percent,
    }


def findings_docx(*, actor: User, study_id: int, request: HttpRequest | None = None) -> bytes:
    """A findings draft: methods, themes table, exemplar quotes, saturation, agreement,
    limitations, all written from the study's data."""
    import docx

    _study_for_export(actor, study_id)
    page = selectors.analysis_page(actor=actor, study_id=study_id, request=request)
    study = page.study
    document = docx.Document()
    document.add_heading(study.title, level=0)
    document.add_paragraph(_("Findings draft, %(date)s") % {"date": clock.today().isoformat()})
    document.add_heading(_("Research questions"), level=1)
    for question in study.question_list:
        document.add_paragraph(question, style="List Number")
    document.add_heading(_("Methods"), level=1)
    document.add_paragraph(_methods_paragraph(study, page))
    document.add_heading(_("Themes"), level=1)
    themes = [c for c in page.counts if c.depth == 0]
    table = document.add_table(rows=1, cols=4)
    table.style = "Table Grid"
    for cell, text in zip(
        table.rows[0].cells,
        (_("Theme"), _("Segments"), _("Participants"), _("Percent of participants")),
        strict=True,
    ):
        cell.text = text
    for count in themes:
        cells = table.add_row().cells
        cells[0].text = count.code.name
        cells[1].text = str(count.segments)
        cells[2].text = str(count.participants)
        cells[3].text = f"{count.percent:g}%"
    document.add_heading(_("Exemplar quotes"), level=1)
    if not page.exemplars:
        document.add_paragraph(_("No segment is flagged as an exemplar quote yet."))
    for theme, quotes in page.exemplars:
        document.add_heading(theme.name, level=2)
        for quote in quotes[:5]:
            document.add_paragraph(
                f"“{quote.quote.strip()}” ({quote.participant_code}, "
                f"{ProfessionalRole(quote.professional_role).label})",
                style="Intense Quote",
            )
    document.add_heading(_("Saturation"), level=1)
    document.add_paragraph(saturation_sentence(page.saturation))
    document.add_heading(_("Intercoder agreement"), level=1)
    agreement = page.agreement
    if agreement is None:
        document.add_paragraph(
            _("Not measured: agreement needs two coders who coded the same participants.")
        )
    else:
        document.add_paragraph(
            _(
                "Unit: %(unit)s, over %(n)s participants coded by %(c)s coders. Percent agreement "
                "%(p)s; Cohen's kappa %(k)s; Krippendorff's alpha %(a)s."
            )
            % {
                "unit": agreement.unit,
                "n": len(agreement.participants),
                "c": len(agreement.coders),
                "p": _fmt(agreement.overall_percent, "%"),
                "k": _fmt(agreement.overall_kappa),
                "a": _fmt(agreement.overall_alpha),
            }
        )
    document.add_heading(_("Limitations"), level=1)
    for item in _limitations(study, page):
        document.add_paragraph(item, style="List Bullet")
    buffer = io.BytesIO()
    document.save(buffer)
    _audit_export(actor, study, "findings_docx", request)
    return buffer.getvalue()


def _fmt(value: float | None, suffix: str = "") -> str:
    if value is None:
        return _("not defined")
    return f"{value:.2f}{suffix}" if not suffix else f"{value:.1f}{suffix}"
