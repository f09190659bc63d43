"""Every write about instruments and screenings: policy-checked, validated, atomic, audited.

Screening data is the access policy's ``screening`` category: writing needs
``access_for(actor, youth).allows("change", "screening")`` (the owning agency's staff or the care
team). Instruments are not youth data: an agency administrator imports them for their agency;
the instruments Safe Harbor ships are loaded by the ``import_instrument`` command.
"""

from __future__ import annotations

import copy
import datetime
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.utils.translation import gettext as _

from safeharbor.access.choices import Action, Category
from safeharbor.access.policy import access_for
from safeharbor.accounts.choices import Role
from safeharbor.audit.choices import AuditAction
from safeharbor.audit.services import record
from safeharbor.core import clock
from safeharbor.youth.signals import screening_completed

from . import scoring
from .choices import (
    INTERVIEW_MODES,
    CompletedBy,
    ConcernLevel,
    InstrumentStatus,
    NextAction,
    ScreeningLanguage,
    ScreeningMode,
    ScreeningReason,
    ScreeningStatus,
    TriggerKind,
)
from .definition import languages_of, parse
from .models import (
    Instrument,
    LatestScreening,
    RescreenInterval,
    Screening,
    TriggerEvent,
    VictimIdentification,
)
from .validation import Problem, validate

if TYPE_CHECKING:
    from safeharbor.accounts.models import Agency, User
    from safeharbor.youth.models import Youth

CATEGORY = str(Category.SCREENING)
# A little room for clocks that differ between a phone and the server.
_FUTURE_SLACK = datetime.timedelta(minutes=5)


class InstrumentInvalid(ValidationError):
    """An instrument refused on import, with every problem found (nothing was stored)."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__([str(problem) for problem in problems])


# --------------------------------------------------------------------------- instruments


def _is_admin_of(actor: User, agency: Agency) -> bool:
    return actor.role == Role.AGENCY_ADMIN and actor.agency_id_or_none == agency.pk


def instrument_usable(*, agency_id: int | None) -> Q:
    """The instruments an agency may use: the shipped ones and its own."""
    return Q(agency__isnull=True) | Q(agency_id=agency_id)


@transaction.atomic
def instrument_import(
    *, actor: User | None, document: Any, agency: Agency | None, source: str = ""
) -> Instrument:
    """Validate a FHIR Questionnaire and store it as an instrument version, or store nothing.

    ``agency`` None loads an instrument for every agency: only the operator's command does that
    (``actor`` None). An agency's administrator loads instruments for their own agency, those it
    holds the licence or permission for (the command may too, for an agency it names).
    """
    if actor is not None and (agency is None or not _is_admin_of(actor, agency)):
        raise PermissionDenied
    problems = validate(document)
    if not problems:
        same = Instrument.objects.filter(url=document["url"], version=document["version"])
        # A shipped version clashes with any copy; an agency's with a shipped one or its own.
        if agency is not None:
            same = same.filter(instrument_usable(agency_id=agency.pk))
        if same.exists():
            problems.append(
                Problem(
                    None,
                    "unique-version",
                    f"version {document['version']!r} of {document['url']} is already loaded. "
                    "A changed instrument needs a new version.",
                )
            )
    if problems:
        raise InstrumentInvalid(problems)
    definition = parse(document)
    instrument = Instrument(
        url=definition.url,
        version=definition.version,
        name=definition.name,
        title=definition.title.base[:200],
        status=document["status"],
        publisher=definition.publisher[:200],
        validated=definition.information.validated,
        completed_by=definition.information.completed_by,
        languages=list(languages_of(document)),
        questionnaire=copy.deepcopy(document),
        agency=agency,
        imported_by=actor,
    )
    instrument.full_clean()
    instrument.save(force_insert=True)
    record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="screening.instrument",
        object_id=instrument.pk,
        category=CATEGORY,
        reason=f"imported {instrument.canonical}" + (f" from {source}" if source else ""),
        actor_label="" if actor else "import_instrument command",
    )
    return instrument


def instrument_export(*, actor: User | None, instrument: Instrument) -> dict[str, Any]:
    """The Questionnaire exactly as imported (audited as an export)."""
    if (
        actor is not None
        and not Instrument.objects.filter(
            instrument_usable(agency_id=actor.agency_id_or_none), pk=instrument.pk
        ).exists()
    ):
        raise PermissionDenied
    record(
        actor=actor,
        action=AuditAction.EXPORT,
        object_type="screening.instrument",
        object_id=instrument.pk,
        category=CATEGORY,
        reason=f"exported {instrument.canonical}",
        actor_label="" if actor else "export_instrument command",
    )
    exported: dict[str, Any] = copy.deepcopy(instrument.questionnaire)
    return exported


@transaction.atomic
def rescreen_interval_set(
    *, actor: User, instrument_url: str, days: int | None
) -> RescreenInterval | None:
    """Set (or, with ``days`` None, remove) how often the actor's agency rescreens with an
    instrument. For the agency's administrators and supervisors."""
    membership = actor.agency_membership
    if membership is None or actor.role not in (Role.AGENCY_ADMIN, Role.SUPERVISOR):
        raise PermissionDenied
    if not Instrument.objects.filter(
        instrument_usable(agency_id=membership.agency_id), url=instrument_url
    ).exists():
        raise ValidationError({"instrument_url": _("Your agency has no such instrument.")})
    existing = RescreenInterval.objects.filter(
        agency_id=membership.agency_id, instrument_url=instrument_url
    ).first()
    if days is None:
        if existing is not None:
            existing.delete()
        interval = None
    else:
        if not 1 <= days <= 3650:
            raise ValidationError({"days": _("Give a number of days from 1 to 3650.")})
        interval = existing or RescreenInterval(
            agency_id=membership.agency_id, instrument_url=instrument_url
        )
        interval.days = days
        interval.full_clean()
        interval.save()
    record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="screening.rescreeninterval",
        object_id=f"agency {membership.agency_id}",
        category=CATEGORY,
        reason=(f"rescreen every {days} days" if days else "rescreen interval removed")
        + f": {instrument_url}",
    )
    return interval


# --------------------------------------------------------------------------- screenings


def _require(actor: User, youth: Youth) -> None:
    if not access_for(actor, youth).allows(Action.CHANGE, Category.SCREENING):
        raise PermissionDenied


def _audit(
    actor: User,
    action: str,
    screening: Screening | TriggerEvent | VictimIdentification,
    reason: str,
) -> None:
    record(
        actor=actor,
        action=action,
        object_type=f"screening.{type(screening).__name__.lower()}",
        object_id=screening.pk,
        youth_id=screening.youth_id,
        category=CATEGORY,
        reason=reason,
    )


def _answer_error(problems: list[tuple[str, str]]) -> ValidationError:
    return ValidationError({"answers": [message for _link_id, message in problems]})


def _check_setup(
    *, actor: User, instrument: Instrument, reason: str, mode: str, language: str
) -> None:
    errors: dict[str, list[str]] = {}
    usable = Instrument.objects.filter(
        instrument_usable(agency_id=actor.agency_id_or_none),
        pk=instrument.pk,
        status=InstrumentStatus.ACTIVE,
    ).exists()
    if not usable:
        errors["instrument"] = [_("This instrument is not available to your agency.")]
    if reason not in ScreeningReason.values:
        errors["reason"] = [_("Choose a reason from the list.")]
    if mode not in ScreeningMode.values:
        errors["mode"] = [_("Choose how the screen is done from the list.")]
    elif instrument.completed_by == CompletedBy.WORKER and mode in INTERVIEW_MODES:
        errors["mode"] = [
            _(
                "This instrument is filled in by a worker from what is already known, not by "
                "interviewing the youth."
            )
        ]
    elif instrument.completed_by == CompletedBy.YOUTH_INTERVIEW and mode not in INTERVIEW_MODES:
        errors["mode"] = [_("This instrument is an interview with the youth.")]
    if language not in ScreeningLanguage.values or language not in instrument.languages:
        errors["language"] = [_("This instrument has no text in that language.")]
    if errors:
        raise ValidationError(errors)


def _new(
    *,
    actor: User,
    youth: Youth,
    instrument: Instrument,
    reason: str,
    mode: str,
    language: str,
) -> Screening:
    membership = actor.agency_membership
    if membership is None:
        raise PermissionDenied
    screening = Screening(
        youth=youth,
        instrument=instrument,
        agency_id=membership.agency_id,
        administered_by=actor,
        reason=reason,
        mode=mode,
        language=language,
        status=ScreeningStatus.DRAFT,
        started_at=clock.now(),
    )
    screening.answers = {}
    return screening


def _finish(screening: Screening, answers: Mapping[str, str]) -> scoring.Result:
    """Score complete answers onto ``screening`` (not saved); refuse if any is missing."""
    definition = screening.instrument.definition
    scoring.check_answers(definition, answers)
    result = scoring.score(definition, answers)
    if not result.complete:
        raise ValidationError(
            {
                "answers": [
                    _("Answer question '%(link_id)s' (%(text)s) before finishing.")
                    % {"link_id": item.link_id, "text": item.text.base}
                    for item in definition.questions
                    if item.link_id in result.unanswered
                ]
            }
        )
    screening.answers = scoring.enabled_answers(definition, answers)
    screening.computed_level = result.level
    screening.score = result.as_json()
    return result


@transaction.atomic
def screening_start(
    *,
    actor: User,
    youth: Youth,
    instrument: Instrument,
    reason: str,
    mode: str,
    language: str = "en",
) -> Screening:
    """Open a draft: answers can then be saved step by step and the screen finished later."""
    _require(actor, youth)
    _check_setup(actor=actor, instrument=instrument, reason=reason, mode=mode, language=language)
    screening = _new(
        actor=actor, youth=youth, instrument=instrument, reason=reason, mode=mode, language=language
    )
    screening.full_clean()
    screening.save(force_insert=True)
    _audit(actor, AuditAction.CREATE, screening, f"started {instrument.canonical}")
    return screening


def _require_draft(screening: Screening) -> None:
    if screening.status != ScreeningStatus.DRAFT:
        raise ValidationError(
            _("This screening is already finished. Correct it, or amend it once it is locked.")
        )


@transaction.atomic
def screening_save_answers(
    *, actor: User, screening: Screening, answers: Mapping[str, Any]
) -> Screening:
    """Keep answers in a draft (merged with those already given). Refuses, naming the item, an
    answer that is not one of its question's options; then nothing is saved."""
    _require(actor, screening.youth)
    _require_draft(screening)
    problems = scoring.answer_problems(screening.instrument.definition, answers)
    if problems:
        raise _answer_error(problems)
    screening.answers = {**screening.answers, **answers}
    screening.save(update_fields=["answers_json", "updated_at"])
    _audit(
        actor, AuditAction.UPDATE, screening, f"answers saved: {', '.join(sorted(answers))}"[:500]
    )
    return screening


def _announce_completed(actor: User, screening: Screening) -> None:
    """Move the youth's ``LatestScreening`` for the instrument forward, and tell other
    capabilities (e.g. a return from a missing episode waiting for its screen)."""
    _note_latest(screening)
    screening_completed.send(
        sender=Screening, actor=actor, youth=screening.youth, completed_at=screening.completed_at
    )


def _note_latest(screening: Screening) -> None:
    """Keep the latest completion time per youth and instrument (any version); an older one,
    such as a screening entered later with its earlier time, leaves it as it is."""
    if screening.completed_at is None:
        raise ValueError("Only a completed screening has a latest time.")
    # One upsert that only moves the time forward (SQLite and PostgreSQL share the syntax);
    # get_or_create then update took up to four statements, two of them a savepoint.
    connection = transaction.get_connection()
    table = connection.ops.quote_name(LatestScreening._meta.db_table)
    completed_at = LatestScreening._meta.get_field("completed_at").get_db_prep_save(
        screening.completed_at, connection
    )
    youth_id = LatestScreening._meta.get_field("youth").get_db_prep_save(
        screening.youth_id, connection
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} AS latest (youth_id, agency_id, instrument_url, completed_at) "  # noqa: S608
            "VALUES (%s, %s, %s, %s) ON CONFLICT (youth_id, instrument_url) DO UPDATE "
            "SET completed_at = excluded.completed_at "
            "WHERE excluded.completed_at > latest.completed_at",
            [youth_id, screening.youth.owning_agency_id, screening.instrument.url, completed_at],
        )


@transaction.atomic
def latest_screenings_refresh(*, youth_ids: Iterable[Any] | None = None) -> int:
    """Rebuild ``LatestScreening`` from the completed screenings, for these youth or for all
    (after screenings were written or re-dated other than through this module: a migration,
    the demo's back-dated history, a benchmark's bulk load). Returns the rows written."""
    stale = LatestScreening.objects.all()
    completed = Screening.objects.filter(status=ScreeningStatus.COMPLETED)
    if youth_ids is not None:
        ids = list(youth_ids)
        stale = stale.filter(youth_id__in=ids)
        completed = completed.filter(youth_id__in=ids)
    stale.delete()
    rows = [
        LatestScreening(
            youth_id=row["youth_id"],
            agency_id=row["youth__owning_agency_id"],
            instrument_url=row["instrument__url"],
            completed_at=row["last"],
        )
        for row in completed.order_by()
        .values("youth_id", "youth__owning_agency_id", "instrument__url")
        .annotate(last=Max("completed_at"))
    ]
    LatestScreening.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


@transaction.atomic
def screening_complete(*, actor: User, screening: Screening) -> Screening:
    """Score a draft whose enabled questions are all answered, and finish it."""
    _require(actor, screening.youth)
    _require_draft(screening)
    try:
        _finish(screening, screening.answers)
    except scoring.AnswerError as exc:
        raise _answer_error(exc.problems) from exc
    screening.status = ScreeningStatus.COMPLETED
    screening.completed_at = max(clock.now(), screening.started_at)
    screening.full_clean()
    screening.save(
        update_fields=[
            "status",
            "completed_at",
            "answers_json",
            "computed_level",
            "score",
            "updated_at",
        ]
    )
    _audit(actor, AuditAction.UPDATE, screening, f"completed: {screening.computed_level}")
    _announce_completed(actor, screening)
    return screening


@transaction.atomic
def screening_submit(
    *,
    actor: User,
    youth: Youth,
    instrument: Instrument,
    reason: str,
    mode: str,
    language: str,
    answers: Mapping[str, Any],
    complete: bool = True,
) -> Screening:
    """A whole screening at once (the API): a completed screening, or a draft to finish later."""
    _require(actor, youth)
    _check_setup(actor=actor, instrument=instrument, reason=reason, mode=mode, language=language)
    screening = _new(
        actor=actor, youth=youth, instrument=instrument, reason=reason, mode=mode, language=language
    )
    try:
        if complete:
            _finish(screening, answers)
            screening.status = ScreeningStatus.COMPLETED
            screening.completed_at = screening.started_at
        else:
            problems = scoring.answer_problems(instrument.definition, answers)
            if problems:
                raise scoring.AnswerError(problems)
            screening.answers = dict(answers)
    except scoring.AnswerError as exc:
        raise _answer_error(exc.problems) from exc
    screening.full_clean()
    screening.save(force_insert=True)
    _audit(
        actor,
        AuditAction.CREATE,
        screening,
        f"submitted {instrument.canonical}: {screening.computed_level or 'draft'}",
    )
    if screening.status == ScreeningStatus.COMPLETED:
        _announce_completed(actor, screening)
    return screening


@transaction.atomic
def screening_discard(*, actor: User, screening: Screening) -> None:
    """Delete a draft that will not be finished (only drafts; a finished screen is kept)."""
    _require(actor, screening.youth)
    _require_draft(screening)
    _audit(actor, AuditAction.REVOKE, screening, "draft discarded")
    screening.delete()


def _require_open(screening: Screening) -> None:
    if screening.status != ScreeningStatus.COMPLETED:
        raise ValidationError(_("Finish the screening first."))
    if screening.is_locked(clock.now()):
        raise ValidationError(
            _(
                "This screening is locked (its edit window has passed). Amend it instead: the "
                "original is kept."
            )
        )


def _apply_review(
    screening: Screening,
    *,
    override_level: str,
    override_reason: str,
    next_action: str,
    next_action_note: str,
) -> None:
    """Set the worker's level (with its reason) and the next action on ``screening``, unsaved."""
    errors: dict[str, list[str]] = {}
    if override_level and override_level not in ConcernLevel.values:
        errors["override_level"] = [_("Choose a level from the list.")]
    if override_level == screening.computed_level:
        override_level = ""  # the same as computed: not an override
    if override_level and not override_reason.strip():
        errors["override_reason"] = [
            _("Say why your judgement differs from the instrument's result.")
        ]
    if next_action not in NextAction.values:
        errors["next_action"] = [_("Choose the next action.")]
    if errors:
        raise ValidationError(errors)
    screening.override_level = override_level
    screening.override_reason = override_reason.strip() if override_level else ""
    screening.next_action = next_action
    screening.next_action_note = next_action_note.strip()


@transaction.atomic
def screening_review(
    *,
    actor: User,
    screening: Screening,
    override_level: str = "",
    override_reason: str = "",
    next_action: str,
    next_action_note: str = "",
) -> Screening:
    """The worker's judgement on a finished screen: a different level (with the reason) and the
    next action. Possible during the edit window; afterwards, amend."""
    _require(actor, screening.youth)
    _require_open(screening)
    _apply_review(
        screening,
        override_level=override_level,
        override_reason=override_reason,
        next_action=next_action,
        next_action_note=next_action_note,
    )
    screening.full_clean()
    screening.save(
        update_fields=[
            "override_level",
            "override_reason",
            "next_action",
            "next_action_note",
            "updated_at",
        ]
    )
    _audit(
        actor,
        AuditAction.UPDATE,
        screening,
        f"reviewed: level {screening.level}, next action {screening.next_action}",
    )
    return screening


@transaction.atomic
def screening_correct(
    *, actor: User, screening: Screening, answers: Mapping[str, Any]
) -> Screening:
    """Replace a finished screening's answers during its edit window, and score them again."""
    _require(actor, screening.youth)
    _require_open(screening)
    before = screening.computed_level
    try:
        _finish(screening, answers)
    except scoring.AnswerError as exc:
        raise _answer_error(exc.problems) from exc
    if screening.override_level == screening.computed_level:
        screening.override_level = ""
        screening.override_reason = ""
    screening.full_clean()
    screening.save(
        update_fields=[
            "answers_json",
            "computed_level",
            "score",
            "override_level",
            "override_reason",
            "updated_at",
        ]
    )
    _audit(
        actor,
        AuditAction.UPDATE,
        screening,
        f"answers corrected: {before} -> {screening.computed_level}",
    )
    return screening


@transaction.atomic
def screening_amend(
    *,
    actor: User,
    screening: Screening,
    answers: Mapping[str, Any],
    reason: str,
    override_level: str = "",
    override_reason: str = "",
    next_action: str | None = None,
    next_action_note: str | None = None,
) -> Screening:
    """Change a locked screening: a new screening that amends it; the original stays as it was.

    The amendment corrects the same administration, so it keeps the original's start and
    completion times (a routine rescreen stays due from the day the youth was screened; the
    amendment's own ``created_at`` says when it was made) and is locked at once: a later change
    amends the amendment. It carries the worker's level and next action (the original's next
    action unless given).
    """
    _require(actor, screening.youth)
    if screening.status != ScreeningStatus.COMPLETED:
        raise ValidationError(_("Finish the screening first."))
    if not screening.is_locked(clock.now()):
        raise ValidationError(_("This screening is still in its edit window: correct it instead."))
    if screening.amendments.exists():
        raise ValidationError(_("This screening was already amended: amend the latest version."))
    if not reason.strip():
        raise ValidationError({"reason": [_("Say why the screening is amended.")]})
    amendment = _new(
        actor=actor,
        youth=screening.youth,
        instrument=screening.instrument,
        reason=screening.reason,
        mode=screening.mode,
        language=screening.language,
    )
    try:
        _finish(amendment, answers)
    except scoring.AnswerError as exc:
        raise _answer_error(exc.problems) from exc
    action = screening.next_action if next_action is None else next_action
    if action or override_level:
        _apply_review(
            amendment,
            override_level=override_level,
            override_reason=override_reason,
            next_action=action,
            next_action_note=(
                screening.next_action_note if next_action_note is None else next_action_note
            ),
        )
    amendment.status = ScreeningStatus.COMPLETED
    amendment.started_at = screening.started_at
    amendment.completed_at = screening.completed_at
    amendment.amends = screening
    amendment.amendment_reason = reason.strip()
    amendment.full_clean()
    amendment.save(force_insert=True)
    _audit(
        actor,
        AuditAction.CREATE,
        amendment,
        f"amends screening {screening.pk}: {screening.computed_level} -> "
        f"{amendment.computed_level}",
    )
    return amendment


# --------------------------------------------------------------------------- deadlines


def _not_in_future(value: datetime.datetime, field: str) -> None:
    if value > clock.now() + _FUTURE_SLACK:
        raise ValidationError({field: [_("This time is in the future.")]})


@transaction.atomic
def trigger_record(
    *, actor: User, youth: Youth, kind: str, occurred_at: datetime.datetime
) -> TriggerEvent:
    """Record an event after which a screen is due: within 24 hours of a return from a missing
    episode, within 72 hours of learning of a runaway history."""
    _require(actor, youth)
    if kind not in TriggerKind.values:
        raise ValidationError({"kind": [_("Choose what happened from the list.")]})
    _not_in_future(occurred_at, "occurred_at")
    membership = actor.agency_membership
    if membership is None:
        raise PermissionDenied
    trigger = TriggerEvent(
        youth=youth,
        kind=kind,
        occurred_at=occurred_at,
        agency_id=membership.agency_id,
        recorded_by=actor,
    )
    trigger.full_clean()
    trigger.save()
    _audit(actor, AuditAction.CREATE, trigger, f"{kind} at {occurred_at.isoformat()}")
    return trigger


@transaction.atomic
def victim_identification_record(
    *,
    actor: User,
    youth: Youth,
    identified_at: datetime.datetime,
    screening: Screening | None = None,
) -> VictimIdentification:
    """Record that the youth is identified as a victim; the report to law enforcement is then
    due within 24 hours."""
    _require(actor, youth)
    _not_in_future(identified_at, "identified_at")
    if screening is not None and (
        screening.youth_id != youth.pk or screening.status != ScreeningStatus.COMPLETED
    ):
        raise ValidationError({"screening": [_("Choose a finished screening of this youth.")]})
    membership = actor.agency_membership
    if membership is None:
        raise PermissionDenied
    identification = VictimIdentification(
        youth=youth,
        identified_at=identified_at,
        identified_by=actor,
        agency_id=membership.agency_id,
        screening=screening,
    )
    identification.full_clean()
    identification.save()
    _audit(actor, AuditAction.CREATE, identification, "identified as a victim")
    return identification


@transaction.atomic
def law_enforcement_report_record(
    *,
    actor: User,
    identification: VictimIdentification,
    reported_at: datetime.datetime,
    receiving_agency: str,
    report_number: str,
) -> VictimIdentification:
    """Record the report to law enforcement: when, to which agency, and its number."""
    _require(actor, identification.youth)
    if identification.reported_at is not None:
        raise ValidationError(_("The report to law enforcement is already recorded."))
    errors: dict[str, list[str]] = {}
    if reported_at < identification.identified_at:
        errors["reported_at"] = [_("The report cannot be before the identification.")]
    elif reported_at > clock.now() + _FUTURE_SLACK:
        errors["reported_at"] = [_("This time is in the future.")]
    if not receiving_agency.strip():
        errors["receiving_agency"] = [_("Name the law-enforcement agency that took the report.")]
    if not report_number.strip():
        errors["report_number"] = [_("Give the report number the agency gave you.")]
    if errors:
        raise ValidationError(errors)
    identification.reported_at = reported_at
    identification.receiving_agency = receiving_agency.strip()[:200]
    identification.report_number = report_number.strip()[:100]
    identification.reported_by = actor
    identification.full_clean()
    identification.save(
        update_fields=[
            "reported_at",
            "receiving_agency",
            "report_number",
            "reported_by",
            "updated_at",
        ]
    )
    _audit(
        actor,
        AuditAction.UPDATE,
        identification,
        f"reported to law enforcement at {reported_at.isoformat()}",
    )
    return identification
