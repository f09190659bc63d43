"""Every write in a study: keyword-only, atomic, policy-checked, validated and audited.

The audit events name the study (``object_type`` ``research.*``, category ``research``); they
never carry a youth id, since a study holds no youth record.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import F, Max, Q
from django.utils.translation import gettext as _

from safeharbor.audit.choices import AuditAction
from safeharbor.audit.services import record
from safeharbor.core import clock
from safeharbor.directory.choices import ServiceStatus
from safeharbor.directory.models import Service

from . import colours, redaction
from .choices import (
    LEVEL_DEPTH,
    AttributeType,
    CodeLevel,
    CodingActionKind,
    DocumentKind,
    RedactionKind,
    TeamRole,
    TranscriptFormat,
)
from .models import (
    Code,
    CodingAction,
    Consent,
    Debrief,
    Interview,
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
from .policy import StudyAction, access_for_role, can, can_create_study
from .selectors import CodingContext, chunk_starts
from .transcripts import MAX_FILES, TranscriptFileError, parse_file

if TYPE_CHECKING:
    from safeharbor.accounts.models import User

CATEGORY = "research"


def _require(actor: User, action: str, study: Study) -> None:
    if not can(actor, action, study):
        raise PermissionDenied


def _audit(
    actor: User, action: str, object_type: str, object_id: Any, study: Study, reason: str = ""
) -> None:
    record(
        actor=actor,
        action=action,
        object_type=f"research.{object_type}",
        object_id=object_id,
        category=CATEGORY,
        reason=(f"study {study.pk}" + (f": {reason}" if reason else ""))[:500],
    )


def _clean_guide(questions: Iterable[str]) -> list[str]:
    return [q.strip() for q in questions if q and q.strip()]


# --------------------------------------------------------------------------- studies and team


@transaction.atomic
def study_create(
    *,
    actor: User,
    title: str,
    research_questions: str,
    sampling_method: str,
    target_sample_size: int,
    consent_form_text: str,
    debrief_statement_text: str,
    ethics_board: str = "",
    ethics_number: str = "",
    ethics_approved_on: datetime.date | None = None,
    interview_guide: Sequence[str] = (),
    blind_coding: bool = False,
) -> Study:
    """Start a study; the researcher who starts it leads it. Version 1 of both texts is saved."""
    if not can_create_study(actor):
        raise PermissionDenied
    errors: dict[str, list[str]] = {}
    if not consent_form_text.strip():
        errors["consent_form_text"] = [_("Write the consent form participants will read.")]
    if not debrief_statement_text.strip():
        errors["debrief_statement_text"] = [_("Write the debrief statement.")]
    if errors:
        raise ValidationError(errors)
    study = Study(
        title=title.strip(),
        research_questions=research_questions.strip(),
        sampling_method=sampling_method,
        target_sample_size=target_sample_size,
        ethics_board=ethics_board.strip(),
        ethics_number=ethics_number.strip(),
        ethics_approved_on=ethics_approved_on,
        interview_guide=_clean_guide(interview_guide),
        blind_coding=blind_coding,
        created_by=actor,
    )
    study.full_clean()
    study.save()
    StudyMember.objects.create(study=study, user=actor, role=TeamRole.LEAD)
    for kind, text in (
        (DocumentKind.CONSENT_FORM, consent_form_text),
        (DocumentKind.DEBRIEF_STATEMENT, debrief_statement_text),
    ):
        StudyDocument.objects.create(study=study, kind=kind, version=1, text=text.strip())
    _audit(actor, AuditAction.CREATE, "study", study.pk, study)
    return study


_STUDY_EDITABLE = (
    "title",
    "research_questions",
    "ethics_board",
    "ethics_number",
    "ethics_approved_on",
    "sampling_method",
    "target_sample_size",
    "interview_guide",
    "blind_coding",
    "saturation_base_size",
    "saturation_run_length",
    "saturation_threshold_percent",
)


@transaction.atomic
def study_update(*, actor: User, study: Study, **changes: Any) -> Study:
    _require(actor, StudyAction.MANAGE, study)
    unknown = set(changes) - set(_STUDY_EDITABLE)
    if unknown:
        raise ValueError(f"Not editable: {sorted(unknown)}")
    if "interview_guide" in changes:
        changes["interview_guide"] = _clean_guide(changes["interview_guide"])
    for name, value in changes.items():
        setattr(study, name, value.strip() if isinstance(value, str) else value)
    study.full_clean()
    study.save(update_fields=[*changes, "updated_at"])
    _audit(actor, AuditAction.UPDATE, "study", study.pk, study, "changed: " + ", ".join(changes))
    return study


@transaction.atomic
def member_add(*, actor: User, study: Study, user: User, role: str) -> StudyMember:
    _require(actor, StudyAction.MANAGE, study)
    if role not in TeamRole.values:
        raise ValidationError({"role": _("Choose lead, coder or viewer.")})
    if not user.is_active:
        raise ValidationError({"user": _("This account is not active.")})
    member, created = StudyMember.objects.get_or_create(
        study=study, user=user, defaults={"role": role}
    )
    if not created:
        member.role = role
        member.save(update_fields=["role", "updated_at"])
    _audit(actor, AuditAction.UPDATE, "studymember", member.pk, study, f"user {user.pk} as {role}")
    return member


@transaction.atomic
def member_remove(*, actor: User, member: StudyMember) -> None:
    study = member.study
    _require(actor, StudyAction.MANAGE, study)
    if (
        member.role == TeamRole.LEAD
        and not StudyMember.objects.filter(study=study, role=TeamRole.LEAD)
        .exclude(pk=member.pk)
        .exists()
    ):
        raise ValidationError(_("A study needs a lead: name another lead first."))
    _audit(actor, AuditAction.REVOKE, "studymember", member.pk, study, f"user {member.user_id}")
    member.delete()


@transaction.atomic
def document_add_version(*, actor: User, study: Study, kind: str, text: str) -> StudyDocument:
    """A new version of the consent form or debrief statement; earlier versions stay."""
    _require(actor, StudyAction.MANAGE, study)
    if kind not in DocumentKind.values:
        raise ValidationError({"kind": _("Choose the consent form or the debrief statement.")})
    if not text.strip():
        raise ValidationError({"text": _("Write the text of the new version.")})
    latest = study.documents.filter(kind=kind).aggregate(v=Max("version"))["v"] or 0
    document = StudyDocument(study=study, kind=kind, version=latest + 1, text=text.strip())
    document.full_clean()
    document.save()
    _audit(actor, AuditAction.CREATE, "studydocument", document.pk, study, f"{kind} v{latest + 1}")
    return document


@transaction.atomic
def attribute_define(
    *, actor: User, study: Study, name: str, value_type: str
) -> ParticipantAttribute:
    _require(actor, StudyAction.MANAGE, study)
    attribute = ParticipantAttribute(study=study, name=name.strip(), value_type=value_type)
    attribute.full_clean()
    attribute.save()
    _audit(actor, AuditAction.CREATE, "attribute", attribute.pk, study)
    return attribute


# --------------------------------------------------------------------------- participants


def _check_attribute_value(attribute: ParticipantAttribute, value: str) -> str:
    value = value.strip()
    kind = attribute.value_type
    try:
        if kind == AttributeType.NUMBER:
            float(value)
        elif kind == AttributeType.DATE:
            datetime.date.fromisoformat(value)
        elif kind == AttributeType.YES_NO and value.lower() not in ("yes", "no"):
            raise ValueError(value)
    except ValueError as exc:
        messages = {
            AttributeType.NUMBER: _("%(name)s takes a number."),
            AttributeType.DATE: _("%(name)s takes a date (YYYY-MM-DD)."),
            AttributeType.YES_NO: _("%(name)s takes yes or no."),
        }
        raise ValidationError(
            {f"attr_{attribute.pk}": messages[AttributeType(kind)] % {"name": attribute.name}}
        ) from exc
    return value.lower() if kind == AttributeType.YES_NO else value


@transaction.atomic
def participant_add(
    *,
    actor: User,
    study: Study,
    code: str,
    professional_role: str,
    agency_type: str,
    years_experience: int | None = None,
    recruitment_source: str = "",
    invited_on: datetime.date | None = None,
    attributes: dict[ParticipantAttribute, str] | None = None,
) -> Participant:
    """A participant, by pseudonymous code. Their status starts as invited."""
    _require(actor, StudyAction.MANAGE, study)
    participant = Participant(
        study=study,
        code=code.strip(),
        professional_role=professional_role,
        agency_type=agency_type,
        years_experience=years_experience,
        recruitment_source=recruitment_source.strip(),
        invited_on=invited_on,
    )
    participant.full_clean()
    participant.save()
    for attribute, value in (attributes or {}).items():
        if value is None or str(value).strip() == "":
            continue
        _set_attribute(participant, attribute, str(value))
    _audit(actor, AuditAction.CREATE, "participant", participant.pk, study)
    return participant


def _set_attribute(participant: Participant, attribute: ParticipantAttribute, value: str) -> None:
    if attribute.study_id != participant.study_id:
        raise ValidationError(_("That attribute belongs to another study."))
    clean = _check_attribute_value(attribute, value)
    ParticipantAttributeValue.objects.update_or_create(
        participant=participant, attribute=attribute, defaults={"value": clean}
    )


@transaction.atomic
def participant_set_attribute(
    *, actor: User, participant: Participant, attribute: ParticipantAttribute, value: str
) -> None:
    _require(actor, StudyAction.MANAGE, participant.study)
    if value.strip():
        _set_attribute(participant, attribute, value)
    else:
        ParticipantAttributeValue.objects.filter(
            participant=participant, attribute=attribute
        ).delete()
    _audit(actor, AuditAction.UPDATE, "participant", participant.pk, participant.study)


def _not_withdrawn(participant: Participant) -> None:
    if participant.withdrawn_at is not None:
        raise ValidationError(_("This participant has withdrawn; nothing more can be recorded."))


@transaction.atomic
def consent_record(
    *,
    actor: User,
    participant: Participant,
    form: StudyDocument,
    consented_on: datetime.date,
    method: str,
    permission_to_record: bool,
) -> Consent:
    study = participant.study
    _require(actor, StudyAction.MANAGE, study)
    _not_withdrawn(participant)
    errors: dict[str, list[str]] = {}
    if form.study_id != study.pk or form.kind != DocumentKind.CONSENT_FORM:
        errors["form"] = [_("Choose a version of this study's consent form.")]
    if consented_on > clock.today():
        errors["consented_on"] = [_("The consent date cannot be in the future.")]
    if Consent.objects.filter(participant=participant).exists():
        errors["participant"] = [_("Consent is already recorded for this participant.")]
    if errors:
        raise ValidationError(errors)
    consent = Consent(
        participant=participant,
        form=form,
        consented_on=consented_on,
        method=method,
        permission_to_record=permission_to_record,
        recorded_by=actor,
    )
    consent.full_clean()
    consent.save()
    _audit(actor, AuditAction.CREATE, "consent", consent.pk, study, f"form v{form.version}")
    return consent


def _consent_of(participant: Participant) -> Consent:
    consent = Consent.objects.filter(participant=participant).first()
    if consent is None:
        raise ValidationError(
            _(
                "Record this participant's consent before anything about their interview. "
                "Nothing was saved."
            )
        )
    return consent


@transaction.atomic
def interview_record(
    *,
    actor: User,
    participant: Participant,
    interviewed_on: datetime.date,
    mode: str,
    duration_minutes: int,
    interviewer: User,
) -> Interview:
    """Refused (and nothing saved) unless consent is recorded first: here and in the database."""
    study = participant.study
    _require(actor, StudyAction.MANAGE, study)
    _not_withdrawn(participant)
    consent = _consent_of(participant)
    errors: dict[str, list[str]] = {}
    if Interview.objects.filter(consent=consent).exists():
        errors["participant"] = [_("An interview is already recorded for this participant.")]
    if interviewed_on < consent.consented_on:
        errors["interviewed_on"] = [_("The interview cannot be before the consent date.")]
    if interviewed_on > clock.today():
        errors["interviewed_on"] = [_("The interview date cannot be in the future.")]
    if not StudyMember.objects.filter(study=study, user=interviewer).exists():
        errors["interviewer"] = [_("The interviewer must be on the study team.")]
    if errors:
        raise ValidationError(errors)
    interview = Interview(
        consent=consent,
        interviewed_on=interviewed_on,
        mode=mode,
        duration_minutes=duration_minutes,
        interviewer=interviewer,
    )
    interview.full_clean()
    interview.save()
    _audit(actor, AuditAction.CREATE, "interview", interview.pk, study)
    return interview


@transaction.atomic
def debrief_record(
    *,
    actor: User,
    participant: Participant,
    statement: StudyDocument,
    debriefed_on: datetime.date,
    resources_offered: str = "",
    services_offered: Sequence[Service] = (),
) -> Debrief:
    """The debrief, with the resources offered as free text and as directory services (only
    services the directory lists as active can be chosen)."""
    study = participant.study
    _require(actor, StudyAction.MANAGE, study)
    _not_withdrawn(participant)
    consent = _consent_of(participant)
    interview = Interview.objects.filter(consent=consent).first()
    if interview is None:
        raise ValidationError(_("Record the interview before the debrief."))
    errors: dict[str, list[str]] = {}
    if statement.study_id != study.pk or statement.kind != DocumentKind.DEBRIEF_STATEMENT:
        errors["statement"] = [_("Choose a version of this study's debrief statement.")]
    if debriefed_on < interview.interviewed_on:
        errors["debriefed_on"] = [_("The debrief cannot be before the interview.")]
    if debriefed_on > clock.today():
        errors["debriefed_on"] = [_("The debrief date cannot be in the future.")]
    if Debrief.objects.filter(interview=interview).exists():
        errors["participant"] = [_("A debrief is already recorded for this participant.")]
    chosen = {service.pk for service in services_offered}
    if chosen and Service.objects.filter(pk__in=chosen, status=ServiceStatus.ACTIVE).count() != len(
        chosen
    ):
        errors["services_offered"] = [
            _("Choose services the directory lists as active; search the directory again.")
        ]
    if errors:
        raise ValidationError(errors)
    debrief = Debrief(
        interview=interview,
        statement=statement,
        debriefed_on=debriefed_on,
        resources_offered=resources_offered.strip(),
        recorded_by=actor,
    )
    debrief.full_clean()
    debrief.save()
    if chosen:
        debrief.services_offered.set(chosen)
    _audit(
        actor,
        AuditAction.CREATE,
        "debrief",
        debrief.pk,
        study,
        f"{len(chosen)} directory services offered" if chosen else "",
    )
    return debrief


@transaction.atomic
def participant_withdraw(
    *, actor: User, participant: Participant, note: str = "", delete_transcripts: bool = False
) -> Participant:
    """Withdrawal: the participant's data leaves every analysis and export at once; their
    transcripts (and the coding on them) are deleted too when the researcher chooses so."""
    study = participant.study
    _require(actor, StudyAction.MANAGE, study)
    if participant.withdrawn_at is not None:
        raise ValidationError(_("This participant has already withdrawn."))
    participant.withdrawn_at = clock.now()
    participant.withdrawal_note = note.strip()[:500]
    participant.save(update_fields=["withdrawn_at", "withdrawal_note", "updated_at"])
    _audit(actor, AuditAction.REVOKE, "participant", participant.pk, study, "withdrawn")
    if delete_transcripts:
        for transcript in Transcript.objects.filter(participant=participant).only(
            "id", "study_id", "name"
        ):
            transcript_delete(actor=actor, transcript=transcript)
    return participant


# --------------------------------------------------------------------------- transcripts


@dataclass(frozen=True)
class Upload:
    """A file to import; ``participant`` None means: match the file name to a participant code."""

    filename: str
    content: bytes
    participant: Participant | None = None


def _match_participant(filename: str, participants: list[Participant]) -> Participant | None:
    stem = filename.rsplit("/", 1)[-1].lower()
    matches = [p for p in participants if stem.startswith(p.code.lower())]
    matches.sort(key=lambda p: -len(p.code))
    return matches[0] if matches else None


@transaction.atomic
def transcripts_import(*, actor: User, study: Study, uploads: Sequence[Upload]) -> list[Transcript]:
    """Import one or many files, all or nothing. Each transcript hangs off its participant's
    interview, so consent and interview must be recorded first."""
    _require(actor, StudyAction.MANAGE, study)
    if not uploads:
        raise ValidationError({"upload": _("Choose at least one file to import.")})
    if len(uploads) > MAX_FILES:
        raise ValidationError({"upload": _("Import at most 200 files at once.")})
    participants = list(
        Participant.objects.filter(study=study).select_related("consent__interview")
    )
    taken = set(Transcript.objects.filter(study=study).values_list("name", flat=True))
    errors: list[str] = []
    rows: list[Transcript] = []
    for upload in uploads:
        try:
            parsed = parse_file(upload.filename, upload.content)
        except TranscriptFileError as exc:
            errors.append(str(exc))
            continue
        participant = upload.participant or _match_participant(upload.filename, participants)
        if participant is None or participant.study_id != study.pk:
            errors.append(
                _(
                    "%(name)s: no participant matches this file; start the file name with "
                    "the participant's code (for example P01.vtt) or choose the participant."
                )
                % {"name": upload.filename}
            )
            continue
        if participant.withdrawn_at is not None:
            errors.append(
                _("%(name)s: participant %(code)s has withdrawn.")
                % {"name": upload.filename, "code": participant.code}
            )
            continue
        try:
            interview = participant.consent.interview
        except (Consent.DoesNotExist, Interview.DoesNotExist):
            errors.append(
                _(
                    "%(name)s: record consent and the interview for %(code)s before importing "
                    "the transcript."
                )
                % {"name": upload.filename, "code": participant.code}
            )
            continue
        name = parsed.name
        if name in taken:
            errors.append(
                _("%(name)s: a transcript with this name is already in the study.")
                % {"name": upload.filename}
            )
            continue
        taken.add(name)
        transcript = Transcript(
            study=study,
            interview=interview,
            participant=participant,
            name=name,
            source_format=parsed.source_format,
            text=parsed.text,
            char_count=len(parsed.text),
            imported_by=actor,
        )
        # The related rows were just read in this transaction: validating each foreign key
        # again would cost four queries a file (400 for a 100-file import).
        transcript.full_clean(
            exclude=["study", "interview", "participant", "imported_by"],
            validate_unique=False,
            validate_constraints=False,
        )
        rows.append(transcript)
    if errors:
        raise ValidationError({"upload": errors})
    created = Transcript.objects.bulk_create(rows)
    TranscriptChunk.objects.bulk_create(
        [chunk for transcript in created for chunk in chunks_for(transcript)], batch_size=500
    )
    _audit(actor, AuditAction.CREATE, "transcript", len(created), study, f"{len(created)} imported")
    return created


@transaction.atomic
def transcript_delete(*, actor: User, transcript: Transcript) -> None:
    """Delete a transcript with its coding and memos (offered on withdrawal)."""
    study = Study.objects.get(pk=transcript.study_id)
    _require(actor, StudyAction.MANAGE, study)
    _audit(actor, AuditAction.REVOKE, "transcript", transcript.pk, study, "deleted")
    CodingAction.objects.filter(transcript_id=transcript.pk).delete()
    Transcript.objects.filter(pk=transcript.pk).delete()
    # Redaction keys that no transcript or memo uses any more go too: their originals came
    # from it (its memos went with it).
    gone, _kinds = RedactionKey.objects.filter(
        study=study, transcripts__isnull=True, memos__isnull=True
    ).delete()
    if gone:
        _audit(actor, AuditAction.REVOKE, "redactionkey", gone, study, f"{gone} unused keys")


# --------------------------------------------------------------------------- codebook


def _level_allows(parent: Code | None, level: str) -> bool:
    if parent is None:
        return True
    if parent.level == CodeLevel.CODE and level == CodeLevel.CODE:
        return True  # sub-codes
    return LEVEL_DEPTH[CodeLevel(parent.level)] < LEVEL_DEPTH[CodeLevel(level)]


def _hierarchy_error(parent: Code | None, level: str) -> ValidationError:
    return ValidationError(
        {
            "parent": _(
                "A %(level)s cannot sit under a %(parent)s: themes hold categories, "
                "categories hold codes."
            )
            % {
                "level": CodeLevel(level).label,
                "parent": CodeLevel(parent.level).label if parent else "",
            }
        }
    )


def _next_colour(study: Study) -> str:
    return colours.palette_colour(Code.objects.filter(study=study).count())


@transaction.atomic
def code_create(
    *,
    actor: User,
    study: Study,
    name: str,
    level: str = CodeLevel.CODE,
    parent: Code | None = None,
    color: str = "",
    description: str = "",
    inclusion_criteria: str = "",
    exclusion_criteria: str = "",
    example: str = "",
) -> Code:
    _require(actor, StudyAction.MANAGE, study)
    if parent is not None and parent.study_id != study.pk:
        raise ValidationError({"parent": _("Choose a parent from this study's codebook.")})
    if level not in CodeLevel.values:
        raise ValidationError({"level": _("Choose theme, category or code.")})
    if not _level_allows(parent, level):
        raise _hierarchy_error(parent, level)
    try:
        colour = colours.normalise_hex(color) if color else _next_colour(study)
    except ValueError as exc:
        raise ValidationError({"color": _("Give the colour as #RRGGBB.")}) from exc
    if Code.objects.filter(study=study, parent=parent, name__iexact=name.strip()).exists():
        raise ValidationError({"name": _("A code with this name is already there.")})
    code = Code(
        study=study,
        parent=parent,
        level=level,
        name=name.strip(),
        color=colour,
        description=description.strip(),
        inclusion_criteria=inclusion_criteria.strip(),
        exclusion_criteria=exclusion_criteria.strip(),
        example=example.strip(),
        position=Code.objects.filter(study=study, parent=parent).count(),
    )
    code.full_clean()
    code.save()
    _audit(actor, AuditAction.CREATE, "code", code.pk, study)
    return code


_CODE_EDITABLE = (
    "name",
    "color",
    "description",
    "inclusion_criteria",
    "exclusion_criteria",
    "example",
)


@transaction.atomic
def code_update(*, actor: User, code: Code, **changes: Any) -> Code:
    study = code.study
    _require(actor, StudyAction.MANAGE, study)
    unknown = set(changes) - set(_CODE_EDITABLE)
    if unknown:
        raise ValueError(f"Not editable: {sorted(unknown)}")
    if "color" in changes:
        try:
            changes["color"] = colours.normalise_hex(changes["color"])
        except ValueError as exc:
            raise ValidationError({"color": _("Give the colour as #RRGGBB.")}) from exc
    for name, value in changes.items():
        setattr(code, name, value.strip() if isinstance(value, str) else value)
    code.full_clean()
    code.save(update_fields=[*changes, "updated_at"])
    _audit(actor, AuditAction.UPDATE, "code", code.pk, study, "changed: " + ", ".join(changes))
    return code


def _descendant_ids(code: Code) -> set[int]:
    """The ids of every code below ``code`` (one query for the study's tree)."""
    children: dict[int | None, list[int]] = {}
    for pk, parent_id in Code.objects.filter(study_id=code.study_id).values_list("id", "parent_id"):
        children.setdefault(parent_id, []).append(pk)
    found: set[int] = set()
    stack = list(children.get(code.pk, []))
    while stack:
        pk = stack.pop()
        if pk not in found:
            found.add(pk)
            stack.extend(children.get(pk, []))
    return found


def _siblings(study: Study, parent_id: int | None, without: int) -> list[Code]:
    """A parent's codes in codebook order, leaving one out (the code being moved)."""
    return list(
        Code.objects.filter(study=study, parent_id=parent_id)
        .exclude(pk=without)
        .order_by("position", "name", "pk")
        .only("id", "position")
    )


def _place(code: Code, parent: Code | None, position: int | None) -> None:
    """Put ``code`` under ``parent`` at ``position`` (None: last) and number both its old and
    its new siblings 0, 1, 2... so that "position" means the place the user chose."""
    study = code.study
    old_parent_id = code.parent_id
    new_parent_id = parent.pk if parent else None
    siblings = _siblings(study, new_parent_id, code.pk)
    index = len(siblings) if position is None else max(0, min(position, len(siblings)))
    code.parent = parent
    code.position = index
    code.full_clean()
    code.save(update_fields=["parent", "position", "updated_at"])
    groups = [siblings[:index] + [code] + siblings[index:]]
    if old_parent_id != new_parent_id:
        groups.append(_siblings(study, old_parent_id, code.pk))
    changed = []
    for group in groups:
        for number, sibling in enumerate(group):
            if sibling is not code and sibling.position != number:
                sibling.position = number
                changed.append(sibling)
    if changed:
        Code.objects.bulk_update(changed, ["position"])


def _check_parent(code: Code, parent: Code | None) -> None:
    if parent is not None:
        if parent.study_id != code.study_id:
            raise ValidationError({"parent": _("Choose a parent from this study's codebook.")})
        if parent.pk == code.pk or parent.pk in _descendant_ids(code):
            raise ValidationError(
                {"parent": _("A code cannot move under itself or its own codes.")}
            )
    if not _level_allows(parent, code.level):
        raise _hierarchy_error(parent, code.level)


@transaction.atomic
def code_move(*, actor: User, code: Code, parent: Code | None, position: int | None = None) -> Code:
    """Reorganise: put a code under another parent (or at the top), at a position among its
    new siblings (0 is first; None or past the end: last). Logged in the coding action log, so
    the mover can undo it (``coding_undo`` with ``moves=True``)."""
    study = code.study
    _require(actor, StudyAction.MANAGE, study)
    _check_parent(code, parent)
    from_parent_id = code.parent_id
    from_index = [c.pk for c in _siblings(study, from_parent_id, -1)].index(code.pk)
    _place(code, parent, position)
    if code.parent_id == from_parent_id and code.position == from_index:
        return code  # dropped where it was: nothing to log or undo
    CodingAction.objects.create(
        study=study,
        actor=actor,
        kind=CodingActionKind.MOVE,
        code=code,
        start=0,
        end=0,
        from_parent_id=from_parent_id,
        from_position=from_index,
        created_at=clock.now(),
    )
    _audit(
        actor,
        AuditAction.UPDATE,
        "code",
        code.pk,
        study,
        f"moved under {code.parent_id or 'top'} at {code.position}",
    )
    return code


@transaction.atomic
def code_merge(*, actor: User, source: Code, target: Code) -> Code:
    """Merge ``source`` into ``target``: its codings, memos and sub-codes move; it is deleted."""
    study = source.study
    _require(actor, StudyAction.MANAGE, study)
    if source.pk == target.pk or target.study_id != study.pk:
        raise ValidationError({"target": _("Choose another code of this study to merge into.")})
    if target.pk in _descendant_ids(source):
        raise ValidationError({"target": _("A code cannot merge into one of its own codes.")})
    children = list(Code.objects.filter(parent=source))
    for child in children:
        if not _level_allows(target, child.level):
            raise _hierarchy_error(target, child.level)
    already = set(SegmentCode.objects.filter(code=target).values_list("segment_id", flat=True))
    SegmentCode.objects.filter(code=source, segment_id__in=already).delete()
    moved = SegmentCode.objects.filter(code=source).update(code=target)
    Memo.objects.filter(code=source).update(code=target)
    # A move of the source is not the target's to undo.
    CodingAction.objects.filter(code=source, kind=CodingActionKind.MOVE).delete()
    CodingAction.objects.filter(code=source).update(code=target)
    Code.objects.filter(parent=source).update(parent=target)
    _audit(
        actor,
        AuditAction.UPDATE,
        "code",
        target.pk,
        study,
        f"merged code {source.pk} ({moved} codings)",
    )
    source.delete()
    return target


@transaction.atomic
def code_split(*, actor: User, code: Code, new_name: str, segment_ids: Sequence[int]) -> Code:
    """Split: a new sibling code takes the chosen segments' codings from ``code``."""
    study = code.study
    _require(actor, StudyAction.MANAGE, study)
    if not segment_ids:
        raise ValidationError({"segments": _("Choose the segments that go to the new code.")})
    own = set(
        SegmentCode.objects.filter(code=code, segment_id__in=segment_ids).values_list(
            "segment_id", flat=True
        )
    )
    if own != set(segment_ids):
        raise ValidationError({"segments": _("Choose only segments coded with this code.")})
    new = code_create(
        actor=actor,
        study=study,
        name=new_name,
        level=code.level,
        parent=code.parent,
        description=code.description,
    )
    SegmentCode.objects.filter(code=code, segment_id__in=own).update(code=new)
    _audit(actor, AuditAction.UPDATE, "code", code.pk, study, f"split into {new.pk}")
    return new


@dataclass
class ImportedCode:
    """A code read from a CSV or REFI-QDA codebook, before it is saved."""

    name: str
    guid: str = ""
    parent_key: str = ""
    key: str = ""
    color: str = ""
    description: str = ""
    inclusion_criteria: str = ""
    exclusion_criteria: str = ""
    example: str = ""
    level: str = ""
    children: list[ImportedCode] = field(default_factory=list)
    note_keys: list[str] = field(default_factory=list)  # REFI-QDA notes on the code


def _add_codes(
    actor: User, study: Study, codes: Sequence[ImportedCode], reuse_guids: bool = False
) -> tuple[list[Code], dict[int, Code]]:
    """Save a forest of ImportedCode; returns the new codes and id(ImportedCode) -> Code."""
    created: list[Code] = []
    mapping: dict[int, Code] = {}
    existing = {str(c.guid): c for c in Code.objects.filter(study=study)}
    count = len(existing)
    default_levels = [CodeLevel.THEME, CodeLevel.CATEGORY, CodeLevel.CODE]

    def add(item: ImportedCode, parent: Code | None, depth: int, position: int) -> None:
        nonlocal count
        if reuse_guids and item.guid and item.guid in existing:
            code = existing[item.guid]
            mapping[id(item)] = code
            for index, child in enumerate(item.children):
                add(child, code, depth + 1, index)
            return
        level = item.level or default_levels[min(depth, 2)]
        if not _level_allows(parent, level):
            level = CodeLevel.CODE
        try:
            colour = colours.normalise_hex(item.color) if item.color else ""
        except ValueError:
            colour = ""
        code = Code(
            study=study,
            parent=parent,
            level=level,
            name=item.name.strip()[:200] or _("(unnamed code)"),
            color=colour or colours.palette_colour(count),
            description=item.description.strip(),
            inclusion_criteria=item.inclusion_criteria.strip(),
            exclusion_criteria=item.exclusion_criteria.strip(),
            example=item.example.strip(),
            position=position,
        )
        if item.guid and item.guid not in existing:
            code.guid = uuid.UUID(item.guid)
        code.full_clean(validate_unique=False, validate_constraints=False)
        code.save()
        existing[str(code.guid)] = code
        count += 1
        created.append(code)
        mapping[id(item)] = code
        for index, child in enumerate(item.children):
            add(child, code, depth + 1, index)

    offset = Code.objects.filter(study=study, parent=None).count()
    for index, item in enumerate(codes):
        add(item, None, 0, offset + index)
    return created, mapping


@transaction.atomic
def codebook_import(*, actor: User, study: Study, codes: Sequence[ImportedCode]) -> list[Code]:
    """Add a codebook (a forest of ImportedCode) to the study, all or nothing. Levels follow the
    depth (theme, category, code) unless given; a GUID already in the study gets a new one."""
    _require(actor, StudyAction.MANAGE, study)
    if not codes:
        raise ValidationError(_("The codebook has no codes."))
    created, _mapping = _add_codes(actor, study, codes)
    _audit(actor, AuditAction.CREATE, "code", len(created), study, f"{len(created)} imported")
    return created


@dataclass
class ProjectImportResult:
    codes: int
    transcripts: int
    segments: int
    assumptions: list[str]
    dropped: list[str]
    memos: int = 0


def _import_memos(
    actor: User,
    study: Study,
    project: Any,
    targets: Sequence[tuple[str, dict[str, Any]]],
    members: dict[str, User],
    assumptions: list[str],
    dropped: list[str],
) -> int:
    """REFI-QDA notes become memos on what refers to them (a code, a transcript, a segment),
    keeping their dates; by the team member the note names as its author, else the importer.
    A note already on a reused code (same author, date and words) is not added twice."""
    now = clock.now()
    seen = {
        (memo.code_id, memo.author_id, memo.created_at, memo.body)
        for memo in Memo.objects.filter(study=study, code__isnull=False)
    }
    memos: list[Memo] = []
    dates: list[tuple[datetime.datetime, datetime.datetime]] = []
    missing: set[str] = set()
    attributed = False
    for key, target in targets:
        note = project.notes.get(key)
        if note is None:
            missing.add(key)
            continue
        author = members.get(project.users.get(note.user_key, ""))
        if author is None:
            author, attributed = actor, True
        created = note.created or now
        if "code" in target and (target["code"].pk, author.pk, created, note.text) in seen:
            continue
        memos.append(Memo(study=study, author=author, body=note.text, **target))
        dates.append((created, note.modified or created))
    Memo.objects.bulk_create(memos)
    # bulk_create stamps "now" on the automatic dates; bulk_update puts the notes' own back.
    for memo, (created, modified) in zip(memos, dates, strict=True):
        memo.created_at, memo.updated_at = created, modified
    Memo.objects.bulk_update(memos, ["created_at", "updated_at"], batch_size=500)
    if missing:
        dropped.append(
            _("%(n)s references to notes that are not in the project were left out.")
            % {"n": len(missing)}
        )
    if attributed:
        assumptions.append(
            _("Memos by people who are not on the study team were attributed to you, the importer.")
        )
    return len(memos)


@transaction.atomic
def project_import(*, actor: User, study: Study, project: Any) -> ProjectImportResult:
    """Import a read REFI-QDA project (``refi.ImportedProject``) into the study, all or nothing.

    Codes whose GUID the study already has are reused. Each text source goes to the participant
    whose code starts its name, who must have consented and been interviewed; other sources
    are left out and reported. Coding is attributed to the team member whose user name the
    project names as its coder, else to the importer."""
    _require(actor, StudyAction.MANAGE, study)
    assumptions = list(project.report.assumptions)
    dropped = list(project.report.dropped)
    created, mapping = _add_codes(actor, study, project.codes, reuse_guids=True)
    by_key = {
        key: mapping[id(item)] for key, item in project.code_keys.items() if id(item) in mapping
    }
    members = {
        m.user.username: m.user
        for m in StudyMember.objects.filter(study=study).select_related("user")
    }
    participants = list(
        Participant.objects.filter(study=study).select_related("consent__interview")
    )
    taken_names = set(Transcript.objects.filter(study=study).values_list("name", flat=True))
    taken_guids = {
        str(g) for g in Transcript.objects.filter(study=study).values_list("guid", flat=True)
    }
    transcripts = segments = 0
    attributed_to_importer = False
    memo_targets: list[tuple[str, dict[str, Any]]] = []

    def code_notes(items: Sequence[ImportedCode]) -> None:
        for item in items:
            if id(item) in mapping:
                memo_targets.extend((key, {"code": mapping[id(item)]}) for key in item.note_keys)
            code_notes(item.children)

    code_notes(project.codes)
    for source in project.sources:
        participant = _match_participant(source.name, participants)
        interview = None
        if participant is not None and participant.withdrawn_at is None:
            try:
                interview = participant.consent.interview
            except (Consent.DoesNotExist, Interview.DoesNotExist):
                interview = None
        if interview is None or participant is None:
            dropped.append(
                _(
                    "Source %(name)s: no participant with a recorded consent and interview has a "
                    "code that starts its name."
                )
                % {"name": source.name}
            )
            continue
        if source.name in taken_names:
            dropped.append(
                _("Source %(name)s: the study already has a transcript of this name.")
                % {"name": source.name}
            )
            continue
        transcript = Transcript(
            study=study,
            interview=interview,
            participant=participant,
            name=source.name,
            source_format=TranscriptFormat.QDPX,
            text=source.text,
            char_count=len(source.text),
            imported_by=actor,
        )
        if source.guid and source.guid not in taken_guids:
            transcript.guid = uuid.UUID(source.guid)
        transcript.full_clean(validate_unique=False, validate_constraints=False)
        transcript.save()
        TranscriptChunk.objects.bulk_create(chunks_for(transcript))
        taken_names.add(source.name)
        taken_guids.add(str(transcript.guid))
        transcripts += 1
        memo_targets.extend((key, {"transcript": transcript}) for key in source.note_keys)
        for selection in source.selections:
            coder_name = project.users.get(selection.user_key, "")
            coder = members.get(coder_name)
            if coder is None:
                coder, attributed_to_importer = actor, True
            codes = [by_key[k] for k in selection.code_keys if k in by_key]
            if not codes or selection.end > transcript.char_count:
                continue
            segment, _added, _present = _apply(
                coder, transcript, selection.start, selection.end, codes
            )
            segments += 1
            memo_targets.extend((key, {"segment": segment}) for key in selection.note_keys)
    if attributed_to_importer:
        assumptions.append(
            _("Coding by people who are not on the study team was attributed to you, the importer.")
        )
    memos = _import_memos(actor, study, project, memo_targets, members, assumptions, dropped)
    _audit(
        actor,
        AuditAction.CREATE,
        "project_import",
        transcripts,
        study,
        f"{len(created)} codes, {transcripts} transcripts, {segments} segments, {memos} memos",
    )
    return ProjectImportResult(len(created), transcripts, segments, assumptions, dropped, memos)


# --------------------------------------------------------------------------- coding


def _check_range(transcript: Transcript, start: int, end: int) -> None:
    if start < 0 or end <= start or end > transcript.char_count:
        raise ValidationError(
            {
                "start": _("Select text inside the transcript (from %(lo)s to %(hi)s characters).")
                % {"lo": 0, "hi": transcript.char_count}
            }
        )


def _log(actor: User, kind: str, transcript: Transcript, code: Code, start: int, end: int) -> None:
    CodingAction.objects.create(
        study_id=transcript.study_id,
        actor=actor,
        kind=kind,
        transcript=transcript,
        code=code,
        start=start,
        end=end,
        created_at=clock.now(),
    )


def chunks_for(transcript: Transcript) -> list[TranscriptChunk]:
    """The transcript's text cut into encrypted chunks (saved by the callers in bulk)."""
    size = TranscriptChunk.CHUNK_SIZE
    text = transcript.text
    return [
        TranscriptChunk(
            transcript=transcript, start=i, end=min(i + size, len(text)), text=text[i : i + size]
        )
        for i in range(0, len(text), size)
    ]


def _quote(transcript_id: int, start: int, end: int) -> str:
    """The words at [start, end), from the one or two chunks that hold them."""
    pieces = sorted(
        TranscriptChunk.objects.filter(
            transcript_id=transcript_id, start__lt=end, end__gt=start
        ).values_list("start", "text")
    )
    text = "".join(chunk for _s, chunk in pieces)
    first = pieces[0][0] if pieces else 0
    return text[start - first : end - first]


def _new_segment(
    transcript: Transcript,
    actor: User,
    start: int,
    end: int,
    quote: str | None,
    now: datetime.datetime,
) -> Segment:
    """An unsaved segment of the actor's on [start, end), its quote read if not given."""
    return Segment(
        study_id=transcript.study_id,
        transcript=transcript,
        start=start,
        end=end,
        coder=actor,
        quote=_quote(transcript.pk, start, end) if quote is None else quote,
        created_at=now,
    )


def _words(
    start: int,
    end: int,
    first_start: int,
    first_text: str | None,
    last_start: int,
    last_text: str | None,
) -> str | None:
    """The words at [start, end) from the chunk that starts at ``first_start`` and the one at
    ``last_start`` (the same one, or its neighbour); None when they do not hold the whole
    range (longer than two chunks, or not read): the caller then reads every chunk it needs."""
    if first_text is None or last_text is None:
        return None
    if first_start == last_start:
        text = first_text
    elif last_start == first_start + len(first_text):
        text = first_text + last_text
    else:
        return None
    if end - first_start > len(text):
        return None
    return text[start - first_start : end - first_start]


def _apply(
    actor: User,
    transcript: Transcript,
    start: int,
    end: int,
    codes: Sequence[Code],
    known: tuple[int | None, str | None] | None = None,
) -> tuple[Segment, list[Code], set[int]]:
    """``known``: the id of the actor's segment on exactly this range (None: there is none)
    and its words (None: not read yet), when the caller has read them already."""
    now = clock.now()
    if known is None:
        segment = Segment.objects.filter(
            transcript=transcript, coder=actor, start=start, end=end
        ).first()
        quote = None
    else:
        segment_id, quote = known
        segment = None if segment_id is None else Segment.objects.get(pk=segment_id)
    if segment is None:
        segment = _new_segment(transcript, actor, start, end, quote, now)
        segment.save(force_insert=True)
        present: set[int] = set()
    else:
        present = set(SegmentCode.objects.filter(segment=segment).values_list("code_id", flat=True))
    added = [code for code in codes if code.pk not in present]
    SegmentCode.objects.bulk_create(
        [SegmentCode(segment=segment, code=code, created_at=now) for code in added]
    )
    return segment, added, present | {code.pk for code in added}


def segment_apply(
    *, actor: User, transcript: Transcript, start: int, end: int, codes: Sequence[Code]
) -> Segment:
    """Apply codes to [start, end) of a transcript (code points); see segment_apply_codes."""
    segment, _code_ids = segment_apply_codes(
        actor=actor, transcript=transcript, start=start, end=end, codes=codes
    )
    return segment


# The actor's team role, the participant's withdrawal, the actor's segment on exactly this
# range if there is one, and the chunks that hold the range's first and last code points (its
# words). Plain SQL that SQLite and PostgreSQL both accept; every value a parameter.
_APPLY_SQL = (
    'SELECT (SELECT m."role" FROM "research_studymember" m '
    'WHERE m."study_id" = %s AND m."user_id" = %s), '
    'p."withdrawn_at" IS NOT NULL, '
    '(SELECT sg."id" FROM "research_segment" sg WHERE sg."transcript_id" = %s '
    'AND sg."coder_id" = %s AND sg."start" = %s AND sg."end" = %s), '
    '(SELECT c."text" FROM "research_transcriptchunk" c '
    'WHERE c."transcript_id" = %s AND c."start" = %s), '
    '(SELECT c."text" FROM "research_transcriptchunk" c '
    'WHERE c."transcript_id" = %s AND c."start" = %s) '
    'FROM "research_participant" p WHERE p."id" = %s'
)


def _coding_read(actor: User, transcript: Transcript, start: int, end: int) -> CodingContext:
    """The ``CodingContext`` for [start, end) in one query, _APPLY_SQL (when the caller has not
    read it with the transcript). Chunks start at multiples of CHUNK_SIZE (chunks_for), so each
    is found by its start in the unique index."""
    first_start, last_start = chunk_starts(start, end)
    with connection.cursor() as cursor:
        cursor.execute(
            _APPLY_SQL,
            [
                transcript.study_id,
                actor.pk,
                transcript.pk,
                actor.pk,
                start,
                end,
                transcript.pk,
                first_start,
                transcript.pk,
                last_start,
                transcript.participant_id,
            ],
        )
        row = cursor.fetchone()
    role, withdrawn, segment_id, first_raw, last_raw = row or (None, False, None, None, None)
    chunk_text = TranscriptChunk._meta.get_field("text")
    first_text = chunk_text.from_db_value(first_raw, None, connection)
    return CodingContext(
        actor_id=actor.pk,
        transcript_id=transcript.pk,
        start=start,
        end=end,
        role=role,
        withdrawn=bool(withdrawn),
        segment_id=segment_id,
        first_start=first_start,
        first_text=first_text,
        last_start=last_start,
        last_text=first_text
        if last_start == first_start
        else chunk_text.from_db_value(last_raw, None, connection),
    )


@transaction.atomic
def segment_apply_codes(
    *,
    actor: User,
    transcript: Transcript,
    start: int,
    end: int,
    codes: Sequence[Code],
    context: CodingContext | None = None,
) -> tuple[Segment, list[int]]:
    """Apply codes to [start, end) of a transcript (code points); returns the segment and all
    its code ids. Reads the transcript's length and the one or two chunks under the range,
    never the whole encrypted text, so the cost does not grow with the transcript.

    ``context``: what ``selectors.transcript_and_codes_for_coding`` read for this actor,
    transcript and range in the statement that found the transcript (a round trip fewer on
    PostgreSQL); every check below runs on it all the same. Read here when absent or not for
    this actor, transcript and range."""
    study_id = transcript.study_id
    if not (0 <= start <= transcript.char_count and 0 < end <= transcript.char_count):
        _check_range(transcript, start, end)  # before the query: such a position cannot bind
    if context is None or (context.actor_id, context.transcript_id, context.start, context.end) != (
        actor.pk,
        transcript.pk,
        start,
        end,
    ):
        context = _coding_read(actor, transcript, start, end)
    if not access_for_role(actor, context.role).allows(StudyAction.CODE):
        raise PermissionDenied
    if not codes:
        raise ValidationError({"codes": _("Choose at least one code to apply.")})
    if any(code.study_id != study_id for code in codes):
        raise ValidationError({"codes": _("Choose codes from this study's codebook.")})
    _check_range(transcript, start, end)
    if context.withdrawn:
        raise ValidationError(
            _("This participant has withdrawn; their transcript cannot be coded.")
        )
    quote = _words(
        start,
        end,
        context.first_start,
        context.first_text,
        context.last_start,
        context.last_text,
    )
    now = clock.now()
    if context.segment_id is None and connection.vendor == "postgresql":
        # A new segment (the usual case): the segment, its codings and their undo entries in
        # one statement, not three round trips.
        segment, added, code_ids = _apply_new_in_one_statement(
            actor, transcript, start, end, codes, quote, now
        )
    else:
        segment, added, code_ids = _apply(
            actor, transcript, start, end, codes, known=(context.segment_id, quote)
        )
        CodingAction.objects.bulk_create(
            [
                CodingAction(
                    study_id=study_id,
                    actor=actor,
                    kind=CodingActionKind.APPLY,
                    transcript=transcript,
                    code=code,
                    start=start,
                    end=end,
                    created_at=now,
                )
                for code in added
            ]
        )
    record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="research.segment",
        object_id=segment.pk,
        category=CATEGORY,
        reason=f"study {study_id}: codes {','.join(str(c.pk) for c in added)}"[:500],
    )
    return segment, sorted(code_ids)


# PostgreSQL only (SQLite has no data-modifying WITH): the new segment, a coding per code and
# an undo entry per code, in the codes' order (the undo entries' ids follow it, as
# ``bulk_create``'s do). Every value a parameter; the code ids as one bigint array.
_APPLY_NEW_SQL = (
    'WITH sg AS (INSERT INTO "research_segment" ("study_id", "transcript_id", "start", "end", '
    '"coder_id", "is_exemplar", "quote", "created_at") VALUES (%s, %s, %s, %s, %s, false, %s, %s) '
    'RETURNING "id"), '
    'sc AS (INSERT INTO "research_segmentcode" ("segment_id", "code_id", "created_at") '
    'SELECT sg."id", x.code_id, %s FROM sg CROSS JOIN '
    "unnest(%s::bigint[]) WITH ORDINALITY AS x(code_id, n) ORDER BY x.n), "
    'ca AS (INSERT INTO "research_codingaction" ("study_id", "actor_id", "kind", '
    '"transcript_id", "code_id", "start", "end", "created_at") '
    "SELECT %s, %s, %s, %s, x.code_id, %s, %s, %s "
    "FROM unnest(%s::bigint[]) WITH ORDINALITY AS x(code_id, n) ORDER BY x.n) "
    'SELECT "id" FROM sg'
)


def _apply_new_in_one_statement(
    actor: User,
    transcript: Transcript,
    start: int,
    end: int,
    codes: Sequence[Code],
    quote: str | None,
    now: datetime.datetime,
) -> tuple[Segment, list[Code], set[int]]:
    """``_apply`` for a range the actor has no segment on yet, plus its undo entries."""
    added = list({code.pk: code for code in codes}.values())
    segment = _new_segment(transcript, actor, start, end, quote, now)
    fields = {f.attname: f for f in Segment._meta.concrete_fields}
    ids = [code.pk for code in added]
    with connection.cursor() as cursor:
        cursor.execute(
            _APPLY_NEW_SQL,
            [
                segment.study_id,
                segment.transcript_id,
                start,
                end,
                actor.pk,
                fields["quote"].get_db_prep_save(segment.quote, connection),
                fields["created_at"].get_db_prep_save(now, connection),
                now,
                ids,
                segment.study_id,
                actor.pk,
                str(CodingActionKind.APPLY),
                transcript.pk,
                start,
                end,
                now,
                ids,
            ],
        )
        segment.pk = cursor.fetchone()[0]
    segment._state.adding = False
    segment._state.db = connection.alias
    return segment, added, set(ids)


def _remove(segment: Segment, code: Code) -> bool:
    deleted, _kinds = SegmentCode.objects.filter(segment=segment, code=code).delete()
    if not SegmentCode.objects.filter(segment=segment).exists():
        Segment.objects.filter(pk=segment.pk).delete()
    return bool(deleted)


@transaction.atomic
def segment_remove_code(*, actor: User, segment: Segment, code: Code) -> None:
    """Take one code off a segment (the segment goes when no code is left). A coder changes
    only their own coding; the lead may change anyone's."""
    study = Study(pk=segment.study_id)
    if not can(actor, StudyAction.CODE, study):
        raise PermissionDenied
    if segment.coder_id != actor.pk and not can(actor, StudyAction.MANAGE, study):
        raise PermissionDenied
    transcript = Transcript(pk=segment.transcript_id, study_id=segment.study_id)
    if _remove(segment, code):
        _log(actor, CodingActionKind.REMOVE, transcript, code, segment.start, segment.end)
    record(
        actor=actor,
        action=AuditAction.REVOKE,
        object_type="research.segment",
        object_id=segment.pk,
        category=CATEGORY,
        reason=f"study {segment.study_id}: code {code.pk} removed",
    )


@transaction.atomic
def segment_set_exemplar(*, actor: User, segment: Segment, is_exemplar: bool) -> Segment:
    study = Study(pk=segment.study_id)
    _require(actor, StudyAction.CODE, study)
    segment.is_exemplar = is_exemplar
    segment.save(update_fields=["is_exemplar"])
    _audit(actor, AuditAction.UPDATE, "segment", segment.pk, study, f"exemplar={is_exemplar}")
    return segment


@transaction.atomic
def coding_undo(*, actor: User, study: Study, moves: bool = False) -> CodingAction | None:
    """Undo the actor's latest coding action in the study (apply or remove), or with
    ``moves`` their latest codebook move; None if none left. The two are separate histories:
    the transcript page's undo never reorganises the codebook, nor the codebook's a coding."""
    _require(actor, StudyAction.MANAGE if moves else StudyAction.CODE, study)
    kinds = [CodingActionKind.MOVE] if moves else [CodingActionKind.APPLY, CodingActionKind.REMOVE]
    action = (
        # of=self: a move has no transcript (an outer join), which PostgreSQL cannot lock
        CodingAction.objects.select_for_update(of=("self",))
        .filter(study=study, actor=actor, undone_at__isnull=True, kind__in=kinds)
        .select_related("code", "transcript", "code__study")
        .first()
    )
    if action is None:
        return None
    transcript = action.transcript
    if action.kind == CodingActionKind.MOVE:
        back = action.from_parent
        _check_parent(action.code, back)
        _place(action.code, back, action.from_position)
    elif action.kind == CodingActionKind.APPLY:
        assert transcript is not None  # noqa: S101  (a database check)
        segment = Segment.objects.filter(
            transcript=transcript, coder=actor, start=action.start, end=action.end
        ).first()
        if segment is not None:
            _remove(segment, action.code)
    else:
        assert transcript is not None  # noqa: S101  (a database check)
        _apply(actor, transcript, action.start, action.end, [action.code])
    action.undone_at = clock.now()
    action.save(update_fields=["undone_at"])
    _audit(actor, AuditAction.UPDATE, "codingaction", action.pk, study, f"undid {action.kind}")
    return action


@transaction.atomic
def memo_add(
    *,
    actor: User,
    study: Study,
    body: str,
    code: Code | None = None,
    transcript: Transcript | None = None,
    segment: Segment | None = None,
) -> Memo:
    _require(actor, StudyAction.CODE, study)
    targets = [t for t in (code, transcript, segment) if t is not None]
    if len(targets) != 1:
        raise ValidationError(_("A memo is about one code, transcript or segment."))
    if targets[0].study_id != study.pk:
        raise ValidationError(_("That belongs to another study."))
    if not body.strip():
        raise ValidationError({"body": _("Write the memo before saving it.")})
    memo = Memo(
        study=study,
        author=actor,
        body=body.strip(),
        code=code,
        transcript=transcript,
        segment=segment,
    )
    memo.full_clean()
    memo.save()
    _audit(actor, AuditAction.CREATE, "memo", memo.pk, study)
    return memo


# --------------------------------------------------------------------------- redaction

MAX_REDACTIONS = 5000
# Segments move out of the way before taking their new offsets, so that the unique range per
# coder never clashes half-way through the update (transcripts are far shorter than this).
_PARKING_OFFSET = 1_000_000_000


@dataclass(frozen=True)
class RedactionChoice:
    """A stretch [start, end) of the transcript (or, with ``memo``, of that memo's text), in
    code points, to replace, and its kind."""

    start: int
    end: int
    kind: str
    memo: int | None = None


@dataclass(frozen=True)
class RedactionResult:
    replaced: int
    placeholders: list[str]
    new_keys: int
    segments_changed: int
    segments_merged: int


def _check_redactions(text: str, choices: Sequence[RedactionChoice]) -> list[RedactionChoice]:
    if not choices:
        raise ValidationError(_("Confirm at least one suggestion, or add words by hand."))
    if len(choices) > MAX_REDACTIONS:
        raise ValidationError(_("Redact at most %(n)s stretches at once.") % {"n": MAX_REDACTIONS})
    unique = sorted(set(choices), key=lambda c: (c.start, c.end, c.kind))
    errors: list[str] = []
    for choice in unique:
        original = text[choice.start : choice.end] if 0 <= choice.start < choice.end else ""
        where = {"a": choice.start, "b": choice.end}
        if choice.kind not in RedactionKind.values:
            errors.append(_("Characters %(a)s–%(b)s: choose what kind of words they are.") % where)
        elif choice.start < 0 or choice.end > len(text) or not original.strip():
            errors.append(_("Characters %(a)s–%(b)s are not words of this transcript.") % where)
        elif original != original.strip() or "\n" in original:
            errors.append(
                _("Characters %(a)s–%(b)s: a redaction starts and ends on a word, in one line.")
                % where
            )
        elif len(original) > redaction.MAX_ORIGINAL_LENGTH:
            errors.append(
                _("Characters %(a)s–%(b)s: redact at most %(n)s characters at a time.")
                % {**where, "n": redaction.MAX_ORIGINAL_LENGTH}
            )
        elif redaction.is_placeholder_overlap(text, choice.start, choice.end):
            errors.append(_("Characters %(a)s–%(b)s are already redacted.") % where)
    for before, after in zip(unique, unique[1:], strict=False):
        if after.start < before.end:
            errors.append(
                _("Characters %(a)s–%(b)s and %(c)s–%(d)s overlap: keep one of them.")
                % {"a": before.start, "b": before.end, "c": after.start, "d": after.end}
            )
    if errors:
        raise ValidationError(errors)
    return unique


def _keys_for(
    actor: User, study: Study, text: str, choices: Sequence[RedactionChoice]
) -> tuple[list[RedactionKey], int]:
    """The key of each choice, in order: the study's existing one for the same original, else
    a new one numbered after the last of its kind (the study row is locked by the caller)."""
    existing = {
        key.digest: key for key in RedactionKey.objects.filter(study=study).defer("original")
    }
    numbers: dict[str, int] = {}
    for kind, number in RedactionKey.objects.filter(study=study).values_list("kind", "number"):
        numbers[kind] = max(numbers.get(kind, 0), number)
    keys: list[RedactionKey] = []
    new: list[RedactionKey] = []
    now = clock.now()
    for choice in choices:
        original = text[choice.start : choice.end]
        digest = redaction.digest(study.pk, original)
        key = existing.get(digest)
        if key is None:
            numbers[choice.kind] = numbers.get(choice.kind, 0) + 1
            key = RedactionKey(
                study=study,
                kind=choice.kind,
                number=numbers[choice.kind],
                original=" ".join(original.split()),
                digest=digest,
                created_by=actor,
                created_at=now,
            )
            existing[digest] = key
            new.append(key)
        keys.append(key)
    RedactionKey.objects.bulk_create(new)
    return keys, len(new)


def _remap_segments(
    transcript: Transcript, plan: redaction.EditPlan, new_text: str
) -> tuple[int, int]:
    """Move every segment of the transcript to the new offsets and refresh the quotes whose
    words changed. Two segments of one coder that come to cover the same range (both inside
    one replaced name, say) become one: codes, memos and the exemplar flag kept."""
    segments = list(
        Segment.objects.filter(transcript=transcript)
        .only("id", "coder_id", "start", "end", "is_exemplar", "created_at")
        .order_by("pk")
    )
    keepers: dict[tuple[int, int, int], Segment] = {}
    merged: dict[int, Segment] = {}  # merged segment id -> the segment it joins
    changed: dict[int, Segment] = {}
    for segment in segments:
        start, end = plan.map_range(segment.start, segment.end)
        keeper = keepers.get((segment.coder_id, start, end))
        if keeper is not None:
            merged[segment.pk] = keeper
            if segment.is_exemplar and not keeper.is_exemplar:
                keeper.is_exemplar = True
            keeper.created_at = min(keeper.created_at, segment.created_at)
            changed[keeper.pk] = keeper
            continue
        keepers[(segment.coder_id, start, end)] = segment
        if (start, end) != (segment.start, segment.end) or plan.touches(segment.start, segment.end):
            segment.start, segment.end = start, end
            changed[segment.pk] = segment
    if merged:
        on_keeper: dict[int, set[int]] = {}
        for segment_id, code_id in SegmentCode.objects.filter(
            segment_id__in=[k.pk for k in merged.values()]
        ).values_list("segment_id", "code_id"):
            on_keeper.setdefault(segment_id, set()).add(code_id)
        for coding in SegmentCode.objects.filter(segment_id__in=merged).order_by("pk"):
            keeper = merged[coding.segment_id]
            codes = on_keeper.setdefault(keeper.pk, set())
            if coding.code_id not in codes:
                codes.add(coding.code_id)
                SegmentCode.objects.filter(pk=coding.pk).update(segment_id=keeper.pk)
        for segment_id, keeper in merged.items():
            Memo.objects.filter(segment_id=segment_id).update(segment_id=keeper.pk)
        Segment.objects.filter(pk__in=merged).delete()
    if changed:
        Segment.objects.filter(pk__in=changed).update(
            start=F("start") + _PARKING_OFFSET, end=F("end") + _PARKING_OFFSET
        )
        for segment in changed.values():
            segment.quote = new_text[segment.start : segment.end]
        Segment.objects.bulk_update(
            list(changed.values()), ["start", "end", "quote", "is_exemplar", "created_at"]
        )
    return len(changed), len(merged)


def _remap_coding_log(transcript: Transcript, plan: redaction.EditPlan) -> None:
    """The undo log points at ranges too: it follows the segments."""
    actions = list(CodingAction.objects.filter(transcript=transcript).only("id", "start", "end"))
    moved = []
    for action in actions:
        start, end = plan.map_range(action.start, action.end)
        if (start, end) != (action.start, action.end):
            action.start, action.end = start, end
            moved.append(action)
    CodingAction.objects.bulk_update(moved, ["start", "end"], batch_size=500)


def _redact_memos(
    actor: User,
    study: Study,
    memos: Sequence[Memo],
    choices: Sequence[RedactionChoice],
    versions: dict[int, str],
) -> tuple[list[RedactionKey], int, int]:
    """Replace the confirmed stretches of memo texts with the study's placeholders (the same
    key table as the transcripts); returns the keys used, how many were new, and how many
    stretches were replaced. The caller holds the study row's lock."""
    by_id = {memo.pk: memo for memo in memos}
    wanted: dict[int, list[RedactionChoice]] = {}
    for choice in choices:
        if choice.memo not in by_id:
            raise ValidationError(_("That memo cannot be redacted here."))
        wanted.setdefault(choice.memo, []).append(choice)
    used: list[RedactionKey] = []
    new_keys = replaced = 0
    through = RedactionKey.memos.through
    for memo_id, picked in sorted(wanted.items()):
        memo = by_id[memo_id]
        if versions.get(memo_id) != redaction.text_version(memo.body):
            raise ValidationError(
                _(
                    "A memo changed since these suggestions were made. Nothing was changed: "
                    "look at the suggestions again."
                )
            )
        try:
            unique = _check_redactions(memo.body, picked)
        except ValidationError as exc:
            raise ValidationError(
                [_("In a memo: %(error)s") % {"error": message} for message in exc.messages]
            ) from exc
        keys, made = _keys_for(actor, study, memo.body, unique)
        plan = redaction.EditPlan(
            redaction.Edit(c.start, c.end, key.placeholder)
            for c, key in zip(unique, keys, strict=True)
        )
        memo.body = plan.apply(memo.body)
        memo.save(update_fields=["body", "updated_at"])
        through.objects.bulk_create(
            [through(redactionkey_id=pk, memo_id=memo.pk) for pk in {key.pk for key in keys}],
            ignore_conflicts=True,
        )
        used += keys
        new_keys += made
        replaced += len(unique)
    return used, new_keys, replaced


def transcript_memos(transcript: Transcript) -> list[Memo]:
    """The memos on a transcript and on its segments (the ones its redaction page scans)."""
    return list(
        Memo.objects.filter(Q(transcript=transcript) | Q(segment__transcript=transcript)).order_by(
            "created_at", "pk"
        )
    )


@transaction.atomic
def transcript_redact(
    *,
    actor: User,
    transcript: Transcript,
    choices: Sequence[RedactionChoice],
    version: str,
    memo_versions: dict[int, str] | None = None,
) -> RedactionResult:
    """Replace the confirmed stretches with placeholders, all or nothing.

    The same original (ignoring case, accents and spacing; a phone number by its digits) gets
    the same placeholder across the study; new ones are numbered per kind and their originals
    kept, encrypted, in the study's redaction key. Coded segments keep their words: offsets are
    re-mapped (``redaction.EditPlan``), quotes refreshed, and the undo log follows.

    Choices with a ``memo`` replace words in the memos on this transcript and its segments
    (each memo's fingerprint in ``memo_versions``), with the same key table."""
    study = Study.objects.select_for_update().get(pk=transcript.study_id)
    _require(actor, StudyAction.REDACT, study)
    locked = (
        Transcript.objects.select_for_update()
        .select_related("participant")
        .get(pk=transcript.pk, study=study)
    )
    if locked.participant.withdrawn_at is not None:
        raise ValidationError(
            _("This participant has withdrawn; their transcript cannot be changed.")
        )
    text = locked.text
    if version != redaction.text_version(text):
        raise ValidationError(
            _(
                "The transcript changed since these suggestions were made (someone else may "
                "have redacted it). Nothing was changed: look at the suggestions again."
            )
        )
    in_memos = [c for c in choices if c.memo is not None]
    in_text = [c for c in choices if c.memo is None]
    unique: list[RedactionChoice] = []
    keys: list[RedactionKey] = []
    new_keys = changed = merged = 0
    if in_text or not in_memos:
        unique = _check_redactions(text, in_text)
        keys, new_keys = _keys_for(actor, study, text, unique)
        plan = redaction.EditPlan(
            redaction.Edit(c.start, c.end, key.placeholder)
            for c, key in zip(unique, keys, strict=True)
        )
        new_text = plan.apply(text)
        changed, merged = _remap_segments(locked, plan, new_text)
        _remap_coding_log(locked, plan)
        locked.text = new_text
        locked.char_count = len(new_text)
        locked.save(update_fields=["text", "char_count", "updated_at"])
        TranscriptChunk.objects.filter(transcript=locked).delete()
        TranscriptChunk.objects.bulk_create(chunks_for(locked), batch_size=500)
        through = RedactionKey.transcripts.through
        through.objects.bulk_create(
            [
                through(redactionkey_id=pk, transcript_id=locked.pk)
                for pk in {key.pk for key in keys}
            ],
            ignore_conflicts=True,
        )
    memo_keys, memo_new, memo_replaced = _redact_memos(
        actor, study, transcript_memos(locked), in_memos, memo_versions or {}
    )
    keys += memo_keys
    new_keys += memo_new
    placeholders = list(dict.fromkeys(key.placeholder for key in keys))
    _audit(
        actor,
        AuditAction.UPDATE,
        "transcript",
        locked.pk,
        study,
        f"redacted {len(unique)} stretches and {memo_replaced} in memos with "
        f"{len(placeholders)} placeholders ({new_keys} new keys); {changed} segments "
        f"re-mapped, {merged} merged",
    )
    return RedactionResult(len(unique) + memo_replaced, placeholders, new_keys, changed, merged)


def code_memos(study: Study) -> list[Memo]:
    """The memos on the study's codes (transcripts' and segments' memos are redacted from
    their transcript's page)."""
    return list(Memo.objects.filter(study=study, code__isnull=False).order_by("created_at", "pk"))


@transaction.atomic
def memos_redact(
    *,
    actor: User,
    study: Study,
    choices: Sequence[RedactionChoice],
    memo_versions: dict[int, str],
) -> RedactionResult:
    """Replace confirmed stretches in memos on the study's codes with placeholders, all or
    nothing, with the same key table (and so the same placeholders) as the transcripts."""
    locked = Study.objects.select_for_update().get(pk=study.pk)
    _require(actor, StudyAction.REDACT, locked)
    if not choices:
        raise ValidationError(_("Confirm at least one suggestion, or add words by hand."))
    keys, new_keys, replaced = _redact_memos(
        actor, locked, code_memos(locked), choices, memo_versions
    )
    placeholders = list(dict.fromkeys(key.placeholder for key in keys))
    _audit(
        actor,
        AuditAction.UPDATE,
        "memo",
        len({c.memo for c in choices}),
        locked,
        f"redacted {replaced} stretches in memos on codes with {len(placeholders)} "
        f"placeholders ({new_keys} new keys)",
    )
    return RedactionResult(replaced, placeholders, new_keys, 0, 0)
