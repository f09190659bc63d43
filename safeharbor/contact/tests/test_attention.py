"""'Needs attention today': every rule at its boundary, the scope of each page, and a bounded
number of queries however many youth and rows there are."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from safeharbor.contact import attention, services
from safeharbor.contact.choices import AttentionKind, Channel, Outcome, ReportTo
from safeharbor.core.tests.personas import verified_client
from safeharbor.youth.services import care_team_add, consent_grant, youth_create

from .conftest import DAY, HOUR, MINUTE, at, open_episode

pytestmark = pytest.mark.django_db
K = AttentionKind


def kinds(actor, moment, team=False):
    with at(moment):
        return [
            (i.kind, i.overdue(moment))
            for i in attention.items_for(actor=actor, team=team, now=moment)
        ]


def reach(world, moment, actor=None, outcome=Outcome.REACHED):
    """An attempt at ``moment``: logged then (future), or back-dated now (past: the care team
    began today, so the clock cannot be moved back before it)."""
    past = moment <= timezone.now()
    with at(max(moment, timezone.now())):
        services.contact_attempt_log(
            actor=actor or world.county_caseworker,
            youth=world.maya,
            channel=Channel.PHONE,
            outcome=outcome,
            attempted_at=moment if past else None,
        )


class TestLostContact:
    def test_flagged_exactly_14_days_after_the_last_conversation(self, world, now):
        reach(world, now)
        worker = world.county_caseworker
        assert kinds(worker, now + 13 * DAY - MINUTE) == []  # due in more than a day
        assert kinds(worker, now + 13 * DAY) == [(K.LOST_CONTACT, False)]  # due within a day
        assert kinds(worker, now + 14 * DAY) == [(K.LOST_CONTACT, False)]  # at the moment
        assert kinds(worker, now + 14 * DAY + MINUTE) == [(K.LOST_CONTACT, True)]

    def test_only_a_conversation_counts(self, world, now):
        reach(world, now)
        reach(world, now + 10 * DAY, outcome=Outcome.UNSAFE_TO_TALK)
        reach(world, now + 11 * DAY, outcome=Outcome.LEFT_MESSAGE)
        assert kinds(world.county_caseworker, now + 14 * DAY + MINUTE) == [(K.LOST_CONTACT, True)]
        reach(world, now + 12 * DAY)
        assert kinds(world.county_caseworker, now + 14 * DAY + MINUTE) == []

    def test_without_any_conversation_it_counts_from_the_record(self, world, now):
        opened = world.maya.created_at
        assert kinds(world.county_caseworker, opened + 14 * DAY - MINUTE) == [
            (K.LOST_CONTACT, False)
        ]
        assert kinds(world.county_caseworker, opened + 14 * DAY + MINUTE) == [
            (K.LOST_CONTACT, True)
        ]

    def test_the_agency_rule_changes_the_days(self, world, now):
        reach(world, now)
        services.contact_rule_set(
            actor=world.county_supervisor,
            agency=world.county,
            lost_contact_days=7,
            stabilisation_hours=72,
            location_attempt_days=30,
        )
        assert kinds(world.county_caseworker, now + 7 * DAY + MINUTE) == [(K.LOST_CONTACT, True)]
        assert kinds(world.county_caseworker, now + 5 * DAY) == []

    def test_a_missing_youth_is_listed_by_the_episode_not_as_lost_contact(self, world, now):
        reach(world, now - 20 * DAY)
        open_episode(world, now)
        assert K.LOST_CONTACT not in {kind for kind, _ in kinds(world.county_caseworker, now)}


class TestMissingEpisodeDeadlines:
    def test_both_reports_are_due_24_hours_after_the_agency_learned(self, world, now):
        episode = open_episode(world, now, learned_at=now - HOUR)
        learned = episode.learned_at
        reach(world, now)  # keep lost contact out of the way
        at_2359 = kinds(world.county_caseworker, learned + datetime.timedelta(hours=23, minutes=59))
        assert at_2359 == [(K.REPORT_LAW_ENFORCEMENT, False), (K.REPORT_NCMEC, False)]
        at_2401 = kinds(world.county_caseworker, learned + datetime.timedelta(hours=24, minutes=1))
        assert at_2401 == [(K.REPORT_LAW_ENFORCEMENT, True), (K.REPORT_NCMEC, True)]

    def test_a_recorded_report_leaves_the_list(self, world, now):
        episode = open_episode(world, now)
        reach(world, now)
        with at(now):
            services.missing_episode_report(
                actor=world.county_caseworker,
                episode=episode,
                to=ReportTo.NCMEC,
                reported_at=now,
                reference="NCMEC-1",
            )
        assert kinds(world.county_caseworker, now) == [(K.REPORT_LAW_ENFORCEMENT, False)]

    def test_location_attempts_at_least_monthly(self, world, now):
        episode = open_episode(world, now, learned_at=now - HOUR)
        learned = episode.learned_at
        for to in ReportTo.values:
            with at(now):
                services.missing_episode_report(
                    actor=world.county_caseworker,
                    episode=episode,
                    to=to,
                    reported_at=now,
                    police_agency="Sheriff",
                )
        assert kinds(world.county_caseworker, learned + 29 * DAY - MINUTE) == []
        assert kinds(world.county_caseworker, learned + 30 * DAY) == [(K.LOCATION_ATTEMPT, False)]
        assert kinds(world.county_caseworker, learned + 30 * DAY + MINUTE) == [
            (K.LOCATION_ATTEMPT, True)
        ]
        later = learned + 31 * DAY
        with at(later):
            services.location_attempt_add(
                actor=world.county_caseworker,
                episode=episode,
                attempted_at=later,
                what_was_done="Checked the shelter",
            )
        assert kinds(world.county_caseworker, later + 28 * DAY) == []
        assert kinds(world.county_caseworker, later + 30 * DAY + MINUTE) == [
            (K.LOCATION_ATTEMPT, True)
        ]

    def test_a_screening_is_due_24_hours_after_the_return(self, world, now):
        episode = open_episode(world, now - 2 * DAY)
        back = now - HOUR
        with at(now):
            services.missing_episode_close(
                actor=world.county_caseworker, episode=episode, ended_at=back
            )
        reach(world, now)
        assert kinds(world.county_caseworker, back + 24 * HOUR) == [(K.RETURN_SCREENING, False)]
        assert kinds(world.county_caseworker, back + 24 * HOUR + MINUTE) == [
            (K.RETURN_SCREENING, True)
        ]
        with at(now):
            services.return_screening_record(
                actor=world.county_caseworker, episode=episode, screened_at=now
            )
        assert kinds(world.county_caseworker, now) == []

    def test_overdue_legal_deadlines_come_before_overdue_lost_contact(self, world, now):
        second = youth_create(
            actor=world.county_caseworker,
            owning_agency=world.county,
            given_name="Jordan",
            family_name="Ashgrove",
            date_of_birth=datetime.date(2009, 1, 1),
            county="Harbor",
        )
        open_episode(world, now, youth=second, learned_at=now - HOUR)
        reach(world, now - 40 * DAY)
        moment = now + 2 * DAY
        found = kinds(world.county_caseworker, moment)
        assert found[:2] == [(K.REPORT_LAW_ENFORCEMENT, True), (K.REPORT_NCMEC, True)]
        assert (K.LOST_CONTACT, True) in found


class TestStabilisation:
    def add_mentor(self, world, moment):
        with at(moment):
            return care_team_add(
                actor=world.county_caseworker,
                youth=world.maya,
                user=world.vsp_advocate,
                team_role="advocate",
                starts_on=timezone.localdate(moment),
            )

    def test_a_new_mentor_has_72_hours_to_reach_the_youth(self, world, now):
        member = self.add_mentor(world, now)
        reach(world, now)
        assigned = member.created_at
        assert kinds(world.vsp_advocate, assigned + 72 * HOUR) == [(K.STABILISATION, False)]
        assert kinds(world.vsp_advocate, assigned + 72 * HOUR + MINUTE) == [(K.STABILISATION, True)]
        # Someone else's conversation does not do the mentor's task.
        reach(world, now + HOUR)
        assert kinds(world.vsp_advocate, now + 2 * HOUR) == [(K.STABILISATION, False)]
        reach(world, now + 3 * HOUR, actor=world.vsp_advocate)
        assert kinds(world.vsp_advocate, now + 4 * HOUR) == []

    def test_the_task_is_the_mentors_and_the_supervisor_sees_it(self, world, now):
        self.add_mentor(world, now)
        reach(world, now)
        assert kinds(world.county_caseworker, now + HOUR) == []
        assert kinds(world.county_supervisor, now + HOUR, team=True) == [(K.STABILISATION, False)]


class TestScope:
    def test_the_team_page_covers_the_agencys_youth_only(self, world, now):
        other = youth_create(
            actor=world.other_caseworker,
            owning_agency=world.valley,
            given_name="Kai",
            family_name="Mossfield",
            date_of_birth=datetime.date(2010, 1, 1),
            county="Valley",
        )
        open_episode(world, now, actor=world.other_caseworker, youth=other)
        open_episode(world, now)
        with at(now):
            items = attention.items_for(actor=world.county_supervisor, team=True, now=now)
        assert {item.youth_id for item in items} == {world.maya.pk}
        with at(now):
            assert attention.items_for(actor=world.county_caseworker, team=True, now=now) == []

    def test_the_supervisor_scope_is_the_policys_view_of_the_agency(self, world):
        from safeharbor.access.policy import visible_youth

        youth_create(
            actor=world.other_caseworker,
            owning_agency=world.valley,
            given_name="Kai",
            family_name="Mossfield",
            date_of_birth=datetime.date(2010, 1, 1),
            county="Valley",
        )
        supervisor = world.county_supervisor
        expected = set(
            visible_youth(supervisor)
            .filter(owning_agency_id=supervisor.agency_id_or_none)
            .values_list("pk", flat=True)
        )
        scope = set(attention.scope_for_supervisor(supervisor).values_list("pk", flat=True))
        assert scope == expected == {world.maya.pk}
        assert not attention.scope_for_supervisor(world.county_caseworker).exists()

    def test_law_enforcement_with_consent_has_no_caseload_items(self, world, now):
        open_episode(world, now)
        consent_grant(
            actor=world.county_caseworker,
            youth=world.maya,
            signer_kind="guardian",
            signer_name="Guardian",
            signer_is_suspected_exploiter=False,
            recipient_agency=world.sheriff,
            categories=["identity", "missing_episodes"],
            purpose="Locate the youth",
            valid_from=now.date() - DAY,
            expires_on=now.date() + 30 * DAY,
        )
        assert kinds(world.police_officer, now) == []

    def test_an_admin_on_a_care_team_sees_no_episode_rows(self, world, now):
        care_team_add(
            actor=world.county_caseworker,
            youth=world.maya,
            user=world.county_admin,
            team_role="caseworker",
            starts_on=now.date() - DAY,
        )
        open_episode(world, now)
        found = {kind for kind, _ in kinds(world.county_admin, now + 20 * DAY)}
        assert not found & {K.REPORT_NCMEC, K.REPORT_LAW_ENFORCEMENT, K.LOCATION_ATTEMPT}


def add_youth_with_items(world, count, now):
    for index in range(count):
        youth = youth_create(
            actor=world.county_caseworker,
            owning_agency=world.county,
            given_name=f"Youth{index}",
            family_name="Fernwick",
            date_of_birth=datetime.date(2009, 1, 1) + datetime.timedelta(days=index),
            county="Harbor",
        )
        open_episode(world, now - index * MINUTE, youth=youth)
        care_team_add(
            actor=world.county_caseworker,
            youth=youth,
            user=world.vsp_advocate,
            team_role="advocate",
            starts_on=timezone.localdate(now),
        )


def count_queries(client, url, moment):
    with at(moment), CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    ("who", "url"),
    [
        ("county_caseworker", "contact:attention"),
        ("county_supervisor", "contact:attention_team"),
        ("county_caseworker", "api:attention"),
    ],
)
def test_the_pages_queries_do_not_grow_with_youth_or_rows(world, now, who, url):
    client = verified_client(getattr(world, who))
    path = reverse(url)
    moment = now + 20 * DAY  # every youth has lost contact, episodes overdue: many rows
    add_youth_with_items(world, 2, now)
    few = count_queries(client, path, moment)
    add_youth_with_items(world, 30, now - HOUR)
    many = count_queries(client, path, moment)
    assert many == few
    # Session, MFA, the page's own queries, and a fixed few for each other app's rows
    # (screening: reports, events, rescreen intervals; referrals: one).
    assert few <= 30
