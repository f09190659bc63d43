"""Referrals waiting too long appear on the "needs attention today" pages, policy-checked."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from safeharbor.contact import attention
from safeharbor.core.tests.personas import World, verified_client
from safeharbor.directory.models import Service
from safeharbor.referrals import services
from safeharbor.referrals.attention import NO_ANSWER, NO_OUTCOME
from safeharbor.referrals.choices import Status

from .conftest import DAY, HOUR, at, refer

pytestmark = pytest.mark.django_db


def _kinds(world: World, actor: object, team: bool, now: datetime.datetime) -> list[str]:
    with at(now):
        return [i.kind for i in attention.items_for(actor=actor, team=team, now=now)]  # type: ignore[arg-type]


def test_unanswered_and_unfinished_referrals_are_listed(
    world: World, clinic_service: Service, now: datetime.datetime
) -> None:
    with at(now - 3 * DAY):
        unanswered = refer(world, clinic_service)
    with at(now - 40 * DAY):
        unfinished = refer(world, clinic_service)
        services.referral_move(
            actor=world.clinic_clinician, referral=unfinished, to_status=Status.ACCEPTED
        )
    with at(now - HOUR):
        refer(world, clinic_service)  # fresh: not yet waiting
    mine = _kinds(world, world.county_caseworker, False, now)
    assert sorted(k for k in mine if k.startswith("referral")) == [NO_ANSWER, NO_OUTCOME]
    team = _kinds(world, world.county_supervisor, True, now)
    assert sorted(k for k in team if k.startswith("referral")) == [NO_ANSWER, NO_OUTCOME]
    # Someone else's caseload does not show them; nor once the service answers.
    assert not [k for k in _kinds(world, world.other_caseworker, False, now) if "referral" in k]
    with at(now):
        services.referral_move(
            actor=world.clinic_clinician, referral=unanswered, to_status=Status.ACCEPTED
        )
    mine = _kinds(world, world.county_caseworker, False, now)
    assert [k for k in mine if k.startswith("referral")] == [NO_OUTCOME]


def test_the_page_links_each_row_to_the_referral(
    world: World, clinic_service: Service, now: datetime.datetime
) -> None:
    with at(now - 3 * DAY):
        referral = refer(world, clinic_service)
    response = verified_client(world.county_caseworker).get(reverse("contact:attention"))
    assert response.status_code == 200
    content = response.content.decode()
    assert reverse("referrals:detail", args=[referral.pk]) in content
    assert "Referral without an answer" in content
