"""The demo referrals: made through the services (history and audit are real), every status with
its outcome, answered in time and not, some waiting too long, and in a linked agency's inbox.

The demo is seeded once for the module (``seed_demo`` with a small county) and rolled back."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction

from safeharbor.access.choices import Category
from safeharbor.accounts.models import Agency, User
from safeharbor.audit.models import AuditEvent
from safeharbor.core import clock
from safeharbor.referrals import deadlines, selectors, workflow
from safeharbor.referrals import demo as referrals_demo
from safeharbor.referrals.choices import Outcome, Status
from safeharbor.referrals.models import Referral, ReferralEvent
from safeharbor.youth.choices import TeamRole
from safeharbor.youth.demo import seed_demo
from safeharbor.youth.models import CareTeamMember, ConsentToShare

YOUTH = 40


@pytest.fixture(scope="module")
def demo(django_db_setup: Any, django_db_blocker: Any) -> Iterator[None]:
    with django_db_blocker.unblock(), transaction.atomic():
        seed_demo(seed=7, youth_count=YOUTH)
        yield
        transaction.set_rollback(True)


pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo")]


def test_every_status_but_entered_in_error_is_there() -> None:
    statuses = set(Referral.objects.values_list("status", flat=True))
    assert statuses == set(Status.values) - {Status.ENTERED_IN_ERROR}


def test_every_outcome_is_there() -> None:
    outcomes = set(Referral.objects.exclude(outcome="").values_list("outcome", flat=True))
    assert outcomes == set(Outcome.values)


def test_every_closed_referral_has_an_outcome_and_no_open_one_has() -> None:
    closed = Referral.objects.filter(status__in=workflow.CLOSED)
    assert closed.exists()
    assert not closed.filter(outcome="").exists()
    assert not Referral.objects.exclude(status__in=workflow.CLOSED).exclude(outcome="").exists()


def test_declined_cancelled_and_failed_referrals_say_why() -> None:
    needing = Referral.objects.filter(status__in=workflow.NEEDS_REASON)
    assert needing.exists()
    assert not needing.filter(status_reason="").exists()


def test_referrals_go_to_services_on_and_off_the_platform() -> None:
    assert Referral.objects.filter(receiving_agency__isnull=True).exists()
    assert Referral.objects.filter(receiving_agency__isnull=False).exists()


def test_history_and_audit_come_from_the_services() -> None:
    events = ReferralEvent.objects.count()
    for referral in Referral.objects.prefetch_related("history"):
        history = list(referral.history.all())
        assert history[0].from_status == ""
        assert history[-1].to_status == referral.status
    audited = AuditEvent.objects.filter(
        object_type="referrals.referral", action__in=["create", "update"]
    )
    assert audited.count() == events


def test_the_history_happened_in_the_past_in_order() -> None:
    now = clock.now()
    for referral in Referral.objects.prefetch_related("history"):
        moments = [event.at for event in referral.history.all()]
        assert moments == sorted(moments)
        assert moments[-1] < now
        assert referral.sent_at is None or referral.sent_at == moments[0]


def test_some_were_matched_within_48_hours_and_some_not() -> None:
    now = clock.now()
    matched = {deadlines.matched_within_48_hours(r, now) for r in Referral.objects.all()}
    assert {True, False} <= matched


def test_the_supervisor_sees_referrals_waiting_too_long() -> None:
    supervisor = User.objects.get(username="supervisor")
    waiting = selectors.sent(actor=supervisor, scope="waiting")
    assert waiting.rows
    assert all(row.waiting_too_long for row in waiting.rows)


@pytest.mark.parametrize("username", ["clinician", "advocate"])
def test_a_linked_agency_has_referrals_in_its_inbox(username: str) -> None:
    staff = User.objects.get(username=username)
    inbox = selectors.inbox(actor=staff, state="all")
    assert inbox.rows
    assert {row.referral.receiving_agency_id for row in inbox.rows} == {staff.agency_id_or_none}


def test_a_live_consent_shows_the_clinic_the_youth_and_the_note() -> None:
    clinician = User.objects.get(username="clinician")
    today = clock.today()
    consented = {
        consent.youth_id
        for consent in ConsentToShare.objects.filter(
            recipient_agency_id=clinician.agency_id_or_none,
            revoked_at__isnull=True,
            valid_from__lte=today,
            expires_on__gte=today,
        )
        if {Category.IDENTITY, Category.REFERRALS} <= set(consent.categories)
    }
    referral = (
        Referral.objects.filter(
            receiving_agency_id=clinician.agency_id_or_none, youth_id__in=consented
        )
        .exclude(status=Status.DRAFT)
        .first()
    )
    assert referral is not None
    view = selectors.referral_detail(actor=clinician, referral_id=referral.pk)
    assert (view.show_identity, view.show_note) == (True, True)


def test_the_demo_makes_the_consented_referral_when_chance_did_not() -> None:
    """Youth are dealt stories in record-number order, and record numbers are random: if every
    referral to the clinic went to a youth it already cares for, the demo refers one more."""
    clinic = Agency.objects.get(name=referrals_demo.CONSENTED_AGENCY)
    clinician = User.objects.get(username="clinician")
    for youth_id in set(
        Referral.objects.filter(receiving_agency=clinic).values_list("youth_id", flat=True)
    ):
        CareTeamMember.objects.create(
            youth_id=youth_id,
            user=clinician,
            team_role=TeamRole.CLINICIAN,
            starts_on=clock.today(),
        )
    summary = referrals_demo.ReferralsDemoSummary()
    world = referrals_demo._World(random.Random(1))  # noqa: S311
    referral = referrals_demo._referral_outside_the_clinics_care(
        world, summary, clinic, clock.now()
    )
    assert referral is not None
    assert referral.receiving_agency == clinic
    assert referral.status != Status.DRAFT
    assert not referral.youth.care_team.filter(user__membership__agency=clinic).exists()
    assert summary.referrals == 1
