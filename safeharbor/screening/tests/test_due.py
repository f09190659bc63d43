"""What is due and overdue, worked out by queries at read time."""

from __future__ import annotations

import datetime
from unittest import mock

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from safeharbor.audit.models import AuditEvent
from safeharbor.audit.selectors import youth_listed_by
from safeharbor.core import clock
from safeharbor.core.tests.personas import verified_client
from safeharbor.screening import selectors, services
from safeharbor.youth.services import care_team_add, youth_create

from .helpers import SIX, completed, load, six_answers

HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)


def at(moment):
    return mock.patch("safeharbor.core.clock.now", return_value=moment)


def add_youth(world, count, actor=None):
    made = []
    for index in range(count):
        made.append(
            youth_create(
                actor=actor or world.county_caseworker,
                owning_agency=world.county,
                given_name=f"Ash{index}",
                family_name="Merriweather",
                date_of_birth=datetime.date(2010, 1, 1) + datetime.timedelta(days=index),
                county="Harbor",
            )
        )
    return made


def test_a_return_from_missing_needs_a_screen_within_24_hours(world):
    start = clock.now()
    with at(start):
        services.trigger_record(
            actor=world.county_caseworker,
            youth=world.maya,
            kind="return_from_missing",
            occurred_at=start,
        )
    with at(start + HOUR * 23):
        (row,) = selectors.screenings_due(actor=world.county_caseworker).triggers
        assert row.youth == world.maya
        assert row.deadline.due_at == start + HOUR * 24
        assert not row.deadline.overdue
        assert row.display_name == world.maya.display_name
    with at(start + HOUR * 25):
        (row,) = selectors.screenings_due(actor=world.county_caseworker).triggers
        assert row.deadline.overdue
        completed(world, load(SIX), six_answers(0), reason="return_from_missing")
        assert selectors.screenings_due(actor=world.county_caseworker).triggers == []
    # The youth page still shows it, met late.
    history = selectors.youth_screening_history(
        actor=world.county_caseworker,
        youth=world.maya,
        access=__import__("safeharbor.access.policy", fromlist=["access_for"]).access_for(
            world.county_caseworker, world.maya
        ),
    )
    assert history is not None
    (trigger,) = history.triggers
    assert trigger.deadline.met_at == start + HOUR * 25
    assert trigger.deadline.met_late


def test_a_runaway_history_gives_72_hours_and_an_earlier_screen_does_not_count(world):
    start = clock.now()
    instrument = load(SIX)
    with at(start - DAY):
        completed(world, instrument, six_answers(0))
    with at(start):
        services.trigger_record(
            actor=world.county_caseworker,
            youth=world.maya,
            kind="runaway_history",
            occurred_at=start,
        )
    with at(start + HOUR * 71):
        (row,) = selectors.screenings_due(actor=world.county_caseworker).triggers
        assert row.deadline.due_at == start + HOUR * 72
        assert not row.deadline.overdue


def test_a_law_enforcement_report_is_due_24_hours_after_identification(world):
    start = clock.now()
    with at(start):
        identification = services.victim_identification_record(
            actor=world.county_caseworker, youth=world.maya, identified_at=start
        )
    with at(start + HOUR * 30):
        (row,) = selectors.screenings_due(actor=world.county_caseworker).reports
        assert row.identification == identification
        assert row.deadline.overdue
        services.law_enforcement_report_record(
            actor=world.county_caseworker,
            identification=identification,
            reported_at=start + HOUR * 30,
            receiving_agency="Harbor County Sheriff",
            report_number="7",
        )
        assert selectors.screenings_due(actor=world.county_caseworker).reports == []


def test_routine_rescreens_follow_the_agencys_interval(world):
    instrument = load(SIX)
    services.rescreen_interval_set(actor=world.county_admin, instrument_url=instrument.url, days=90)
    start = clock.now()
    with at(start):
        completed(world, instrument, six_answers(0))
    with at(start + DAY * 60):
        (section,) = selectors.screenings_due(actor=world.county_caseworker).rescreens
        assert section.count == 0
        assert section.rows == []
    with at(start + DAY * 84):  # within a week of falling due
        (section,) = selectors.screenings_due(actor=world.county_caseworker).rescreens
        (row,) = section.rows
        assert row.deadline.due_at == start + DAY * 90
        assert not row.deadline.overdue
        assert row.detail == timezone.localdate(start).isoformat()
    with at(start + DAY * 91):
        (section,) = selectors.screenings_due(actor=world.county_caseworker).rescreens
        assert section.rows[0].deadline.overdue


def test_a_youth_never_screened_is_due_from_the_day_the_record_was_opened(world):
    instrument = load(SIX)
    services.rescreen_interval_set(
        actor=world.county_admin, instrument_url=instrument.url, days=180
    )
    (section,) = selectors.screenings_due(actor=world.county_caseworker).rescreens
    (row,) = section.rows
    assert row.youth == world.maya
    assert row.detail == "never"
    assert row.deadline.due_at == world.maya.created_at


def test_a_new_version_of_the_instrument_counts_for_the_interval(world):
    from .helpers import document

    instrument = load(SIX)
    services.rescreen_interval_set(actor=world.county_admin, instrument_url=instrument.url, days=30)
    newer = document(SIX)
    newer["version"] = "2"
    version_two = services.instrument_import(actor=None, document=newer, agency=None)
    completed(world, version_two, six_answers(0))
    (section,) = selectors.screenings_due(actor=world.county_caseworker).rescreens
    assert section.count == 0


def test_a_supervisor_sees_the_agency_and_a_worker_their_caseload(world):
    instrument = load(SIX)
    services.rescreen_interval_set(actor=world.county_admin, instrument_url=instrument.url, days=30)
    others = add_youth(world, 3, actor=world.county_supervisor)
    supervisor = selectors.screenings_due(actor=world.county_supervisor)
    assert supervisor.scope == "agency"
    assert supervisor.rescreens[0].count == 4
    mine = selectors.screenings_due(actor=world.county_supervisor, scope="mine")
    assert {row.youth for row in mine.rescreens[0].rows} == set(others)
    worker = selectors.screenings_due(actor=world.county_caseworker, scope="agency")
    assert worker.scope == "mine"  # only supervisors see the whole agency
    assert [row.youth for row in worker.rescreens[0].rows] == [world.maya]
    assert selectors.screenings_due(actor=world.other_caseworker).rescreens == []


def test_the_due_list_audits_each_youth_it_names(world):
    instrument = load(SIX)
    services.rescreen_interval_set(actor=world.county_admin, instrument_url=instrument.url, days=30)
    selectors.screenings_due(actor=world.county_caseworker)
    event = AuditEvent.objects.get(action="list", object_type="screening.due")
    assert youth_listed_by(event) == [world.maya.pk]
    assert event.category == "identity,screening"


def test_the_due_page_runs_a_fixed_number_of_queries(world):
    instrument = load(SIX)
    services.rescreen_interval_set(actor=world.county_admin, instrument_url=instrument.url, days=30)
    client = verified_client(world.county_supervisor)
    url = reverse("screening:due")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200
        return len(captured)

    youths = add_youth(world, 2)
    for youth in youths:
        services.trigger_record(
            actor=world.county_caseworker,
            youth=youth,
            kind="return_from_missing",
            occurred_at=clock.now(),
        )
    client.get(url)  # each list's first showing also stores it (one insert)
    few = queries()
    youths = add_youth(world, 12)
    for youth in youths:
        services.trigger_record(
            actor=world.county_caseworker,
            youth=youth,
            kind="runaway_history",
            occurred_at=clock.now(),
        )
        services.victim_identification_record(
            actor=world.county_caseworker, youth=youth, identified_at=clock.now()
        )
        care_team_add(
            actor=world.county_caseworker,
            youth=youth,
            user=world.county_supervisor,
            team_role="supervisor",
            starts_on=clock.today(),
        )
    body = client.get(url).content.decode()
    assert "Ash11 Merriweather" in body
    assert queries() == few


def test_the_due_page_pages_through_rescreens(world):
    instrument = load(SIX)
    services.rescreen_interval_set(actor=world.county_admin, instrument_url=instrument.url, days=30)
    add_youth(world, 3)
    with mock.patch("safeharbor.screening.selectors.PAGE_SIZE", 2):
        client = verified_client(world.county_supervisor)
        first = client.get(reverse("screening:due")).content.decode()
        assert "Page 1 of 2" in first
        second = client.get(reverse("screening:due") + "?page=2").content.decode()
        assert "Page 2 of 2" in second
    assert (
        verified_client(world.county_supervisor)
        .get(reverse("screening:due") + "?page=0")
        .status_code
        == 404
    )


def test_the_agency_scope_is_what_the_policy_lets_a_supervisor_know_of_in_the_agency(world):
    from safeharbor.access.policy import visible_youth

    add_youth(world, 3)
    _name, scope = selectors.due_scope(world.county_supervisor, "agency")
    by_policy = visible_youth(world.county_supervisor).filter(owning_agency=world.county)
    assert set(scope) == set(by_policy)
    assert world.maya in set(scope)


def test_due_rows_link_to_the_youth_and_to_a_screening_with_its_reason(world):
    services.trigger_record(
        actor=world.county_caseworker,
        youth=world.maya,
        kind="runaway_history",
        occurred_at=clock.now(),
    )
    identification = services.victim_identification_record(
        actor=world.county_caseworker, youth=world.maya, identified_at=clock.now()
    )
    body = verified_client(world.county_caseworker).get(reverse("screening:due")).content.decode()
    assert f'href="/youth/{world.maya.pk}/"' in body
    assert reverse("screening:new", args=[world.maya.pk]) + "?reason=runaway_history" in body
    assert reverse("screening:report_new", args=[world.maya.pk, identification.pk]) in body
