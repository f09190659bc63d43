"""A screening completed after a youth returns from a missing episode meets the episode's
24-hour screen (contact), with no second entry by hand; one completed before it does not."""

from __future__ import annotations

import datetime
from unittest import mock

from safeharbor.contact import services as contact_services
from safeharbor.contact.attention import items_for
from safeharbor.contact.choices import AttentionKind
from safeharbor.core import clock
from safeharbor.screening import services

from .helpers import SIX, completed, load, six_answers

HOUR = datetime.timedelta(hours=1)


def at(moment):
    return mock.patch("safeharbor.core.clock.now", return_value=moment)


def _returned(world, start):
    with at(start):
        episode = contact_services.missing_episode_open(
            actor=world.county_caseworker,
            youth=world.maya,
            started_at=start - 3 * HOUR,
            learned_at=start - 2 * HOUR,
            last_seen_where="Bus stop on Fictional Avenue",
        )
    with at(start + HOUR):
        contact_services.missing_episode_close(
            actor=world.county_caseworker, episode=episode, ended_at=start + HOUR
        )
    return episode


def test_a_screening_after_the_return_meets_its_24_hour_screen(world):
    instrument = load(SIX)
    # Forward from now, never back: the care team begins today (the agency's local date), and
    # a moment hours back is yesterday there for part of each day, when the caseworker's list
    # is empty (the test failed from midnight to 08:00 in the agencies' time zone).
    start = clock.now() + HOUR
    with at(start - HOUR):
        completed(world, instrument, six_answers(0))  # before the return: does not count
    episode = _returned(world, start)
    episode.refresh_from_db()
    assert episode.return_screening_at is None
    with at(start + 2 * HOUR):
        kinds = [i.kind for i in items_for(actor=world.county_caseworker, team=False, now=start)]
    assert AttentionKind.RETURN_SCREENING in kinds
    with at(start + 3 * HOUR):
        screening = completed(world, instrument, six_answers(1), reason="return_from_missing")
    episode.refresh_from_db()
    assert episode.return_screening_at == screening.completed_at
    assert episode.return_screening_by == world.county_caseworker
    moment = start + 4 * HOUR
    with at(moment):
        kinds = [i.kind for i in items_for(actor=world.county_caseworker, team=False, now=moment)]
    assert AttentionKind.RETURN_SCREENING not in kinds


def test_a_draft_does_not_meet_it(world):
    instrument = load(SIX)
    # Forward from now, never back: the care team begins today (the agency's local date), and
    # a moment hours back is yesterday there for part of each day, when the caseworker's list
    # is empty (the test failed from midnight to 08:00 in the agencies' time zone).
    start = clock.now() + HOUR
    episode = _returned(world, start)
    with at(start + 2 * HOUR):
        services.screening_submit(
            actor=world.county_caseworker,
            youth=world.maya,
            instrument=instrument,
            reason="return_from_missing",
            mode="interview_in_person",
            language="en",
            answers={},
            complete=False,
        )
    episode.refresh_from_db()
    assert episode.return_screening_at is None
