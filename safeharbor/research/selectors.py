"""Every read of study data: starts from ``policy.visible_studies`` and checks the action; the
same 404 for a study (or anything in it) that does not exist and one the actor may not see."""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from safeharbor.audit.choices import AuditAction
from safeharbor.audit.services import record
from safeharbor.core.rows import fetch_all
from safeharbor.directory.choices import ServiceStatus
from safeharbor.directory.models import Service

from . import analysis, redaction
from .choices import (
    AgencyType,
    AttributeType,
    CodingActionKind,
    DocumentKind,
    ProfessionalRole,
    RedactionKind,
    TeamRole,
)
from .models import (
    Code,
    CodingAction,
    Memo,
    Participant,
    ParticipantAttribute,
    ParticipantAttributeValue,
    RedactionKey,
    Segment,
    SegmentCode,
    Study,
    StudyDocument,
    StudyMember,
    Transcript,
    TranscriptChunk,
)
from .policy import (
    StudyAccess,
    StudyAction,
    access_for_role,
    study_with_access,
    visible_studies,
)

if TYPE_CHECKING:
    from safeharbor.accounts.models import User

CATEGORY = "research"


def _audit_view(
    actor: User,
    study: Study,
    what: str,
    request: HttpRequest | None,
    action: str = AuditAction.VIEW,
) -> None:
    record(
        actor=actor,
        action=action,
        object_type=f"research.{what}",
        object_id=study.pk,
        category=CATEGORY,
        reason=f"study {study.pk}",
        request=request,
    )


def study_list(*, actor: User, request: HttpRequest | None = None) -> list[Study]:
    studies: list[Study] = list(
        visible_studies(actor).annotate(
            n_participants=Count("participants", distinct=True),
            n_transcripts=Count("transcripts", distinct=True),
        )
    )
    record(
        actor=actor,
        action=AuditAction.LIST,
        object_type="research.study",
        object_id=f"{len(studies)} studies",
        category=CATEGORY,
        request=request,
    )
    return studies


def study_get(
    *, actor: User, study_id: int, action: str = StudyAction.VIEW
) -> tuple[Study, StudyAccess]:
    """The study and the actor's access; 404 when missing, not on the team, or not allowed."""
    found = study_with_access(actor, study_id)
    if found is None:
        raise Http404
    study, access = found
    if not access.allows(action):
        raise Http404
    return study, access


def _in_study(queryset: QuerySet[Any], study: Study, pk: Any) -> Any:
    try:
        return queryset.get(study=study, pk=pk)
    except queryset.model.DoesNotExist as exc:
        raise Http404 from exc


def participant_get(
    *, actor: User, study_id: int, participant_id: int, action: str = StudyAction.VIEW
) -> tuple[Study, Participant]:
    study, _access = study_get(actor=actor, study_id=study_id, action=action)
    participant = _in_study(
        Participant.objects.select_related("consent__interview__debrief"), study, participant_id
    )
    return study, participant


def participant_page(
    *, actor: User, study_id: int, participant_id: int, request: HttpRequest | None = None
) -> tuple[Study, StudyAccess, Participant]:
    """A participant's page: their records, audited as a view."""
    study, access = study_get(actor=actor, study_id=study_id)
    participant = _in_study(
        Participant.objects.select_related(
            "consent__form", "consent__interview__interviewer", "consent__interview__debrief"
        ).prefetch_related(
            Prefetch(
                "consent__interview__debrief__services_offered",
                queryset=Service.objects.select_related("organization").order_by("name"),
            )
        ),
        study,
        participant_id,
    )
    _audit_view(actor, study, "participant", request)
    return study, access, participant


def code_get(
    *, actor: User, study_id: int, code_id: int, action: str = StudyAction.VIEW
) -> tuple[Study, Code]:
    study, _access = study_get(actor=actor, study_id=study_id, action=action)
    return study, _in_study(Code.objects.all(), study, code_id)


def member_get(*, actor: User, study_id: int, member_id: int) -> tuple[Study, StudyMember]:
    study, _access = study_get(actor=actor, study_id=study_id, action=StudyAction.MANAGE)
    return study, _in_study(StudyMember.objects.select_related("user"), study, member_id)


def transcript_get(
    *, actor: User, study_id: int, transcript_id: int, action: str = StudyAction.VIEW
) -> tuple[Study, Transcript]:
    """The transcript without its text (nothing decrypted)."""
    study, _access = study_get(actor=actor, study_id=study_id, action=action)
    return study, _in_study(Transcript.objects.defer("text"), study, transcript_id)


def _fetch(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Rows of a hand-written statement. The two hot paths (opening a transcript, applying a
    code) use a few of these: building the same ORM query on every request cost more CPU than
    running it. Plain SQL that SQLite and PostgreSQL both accept; values always as parameters.
    Instances are made with ``Model.from_db``, whose values follow the model's field order."""
    if not all(fits_a_database_integer(value) for value in params):
        return []  # no row has such an id (the ORM answers the same way)
    return fetch_all(sql, params, connection.alias)


def fits_a_database_integer(value: Any) -> bool:
    """Whether a value can be bound as a parameter: any non-integer, or an integer within a
    64-bit column's range (a larger one, e.g. an id in a URL, matches nothing)."""
    return not isinstance(value, int) or -(2**63) <= value < 2**63


def _decrypt(model: Any, field_name: str, value: Any) -> Any:
    """A raw encrypted column's plain value (what the ORM's ``from_db_value`` gives)."""
    return model._meta.get_field(field_name).from_db_value(value, None, connection)


_CODING_TRANSCRIPT_SQL = (
    'SELECT t."id", t."study_id", t."participant_id", t."char_count" '
    'FROM "research_transcript" t WHERE t."id" = %s AND EXISTS ('
    'SELECT 1 FROM "research_studymember" m WHERE m."study_id" = t."study_id" '
    'AND m."user_id" = %s AND m."role" IN (%s, %s))'
)


def transcript_for_coding(*, actor: User, transcript_id: int) -> Transcript:
    """For the coding endpoint: one query, the text never loaded (so never decrypted); the
    instance holds only these four fields (any other is read on access, as with ``only``)."""
    rows = _fetch(_CODING_TRANSCRIPT_SQL, [transcript_id, actor.pk, TeamRole.LEAD, TeamRole.CODER])
    if not rows:
        raise Http404
    return Transcript.from_db(
        connection.alias, ["id", "study_id", "participant_id", "char_count"], rows[0]
    )


@dataclass(frozen=True)
class CodingContext:
    """What applying a code to [start, end) needs besides the transcript and the codes, read
    in the same statement as they are (``transcript_and_codes_for_coding``): the actor's team
    role, the participant's withdrawal, the actor's segment on exactly this range if there is
    one, and the chunks (decrypted) that start at ``first_start`` and ``last_start``. The
    service checks every condition itself from these values; it reads them again when they
    are not for its actor, transcript and range."""

    actor_id: int
    transcript_id: int
    start: int
    end: int
    role: str | None
    withdrawn: bool
    segment_id: int | None
    first_start: int
    first_text: str | None
    last_start: int
    last_text: str | None


def chunk_starts(start: int, end: int) -> tuple[int, int]:
    """The starts of the chunks that hold [start, end)'s first and last code points."""
    size = TranscriptChunk.CHUNK_SIZE
    return start // size * size, max(start, end - 1) // size * size


def transcript_and_codes_for_coding(
    *,
    actor: User,
    transcript_id: int,
    code_ids: list[int],
    start: int | None = None,
    end: int | None = None,
) -> tuple[Transcript, list[Code], CodingContext | None]:
    """``transcript_for_coding`` and ``codes_for_coding`` in one statement (a row per code
    found, or one row with no code); with ``start`` and ``end``, on PostgreSQL, the same
    statement also reads the ``CodingContext`` for that range, so applying a code costs one
    read, not two. (On SQLite the service reads it itself, inside its IMMEDIATE transaction:
    there is no round trip to save, and the read stays serialised with the write.)"""
    ids = sorted({int(pk) for pk in code_ids if fits_a_database_integer(int(pk))}) or [0]
    placeholders = ", ".join(["%s"] * len(ids))  # only placeholders: the ids are parameters
    ranged = start is not None and end is not None and connection.vendor == "postgresql"
    in_range = (
        start is not None
        and end is not None
        and fits_a_database_integer(start)
        and fits_a_database_integer(end)
    )
    # A position no column can hold matches nothing (the service answers "bad range").
    first_start, last_start = chunk_starts(start, end) if in_range else (-1, -1)  # type: ignore[arg-type]
    at, to = (start, end) if in_range else (-1, -1)
    rows = _fetch(
        'SELECT t."id", t."study_id", t."participant_id", t."char_count", c."id", '  # noqa: S608
        'm."role", p."withdrawn_at" IS NOT NULL, '
        + (
            '(SELECT sg."id" FROM "research_segment" sg WHERE sg."transcript_id" = t."id" '
            'AND sg."coder_id" = %s AND sg."start" = %s AND sg."end" = %s), '
            '(SELECT ch."text" FROM "research_transcriptchunk" ch '
            'WHERE ch."transcript_id" = t."id" AND ch."start" = %s), '
            '(SELECT ch."text" FROM "research_transcriptchunk" ch '
            'WHERE ch."transcript_id" = t."id" AND ch."start" = %s) '
            if ranged
            else "NULL, NULL, NULL "
        )
        + 'FROM "research_transcript" t INNER JOIN "research_studymember" m '
        'ON m."study_id" = t."study_id" AND m."user_id" = %s AND m."role" IN (%s, %s) '
        'INNER JOIN "research_participant" p ON p."id" = t."participant_id" '
        'LEFT OUTER JOIN "research_code" c '
        f'ON c."study_id" = t."study_id" AND c."id" IN ({placeholders}) '
        'WHERE t."id" = %s ORDER BY c."position", c."name"',
        [
            *([actor.pk, at, to, first_start, last_start] if ranged else []),
            actor.pk,
            TeamRole.LEAD,
            TeamRole.CODER,
            *ids,
            transcript_id,
        ],
    )
    if not rows:
        raise Http404
    row = rows[0]
    transcript = Transcript.from_db(
        connection.alias, ["id", "study_id", "participant_id", "char_count"], row[:4]
    )
    codes = [
        Code.from_db(connection.alias, ["id", "study_id"], [r[4], transcript.study_id])
        for r in rows
        if r[4] is not None
    ]
    context = None
    if ranged and start is not None and end is not None:
        first_text = _decrypt(TranscriptChunk, "text", row[8])
        context = CodingContext(
            actor_id=actor.pk,
            transcript_id=transcript.pk,
            start=start,
            end=end,
            role=row[5],
            withdrawn=bool(row[6]),
            segment_id=row[7],
            first_start=first_start,
            first_text=first_text,
            last_start=last_start,
            last_text=first_text
            if last_start == first_start
            else _decrypt(TranscriptChunk, "text", row[9]),
        )
    return transcript, codes, context


@dataclass(frozen=True)
class SegmentCodes:
    """A segment's stored fields and its code ids (ascending), for the coding API."""

    pk: int
    transcript_id: int
    start: int
    end: int
    coder_id: int
    is_exemplar: bool


# A transcript's segments with their code ids, for a member of its study's team (blind
# coding: the actor's own), and the study's id: one statement. No row: no such transcript, or
# the actor is not on the team; a row with no segment id: a transcript without segments.
_TRANSCRIPT_SEGMENTS_SQL = (
    'SELECT t."study_id", m."role", sg."id", sg."start", sg."end", sg."coder_id", '
    'sg."is_exemplar", sc."code_id" FROM "research_transcript" t '
    'INNER JOIN "research_study" s ON s."id" = t."study_id" '
    'INNER JOIN "research_studymember" m ON m."study_id" = t."study_id" AND m."user_id" = %s '
    'LEFT OUTER JOIN "research_segment" sg ON sg."transcript_id" = t."id" '
    'AND (NOT s."blind_coding" OR sg."coder_id" = %s) '
    'LEFT OUTER JOIN "research_segmentcode" sc ON sc."segment_id" = sg."id" '
    'WHERE t."id" = %s ORDER BY sg."start", sg."end", sg."id", sc."code_id"'
)


def transcript_segments(
    *, actor: User, transcript_id: int, request: HttpRequest | None = None
) -> list[tuple[SegmentCodes, list[int]]]:
    """A transcript's segments with their code ids (no text decrypted); blind coding shows a
    coder only their own. One statement: the team check, the segments and their codings."""
    found = _fetch(_TRANSCRIPT_SEGMENTS_SQL, [actor.pk, actor.pk, transcript_id])
    if not found or not access_for_role(actor, found[0][1]).allows(StudyAction.VIEW):
        raise Http404
    rows: list[tuple[SegmentCodes, list[int]]] = []
    for _study_id, _role, pk, start, end, coder_id, is_exemplar, code_id in found:
        if pk is None:
            continue
        if not rows or rows[-1][0].pk != pk:
            segment = SegmentCodes(pk, transcript_id, start, end, coder_id, bool(is_exemplar))
            rows.append((segment, []))
        if code_id is not None:
            rows[-1][1].append(code_id)
    _audit_view(actor, Study(pk=found[0][0]), "transcript_segments", request)
    return rows


def segment_for_coding(*, actor: User, segment_id: int) -> Segment:
    try:
        return Segment.objects.filter(
            study__members__user=actor,
            study__members__role__in=[TeamRole.LEAD, TeamRole.CODER],
        ).get(pk=segment_id)
    except Segment.DoesNotExist as exc:
        raise Http404 from exc


def codes_for_coding(*, study_id: int, code_ids: list[int]) -> list[Code]:
    """The codes by id within one study; unknown ids are simply absent (the service refuses).
    In the codebook's order (position, name); each instance holds its id and study only."""
    ids = sorted({int(pk) for pk in code_ids})
    if not ids:
        return []
    placeholders = ", ".join(["%s"] * len(ids))  # only placeholders: the ids are parameters
    rows = _fetch(
        'SELECT "id", "study_id" FROM "research_code" WHERE "study_id" = %s '  # noqa: S608
        f'AND "id" IN ({placeholders}) ORDER BY "position", "name"',
        [study_id, *ids],
    )
    return [Code.from_db(connection.alias, ["id", "study_id"], row) for row in rows]


# --------------------------------------------------------------------------- study page


@dataclass(frozen=True)
class StudyOverview:
    study: Study
    access: StudyAccess
    members: list[StudyMember]
    consent_forms: list[StudyDocument]
    debrief_statements: list[StudyDocument]
    attributes: list[ParticipantAttribute]
    participants: list[Participant]
    transcripts: list[Transcript]
    status_counts: dict[str, int]


def study_overview(
    *, actor: User, study_id: int, request: HttpRequest | None = None
) -> StudyOverview:
    study, access = study_get(actor=actor, study_id=study_id)
    documents = list(study.documents.all())
    participants = list(
        study.participants.select_related("consent__interview__debrief").prefetch_related(
            "attribute_values__attribute"
        )
    )
    counts: dict[str, int] = defaultdict(int)
    for participant in participants:
        counts[participant.status] += 1
    overview = StudyOverview(
        study=study,
        access=access,
        members=list(study.members.select_related("user").order_by("role", "user__last_name")),
        consent_forms=[d for d in documents if d.kind == DocumentKind.CONSENT_FORM],
        debrief_statements=[d for d in documents if d.kind == DocumentKind.DEBRIEF_STATEMENT],
        attributes=list(study.attributes.all()),
        participants=participants,
        transcripts=list(
            study.transcripts.defer("text").select_related("participant").order_by("name")
        ),
        status_counts=dict(counts),
    )
    _audit_view(actor, study, "study", request)
    return overview


# --------------------------------------------------------------------------- codebook


@dataclass(frozen=True)
class CodebookEntry:
    code: Code
    depth: int
    segments: int


def codebook(*, study: Study) -> list[CodebookEntry]:
    """The study's codes in tree order with direct segment counts (withdrawn left out)."""
    # The kept transcripts as a subquery (read once), not a join per coding through the
    # transcript: on SQLite that join reads past each long encrypted text for every coding.
    kept = Transcript.objects.filter(study=study, participant__withdrawn_at__isnull=True)
    codes = list(
        study.codes.annotate(
            n=Count(
                "codings",
                filter=Q(codings__segment__transcript_id__in=kept.order_by().values("pk")),
            )
        ).order_by("position", "name", "pk")  # (Meta.ordering is dropped with GROUP BY)
    )
    rows = [analysis.CodeRow(c.pk, c.parent_id, c.name, c.level, c.color) for c in codes]
    by_id = {c.pk: c for c in codes}
    return [
        CodebookEntry(by_id[row.id], depth, getattr(by_id[row.id], "n", 0))
        for row, depth in analysis.tree_order(rows)
    ]


# In the model's field order: ``Model.from_db`` takes the values of a subset in that order.
_CODE_FIELDS = ["id", "study_id", "parent_id", "level", "name", "color", "position"]


def codebook_plain(*, study: Study) -> list[CodebookEntry]:
    """The codes in tree order without counts (for the coding panel: one light query; each
    instance holds only these fields)."""
    rows = _fetch(
        'SELECT "id", "study_id", "parent_id", "level", "name", "color", "position" '
        'FROM "research_code" WHERE "study_id" = %s ORDER BY "position", "name"',
        [study.pk],
    )
    return _codebook_entries([Code.from_db(connection.alias, _CODE_FIELDS, row) for row in rows])


def _codebook_entries(codes: list[Code]) -> list[CodebookEntry]:
    """Codes (in position, name order) in tree order, without counts."""
    tree = [analysis.CodeRow(c.pk, c.parent_id, c.name, c.level, c.color) for c in codes]
    by_id = {c.pk: c for c in codes}
    return [CodebookEntry(by_id[row.id], depth, 0) for row, depth in analysis.tree_order(tree)]


def codebook_for(
    *, actor: User, study_id: int, request: HttpRequest | None = None
) -> tuple[Study, StudyAccess, list[CodebookEntry]]:
    study, access = study_get(actor=actor, study_id=study_id)
    entries = codebook(study=study)
    _audit_view(actor, study, "codebook", request)
    return study, access, entries


def can_undo_move(*, actor: User, study: Study) -> bool:
    """Whether the actor has a codebook move left to undo in the study."""
    return CodingAction.objects.filter(
        study=study, actor=actor, undone_at__isnull=True, kind=CodingActionKind.MOVE
    ).exists()


def code_css(*, actor: User, study_id: int) -> str:
    """A stylesheet with each code's colours (CSP allows no inline styles)."""
    from .colours import text_colour_for

    study, _access = study_get(actor=actor, study_id=study_id)
    lines = []
    for pk, colour in study.codes.values_list("id", "color"):
        text = text_colour_for(colour)
        lines.append(
            f".c-{pk}{{background-color:{colour};color:{text};border-color:{colour}}}"
            f".u-{pk}{{border-bottom:4px solid {colour}}}"
        )
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- transcripts


@dataclass(frozen=True)
class SegmentView:
    """One coded segment as the transcript page shows it (plain values, no model instances)."""

    pk: int
    start: int
    end: int
    is_exemplar: bool
    coder: str
    codes: list[Code]
    quote: str


@dataclass(frozen=True)
class TranscriptPage:
    study: Study
    access: StudyAccess
    transcript: Transcript
    html: SafeString
    paragraphs: list[tuple[int, int, str]]  # start, end, first words (the keyboard form)
    segments: list[SegmentView]
    codes: list[CodebookEntry]
    memos: list[Memo]
    can_undo: bool
    withdrawn: bool


def _covering(segments: list[tuple[int, int, list[int]]], start: int, end: int) -> list[int]:
    found: list[int] = []
    for s_start, s_end, code_ids in segments:
        if s_start <= start and s_end >= end:
            found.extend(c for c in code_ids if c not in found)
    return found


def render_transcript(
    text: str, segments: list[tuple[int, int, list[int]]]
) -> tuple[SafeString, list[tuple[int, int, str]]]:
    """The transcript as <p data-start> paragraphs, each split into <span>s at segment
    boundaries; a stretch covered by codes gets its first code's colour class, and the class
    ``overlap`` with every further code underlined when several codes overlap."""
    html: list[str] = []
    paragraphs: list[tuple[int, int, str]] = []
    offset = 0
    # A sweep down the text: the segments by start, those begun so far, and of those the
    # ones not yet over (not every segment tested against every paragraph).
    pending = sorted(segments, key=lambda s: s[0])
    next_index = 0
    begun: list[tuple[int, int, list[int]]] = []
    for line in text.split("\n"):
        start, end = offset, offset + len(line)
        offset = end + 1
        paragraphs.append((start, end, line[:80]))
        while next_index < len(pending) and pending[next_index][0] < end:
            begun.append(pending[next_index])
            next_index += 1
        if begun:
            begun = [s for s in begun if s[1] > start]
        inside = begun
        if not inside:  # most paragraphs: no segment touches them, one span
            body = f'<span data-start="{start}">{escape(line)}</span>' if line else "&nbsp;"
            html.append(f'<p data-start="{start}">{body}</p>')
            continue
        cuts = sorted({start, end, *(max(start, min(end, p)) for s in inside for p in s[:2])})
        pieces: list[str] = []
        for a, b in zip(cuts, cuts[1:], strict=False):
            if a == b:
                continue
            piece = escape(line[a - start : b - start])
            codes = _covering(inside, a, b)
            if not codes:
                pieces.append(f'<span data-start="{a}">{piece}</span>')
                continue
            classes = [f"hl c-{codes[0]}"]
            if len(codes) > 1:
                classes.append("overlap")
                classes.extend(f"u-{c}" for c in codes[1:2])
            label = " ".join(f"#{c}" for c in codes)
            pieces.append(
                f'<mark data-start="{a}" data-codes="{label}" class="{" ".join(classes)}">'
                f"{piece}</mark>"
            )
        html.append(f'<p data-start="{start}">{"".join(pieces) or "&nbsp;"}</p>')
    return mark_safe("\n".join(html)), paragraphs  # noqa: S308  (every piece escaped above)


def _user_names(ids: set[int]) -> dict[int, str]:
    from safeharbor.accounts.models import User as UserModel

    return {
        pk: (f"{first} {last}".strip() or username)
        for pk, first, last, username in UserModel.objects.filter(pk__in=ids).values_list(
            "pk", "first_name", "last_name", "username"
        )
    }


# The transcript page's one statement: the transcript, its participant and study, the actor's
# team role, whether they have a coding to undo, whether there are memos to read, and (for a
# team member only) the segments with their code ids and coders' names, and the codebook, as
# two JSON arrays. One round trip to PostgreSQL instead of three; plain SQL on both databases
# but for the JSON functions' names, every value a parameter.
_PAGE_SQL = (
    'SELECT t."id", t."study_id", t."participant_id", t."name", t."source_format", t."text", '
    't."char_count", p."code", p."withdrawn_at" IS NOT NULL, s."blind_coding", m."role", '
    'EXISTS (SELECT 1 FROM "research_codingaction" a WHERE a."study_id" = t."study_id" '
    'AND a."actor_id" = %s AND a."undone_at" IS NULL AND a."kind" IN (%s, %s)), '
    'EXISTS (SELECT 1 FROM "research_memo" mt WHERE mt."transcript_id" = t."id") '
    'OR EXISTS (SELECT 1 FROM "research_memo" ms INNER JOIN "research_segment" sg '
    'ON sg."id" = ms."segment_id" WHERE sg."transcript_id" = t."id"), '
    'CASE WHEN m."role" IS NOT NULL THEN (SELECT {agg}({row}(sg."id", sg."start", sg."end", '
    'sg."is_exemplar", sg."coder_id", {segment_codes}, u."first_name", u."last_name", '
    'u."username")) FROM "research_segment" sg '
    'INNER JOIN "accounts_user" u ON u."id" = sg."coder_id" '
    'WHERE sg."transcript_id" = t."id" AND (NOT s."blind_coding" OR sg."coder_id" = %s)) END, '
    'CASE WHEN m."role" IS NOT NULL THEN (SELECT {agg}({row}(c."id", c."study_id", '
    'c."parent_id", c."level", c."name", c."color", c."position"){code_order}) '
    'FROM "research_code" c WHERE c."study_id" = t."study_id") END '
    'FROM "research_transcript" t '
    'INNER JOIN "research_participant" p ON p."id" = t."participant_id" '
    'INNER JOIN "research_study" s ON s."id" = t."study_id" '
    'LEFT OUTER JOIN "research_studymember" m ON m."study_id" = t."study_id" '
    'AND m."user_id" = %s '
    'WHERE t."id" = %s AND t."study_id" = %s'
)
# A segment's code ids: a subquery per segment, which both databases answer from the index on
# ``segment_id``. (A join of the codings instead let PostgreSQL's planner hash every coding of
# every transcript: 1.2 of the statement's 1.9 ms at 14,664 codings, growing with the study.)
_SEGMENT_CODES = (
    '(SELECT {agg}(sc."code_id") FROM "research_segmentcode" sc WHERE sc."segment_id" = sg."id")'
)
_PAGE_SQL_BY_VENDOR = {
    # PostgreSQL orders the codebook in the aggregate (its collation, as ORDER BY would);
    # SQLite's codebook is ordered below, in Python, as its BINARY collation orders.
    "postgresql": _PAGE_SQL.format(
        agg="json_agg",
        row="json_build_array",
        code_order=' ORDER BY c."position", c."name"',
        segment_codes=_SEGMENT_CODES.format(agg="json_agg"),
    ),
    # json(): a subquery's array is text to SQLite; json() keeps it an array inside the row.
    "sqlite": _PAGE_SQL.format(
        agg="json_group_array",
        row="json_array",
        code_order="",
        segment_codes=f"json({_SEGMENT_CODES.format(agg='json_group_array')})",
    ),
}


def _json_rows(value: Any) -> list[list[Any]]:
    """A JSON array read from the database: psycopg decodes ``json``; SQLite gives text."""
    if value is None:
        return []
    if isinstance(value, str):
        rows: list[list[Any]] = json.loads(value)
        return rows
    return list(value)


def transcript_page(
    *, actor: User, study_id: int, transcript_id: int, request: HttpRequest | None = None
) -> TranscriptPage:
    # One statement (_PAGE_SQL); study_get's answer: 404 when missing or not allowed. The
    # instances hold only the fields read here; any other is read on access, as with
    # ``only()``.
    found = _fetch(
        _PAGE_SQL_BY_VENDOR[connection.vendor],
        [
            actor.pk,
            CodingActionKind.APPLY,
            CodingActionKind.REMOVE,
            actor.pk,
            actor.pk,
            transcript_id,
            study_id,
        ],
    )
    row = found[0] if found else None
    access = access_for_role(actor, row[10] if row else None)
    if row is None or not access.allows(StudyAction.VIEW):
        raise Http404
    alias = connection.alias
    study = Study.from_db(alias, ["id", "blind_coding"], [row[1], bool(row[9])])
    participant = Participant.from_db(alias, ["id", "code"], [row[2], row[7]])
    transcript = Transcript.from_db(
        alias,
        ["id", "study_id", "participant_id", "name", "source_format", "text", "char_count"],
        [*row[:5], _decrypt(Transcript, "text", row[5]), row[6]],
    )
    transcript.study = study
    transcript.participant = participant
    withdrawn, can_undo, has_memos = bool(row[8]), bool(row[11]), bool(row[12])
    # The segments with their code ids and coders' names (blind coding: the actor's own), a
    # row per segment with its code ids, in the order the page lists them: start, end, id.
    rows: list[tuple[int, int, int, bool, int]] = []
    code_ids: dict[int, list[int]] = defaultdict(list)
    coders: dict[int, str] = {}
    for pk, start, end, is_exemplar, coder_id, segment_codes, first, last, username in sorted(
        _json_rows(row[13]), key=lambda r: (r[1], r[2], r[0])
    ):
        rows.append((pk, start, end, bool(is_exemplar), coder_id))
        coders[coder_id] = f"{first} {last}".strip() or username
        code_ids[pk] = sorted(segment_codes or ())
    code_rows = _json_rows(row[14])
    if connection.vendor != "postgresql":
        code_rows.sort(key=lambda r: (r[6], r[4]))
    codes = _codebook_entries(
        [Code.from_db(alias, _CODE_FIELDS, code_row) for code_row in code_rows]
    )
    by_id = {entry.code.pk: entry.code for entry in codes}
    spans = [(start, end, code_ids[pk]) for pk, start, end, _e, _c in rows]
    html, paragraphs = render_transcript(transcript.text, spans)
    memos = (
        list(
            Memo.objects.filter(Q(transcript=transcript) | Q(segment__transcript=transcript))
            .select_related("author")
            .order_by("created_at")
        )
        if has_memos
        else []
    )
    page = TranscriptPage(
        study=study,
        access=access,
        transcript=transcript,
        html=html,
        paragraphs=paragraphs,
        segments=[
            SegmentView(
                pk=pk,
                start=start,
                end=end,
                is_exemplar=is_exemplar,
                coder=coders.get(coder_id, ""),
                codes=[by_id[c] for c in sorted(code_ids[pk]) if c in by_id],
                quote=transcript.text[start:end],
            )
            for pk, start, end, is_exemplar, coder_id in rows
        ],
        codes=codes,
        memos=memos,
        can_undo=can_undo,
        withdrawn=withdrawn,
    )
    _audit_view(actor, study, "transcript", request)
    return page


@dataclass(frozen=True)
class QuoteRow:
    segment_id: int
    participant_code: str
    professional_role: str
    transcript_name: str
    start: int
    end: int
    quote: str
    codes: list[int] = field(default_factory=list)
    is_exemplar: bool = False
    coder_id: int = 0


def _transcript_labels(study_id: int) -> dict[int, tuple[str, str, str]]:
    """The study's transcripts of participants who have not withdrawn: id -> (name,
    participant code, professional role). One query, read from an index on SQLite."""
    return {
        pk: (name, code, role)
        for pk, name, code, role in Transcript.objects.filter(
            study_id=study_id, participant__withdrawn_at__isnull=True
        )
        .order_by()
        .values_list("pk", "name", "participant__code", "participant__professional_role")
    }


def _quotes(study_id: int, segment_qs: QuerySet[Segment]) -> list[QuoteRow]:
    """Segments of one study with their words (each segment's own encrypted quote),
    withdrawn participants out, as plain rows (a code can have hundreds of segments)."""
    transcripts = _transcript_labels(study_id)
    rows = [
        row
        for row in segment_qs.order_by().values_list(
            "pk", "start", "end", "is_exemplar", "coder_id", "transcript_id", "quote"
        )
        if row[5] in transcripts
    ]
    # Sorted here, not in SQL: an ORDER BY on the joined name costs a temporary b-tree.
    rows.sort(key=lambda r: (transcripts[r[5]][0], r[1], r[2], r[0]))
    codes: dict[int, list[int]] = defaultdict(list)
    # Their codings through the same filter (no long id list), e.g. one code's few hundred.
    for segment_id, code_id in SegmentCode.objects.filter(
        segment_id__in=segment_qs.order_by().values("pk")
    ).values_list("segment_id", "code_id"):
        codes[segment_id].append(code_id)
    result = []
    for pk, start, end, is_exemplar, coder_id, transcript_id, quote in rows:
        name, who, role = transcripts[transcript_id]
        result.append(
            QuoteRow(
                segment_id=pk,
                participant_code=who,
                professional_role=role,
                transcript_name=name,
                start=start,
                end=end,
                quote=quote,
                codes=sorted(codes[pk]),
                is_exemplar=is_exemplar,
                coder_id=coder_id,
            )
        )
    return result


# segment id, participant code, professional role, transcript name, start, end, code ids
# (ascending), coder id, exemplar, quote
SegmentTableRow = tuple[int, str, str, str, int, int, tuple[int, ...], int, bool, str]


def segment_table(*, study: Study) -> Iterator[SegmentTableRow]:
    """Every segment of the study (withdrawn participants out) as plain tuples, ordered by
    transcript name, start, end and id: the segments export. The four queries run at once;
    the rows are made as they are read, so ten thousand of them never pile up (and never
    set off a full garbage collection). The words come from each transcript decrypted once,
    cheaper than ten thousand small decryptions."""
    transcripts = _transcript_labels(study.pk)
    # Ordered by segment then code (the unique index's order), so each segment's code ids
    # arrive ascending; the few distinct combinations are shared, not one tuple per segment.
    combos: dict[tuple[int, ...], tuple[int, ...]] = {}
    codes: dict[int, tuple[int, ...]] = {}
    current = 0
    found: list[int] = []
    for segment_id, code_id in (
        SegmentCode.objects.filter(segment__study_id=study.pk)
        .order_by("segment_id", "code_id")
        .values_list("segment_id", "code_id")
    ):
        if segment_id != current and found:
            key = tuple(found)
            codes[current] = combos.setdefault(key, key)
            found = []
        current = segment_id
        found.append(code_id)
    if found:
        key = tuple(found)
        codes[current] = combos.setdefault(key, key)
    texts = dict(Transcript.objects.filter(pk__in=transcripts).values_list("id", "text"))
    rows = [
        row
        for row in Segment.objects.filter(study=study)
        .order_by()
        .values_list("pk", "start", "end", "is_exemplar", "coder_id", "transcript_id")
        if row[5] in transcripts
    ]
    rows.sort(key=lambda r: (transcripts[r[5]][0], r[1], r[2], r[0]))

    def table() -> Iterator[SegmentTableRow]:
        for pk, start, end, is_exemplar, coder_id, transcript_id in rows:
            name, who, role = transcripts[transcript_id]
            yield (
                pk,
                who,
                role,
                name,
                start,
                end,
                codes.get(pk, ()),
                coder_id,
                is_exemplar,
                texts[transcript_id][start:end],
            )

    return table()


# One code's segments with their words and all their code ids, for a member of the study's
# team: the code, the caller's team role, and a row per coding of each segment that carries the
# code (none: a row with no segment). No row: no such code in the study, or not on its team.
# Driven from the code's codings (an index on code); ordered in Python (an ORDER BY on the
# joined name costs a temporary b-tree). On PostgreSQL the transcripts' and participants'
# labels are joined in (one round trip); on SQLite they are read once from the transcripts'
# covering index instead: a lookup of each segment's transcript row cost more there than the
# whole rest of the statement.
_CODE_QUOTES_SQL = (
    'SELECT m."role", sg."id", sg."start", sg."end", sg."is_exemplar", sg."coder_id", '
    'sg."quote", sg."transcript_id", sc2."code_id"{labels} FROM "research_code" c '
    'INNER JOIN "research_studymember" m ON m."study_id" = c."study_id" AND m."user_id" = %s '
    'LEFT OUTER JOIN "research_segmentcode" sc ON sc."code_id" = c."id" '
    'LEFT OUTER JOIN "research_segment" sg ON sg."id" = sc."segment_id" '
    'AND sg."study_id" = c."study_id" '
    'LEFT OUTER JOIN "research_segmentcode" sc2 ON sc2."segment_id" = sg."id"{joins} '
    'WHERE c."id" = %s AND c."study_id" = %s'
)
_CODE_QUOTES_SQL_BY_VENDOR = {
    "postgresql": _CODE_QUOTES_SQL.format(
        labels=', t."name", t."participant_id", p."code", p."professional_role", '
        'p."withdrawn_at" IS NOT NULL',
        joins=' LEFT OUTER JOIN "research_transcript" t ON t."id" = sg."transcript_id" '
        'LEFT OUTER JOIN "research_participant" p ON p."id" = t."participant_id"',
    ),
    "sqlite": _CODE_QUOTES_SQL.format(labels="", joins=""),
}
# (SQLite) the study's transcripts of participants who have not withdrawn, from the index on
# study, name and participant.
_TRANSCRIPT_LABELS_SQL = (
    'SELECT t."id", t."name", t."participant_id", p."code", p."professional_role" '
    'FROM "research_transcript" t INNER JOIN "research_participant" p '
    'ON p."id" = t."participant_id" WHERE t."study_id" = %s AND p."withdrawn_at" IS NULL'
)


def code_quotes(
    *,
    actor: User,
    study_id: int,
    code_id: int,
    participant_id: int | None = None,
    request: HttpRequest | None = None,
) -> list[QuoteRow]:
    """A code's segments with quotes (the code's own codings; optionally one participant's;
    withdrawn participants out), read with the team check: 404 when the code is not in the
    study or the actor is not on its team. Each quote decrypted once."""
    found = _fetch(_CODE_QUOTES_SQL_BY_VENDOR[connection.vendor], [actor.pk, code_id, study_id])
    if not found or not access_for_role(actor, found[0][0]).allows(StudyAction.VIEW):
        raise Http404
    # transcript id -> name, participant id, participant code, professional role (kept ones)
    labels: dict[int, tuple[str, int, str, str]] = {}
    if connection.vendor == "postgresql":
        for row in found:
            if row[1] is not None and not row[13]:
                labels[row[7]] = (row[9], row[10], row[11], row[12])
    else:
        labels = {
            pk: (name, who, code, role)
            for pk, name, who, code, role in _fetch(_TRANSCRIPT_LABELS_SQL, [study_id])
        }
    by_segment: dict[int, list[Any]] = {}
    for row in found:
        pk, transcript_id, other_code = row[1], row[7], row[8]
        label = labels.get(transcript_id)
        if pk is None or label is None:
            continue  # no segment, or a withdrawn participant's
        if participant_id is not None and label[1] != participant_id:
            continue
        entry = by_segment.get(pk)
        if entry is None:
            entry = by_segment[pk] = [pk, row[2], row[3], row[4], row[5], row[6], label, []]
        if other_code is not None:
            entry[7].append(other_code)
    quote_field = Segment._meta.get_field("quote")
    ordered = sorted(by_segment.values(), key=lambda e: (e[6][0], e[1], e[2], e[0]))
    rows = [
        QuoteRow(
            segment_id=pk,
            participant_code=label[2],
            professional_role=label[3],
            transcript_name=label[0],
            start=start,
            end=end,
            quote=quote_field.from_db_value(quote, None, connection),
            codes=sorted(codes),
            is_exemplar=bool(is_exemplar),
            coder_id=coder_id,
        )
        for pk, start, end, is_exemplar, coder_id, quote, label, codes in ordered
    ]
    _audit_view(actor, Study(pk=study_id), "code_segments", request)
    return rows


def code_segments(
    *,
    actor: User,
    study_id: int,
    code_id: int,
    participant_id: int | None = None,
    request: HttpRequest | None = None,
) -> tuple[Study, Code, list[QuoteRow]]:
    """A code's segments with quotes (``code_quotes``), with the study and the code."""
    study, code = code_get(actor=actor, study_id=study_id, code_id=code_id)
    rows = code_quotes(
        actor=actor,
        study_id=study.pk,
        code_id=code.pk,
        participant_id=participant_id,
        request=request,
    )
    return study, code, rows


# --------------------------------------------------------------------------- analysis


@dataclass
class AnalysisData:
    codes: list[analysis.CodeRow]
    codings: list[analysis.CodingRow]
    participants: list[analysis.ParticipantRow]
    by_id: dict[int, analysis.CodeRow]


def analysis_rows(*, study: Study) -> AnalysisData:
    """The rows every analysis works from, withdrawn participants already out (three queries)."""
    codes = [
        analysis.CodeRow(*row)
        for row in study.codes.values_list("id", "parent_id", "name", "level", "color")
    ]
    # Each transcript's participant once (100 rows), not through a join per coding: on SQLite
    # that join reads past every transcript's long encrypted text for each of 10,000 rows.
    kept = dict(
        Transcript.objects.filter(study=study, participant__withdrawn_at__isnull=True)
        .order_by()
        .values_list("pk", "participant_id")
    )
    make = analysis.CodingRow._make
    codings = [
        make((segment_id, code_id, transcript_id, kept[transcript_id], coder_id, start, end))
        for segment_id, code_id, transcript_id, coder_id, start, end in SegmentCode.objects.filter(
            segment__study=study
        ).values_list(
            "segment_id",
            "code_id",
            "segment__transcript_id",
            "segment__coder_id",
            "segment__start",
            "segment__end",
        )
        if transcript_id in kept
    ]
    participants = [
        analysis.ParticipantRow(*row)
        for row in Participant.objects.filter(
            study=study, withdrawn_at__isnull=True, transcripts__isnull=False
        )
        .values_list("id", "code", "professional_role", "consent__interview__interviewed_on")
        .distinct()
        .order_by("consent__interview__interviewed_on", "code")
    ]
    return AnalysisData(codes, codings, participants, {c.id: c for c in codes})


@dataclass(frozen=True)
class BreakdownView:
    """The counts table's columns: one per value of the chosen participant attribute."""

    key: str  # "role", "agency", "years" or "attr-<id>"
    label: str
    choices: list[tuple[str, str]]  # key, label (for the select on the page)
    groups: list[tuple[str, int]]  # column label, participants with that value
    rows: list[list[tuple[int, float]]]  # per code (in counts order): participants, percent


NOT_RECORDED = ""
_YEAR_BANDS = ((0, 4), (5, 9), (10, 19), (20, None))


def _years_band(years: int | None) -> str:
    if years is None:
        return NOT_RECORDED
    for low, high in _YEAR_BANDS:
        if high is None or years <= high:
            return f"{low}+" if high is None else f"{low}–{high}"
    return NOT_RECORDED  # pragma: no cover  (the last band is open)


def breakdown_choices(study: Study) -> list[tuple[str, str]]:
    return [
        ("role", _("Professional role")),
        ("agency", _("Agency type")),
        ("years", _("Years of experience")),
        *((f"attr-{a.pk}", a.name) for a in study.attributes.all()),
    ]


def _groups_for(
    key: str, study: Study, participants: list[analysis.ParticipantRow]
) -> tuple[dict[int, str], list[str], dict[str, str]]:
    """Each participant's group for the breakdown ``key``, the group order and their labels
    (a missing value is its own group, "Not recorded", last)."""
    ids = [p.id for p in participants]
    labels: dict[str, str] = {NOT_RECORDED: _("Not recorded")}
    if key == "agency":
        group_of = dict(Participant.objects.filter(pk__in=ids).values_list("id", "agency_type"))
        labels.update({v: str(label) for v, label in AgencyType.choices})
        order = [*AgencyType.values, NOT_RECORDED]
    elif key == "years":
        group_of = {
            pk: _years_band(years)
            for pk, years in Participant.objects.filter(pk__in=ids).values_list(
                "id", "years_experience"
            )
        }
        order = [
            *(f"{lo}+" if hi is None else f"{lo}–{hi}" for lo, hi in _YEAR_BANDS),
            NOT_RECORDED,
        ]
        labels.update({band: band for band in order if band})
    elif key.startswith("attr-"):
        attribute = study.attributes.filter(pk=int(key[5:])).first()
        values = dict(
            ParticipantAttributeValue.objects.filter(
                attribute=attribute, participant_id__in=ids
            ).values_list("participant_id", "value")
        )
        group_of = {pk: values.get(pk, NOT_RECORDED) for pk in ids}
        present = sorted({v for v in group_of.values() if v})
        if attribute is not None and attribute.value_type == AttributeType.NUMBER:
            present.sort(key=float)
        if attribute is not None and attribute.value_type == AttributeType.YES_NO:
            labels.update({"yes": _("Yes"), "no": _("No")})
            present = [v for v in ("yes", "no") if v in present]
        labels.update({v: labels.get(v, v) for v in present})
        order = [*present, NOT_RECORDED]
    else:
        group_of = {p.id: p.role for p in participants}
        labels.update({v: str(label) for v, label in ProfessionalRole.choices})
        order = [*ProfessionalRole.values, NOT_RECORDED]
    return {pk: group_of.get(pk) or NOT_RECORDED for pk in ids}, order, labels


def breakdown_view(
    study: Study, data: AnalysisData, counts: list[analysis.CodeCount], key: str
) -> BreakdownView:
    choices = breakdown_choices(study)
    if key not in {k for k, _label in choices}:
        key = "role"
    group_of, order, labels = _groups_for(key, study, data.participants)
    result = analysis.breakdown(data.codes, data.codings, data.participants, group_of, order)
    rows = []
    for count in counts:
        cells = result.cells.get(count.code.id, {})
        rows.append(
            [
                (cells.get(value, 0), round(100 * cells.get(value, 0) / size, 1))
                for value, size in result.groups
            ]
        )
    return BreakdownView(
        key=key,
        label=dict(choices)[key],
        choices=choices,
        groups=[(labels.get(value, value), size) for value, size in result.groups],
        rows=rows,
    )


@dataclass
class AnalysisPage:
    study: Study
    access: StudyAccess
    data: AnalysisData
    counts: list[analysis.CodeCount]
    roles: list[tuple[str, str, int]]  # value, label, participants
    breakdown: BreakdownView
    matrix_codes: list[analysis.CodeRow]
    matrix_rows: list[tuple[analysis.ParticipantRow, list[tuple[analysis.CodeRow, int, int]]]]
    co_occurrence: list[tuple[analysis.CodeRow, analysis.CodeRow, int]]
    saturation: analysis.Saturation
    agreement: analysis.Agreement | None
    coder_names: dict[int, str]
    exemplars: list[tuple[analysis.CodeRow, list[QuoteRow]]]


def saturation_for(study: Study, data: AnalysisData) -> analysis.Saturation:
    per_participant: dict[int, set[int]] = defaultdict(set)
    for row in data.codings:
        per_participant[row.participant_id].add(row.code_id)
    ordered = [(p.code, per_participant.get(p.id, set())) for p in data.participants]
    return analysis.saturation(
        ordered,
        base_size=study.saturation_base_size,
        run_length=study.saturation_run_length,
        threshold_percent=study.saturation_threshold_percent,
    )


def exemplars_by_theme(
    study: Study, data: AnalysisData
) -> list[tuple[analysis.CodeRow, list[QuoteRow]]]:
    rows = _quotes(study.pk, Segment.objects.filter(study=study, is_exemplar=True))
    up = analysis.ancestors_or_self(data.codes)
    grouped: dict[int, list[QuoteRow]] = defaultdict(list)
    for row in rows:
        tops = {up[c][-1] for c in row.codes if c in up}
        for top in tops:
            grouped[top].append(row)
    return [(data.by_id[top], quotes) for top, quotes in grouped.items() if top in data.by_id]


def analysis_page(
    *, actor: User, study_id: int, breakdown: str = "role", request: HttpRequest | None = None
) -> AnalysisPage:
    from safeharbor.accounts.models import User as UserModel

    from .colours import heat_level

    study, access = study_get(actor=actor, study_id=study_id)
    data = analysis_rows(study=study)
    counts = analysis.code_counts(data.codes, data.codings, data.participants)
    role_totals: dict[str, int] = defaultdict(int)
    for p in data.participants:
        role_totals[p.role] += 1
    roles = [
        (v, str(label), role_totals[v]) for v, label in ProfessionalRole.choices if role_totals[v]
    ]
    cells = analysis.matrix(data.codes, data.codings, data.participants)
    matrix_codes = [c.code for c in counts]
    peak = max(cells.values(), default=0)
    matrix_rows = [
        (
            p,
            [
                (c, cells.get((p.id, c.id), 0), heat_level(cells.get((p.id, c.id), 0), peak))
                for c in matrix_codes
            ],
        )
        for p in data.participants
    ]
    pairs = analysis.co_occurrence(data.codings)
    co = sorted(
        (
            (data.by_id[a], data.by_id[b], n)
            for (a, b), n in pairs.items()
            if a in data.by_id and b in data.by_id
        ),
        key=lambda t: (-t[2], t[0].name, t[1].name),
    )
    agreement = analysis.agreement(data.codes, data.codings, data.participants)
    coder_ids = {row.coder_id for row in data.codings}
    names = {
        u.pk: (u.get_full_name() or u.username)
        for u in UserModel.objects.filter(pk__in=coder_ids).only(
            "id", "first_name", "last_name", "username"
        )
    }
    page = AnalysisPage(
        study=study,
        access=access,
        data=data,
        counts=counts,
        roles=roles,
        breakdown=breakdown_view(study, data, counts, breakdown),
        matrix_codes=matrix_codes,
        matrix_rows=matrix_rows,
        co_occurrence=co[:50],
        saturation=saturation_for(study, data),
        agreement=agreement,
        coder_names=names,
        exemplars=exemplars_by_theme(study, data),
    )
    _audit_view(actor, study, "analysis", request)
    return page


# --------------------------------------------------------------------------- word frequency

WORD_FREQUENCY_TOPS = (25, 50, 100, 200)


@dataclass
class WordFrequencyPage:
    study: Study
    access: StudyAccess
    code: Code | None
    codes: list[CodebookEntry]
    top: int
    skip_interviewer: bool
    result: analysis.WordFrequency
    bars: list[tuple[analysis.WordCount, int]]  # word, bar length in percent of the first


def _interviewer_labels(study: Study) -> set[str]:
    """Speaker labels taken for the interviewer: the usual ones and the team's names (a Teams
    or Zoom caption names the interviewer)."""
    labels = set(analysis.INTERVIEWER_LABELS)
    for first, last, username in study.members.values_list(
        "user__first_name", "user__last_name", "user__username"
    ):
        for label in (f"{first} {last}".strip(), first, username):
            if label:
                labels.add(label.casefold())
    return labels


def word_frequency_page(
    *,
    actor: User,
    study_id: int,
    code_id: int | None = None,
    top: int = 50,
    skip_interviewer: bool = True,
    request: HttpRequest | None = None,
) -> WordFrequencyPage:
    """The most frequent words over every transcript of the study, or over the segments of one
    code (its descendants' too, overlapping segments read once); withdrawn participants out."""
    study, access = study_get(actor=actor, study_id=study_id)
    code = _in_study(Code.objects.all(), study, code_id) if code_id is not None else None
    top = top if top in WORD_FREQUENCY_TOPS else 50
    interviewer = _interviewer_labels(study) if skip_interviewer else None
    texts: list[tuple[int, str]]
    if code is None:
        texts = list(
            Transcript.objects.filter(
                study=study, participant__withdrawn_at__isnull=True
            ).values_list("participant_id", "text")
        )
    else:
        rows = [
            analysis.CodeRow(pk, parent, "", "", "")
            for pk, parent in study.codes.values_list("id", "parent_id")
        ]
        wanted = analysis.descendants(rows).get(code.pk, {code.pk})
        pieces: dict[tuple[int, int], list[tuple[int, int, str]]] = defaultdict(list)
        for participant_id, transcript_id, start, end, quote in (
            Segment.objects.filter(
                study=study,
                codings__code_id__in=wanted,
                transcript__participant__withdrawn_at__isnull=True,
            )
            .distinct()
            .values_list("transcript__participant_id", "transcript_id", "start", "end", "quote")
        ):
            pieces[(participant_id, transcript_id)].append((start, end, quote))
        texts = [
            (participant_id, "\n".join(analysis.stitch(stretches)))
            for (participant_id, _t), stretches in pieces.items()
        ]
    result = analysis.word_frequency(texts, top=top, interviewer=interviewer)
    peak = result.words[0].times if result.words else 1
    page = WordFrequencyPage(
        study=study,
        access=access,
        code=code,
        codes=codebook_plain(study=study),
        top=top,
        skip_interviewer=skip_interviewer,
        result=result,
        bars=[(w, max(1, round(100 * w.times / peak))) for w in result.words],
    )
    _audit_view(actor, study, "word_frequency", request)
    return page


# --------------------------------------------------------------------------- redaction


@dataclass(frozen=True)
class RedactionRow:
    """One suggestion as the redaction page shows it (in the transcript, or in a memo)."""

    start: int
    end: int
    kind: str
    text: str
    before: str
    after: str
    reason: str
    placeholder: str  # the existing placeholder for these words (lead only), else ""
    checked: bool
    memo: int | None = None
    where: str = ""  # "" for the transcript, else which memo

    @property
    def ident(self) -> str:
        span = f"{self.start}-{self.end}"
        return span if self.memo is None else f"m{self.memo}:{span}"


@dataclass
class RedactionPage:
    study: Study
    access: StudyAccess
    transcript: Transcript | None  # None: the page for memos on codes
    rows: list[RedactionRow]
    more: int  # suggestions beyond the ones shown
    version: str
    added: list[tuple[str, str]]  # (kind, words) the researcher added by hand
    withdrawn: bool
    memo_versions: list[tuple[int, str]] = field(default_factory=list)
    memos: int = 0  # how many memos were scanned


def redaction_transcript(*, actor: User, study_id: int, transcript_id: int) -> Transcript:
    """The transcript to redact, for someone allowed to (404 otherwise); text not loaded."""
    _study, transcript = transcript_get(
        actor=actor, study_id=study_id, transcript_id=transcript_id, action=StudyAction.REDACT
    )
    return transcript


def _team_names(study: Study) -> list[str]:
    names: list[str] = []
    for first, last in study.members.values_list("user__first_name", "user__last_name"):
        names.extend(n for n in (f"{first} {last}".strip(), first, last) if len(n) > 1)
    return names


Span = tuple[int | None, int, int]  # (memo id or None for the transcript, start, end)


def _memo_where(memo: Memo, names: Mapping[int, str], codes: Mapping[int, str]) -> str:
    when = timezone.localdate(memo.created_at).isoformat()
    values = {"who": names.get(memo.author_id, ""), "when": when}
    if memo.code_id is not None:
        return _("Memo on the code %(code)s by %(who)s, %(when)s") % {
            **values,
            "code": codes.get(memo.code_id, ""),
        }
    if memo.segment_id is not None:
        return _("Memo on a coded segment by %(who)s, %(when)s") % values
    return _("Memo on the transcript by %(who)s, %(when)s") % values


def _redaction_rows(
    study: Study,
    access: StudyAccess,
    texts: Sequence[tuple[int | None, str, str]],
    added: Sequence[tuple[str, str]],
    picked: Collection[Span],
    seen: Mapping[Span, str],
) -> tuple[list[RedactionRow], int]:
    """The suggestions for each text (the transcript's and the memos'), in order, with the
    study's key table, team names and words added by hand; and how many were left out."""
    keys = list(RedactionKey.objects.filter(study=study))
    known = [(k.original, k.kind) for k in keys if k.kind not in ("phone", "email")]
    team = _team_names(study)
    generic = list(study.participants.values_list("code", flat=True))
    by_digest = {k.digest: k.placeholder for k in keys} if access.can_see_redaction_key else {}
    rows: list[RedactionRow] = []
    total = 0
    for memo, text, where in texts:
        suggestions = redaction.suggest(
            text,
            known=known,
            team_names=team,
            generic_speakers=generic,
            added=[(words, kind) for kind, words in added],
        )
        total += len(suggestions)
        for s in suggestions[: max(0, redaction.MAX_SUGGESTIONS - len(rows))]:
            before, words, after = redaction.context(text, s.start, s.end)
            span = (memo, s.start, s.end)
            rows.append(
                RedactionRow(
                    start=s.start,
                    end=s.end,
                    kind=seen[span] if seen.get(span) in RedactionKind.values else s.kind,
                    text=words,
                    before=before,
                    after=after,
                    reason=s.reason,
                    placeholder=by_digest.get(redaction.digest(study.pk, words), "")
                    if by_digest
                    else "",
                    checked=span in picked or (s.reason == redaction.ADDED and span not in seen),
                    memo=memo,
                    where=where,
                )
            )
    return rows, total - len(rows)


def _memo_texts(study: Study, memos: Sequence[Memo]) -> list[tuple[int | None, str, str]]:
    names = _user_names({memo.author_id for memo in memos})
    codes = dict(Code.objects.filter(study=study).values_list("id", "name"))
    return [(memo.pk, memo.body, _memo_where(memo, names, codes)) for memo in memos]


def redaction_page(
    *,
    actor: User,
    study_id: int,
    transcript_id: int,
    added: Sequence[tuple[str, str]] = (),
    picked: Collection[Span] | None = None,
    seen: Mapping[Span, str] | None = None,
    request: HttpRequest | None = None,
) -> RedactionPage:
    """Suggestions for one transcript and the memos on it and on its segments, in context.
    ``picked`` are the rows the researcher ticked on the form so far; ``seen`` the rows the
    form showed, with the kind chosen for each. Rows for words they ``added`` by hand start
    ticked the first time they appear."""
    from .services import transcript_memos

    study, access = study_get(actor=actor, study_id=study_id, action=StudyAction.REDACT)
    transcript = _in_study(Transcript.objects.select_related("participant"), study, transcript_id)
    text = transcript.text
    withdrawn = transcript.participant.withdrawn_at is not None
    memos = [] if withdrawn else transcript_memos(transcript)
    texts = [] if withdrawn else [(None, text, ""), *_memo_texts(study, memos)]
    rows, more = _redaction_rows(study, access, texts, added, picked or set(), seen or {})
    page = RedactionPage(
        study=study,
        access=access,
        transcript=transcript,
        rows=rows,
        more=more,
        version=redaction.text_version(text),
        added=list(added),
        withdrawn=withdrawn,
        memo_versions=[(memo.pk, redaction.text_version(memo.body)) for memo in memos],
        memos=len(memos),
    )
    _audit_view(actor, study, "redaction_suggestions", request)
    return page


def memo_redaction_page(
    *,
    actor: User,
    study_id: int,
    added: Sequence[tuple[str, str]] = (),
    picked: Collection[Span] | None = None,
    seen: Mapping[Span, str] | None = None,
    request: HttpRequest | None = None,
) -> RedactionPage:
    """Suggestions for the memos on the study's codes (as ``redaction_page`` does for a
    transcript and its memos)."""
    from .services import code_memos

    study, access = study_get(actor=actor, study_id=study_id, action=StudyAction.REDACT)
    memos = code_memos(study)
    rows, more = _redaction_rows(
        study, access, _memo_texts(study, memos), added, picked or set(), seen or {}
    )
    page = RedactionPage(
        study=study,
        access=access,
        transcript=None,
        rows=rows,
        more=more,
        version="",
        added=list(added),
        withdrawn=False,
        memo_versions=[(memo.pk, redaction.text_version(memo.body)) for memo in memos],
        memos=len(memos),
    )
    _audit_view(actor, study, "memo_redaction_suggestions", request)
    return page


@dataclass(frozen=True)
class RedactionKeyRow:
    placeholder: str
    kind: str
    original: str
    transcripts: list[str]
    created_by: str
    created_at: Any
    memos: int = 0  # how many memos use it


def redaction_key(
    *, actor: User, study_id: int, request: HttpRequest | None = None
) -> tuple[Study, list[RedactionKeyRow]]:
    """The study's redaction key (placeholder -> original words): the lead's eyes only."""
    study, _access = study_get(actor=actor, study_id=study_id, action=StudyAction.REDACTION_KEY)
    keys = list(
        RedactionKey.objects.filter(study=study)
        .prefetch_related(Prefetch("transcripts", queryset=Transcript.objects.only("id", "name")))
        .annotate(memo_count=Count("memos", distinct=True))
        .order_by("kind", "number")
    )
    creators = _user_names({k.created_by_id for k in keys})
    rows = [
        RedactionKeyRow(
            placeholder=k.placeholder,
            kind=k.get_kind_display(),
            original=k.original,
            transcripts=sorted(t.name for t in k.transcripts.all()),
            created_by=creators.get(k.created_by_id, ""),
            created_at=k.created_at,
            memos=k.memo_count,
        )
        for k in keys
    ]
    _audit_view(actor, study, "redaction_key", request)
    return study, rows


# --------------------------------------------------------------------------- debriefs

DEBRIEF_SERVICE_RESULTS = 25


def debrief_service_choices(
    *, text: str, chosen: Sequence[str] = ()
) -> tuple[QuerySet[Service], int]:
    """The directory services the debrief form offers as tick boxes: the ones already ticked,
    and up to ``DEBRIEF_SERVICE_RESULTS`` active services that match the search words (through
    the directory's own search); also how many matched in all. Directory listings are public
    data, so this read is not audited."""
    from safeharbor.directory import search

    ids: set[uuid.UUID] = set()
    for value in list(chosen)[:200]:
        try:
            ids.add(uuid.UUID(str(value)))
        except ValueError:
            continue
    total = 0
    if text.strip():
        results = search.search_services(
            search.Criteria(text=text.strip()), per_page=DEBRIEF_SERVICE_RESULTS
        )
        total = results.total
        ids.update(hit.service.pk for hit in results.hits)
    services = (
        Service.objects.filter(pk__in=ids, status=ServiceStatus.ACTIVE)
        .select_related("organization")
        .order_by("name", "pk")
    )
    return services, total


def user_choices_for_team(*, study: Study) -> QuerySet[Any]:
    """Active users a lead may add to the team (any role: membership is what opens a study)."""
    from safeharbor.accounts.models import User as UserModel

    return (
        UserModel.objects.filter(is_active=True)
        .exclude(study_memberships__study=study)
        .order_by("last_name", "username")
    )
