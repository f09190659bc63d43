"""Referral fixtures: a clinic service that answers on the platform, and one that does not."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import pytest
from django.utils import timezone

from safeharbor.core.tests.personas import World
from safeharbor.directory.models import Organization, Service
from safeharbor.directory.tests.factories import load, service_object
from safeharbor.referrals import services
from safeharbor.referrals.choices import Priority
from safeharbor.referrals.models import Referral

HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)


@contextmanager
def at(moment: datetime.datetime) -> Iterator[None]:
    with mock.patch("safeharbor.core.clock.now", return_value=moment):
        yield


@pytest.fixture
def now() -> datetime.datetime:
    return timezone.now().replace(microsecond=0)


@pytest.fixture
def clinic_service(world: World) -> Service:
    """A counselling service of the Bayside clinic, which answers referrals in Safe Harbor."""
    data = service_object(name="Bayside Youth Counseling", codes=("need-counseling",))
    load(data)
    Organization.objects.filter(pk=data["organization"]["id"]).update(agency=world.clinic)
    return Service.objects.select_related("organization").get(pk=data["id"])


@pytest.fixture
def outside_service(world: World) -> Service:
    """A food bank that is not on the platform: the referring worker records its answers."""
    data = service_object(name="Harbor Food Bank", codes=("need-food",))
    load(data)
    return Service.objects.select_related("organization").get(pk=data["id"])


def refer(world: World, service: Service, **overrides: Any) -> Referral:
    arguments: dict[str, Any] = {
        "actor": world.county_caseworker,
        "youth": world.maya,
        "service": service,
        "need": "need-counseling",
        "priority": Priority.URGENT,
        "note": "Maya asked for a counsellor who speaks Spanish.",
        "callback": "Casey Tester, Harbor County, 555-0100",
    }
    arguments.update(overrides)
    return services.referral_create(**arguments)
