"""Screenings due appear on the "needs attention today" pages (contact.attention), from a day
before they fall due, and leave once met."""

from __future__ import annotations

import datetime
from unittest import mock

from safeharbor.contact import attention
from safeharbor.core import clock
from safeharbor.screening import services
from safeharbor.screening.attention import AFTER_EVENT, REPORT, RESCREEN

from .helpers import SIX, completed, load, six_answers

DAY = datetime.timedelta(days=1)
HOUR = datetime.timedelta(hours=1)


def at(moment):
    return mock.patch("safeharbor.core.clock.now", return_value=moment)


def screening_kinds(actor, moment, *, team=False):
    with at(moment):
        items = attention.items_for(actor=actor, team=team, now=moment)
    return sorted(item.kind for item in items if item.kind.startswith("screening_"))


def test_events_reports_and_rescreens_are_listed_until_met(world):
    instrument = load(SIX)
    services.rescreen_interval_set(actor=world.county_admin, instrument_url=instrument.url, days=90)
    start = clock.now()
    worker = world.county_caseworker
    # Never screened with the agency's instrument: a rescreen is due from the record's opening.
    assert screening_kinds(worker, start) == [RESCREEN]
    with at(start):
        completed(world, instrument, six_answers(0))
    assert screening_kinds(worker, start + HOUR) == []
    with at(start + 2 * HOUR):
        services.trigger_record(
            actor=worker, youth=world.maya, kind="runaway_history", occurred_at=start + HOUR
        )
        identification = services.victim_identification_record(
            actor=worker, youth=world.maya, identified_at=start + HOUR
        )
    later = start + 3 * HOUR
    assert screening_kinds(worker, later) == sorted([REPORT, AFTER_EVENT])
    assert screening_kinds(world.county_supervisor, later, team=True) == sorted(
        [REPORT, AFTER_EVENT]
    )
    # Someone without the youth on their caseload sees none of it.
    assert screening_kinds(world.other_caseworker, later) == []
    with at(later):
        services.law_enforcement_report_record(
            actor=worker,
            identification=identification,
            reported_at=later,
            receiving_agency="Harbor County Sheriff",
            report_number="7",
        )
        completed(world, instrument, six_answers(0))
    assert screening_kinds(worker, later + HOUR) == []
    # Within a day of the next rescreen it comes back.
    assert screening_kinds(worker, later + 89 * DAY + 12 * HOUR) == [RESCREEN]
