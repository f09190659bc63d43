"""Exports of a study: segments, codebook and matrix (CSV, XLSX), the REFI-QDA codebook and
project, and the findings draft (.docx and PDF, both laid out from one content builder in
``findings``). Each is audited as an export; withdrawn participants' data is never included
(the selectors leave it out)."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest

from safeharbor.audit.choices import AuditAction
from safeharbor.audit.services import record

from . import findings, refi, selectors
from .choices import AttributeType
from .models import Memo, Participant, Segment, SegmentCode, Study, StudyMember, Transcript
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


def _segment_rows(study: Study) -> tuple[Sequence[str], Iterable[list[Any]]]:
    codes = dict(study.codes.values_list("id", "name"))
    coders = dict(StudyMember.objects.filter(study=study).values_list("user_id", "user__username"))
    # Most segments share a handful of code combinations: join each combination's names once.
    labels: dict[tuple[int, ...], str] = {}

    def label(code_ids: tuple[int, ...]) -> str:
        text = labels.get(code_ids)
        if text is None:
            text = labels[code_ids] = "; ".join(codes.get(c, "") for c in code_ids)
        return text

    # A generator: each row is written and dropped, never ten thousand lists at once.
    rows = (
        [
            segment_id,
            participant,
            role,
            transcript,
            start,
            end,
            label(code_ids),
            coders.get(coder_id, str(coder_id)),
            "yes" if is_exemplar else "",
            quote,
        ]
        for (
            segment_id,
            participant,
            role,
            transcript,
            start,
            end,
            code_ids,
            coder_id,
            is_exemplar,
            quote,
        ) in selectors.segment_table(study=study)
    )
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
    selection_guids: dict[int, tuple[int, str]] = {}  # segment -> (transcript, selection GUID)
    for pk, transcript_id, start, end, coder_id, created_at, transcript_guid in kept.order_by(
        "transcript_id", "start", "end", "coder_id"
    ).values_list(
        "pk", "transcript_id", "start", "end", "coder_id", "created_at", "transcript__guid"
    ):
        coder = members.get(coder_id, f"user-{coder_id}")
        if coder_id not in user_guids:
            user_guids[coder_id] = refi.user_guid(coder)
        selection_guids[pk] = (transcript_id, refi.segment_guid(transcript_guid, coder, start, end))
        by_transcript.setdefault(transcript_id, []).append(
            (
                selection_guids[pk][1],
                start,
                end,
                sorted(code_ids.get(pk, [])),
                user_guids[coder_id],
                created_at,
            )
        )
    coders = {coder_id: members.get(coder_id, f"user-{coder_id}") for coder_id in user_guids}
    notes, code_notes, source_notes, selection_notes, authors = _memo_notes(
        study, members, {t.pk for t in transcripts}, selection_guids
    )
    sources = [
        refi.ExportSource(
            guid=str(transcript.guid),
            name=transcript.name,
            text=transcript.text,
            created=transcript.created_at,
            selections=by_transcript.get(transcript.pk, []),
            participant_code=transcript.participant.code,
            note_guids=source_notes.get(transcript.pk, []),
            selection_notes=selection_notes,
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
        users=[(refi.user_guid(name), name) for name in sorted({*coders.values(), *authors})],
        sources=sources,
        cases=cases,
        variables=variables,
        created=study.created_at,
        notes=notes,
        code_notes=code_notes,
    )
    _audit_export(actor, study, "project_qdpx", request)
    return refi.project_qdpx(qde, sources)


def _memo_notes(
    study: Study,
    members: dict[int, str],
    kept_transcripts: set[int],
    selection_guids: dict[int, tuple[int, str]],
) -> tuple[
    list[refi.ExportNote],
    dict[int, list[str]],
    dict[int, list[str]],
    dict[str, list[str]],
    set[str],
]:
    """The study's memos as REFI-QDA notes, and where each is referenced from: a code, a
    source (transcript) or a selection (segment). Memos on withdrawn participants'
    transcripts and segments are left out with them."""
    notes: list[refi.ExportNote] = []
    on_code: dict[int, list[str]] = {}
    on_source: dict[int, list[str]] = {}
    on_selection: dict[str, list[str]] = {}
    authors: set[str] = set()
    for memo in Memo.objects.filter(study=study).order_by("created_at", "pk"):
        if memo.transcript_id is not None and memo.transcript_id not in kept_transcripts:
            continue
        if memo.segment_id is not None and memo.segment_id not in selection_guids:
            continue
        author = members.get(memo.author_id, f"user-{memo.author_id}")
        authors.add(author)
        guid = refi.note_guid(study.pk, memo.pk)
        notes.append(
            refi.ExportNote(
                guid=guid,
                text=memo.body,
                user=refi.user_guid(author),
                created=memo.created_at,
                modified=memo.updated_at,
            )
        )
        if memo.code_id is not None:
            on_code.setdefault(memo.code_id, []).append(guid)
        elif memo.transcript_id is not None:
            on_source.setdefault(memo.transcript_id, []).append(guid)
        elif memo.segment_id is not None:
            on_selection.setdefault(selection_guids[memo.segment_id][1], []).append(guid)
    return notes, on_code, on_source, on_selection, authors


# --------------------------------------------------------------------------- findings draft


def _findings(
    actor: User, study_id: int, request: HttpRequest | None
) -> tuple[Study, findings.Findings]:
    _study_for_export(actor, study_id)
    page = selectors.analysis_page(actor=actor, study_id=study_id, request=request)
    return page.study, findings.build(page)


def findings_docx(*, actor: User, study_id: int, request: HttpRequest | None = None) -> bytes:
    """The findings draft as .docx (the heat map as a table of shaded cells with numbers)."""
    study, report = _findings(actor, study_id, request)
    body = findings.to_docx(report)
    _audit_export(actor, study, "findings_docx", request)
    return body


def findings_pdf(*, actor: User, study_id: int, request: HttpRequest | None = None) -> bytes:
    """The same findings draft as PDF (the heat map drawn as a chart)."""
    study, report = _findings(actor, study_id, request)
    body = findings.to_pdf(report)
    _audit_export(actor, study, "findings_pdf", request)
    return body
