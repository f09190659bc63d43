"""The referral workflow: who may move a referral where, the rules for reasons and outcomes,
history and audit, and "matched within 48 hours"."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from safeharbor.audit.models import AuditEvent
from safeharbor.core.tests.personas import World
from safeharbor.directory.models import Service
from safeharbor.referrals import deadlines, services, workflow
from safeharbor.referrals.choices import Outcome, Status
from safeharbor.referrals.models import Referral
from safeharbor.referrals.workflow import Side

from .conftest import DAY, HOUR, at, refer

pytestmark = pytest.mark.django_db


def test_a_referral_to_a_platform_service_is_sent_to_its_agency(
    world: World, clinic_service: Service
) -> None:
    referral = refer(world, clinic_service)
    assert referral.status == Status.REQUESTED
    assert referral.receiving_agency_id == world.clinic.pk
    assert referral.referring_agency_id == world.county.pk
    assert referral.sent_at is not None
    assert [(e.from_status, e.to_status) for e in referral.history.all()] == [("", "requested")]
    event = AuditEvent.objects.filter(object_type="referrals.referral").get()
    assert (event.action, event.category, event.youth_id) == ("create", "referrals", world.maya.pk)


def test_the_note_is_encrypted_at_rest(world: World, clinic_service: Service) -> None:
    referral = refer(world, clinic_service)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT note FROM referrals_referral WHERE id = %s", [referral.pk.hex])
        row = cursor.fetchone()
    if row is None:  # PostgreSQL keeps the uuid type
        with connection.cursor() as cursor:
            cursor.execute("SELECT note FROM referrals_referral WHERE id = %s", [referral.pk])
            row = cursor.fetchone()
    assert "Spanish" not in row[0]
    assert row[0].startswith("v1.")


def test_only_those_who_may_change_referrals_refer(world: World, clinic_service: Service) -> None:
    for outsider in (world.other_caseworker, world.police_officer, world.county_admin):
        with pytest.raises(PermissionDenied):
            refer(world, clinic_service, actor=outsider)
    assert not Referral.objects.exists()


def test_bad_input_names_each_field_and_saves_nothing(
    world: World, clinic_service: Service
) -> None:
    with pytest.raises(ValidationError) as caught:
        refer(world, clinic_service, need="need-rocket", priority="whenever", callback=" ")
    assert set(caught.value.message_dict) == {"need", "priority", "callback"}
    assert not Referral.objects.exists()


def test_an_inactive_service_takes_no_referral(world: World, clinic_service: Service) -> None:
    Service.objects.filter(pk=clinic_service.pk).update(status="inactive")
    clinic_service.refresh_from_db()
    with pytest.raises(ValidationError) as caught:
        refer(world, clinic_service)
    assert "service" in caught.value.message_dict


def test_the_service_answers_and_closes_with_an_outcome(
    world: World, clinic_service: Service
) -> None:
    referral = refer(world, clinic_service)
    clinician = world.clinic_clinician
    services.referral_move(actor=clinician, referral=referral, to_status=Status.ACCEPTED)
    services.referral_move(actor=clinician, referral=referral, to_status=Status.IN_PROGRESS)
    with pytest.raises(ValidationError) as caught:
        services.referral_move(actor=clinician, referral=referral, to_status=Status.COMPLETED)
    assert "outcome" in caught.value.message_dict
    closed = services.referral_move(
        actor=clinician,
        referral=referral,
        to_status=Status.COMPLETED,
        outcome=Outcome.GOT_HELP,
        note="Six sessions booked.",
    )
    assert closed.status == Status.COMPLETED
    assert closed.outcome == Outcome.GOT_HELP
    assert closed.closed_at is not None
    assert closed.accepted_at is not None
    # The referring worker has not seen it yet: it stands out for them.
    assert closed.outcome_seen_at is None
    assert [e.to_status for e in closed.history.all()] == [
        "requested",
        "accepted",
        "in-progress",
        "completed",
    ]


@pytest.mark.parametrize("status", sorted(workflow.NEEDS_REASON - {Status.ENTERED_IN_ERROR}))
def test_a_reason_is_required_where_fhir_asks_for_one(
    world: World, clinic_service: Service, status: str
) -> None:
    referral = refer(world, clinic_service)
    actor = world.clinic_clinician
    if status in (Status.ON_HOLD, Status.FAILED):
        services.referral_move(actor=actor, referral=referral, to_status=Status.ACCEPTED)
    if status == Status.CANCELLED:
        actor = world.county_caseworker
    outcome = Outcome.NOT_ELIGIBLE if status in workflow.NEEDS_OUTCOME else ""
    with pytest.raises(ValidationError) as caught:
        services.referral_move(actor=actor, referral=referral, to_status=status, outcome=outcome)
    assert "reason" in caught.value.message_dict
    moved = services.referral_move(
        actor=actor, referral=referral, to_status=status, reason="Too far away", outcome=outcome
    )
    assert moved.status_reason == "Too far away"


def test_each_side_moves_only_its_own_steps(world: World, clinic_service: Service) -> None:
    referral = refer(world, clinic_service)
    # The referring worker cannot accept for the service, nor the service cancel for them.
    with pytest.raises(ValidationError):
        services.referral_move(
            actor=world.county_caseworker, referral=referral, to_status=Status.ACCEPTED
        )
    with pytest.raises(ValidationError):
        services.referral_move(
            actor=world.clinic_clinician,
            referral=referral,
            to_status=Status.CANCELLED,
            reason="x",
            outcome=Outcome.DECLINED,
        )
    # Someone with no side at all is refused outright.
    with pytest.raises(PermissionDenied):
        services.referral_move(
            actor=world.other_caseworker, referral=referral, to_status=Status.RECEIVED
        )


def test_a_closed_referral_does_not_move_again(world: World, clinic_service: Service) -> None:
    referral = refer(world, clinic_service)
    services.referral_move(
        actor=world.clinic_clinician,
        referral=referral,
        to_status=Status.REJECTED,
        reason="Full",
        outcome=Outcome.NO_CAPACITY,
    )
    for status in (Status.ACCEPTED, Status.CANCELLED, Status.REQUESTED):
        assert status not in workflow.allowed_moves(
            Status.REJECTED, frozenset(Side), on_platform=True
        )
        with pytest.raises(ValidationError):
            services.referral_move(
                actor=world.clinic_clinician,
                referral=referral,
                to_status=status,
                reason="x",
                outcome=Outcome.GOT_HELP,
            )


def test_off_platform_the_worker_records_the_services_answer(
    world: World, outside_service: Service
) -> None:
    referral = refer(world, outside_service, need="need-food")
    assert referral.receiving_agency_id is None
    worker = world.county_caseworker
    services.referral_move(actor=worker, referral=referral, to_status=Status.ACCEPTED)
    closed = services.referral_move(
        actor=worker, referral=referral, to_status=Status.COMPLETED, outcome=Outcome.GOT_HELP
    )
    assert closed.status == Status.COMPLETED
    assert closed.outcome_seen_at is not None  # the worker recorded it: nothing to learn


def test_a_draft_is_sent_later(world: World, clinic_service: Service) -> None:
    draft = refer(world, clinic_service, send=False)
    assert draft.status == Status.DRAFT
    assert draft.sent_at is None
    sent = services.referral_move(
        actor=world.county_caseworker, referral=draft, to_status=Status.REQUESTED
    )
    assert sent.sent_at is not None


def test_the_database_refuses_a_closed_referral_without_an_outcome(
    world: World, clinic_service: Service
) -> None:
    referral = refer(world, clinic_service)
    with pytest.raises(IntegrityError), transaction.atomic():
        Referral.objects.filter(pk=referral.pk).update(status=Status.COMPLETED)
    with pytest.raises(IntegrityError), transaction.atomic():
        Referral.objects.filter(pk=referral.pk).update(status=Status.ON_HOLD)


def test_receiving_marks_received_once(world: World, clinic_service: Service) -> None:
    referral = refer(world, clinic_service)
    services.referral_received(actor=world.clinic_clinician, referral=referral)
    again = services.referral_received(
        actor=world.clinic_clinician, referral=Referral.objects.get(pk=referral.pk)
    )
    assert again.status == Status.RECEIVED
    assert referral.history.filter(to_status=Status.RECEIVED).count() == 1
    # The referring side opening it changes nothing.
    services.referral_received(actor=world.county_caseworker, referral=again)
    assert referral.history.count() == 2


def test_matched_within_48_hours_is_derived(
    world: World, clinic_service: Service, now: datetime.datetime
) -> None:
    with at(now - 3 * DAY):
        slow = refer(world, clinic_service)
    with at(now - 2 * HOUR):
        quick = refer(world, clinic_service)
    assert deadlines.matched_within_48_hours(quick, now) is None  # it still may
    assert deadlines.matched_within_48_hours(slow, now) is False
    assert deadlines.waiting_too_long(slow, now)
    with at(now):
        quick = services.referral_move(
            actor=world.clinic_clinician, referral=quick, to_status=Status.ACCEPTED
        )
        slow = services.referral_move(
            actor=world.clinic_clinician, referral=slow, to_status=Status.ACCEPTED
        )
    assert deadlines.matched_within_48_hours(quick, now) is True
    assert deadlines.matched_within_48_hours(slow, now) is False
    assert not deadlines.waiting_too_long(quick, now)
    # Taken on but no outcome after 30 days: waiting too long again.
    assert deadlines.waiting_too_long(quick, now + 31 * DAY)
    waiting = Referral.objects.filter(deadlines.waiting_q(now + 31 * DAY))
    assert set(waiting) == {quick, slow}


def test_the_service_has_no_side_of_a_draft(world: World, clinic_service: Service) -> None:
    draft = refer(world, clinic_service, send=False)
    assert services.sides_of(world.clinic_clinician, draft) == frozenset()
    with pytest.raises(PermissionDenied):
        services.referral_move(
            actor=world.clinic_clinician, referral=draft, to_status=Status.ACCEPTED
        )


def test_only_the_referring_worker_clears_their_new_outcome(
    world: World, clinic_service: Service
) -> None:
    referral = refer(world, clinic_service)
    services.referral_move(
        actor=world.clinic_clinician,
        referral=referral,
        to_status=Status.REJECTED,
        reason="Full",
        outcome=Outcome.NO_CAPACITY,
    )
    services.referral_outcome_seen(actor=world.county_supervisor, referral=referral)
    referral.refresh_from_db()
    assert referral.outcome_seen_at is None
    services.referral_outcome_seen(actor=world.county_caseworker, referral=referral)
    referral.refresh_from_db()
    assert referral.outcome_seen_at is not None


def test_the_inbox_puts_emergencies_first(world: World, clinic_service: Service) -> None:
    from safeharbor.referrals import selectors
    from safeharbor.referrals.choices import Priority

    routine = refer(world, clinic_service, priority=Priority.ROUTINE)
    emergency = refer(world, clinic_service, priority=Priority.STAT)
    rows = selectors.inbox(actor=world.clinic_clinician).rows
    assert [row.referral.pk for row in rows] == [emergency.pk, routine.pk]
