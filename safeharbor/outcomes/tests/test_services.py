"""Recording programs, enrolments, services and outcome observations: who may, what is
refused (with a message per field, nothing saved), and the audit trail."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from safeharbor.audit.models import AuditEvent
from safeharbor.core import clock
from safeharbor.core.tests.personas import World
from safeharbor.outcomes import services
from safeharbor.outcomes.choices import ExitReason, ProgramKind, ReferralSource
from safeharbor.outcomes.measures import SHIPPED
from safeharbor.outcomes.models import (
    Enrolment,
    OutcomeMeasure,
    OutcomeObservation,
    Program,
    ServiceDelivery,
)

pytestmark = pytest.mark.django_db


def _enrol(world: World, program: Program, **overrides: object) -> Enrolment:
    arguments: dict[str, object] = {
        "actor": world.county_caseworker,
        "youth": world.maya,
        "program": program,
        "starts_on": datetime.date(2025, 3, 1),
        "referral_source": ReferralSource.CHILD_WELFARE,
    }
    arguments.update(overrides)
    return services.enrolment_start(**arguments)  # type: ignore[arg-type]


def test_the_shipped_measures_are_there_with_re_exploitation_kept_apart() -> None:
    codes = set(OutcomeMeasure.objects.filter(shipped=True).values_list("code", flat=True))
    assert codes == {item.code for item in SHIPPED}
    assert {"revictimisation", "relapse", "lapse"} <= codes
    stage = OutcomeMeasure.objects.get(code="stage_of_change")
    assert stage.stage_codes[0] == "precontemplation"
    assert stage.stage_codes[-1] == "maintenance"


def test_only_supervisors_and_admins_set_up_programs(world: World, program: Program) -> None:
    assert program.agency_id == world.county.pk
    with pytest.raises(PermissionDenied):
        services.program_create(
            actor=world.county_caseworker,
            name="Another",
            kind=ProgramKind.OTHER,
            starts_on=datetime.date(2024, 1, 1),
        )
    with pytest.raises(ValidationError) as caught:
        services.program_create(
            actor=world.county_admin,
            name="Harbor Mentoring",
            kind="juggling",
            starts_on=datetime.date(2024, 2, 1),
            ends_on=datetime.date(2024, 1, 1),
        )
    assert set(caught.value.message_dict) == {"name", "kind", "ends_on"}


def test_enrol_exit_and_the_rules_of_an_enrolment(world: World, program: Program) -> None:
    enrolment = _enrol(world, program)
    with pytest.raises(ValidationError) as caught:
        _enrol(world, program)
    assert "program" in caught.value.message_dict  # already enrolled
    with pytest.raises(ValidationError) as caught:
        services.enrolment_exit(
            actor=world.county_caseworker,
            enrolment=enrolment,
            ends_on=datetime.date(2025, 1, 1),
            exit_reason="vanished",
        )
    assert set(caught.value.message_dict) == {"ends_on", "exit_reason"}
    services.enrolment_exit(
        actor=world.county_caseworker,
        enrolment=enrolment,
        ends_on=datetime.date(2025, 9, 1),
        exit_reason=ExitReason.COMPLETED,
    )
    assert Enrolment.objects.get().exit_reason == ExitReason.COMPLETED
    # Only those who may change the youth's services, and only into their own agency's program.
    with pytest.raises(PermissionDenied):
        _enrol(world, program, actor=world.other_caseworker)
    with pytest.raises(PermissionDenied):
        _enrol(world, program, actor=world.county_analyst)
    events = AuditEvent.objects.filter(object_type="outcomes.enrolment")
    assert {e.category for e in events} == {"services"}


def test_a_service_under_a_program_needs_an_enrolment_that_day(
    world: World, program: Program
) -> None:
    with pytest.raises(ValidationError) as caught:
        services.service_record(
            actor=world.county_caseworker,
            youth=world.maya,
            service_type="counseling",
            delivered_on=datetime.date(2025, 3, 5),
            minutes=0,
            mode="in_person",
            program=program,
        )
    assert set(caught.value.message_dict) == {"minutes", "program"}
    _enrol(world, program)
    delivery = services.service_record(
        actor=world.county_caseworker,
        youth=world.maya,
        service_type="counseling",
        delivered_on=datetime.date(2025, 3, 5),
        minutes=50,
        mode="in_person",
        program=program,
    )
    assert ServiceDelivery.objects.get() == delivery
    with pytest.raises(ValidationError) as caught:
        services.service_record(
            actor=world.county_caseworker,
            youth=world.maya,
            service_type="counseling",
            delivered_on=clock.today() + datetime.timedelta(days=2),
            minutes=30,
            mode="by carrier pigeon",
        )
    assert set(caught.value.message_dict) == {"delivered_on", "mode"}


@pytest.mark.parametrize(
    ("code", "raw", "stored"),
    [
        ("arrests", "2", Decimal("2")),
        ("school_enrolled", "1", Decimal("1")),
        ("school_attendance", "87.5", Decimal("87.50")),
        ("stage_of_change", "action", Decimal("4")),
    ],
)
def test_each_kind_of_measure_stores_a_number(
    world: World, code: str, raw: str, stored: Decimal
) -> None:
    measure = OutcomeMeasure.objects.get(code=code)
    observation = services.observation_record(
        actor=world.county_caseworker,
        youth=world.maya,
        measure=measure,
        observed_on=datetime.date(2025, 4, 1),
        value=raw,
    )
    assert observation.value == stored


@pytest.mark.parametrize(
    ("code", "raw"),
    [
        ("arrests", "-1"),
        ("arrests", "1.5"),
        ("arrests", "many"),
        ("arrests", "NaN"),
        ("school_enrolled", "2"),
        ("school_attendance", "101"),
        ("stage_of_change", "denial"),
    ],
)
def test_a_value_that_does_not_fit_the_measure_is_refused(
    world: World, code: str, raw: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        services.observation_record(
            actor=world.county_caseworker,
            youth=world.maya,
            measure=OutcomeMeasure.objects.get(code=code),
            observed_on=datetime.date(2025, 4, 1),
            value=raw,
        )
    assert "value" in caught.value.message_dict
    assert not OutcomeObservation.objects.exists()
