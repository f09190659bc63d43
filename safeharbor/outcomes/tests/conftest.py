"""Outcomes fixtures: a program of the county agency, built through the services."""

from __future__ import annotations

import datetime

import pytest

from safeharbor.core.tests.personas import World
from safeharbor.outcomes import services
from safeharbor.outcomes.choices import ProgramKind
from safeharbor.outcomes.models import Program

PROGRAM_START = datetime.date(2024, 1, 1)


@pytest.fixture
def program(world: World) -> Program:
    return services.program_create(
        actor=world.county_supervisor,
        name="Harbor Mentoring",
        kind=ProgramKind.MENTORING,
        starts_on=PROGRAM_START,
    )
