"""Every write of the outcomes app: policy-checked, validated, atomic and audited. Youth rows
(enrolments, services delivered, observations) are the ``services`` category; programs and their
funding belong to an agency and are set up by its supervisors and administrators."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Model
from django.utils.translation import gettext as _

from safeharbor.access.choices import Action, Category
from safeharbor.access.policy import can, can_manage_programs
from safeharbor.audit.choices import AuditAction
from safeharbor.audit.services import record_object
from safeharbor.core import clock

from .choices import (
    DeliveryMode,
    ExitReason,
    FunderKind,
    MeasureKind,
    ProgramKind,
    ReferralSource,
    ServiceType,
    TraffickingType,
    YesNoUnknown,
)
from .models import (
    MAX_SERVICE_MINUTES,
    Enrolment,
    FundingSource,
    OutcomeMeasure,
    OutcomeObservation,
    Program,
    ServiceDelivery,
)

if TYPE_CHECKING:
    from safeharbor.accounts.models import User
    from safeharbor.youth.models import Youth

EARLIEST_PLAUSIBLE_YEAR = 2000
MAX_NOTE = 2000
Errors = dict[str, list[str]]


def _add(errors: Errors, field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def _raise(errors: Errors) -> None:
    if errors:
        raise ValidationError(errors)


def _date_ok(errors: Errors, field: str, value: datetime.date | None) -> None:
    if value is None:
        return
    if value > clock.today():
        _add(errors, field, _("This date is in the future. Enter when it happened."))
    if value.year < EARLIEST_PLAUSIBLE_YEAR:
        _add(errors, field, _("This date is too far in the past. Check the year."))


def _choice(errors: Errors, field: str, value: str, values: list[str]) -> None:
    if value not in values:
        _add(errors, field, _("Choose one of the options."))


def _require_youth(actor: User, youth: Youth) -> None:
    if not can(actor, Action.CHANGE, youth, Category.SERVICES):
        raise PermissionDenied


def _audit(actor: User, action: str, obj: Model, youth_id: uuid.UUID | None = None) -> None:
    category = Category.SERVICES if youth_id else ""
    record_object(actor=actor, action=action, obj=obj, youth_id=youth_id, category=category)


# --- Programs ------------------------------------------------------------------------------


@transaction.atomic
def program_create(
    *,
    actor: User,
    name: str,
    kind: str,
    starts_on: datetime.date,
    description: str = "",
    ends_on: datetime.date | None = None,
) -> Program:
    agency_id = actor.agency_id_or_none
    if agency_id is None or not can_manage_programs(actor, agency_id):
        raise PermissionDenied
    errors: Errors = {}
    name = name.strip()
    if not name:
        _add(errors, "name", _("Give the program a name."))
    elif Program.objects.filter(agency_id=agency_id, name=name).exists():
        _add(errors, "name", _("Your agency already has a program with this name."))
    _choice(errors, "kind", kind, ProgramKind.values)
    if ends_on is not None and ends_on < starts_on:
        _add(errors, "ends_on", _("The end cannot be before the start."))
    _raise(errors)
    program = Program.objects.create(
        agency_id=agency_id,
        name=name,
        kind=kind,
        description=description.strip(),
        starts_on=starts_on,
        ends_on=ends_on,
    )
    _audit(actor, AuditAction.CREATE, program)
    return program


@transaction.atomic
def funding_add(
    *,
    actor: User,
    program: Program,
    funder: str,
    kind: str,
    starts_on: datetime.date,
    ends_on: datetime.date,
    award_number: str = "",
) -> FundingSource:
    if not can_manage_programs(actor, program.agency_id):
        raise PermissionDenied
    errors: Errors = {}
    if not funder.strip():
        _add(errors, "funder", _("Name the funder."))
    _choice(errors, "kind", kind, FunderKind.values)
    if ends_on < starts_on:
        _add(errors, "ends_on", _("The grant cannot end before it starts."))
    _raise(errors)
    funding = FundingSource.objects.create(
        program=program,
        funder=funder.strip(),
        kind=kind,
        award_number=award_number.strip(),
        starts_on=starts_on,
        ends_on=ends_on,
    )
    _audit(actor, AuditAction.CREATE, funding)
    return funding


# --- Enrolments ----------------------------------------------------------------------------


@transaction.atomic
def enrolment_start(
    *,
    actor: User,
    youth: Youth,
    program: Program,
    starts_on: datetime.date,
    referral_source: str,
    trafficking_type: str = TraffickingType.UNKNOWN,
    has_disability: str = YesNoUnknown.UNKNOWN,
) -> Enrolment:
    """Enrol a youth in one of the actor's agency's programs."""
    _require_youth(actor, youth)
    if program.agency_id != actor.agency_id_or_none:
        raise PermissionDenied
    errors: Errors = {}
    _date_ok(errors, "starts_on", starts_on)
    if starts_on < program.starts_on or (program.ends_on and starts_on > program.ends_on):
        _add(errors, "starts_on", _("The program was not running on this date."))
    _choice(errors, "referral_source", referral_source, ReferralSource.values)
    _choice(errors, "trafficking_type", trafficking_type, TraffickingType.values)
    _choice(errors, "has_disability", has_disability, YesNoUnknown.values)
    if Enrolment.objects.filter(youth=youth, program=program, ends_on__isnull=True).exists():
        _add(errors, "program", _("The youth is already enrolled in this program."))
    _raise(errors)
    enrolment = Enrolment.objects.create(
        youth=youth,
        program=program,
        starts_on=starts_on,
        referral_source=referral_source,
        trafficking_type=trafficking_type,
        has_disability=has_disability,
        created_by=actor,
    )
    _audit(actor, AuditAction.CREATE, enrolment, youth.pk)
    return enrolment


@transaction.atomic
def enrolment_exit(
    *, actor: User, enrolment: Enrolment, ends_on: datetime.date, exit_reason: str
) -> Enrolment:
    _require_youth(actor, enrolment.youth)
    errors: Errors = {}
    if enrolment.ends_on is not None:
        _add(errors, "ends_on", _("This enrolment has already ended."))
    _date_ok(errors, "ends_on", ends_on)
    if ends_on < enrolment.starts_on:
        _add(errors, "ends_on", _("The exit cannot be before the enrolment."))
    _choice(errors, "exit_reason", exit_reason, ExitReason.values)
    _raise(errors)
    enrolment.ends_on = ends_on
    enrolment.exit_reason = exit_reason
    enrolment.save(update_fields=["ends_on", "exit_reason", "updated_at"])
    _audit(actor, AuditAction.UPDATE, enrolment, enrolment.youth_id)
    return enrolment


# --- Services delivered --------------------------------------------------------------------


@transaction.atomic
def service_record(
    *,
    actor: User,
    youth: Youth,
    service_type: str,
    delivered_on: datetime.date,
    minutes: int,
    mode: str,
    program: Program | None = None,
) -> ServiceDelivery:
    """A service delivered; under a program only while the youth is enrolled in it."""
    _require_youth(actor, youth)
    errors: Errors = {}
    _choice(errors, "service_type", service_type, ServiceType.values)
    _choice(errors, "mode", mode, DeliveryMode.values)
    _date_ok(errors, "delivered_on", delivered_on)
    if not 1 <= minutes <= MAX_SERVICE_MINUTES:
        _add(errors, "minutes", _("Enter the minutes spent, from 1 to 1440."))
    if program is not None and not _enrolled_on(youth, program, delivered_on):
        _add(errors, "program", _("The youth was not enrolled in this program on that date."))
    _raise(errors)
    delivery = ServiceDelivery.objects.create(
        youth=youth,
        program=program,
        service_type=service_type,
        delivered_on=delivered_on,
        minutes=minutes,
        mode=mode,
        provider=actor,
    )
    _audit(actor, AuditAction.CREATE, delivery, youth.pk)
    return delivery


def _enrolled_on(youth: Youth, program: Program, day: datetime.date) -> bool:
    return (
        Enrolment.objects.filter(youth=youth, program=program, starts_on__lte=day)
        .exclude(ends_on__lt=day)
        .exists()
    )


# --- Outcome observations ------------------------------------------------------------------


def measure_value(measure: OutcomeMeasure, raw: str) -> Decimal:
    """The number stored for an answer: a count, 0/1, a scale value, or a stage's position
    (1 for the first). Raises ValidationError (field ``value``) with what is expected."""
    raw = str(raw).strip()
    if measure.kind == MeasureKind.STAGE:
        if raw not in measure.stage_codes:
            raise ValidationError({"value": [_("Choose one of the stages.")]})
        return Decimal(measure.stage_codes.index(raw) + 1)
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ValidationError({"value": [_("Enter a number.")]}) from None
    if not value.is_finite():
        raise ValidationError({"value": [_("Enter a number.")]})
    if measure.kind == MeasureKind.COUNT and (value < 0 or value != value.to_integral_value()):
        raise ValidationError({"value": [_("Enter a whole number, 0 or more.")]})
    if measure.kind == MeasureKind.YES_NO and value not in (0, 1):
        raise ValidationError({"value": [_("Enter 1 for yes or 0 for no.")]})
    if measure.kind == MeasureKind.SCALE:
        low, high = measure.scale_min, measure.scale_max
        if (low is not None and value < low) or (high is not None and value > high):
            message = _("Enter a value from %(low)s to %(high)s.") % {"low": low, "high": high}
            raise ValidationError({"value": [message]})
    if abs(value) >= Decimal("1e7"):
        raise ValidationError({"value": [_("This number is too large.")]})
    return value.quantize(Decimal("0.01"))


@transaction.atomic
def observation_record(
    *,
    actor: User,
    youth: Youth,
    measure: OutcomeMeasure,
    observed_on: datetime.date,
    value: str,
    note: str = "",
) -> OutcomeObservation:
    _require_youth(actor, youth)
    errors: Errors = {}
    _date_ok(errors, "observed_on", observed_on)
    if len(note) > MAX_NOTE:
        _add(errors, "note", _("Keep the note under %(n)d characters.") % {"n": MAX_NOTE})
    try:
        number = measure_value(measure, value)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    _raise(errors)
    observation = OutcomeObservation.objects.create(
        youth=youth,
        measure=measure,
        observed_on=observed_on,
        value=number,
        note=note.strip(),
        recorded_by=actor,
    )
    _audit(actor, AuditAction.CREATE, observation, youth.pk)
    return observation
