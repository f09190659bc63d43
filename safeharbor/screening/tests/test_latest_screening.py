"""``LatestScreening``, the due list's index: kept by the services, rebuilt on demand, and giving
the same due list as working it out from every screening."""

from __future__ import annotations

import datetime
import importlib
import random
from types import SimpleNamespace
from unittest import mock

import pytest
from django.apps import apps
from django.db import connection
from django.utils import timezone

from safeharbor.core import clock
from safeharbor.screening import selectors, services
from safeharbor.screening.models import LatestScreening, Screening
from safeharbor.screening.selectors import DUE_SOON_DAYS
from safeharbor.youth.models import Youth

from .helpers import SIX, completed, load, six_answers
from .test_due import DAY, add_youth, at

INTERVAL_DAYS = 30


def expected_due(world, url: str, now: datetime.datetime) -> list[tuple[object, str]]:
    """The oracle: every youth of the agency, their last completed screening by this
    instrument's URL worked out from all the screenings, due ones in the list's order."""
    cutoff = now + datetime.timedelta(days=DUE_SOON_DAYS - INTERVAL_DAYS)
    last: dict[object, datetime.datetime] = {}
    for screening in Screening.objects.filter(status="completed", instrument__url=url):
        if screening.youth_id not in last or screening.completed_at > last[screening.youth_id]:
            last[screening.youth_id] = screening.completed_at
    youth = list(Youth.objects.filter(owning_agency=world.county))
    never = sorted((y for y in youth if y.pk not in last), key=lambda y: (y.created_at, str(y.pk)))
    screened = sorted(
        (y for y in youth if y.pk in last and last[y.pk] <= cutoff),
        key=lambda y: (last[y.pk], str(y.pk)),
    )
    return [(y.pk, "never") for y in never] + [
        (y.pk, timezone.localdate(last[y.pk]).isoformat()) for y in screened
    ]


def shown(actor, page: int) -> tuple[list[tuple[object, str]], int]:
    (section,) = selectors.screenings_due(actor=actor, page=page).rescreens
    return [(row.youth.pk, row.detail) for row in section.rows], section.count


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_due_list_matches_working_it_out_from_every_screening(world, seed: int) -> None:
    rng = random.Random(seed)
    instrument = load(SIX)
    services.rescreen_interval_set(
        actor=world.county_admin, instrument_url=instrument.url, days=INTERVAL_DAYS
    )
    youths = add_youth(world, 14) + [world.maya]
    start = clock.now()
    # Screenings entered in any order, some with times earlier than ones already there.
    for _ in range(30):
        youth = rng.choice(youths)
        with at(start + DAY * rng.randint(0, 80) + datetime.timedelta(minutes=rng.randint(0, 999))):
            completed(world, instrument, six_answers(rng.randint(0, 6)), youth=youth)
    now = start + DAY * 90
    expected = expected_due(world, instrument.url, now)
    with at(now), mock.patch("safeharbor.screening.selectors.PAGE_SIZE", 4):
        pages = []
        for page in range(1, 6):
            rows, count = shown(world.county_supervisor, page)
            assert count == len(expected)
            pages += rows
    assert pages == expected[:20]
    # The caseworker's own caseload goes the same way, narrowed to their youth.
    with at(now):
        rows, count = shown(world.county_caseworker, 1)
    mine = {y.pk for y in youths}
    assert rows == [row for row in expected if row[0] in mine][: selectors.PAGE_SIZE]


def test_an_earlier_screening_entered_later_leaves_the_latest_time(world) -> None:
    instrument = load(SIX)
    start = clock.now()
    with at(start + DAY * 10):
        completed(world, instrument, six_answers(0))
    with at(start):
        completed(world, instrument, six_answers(1))
    latest = LatestScreening.objects.get(youth=world.maya, instrument_url=instrument.url)
    assert latest.completed_at == start + DAY * 10
    assert latest.agency_id == world.county.pk


def test_a_draft_is_not_a_screening_done(world) -> None:
    instrument = load(SIX)
    services.screening_start(
        actor=world.county_caseworker,
        youth=world.maya,
        instrument=instrument,
        reason="intake",
        mode="interview_in_person",
    )
    assert not LatestScreening.objects.exists()


def test_refresh_follows_screenings_re_dated_outside_the_services(world) -> None:
    instrument = load(SIX)
    other = add_youth(world, 1)[0]
    done = completed(world, instrument, six_answers(0))
    completed(world, instrument, six_answers(0), youth=other)
    earlier = clock.now() - DAY * 200
    Screening.objects.filter(pk=done.pk).update(started_at=earlier, completed_at=earlier)
    assert services.latest_screenings_refresh(youth_ids=[world.maya.pk]) == 1
    assert LatestScreening.objects.get(youth=world.maya).completed_at == earlier
    assert LatestScreening.objects.get(youth=other).completed_at > earlier
    LatestScreening.objects.all().delete()
    assert services.latest_screenings_refresh() == 2


def test_the_migration_fills_the_index_from_the_screenings_there(world) -> None:
    instrument = load(SIX)
    for youth in [world.maya, *add_youth(world, 2)]:
        completed(world, instrument, six_answers(0), youth=youth)
    made = sorted(LatestScreening.objects.values_list("youth_id", "completed_at"))
    LatestScreening.objects.all().delete()
    migration = importlib.import_module("safeharbor.screening.migrations.0003_latest_screening")
    migration.fill(apps, SimpleNamespace(connection=connection))
    assert sorted(LatestScreening.objects.values_list("youth_id", "completed_at")) == made
