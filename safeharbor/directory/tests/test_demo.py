"""The synthetic directory: deterministic, Californian, complete, importable."""

from __future__ import annotations

import datetime
from unittest import mock

import pytest

from safeharbor.directory.demo import generate, seed_directory
from safeharbor.directory.models import Capacity, Location, Organization, Service


def test_deterministic_and_californian():
    moment = datetime.datetime(2026, 5, 1, 9, 30, tzinfo=datetime.UTC)
    with mock.patch("safeharbor.core.clock.now", return_value=moment):
        first, again = generate(seed=11, count=40), generate(seed=11, count=40)
    assert first == again
    for service in first:
        location = service["service_at_locations"][0]["location"]
        assert 32.3 < location["latitude"] < 42.1
        assert -124.6 < location["longitude"] < -114
        assert location["addresses"][0]["state_province"] == "CA"
        assert service["schedules"]
        assert service["languages"]
        assert ".555.01" in service["phones"][0]["number"]


@pytest.mark.django_db
def test_seed_directory_links_demo_agencies(world):
    count = seed_directory(seed=2, services=60, agencies={"shelter": world.clinic})
    assert count == Service.objects.count() == 60
    assert Organization.objects.get(agency=world.clinic).name == world.clinic.name
    assert Capacity.objects.exists()
    assert Location.objects.filter(is_confidential=True).exists()
