"""Helpers for the contact tests: a movable clock, and records built through the services."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import pytest
from django.utils import timezone

from safeharbor.contact import services
from safeharbor.core.tests.personas import World

HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)
MINUTE = datetime.timedelta(minutes=1)


@contextmanager
def at(moment: datetime.datetime) -> Iterator[None]:
    """Run the block as if it were ``moment`` (safeharbor.core.clock.now is patched)."""
    with mock.patch("safeharbor.core.clock.now", return_value=moment):
        yield


@pytest.fixture
def now() -> datetime.datetime:
    """Now, to the second (records' created_at come from the real clock, so stay near it)."""
    return timezone.now().replace(microsecond=0)


def open_episode(world: World, moment: datetime.datetime, **overrides: Any) -> Any:
    arguments: dict[str, Any] = {
        "actor": world.county_caseworker,
        "youth": world.maya,
        "started_at": moment - 2 * HOUR,
        "learned_at": moment - HOUR,
        "last_seen_where": "Bus stop on Fictional Avenue",
        "clothing": "Grey hoodie",
        "description": "Star tattoo on the left wrist",
        "medical_needs": "Asthma inhaler",
        "mental_health_needs": "Anxiety",
    }
    arguments.update(overrides)
    with at(moment):
        return services.missing_episode_open(**arguments)


@pytest.fixture
def episode_factory(world: World) -> Callable[..., Any]:
    return lambda moment, **kw: open_episode(world, moment, **kw)
