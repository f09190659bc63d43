"""Every write of the referrals app: policy-checked, validated, atomic and audited (category
``referrals``). A move is checked against the status it finds under a row lock, so two people
answering the same referral at once cannot both win."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from safeharbor.access.choices import Action, Category
from safeharbor.access.policy import access_for, can_answer_referrals
from safeharbor.audit.choices import AuditAction
from safeharbor.audit.services import record_object
from safeharbor.core import clock
from safeharbor.directory.choices import ServiceStatus

from . import workflow
from .choices import NEED_CHOICES, Outcome, Priority, Status
from .models import MAX_REASON, Referral, ReferralEvent
from .workflow import Side

if TYPE_CHECKING:
    from safeharbor.accounts.models import User
    from safeharbor.directory.models import Service
    from safeharbor.youth.models import Youth

MAX_NOTE = 2000
MAX_CALLBACK = 500
_NEEDS = frozenset(code for code, _label in NEED_CHOICES)


def sides_of(actor: User, referral: Referral) -> frozenset[Side]:
    """The actor's sides of a referral: the youth's workers refer, the service's staff answer."""
    sides = set()
    if access_for(actor, referral.youth).allows(Action.CHANGE, Category.REFERRALS):
        sides.add(Side.REFERRER)
    # The service learns of a referral when it is sent: a draft is the referring side's alone.
    if referral.sent_at is not None and can_answer_referrals(actor, referral.receiving_agency_id):
        sides.add(Side.RECEIVER)
    return frozenset(sides)


def _raise(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationError(errors)


def _event(
    referral: Referral,
    actor: User,
    from_status: str,
    *,
    reason: str = "",
    outcome: str = "",
    note: str = "",
) -> None:
    agency_id = actor.agency_id_or_none
    if agency_id is None:
        raise PermissionDenied
    ReferralEvent.objects.create(
        referral=referral,
        at=clock.now(),
        actor=actor,
        actor_agency_id=agency_id,
        from_status=from_status,
        to_status=referral.status,
        reason=reason,
        outcome=outcome,
        note=note,
    )
    record_object(
        actor=actor,
        action=AuditAction.CREATE if not from_status else AuditAction.UPDATE,
        obj=referral,
        youth_id=referral.youth_id,
        category=Category.REFERRALS,
        reason=f"{from_status or 'new'} -> {referral.status}",
    )


@transaction.atomic
def referral_create(
    *,
    actor: User,
    youth: Youth,
    service: Service,
    need: str,
    priority: str = Priority.ROUTINE,
    note: str = "",
    callback: str,
    send: bool = True,
) -> Referral:
    """A referral from the youth's record to a directory service, sent at once or kept as a
    draft. The receiving agency is the service's organisation's agency on the platform, if any."""
    if not access_for(actor, youth).allows(Action.CHANGE, Category.REFERRALS):
        raise PermissionDenied
    agency_id = actor.agency_id_or_none
    if agency_id is None:
        raise PermissionDenied
    errors: dict[str, list[str]] = {}
    if service.status != ServiceStatus.ACTIVE:
        errors["service"] = [_("This service is not taking referrals (it is not active).")]
    if need not in _NEEDS:
        errors["need"] = [_("Choose what the youth needs.")]
    if priority not in Priority.values:
        errors["priority"] = [_("Choose how urgent it is.")]
    note, callback = note.strip(), callback.strip()
    if len(note) > MAX_NOTE:
        errors["note"] = [_("Keep the note under %(n)d characters.") % {"n": MAX_NOTE}]
    if not callback:
        errors["callback"] = [_("Say how the service can reach you about this referral.")]
    elif len(callback) > MAX_CALLBACK:
        errors["callback"] = [_("Keep this under %(n)d characters.") % {"n": MAX_CALLBACK}]
    _raise(errors)
    organization = service.organization
    now = clock.now()
    referral = Referral.objects.create(
        youth=youth,
        service=service,
        service_name=service.name,
        organization_name=organization.name,
        referring_agency_id=agency_id,
        created_by=actor,
        receiving_agency_id=organization.agency_id,
        need=need,
        priority=priority,
        note=note,
        callback=callback,
        status=Status.REQUESTED if send else Status.DRAFT,
        sent_at=now if send else None,
    )
    _event(referral, actor, "")
    return referral


def _check_move(
    referral: Referral, to_status: str, reason: str, outcome: str, sides: frozenset[Side]
) -> None:
    allowed = workflow.allowed_moves(referral.status, sides, on_platform=referral.on_platform)
    if to_status not in allowed:
        raise ValidationError(
            {
                "status": [
                    _("A referral that is “%(now)s” cannot be moved to “%(to)s” by you.")
                    % {
                        "now": Status(referral.status).label,
                        "to": Status(to_status).label if to_status in Status.values else to_status,
                    }
                ]
            }
        )
    errors: dict[str, list[str]] = {}
    if to_status in workflow.NEEDS_REASON and not reason:
        errors["reason"] = [_("Give a reason for this status.")]
    if len(reason) > MAX_REASON:
        errors["reason"] = [_("Keep the reason under %(n)d characters.") % {"n": MAX_REASON}]
    if to_status in workflow.NEEDS_OUTCOME and outcome not in Outcome.values:
        errors["outcome"] = [_("A referral is closed only with an outcome: choose one.")]
    if to_status not in workflow.NEEDS_OUTCOME and outcome:
        errors["outcome"] = [_("An outcome is recorded only when the referral closes.")]
    _raise(errors)


@transaction.atomic
def referral_move(
    *,
    actor: User,
    referral: Referral,
    to_status: str,
    reason: str = "",
    outcome: str = "",
    note: str = "",
) -> Referral:
    """Move a referral along its workflow (``workflow.allowed_moves``), with its history."""
    locked = (
        Referral.objects.select_for_update()
        .select_related("youth__owning_agency")
        .get(pk=referral.pk)
    )
    sides = sides_of(actor, locked)
    if not sides:
        raise PermissionDenied
    reason, note = reason.strip(), note.strip()
    _check_move(locked, to_status, reason, outcome, sides)
    if len(note) > MAX_NOTE:
        message = _("Keep the note under %(n)d characters.") % {"n": MAX_NOTE}
        raise ValidationError({"note": [message]})
    now = clock.now()
    from_status = locked.status
    locked.status = to_status
    locked.status_reason = reason if to_status in workflow.NEEDS_REASON else ""
    if to_status == Status.REQUESTED:
        locked.sent_at = now
    if to_status == Status.ACCEPTED and locked.accepted_at is None:
        locked.accepted_at = now
    if to_status in workflow.TERMINAL:
        locked.closed_at = now
    if to_status in workflow.NEEDS_OUTCOME:
        locked.outcome = outcome
        locked.outcome_note = note
        # The referring worker always learns the outcome: unseen until they look.
        locked.outcome_seen_at = now if Side.RECEIVER not in sides else None
    changed = ["status", "status_reason", "sent_at", "accepted_at", "closed_at", "updated_at"]
    if to_status in workflow.NEEDS_OUTCOME:
        changed += ["outcome", "outcome_note", "outcome_seen_at"]
    # Only what a move changes: the note and callback are not re-encrypted on every step.
    locked.save(update_fields=changed)
    _event(locked, actor, from_status, reason=reason, outcome=outcome, note=note)
    return locked


@transaction.atomic
def referral_received(*, actor: User, referral: Referral) -> Referral:
    """The service's staff opened a sent referral: FHIR's "received" (recorded once)."""
    if referral.status != Status.REQUESTED or not can_answer_referrals(
        actor, referral.receiving_agency_id
    ):
        return referral
    return referral_move(actor=actor, referral=referral, to_status=Status.RECEIVED)


def referral_outcome_seen(*, actor: User, referral: Referral) -> None:
    """The worker who made the referral has seen its outcome (no audit event of its own: the
    view that showed it is audited). Nobody else clears their "new outcome"."""
    if actor.pk != referral.created_by_id:
        return
    if referral.outcome and referral.outcome_seen_at is None:
        Referral.objects.filter(pk=referral.pk, outcome_seen_at__isnull=True).update(
            outcome_seen_at=clock.now()
        )
