"""The program dashboard (mezzo): figures with their n and interval, each linked to how it is
computed; aggregates only, for the agency's supervisors, analysts and administrators."""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import reverse

from safeharbor.audit.models import AuditEvent
from safeharbor.core import clock
from safeharbor.core.tests.personas import World, verified_client
from safeharbor.outcomes import effectiveness, services
from safeharbor.outcomes.choices import ExitReason, ProgramKind, ReferralSource
from safeharbor.outcomes.models import Program

pytestmark = pytest.mark.django_db


def _with_youth(world: World, program: Program) -> None:
    today = clock.today()
    enrolment = services.enrolment_start(
        actor=world.county_caseworker,
        youth=world.maya,
        program=program,
        starts_on=today - datetime.timedelta(days=100),
        referral_source=ReferralSource.SCHOOL,
    )
    services.service_record(
        actor=world.county_caseworker,
        youth=world.maya,
        service_type="counseling",
        delivered_on=today - datetime.timedelta(days=90),
        minutes=90,
        mode="in_person",
        program=program,
    )
    services.enrolment_exit(
        actor=world.county_caseworker,
        enrolment=enrolment,
        ends_on=today - datetime.timedelta(days=10),
        exit_reason=ExitReason.LOST_CONTACT,
    )


def test_the_dashboard_shows_each_figure_with_its_n_and_definition(
    world: World, program: Program
) -> None:
    _with_youth(world, program)
    url = reverse("outcomes:dashboard", args=[program.pk])
    for user in (world.county_supervisor, world.county_analyst, world.county_admin):
        response = verified_client(user).get(url)
        assert response.status_code == 200
        body = response.content.decode()
        assert "Counselling / therapy" in body
        assert "1.5" in body  # hours of counselling
        assert "Maya" not in body
        assert world.maya.record_number not in body
        assert "<svg" in body  # the retention curve (one event)
        anchors = set(re.findall(r'definitions/#([a-z0-9-]+)"', body))
        figures = effectiveness.all_figures(
            program, clock.today() - datetime.timedelta(days=364), clock.today()
        )
        assert anchors == {f.definition_anchor for f in figures}
    event = AuditEvent.objects.filter(object_type="outcomes.program", action="view").last()
    assert event is not None
    assert event.youth_id is None


def test_only_the_agencys_figure_readers_get_it(world: World, program: Program) -> None:
    url = reverse("outcomes:dashboard", args=[program.pk])
    assert verified_client(world.county_caseworker).get(url).status_code == 404
    assert verified_client(world.other_caseworker).get(url).status_code == 404
    other = services.program_create(
        actor=world.county_supervisor,
        name="Another program",
        kind=ProgramKind.OTHER,
        starts_on=datetime.date(2024, 1, 1),
    )
    Program.objects.filter(pk=other.pk).update(agency=world.valley)
    response = verified_client(world.county_supervisor).get(
        reverse("outcomes:dashboard", args=[other.pk])
    )
    assert response.status_code == 404


def test_a_bad_period_keeps_the_input_and_says_why(world: World, program: Program) -> None:
    url = reverse("outcomes:dashboard", args=[program.pk])
    response = verified_client(world.county_supervisor).get(
        url, {"start": "2026-05-01", "end": "2026-01-01"}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "2026-05-01" in body
    assert 'class="error' in body
    response = verified_client(world.county_supervisor).get(
        url, {"start": "yesterday", "end": "2026-01-01"}
    )
    assert response.status_code == 400


def test_the_definitions_page_has_every_anchor(world: World, program: Program) -> None:
    response = verified_client(world.county_analyst).get(reverse("outcomes:definitions"))
    assert response.status_code == 200
    body = response.content.decode()
    figures = effectiveness.all_figures(program, datetime.date(2025, 1, 1), clock.today())
    for figure in figures:
        assert f'id="{figure.definition_anchor}"' in body
    assert (
        verified_client(world.county_caseworker).get(reverse("outcomes:definitions")).status_code
        == 403
    )
