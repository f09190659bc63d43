"""Contact services: validation with clear messages, policy checks, audit, nothing half-saved."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from safeharbor.audit.models import AuditEvent
from safeharbor.contact import services
from safeharbor.contact.choices import Channel, Outcome, ReportTo
from safeharbor.contact.models import (
    CheckIn,
    ContactAttempt,
    ContactMethod,
    ContactPlan,
    ContactRule,
    LocationAttempt,
    MissingEpisode,
    ReturnInterview,
)
from safeharbor.youth.services import care_team_add

from .conftest import DAY, HOUR, MINUTE, at, open_episode

pytestmark = pytest.mark.django_db


def save_plan(world, **overrides):
    arguments = {
        "actor": world.county_caseworker,
        "youth": world.maya,
        "methods": [(Channel.TEXT, "555-0142"), (Channel.TRUSTED_ADULT, "Aunt Rosa")],
        "safe_times": "After 4 pm",
        "code_word": "blue kite",
        "never_use": "Never call 555-0199 (the old placement's phone).",
        "trusted_adults": "Aunt Rosa",
    }
    arguments.update(overrides)
    return services.contact_plan_save(**arguments)


class TestContactPlan:
    def test_saves_the_ways_in_order_encrypted_and_audited(self, world):
        plan = save_plan(world)
        assert [(m.position, m.channel, m.detail) for m in plan.methods.all()] == [
            (1, "text", "555-0142"),
            (2, "trusted_adult", "Aunt Rosa"),
        ]
        event = AuditEvent.objects.get(object_type="contact.contactplan")
        assert (event.action, event.category, event.youth_id) == (
            "create",
            "contact_plan",
            world.maya.pk,
        )
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT code_word, never_use FROM contact_contactplan")
            stored = " ".join(cursor.fetchone())
            cursor.execute("SELECT detail FROM contact_contactmethod")
            stored += " ".join(row[0] for row in cursor.fetchall())
        assert "blue kite" not in stored
        assert "555-0199" not in stored
        assert "555-0142" not in stored

    def test_saving_again_replaces_the_ways(self, world):
        save_plan(world)
        plan = save_plan(world, methods=[(Channel.IN_PERSON, "")])
        assert [m.channel for m in plan.methods.all()] == ["in_person"]
        assert ContactPlan.objects.count() == 1
        assert AuditEvent.objects.filter(object_type="contact.contactplan").count() == 2

    @pytest.mark.parametrize(
        ("methods", "message"),
        [
            ([], "at least one safe way"),
            ([(Channel.PHONE, "")], "which number"),
            ([(Channel.TEXT, "555-0142"), (Channel.TEXT, "555 0142")], "repeats"),
            ([("pigeon", "roof")], "choose a way"),
            ([(Channel.PHONE, "(555) 0199")], "never-use list"),
            ([(Channel.TEXT, str(n)) for n in range(7)], "at most 6"),
        ],
    )
    def test_refuses_unsafe_or_unusable_ways_and_saves_nothing(self, world, methods, message):
        before = AuditEvent.objects.count()
        with pytest.raises(ValidationError) as error:
            save_plan(world, methods=methods)
        assert message in " ".join(error.value.message_dict["methods"])
        assert not ContactPlan.objects.exists()
        assert not ContactMethod.objects.exists()
        assert AuditEvent.objects.count() == before

    def test_a_refused_change_keeps_the_old_plan_whole(self, world):
        save_plan(world)
        with pytest.raises(ValidationError):
            save_plan(world, methods=[(Channel.PHONE, "555-0199")], code_word="changed")
        plan = ContactPlan.objects.get()
        assert plan.code_word == "blue kite"
        assert plan.methods.count() == 2

    @pytest.mark.parametrize("who", ["county_supervisor", "other_caseworker", "police_officer"])
    def test_only_the_care_team_may_write_it(self, world, who):
        with pytest.raises(PermissionDenied):
            save_plan(world, actor=getattr(world, who))
        assert not ContactPlan.objects.exists()


class TestContactLog:
    def test_logs_an_attempt_now_by_the_actor(self, world, now):
        with at(now):
            attempt = services.contact_attempt_log(
                actor=world.county_caseworker,
                youth=world.maya,
                channel=Channel.TEXT,
                outcome=Outcome.NO_ANSWER,
                note="  Voicemail full.  ",
            )
        assert (attempt.attempted_at, attempt.attempted_by, attempt.note) == (
            now,
            world.county_caseworker,
            "Voicemail full.",
        )
        assert AuditEvent.objects.filter(
            object_type="contact.contactattempt", action="create", category="contact_plan"
        ).exists()

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"channel": "carrier pigeon"}, "channel"),
            ({"outcome": "maybe"}, "outcome"),
            ({"note": "x" * 501}, "note"),
            ({"attempted_at": "future"}, "attempted_at"),
        ],
    )
    def test_bad_input_is_refused_and_nothing_saved(self, world, now, overrides, field):
        if overrides.get("attempted_at") == "future":
            overrides["attempted_at"] = now + HOUR
        arguments = {"channel": Channel.PHONE, "outcome": Outcome.REACHED, **overrides}
        with at(now), pytest.raises(ValidationError) as error:
            services.contact_attempt_log(
                actor=world.county_caseworker, youth=world.maya, **arguments
            )
        assert field in error.value.message_dict
        assert not ContactAttempt.objects.exists()

    def test_a_worker_outside_the_care_team_cannot_log(self, world):
        for who in (world.county_supervisor, world.other_caseworker, world.county_admin):
            with pytest.raises(PermissionDenied):
                services.contact_attempt_log(
                    actor=who, youth=world.maya, channel=Channel.PHONE, outcome=Outcome.REACHED
                )
        assert not ContactAttempt.objects.exists()

    def test_check_ins_are_in_the_future_and_cancel_once(self, world, now):
        with at(now):
            with pytest.raises(ValidationError) as error:
                services.check_in_schedule(
                    actor=world.county_caseworker,
                    youth=world.maya,
                    scheduled_for=now - MINUTE,
                    channel=Channel.PHONE,
                )
            assert "scheduled_for" in error.value.message_dict
            assert not CheckIn.objects.exists()
            check_in = services.check_in_schedule(
                actor=world.county_caseworker,
                youth=world.maya,
                scheduled_for=now + DAY,
                channel=Channel.PHONE,
            )
            services.check_in_cancel(actor=world.county_caseworker, check_in=check_in)
            with pytest.raises(ValidationError):
                services.check_in_cancel(actor=world.county_caseworker, check_in=check_in)
        assert CheckIn.objects.get().cancelled_at == now


class TestMissingEpisode:
    def test_opens_with_encrypted_details_and_audit(self, world, now):
        episode = open_episode(world, now)
        assert episode.is_open
        event = AuditEvent.objects.get(object_type="contact.missingepisode")
        assert event.category == "missing_episodes"
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT description, medical_needs FROM contact_missingepisode")
            assert "tattoo" not in " ".join(cursor.fetchone())

    @pytest.mark.parametrize(
        ("started", "learned", "field", "words"),
        [
            (-HOUR, -2 * HOUR, "learned_at", "before it started"),
            (HOUR, 2 * HOUR, "started_at", "future"),
        ],
    )
    def test_impossible_times_are_refused_and_nothing_saved(
        self, world, now, started, learned, field, words
    ):
        with pytest.raises(ValidationError) as error:
            open_episode(world, now, started_at=now + started, learned_at=now + learned)
        assert words in " ".join(error.value.message_dict[field])
        assert not MissingEpisode.objects.exists()

    def test_one_open_episode_per_youth(self, world, now):
        open_episode(world, now)
        with pytest.raises(ValidationError) as error:
            open_episode(world, now)
        assert "already has an open" in " ".join(error.value.message_dict["started_at"])
        assert MissingEpisode.objects.count() == 1

    def test_a_report_before_the_episode_is_refused(self, world, now):
        episode = open_episode(world, now)
        with at(now), pytest.raises(ValidationError) as error:
            services.missing_episode_report(
                actor=world.county_caseworker,
                episode=episode,
                to=ReportTo.NCMEC,
                reported_at=episode.started_at - MINUTE,
            )
        assert "before the episode started" in " ".join(error.value.message_dict["reported_at"])
        episode.refresh_from_db()
        assert episode.reported_to_ncmec_at is None

    def test_a_police_report_names_the_agency_and_is_recorded_once(self, world, now):
        episode = open_episode(world, now)
        with at(now):
            with pytest.raises(ValidationError) as error:
                services.missing_episode_report(
                    actor=world.county_caseworker,
                    episode=episode,
                    to=ReportTo.LAW_ENFORCEMENT,
                    reported_at=now,
                )
            assert "police_agency" in error.value.message_dict
            services.missing_episode_report(
                actor=world.county_caseworker,
                episode=episode,
                to=ReportTo.LAW_ENFORCEMENT,
                reported_at=now - MINUTE,
                reference="HCSO-1",
                police_agency="Harbor County Sheriff",
                police_officer="Officer Park",
            )
            with pytest.raises(ValidationError):
                services.missing_episode_report(
                    actor=world.county_caseworker,
                    episode=episode,
                    to=ReportTo.LAW_ENFORCEMENT,
                    reported_at=now,
                    police_agency="Another",
                )
        episode.refresh_from_db()
        assert episode.reported_to_law_enforcement_by == world.county_caseworker
        assert (episode.police_case_number, episode.police_agency) == (
            "HCSO-1",
            "Harbor County Sheriff",
        )

    def test_the_return_cannot_be_before_the_start_and_is_recorded_once(self, world, now):
        episode = open_episode(world, now)
        with at(now):
            with pytest.raises(ValidationError) as error:
                services.missing_episode_close(
                    actor=world.county_caseworker,
                    episode=episode,
                    ended_at=episode.started_at - MINUTE,
                )
            assert "before the youth went missing" in " ".join(error.value.message_dict["ended_at"])
            episode.refresh_from_db()
            assert episode.ended_at is None
            services.missing_episode_close(
                actor=world.county_caseworker, episode=episode, ended_at=now
            )
            with pytest.raises(ValidationError):
                services.missing_episode_close(
                    actor=world.county_caseworker, episode=episode, ended_at=now
                )

    def test_the_database_refuses_impossible_times_too(self, world, now):
        from django.db import IntegrityError, transaction

        episode = open_episode(world, now)
        with pytest.raises(IntegrityError), transaction.atomic():
            MissingEpisode.objects.filter(pk=episode.pk).update(
                ended_at=episode.started_at - MINUTE
            )
        with pytest.raises(IntegrityError), transaction.atomic():
            MissingEpisode.objects.filter(pk=episode.pk).update(
                reported_to_ncmec_at=episode.started_at - MINUTE,
                reported_to_ncmec_by=world.county_caseworker,
            )

    def test_location_attempts_fall_inside_the_episode(self, world, now):
        episode = open_episode(world, now)
        with at(now):
            with pytest.raises(ValidationError) as error:
                services.location_attempt_add(
                    actor=world.county_caseworker,
                    episode=episode,
                    attempted_at=episode.started_at - MINUTE,
                    what_was_done="Called friends",
                )
            assert "attempted_at" in error.value.message_dict
            with pytest.raises(ValidationError) as error:
                services.location_attempt_add(
                    actor=world.county_caseworker,
                    episode=episode,
                    attempted_at=now,
                    what_was_done="   ",
                )
            assert "what_was_done" in error.value.message_dict
            assert not LocationAttempt.objects.exists()
            services.location_attempt_add(
                actor=world.county_caseworker,
                episode=episode,
                attempted_at=now - MINUTE,
                what_was_done="Called friends",
            )
            with pytest.raises(ValidationError) as error:
                services.missing_episode_close(
                    actor=world.county_caseworker, episode=episode, ended_at=now - 2 * MINUTE
                )
            assert "location attempt" in " ".join(error.value.message_dict["ended_at"])

    def test_interview_and_screening_come_after_the_return(self, world, now):
        episode = open_episode(world, now)
        with at(now):
            with pytest.raises(ValidationError) as error:
                services.return_interview_record(
                    actor=world.county_caseworker,
                    episode=episode,
                    interviewed_at=now,
                    why_left="x",
                    what_happened="y",
                )
            assert "return" in " ".join(error.value.message_dict["interviewed_at"])
            services.missing_episode_close(
                actor=world.county_caseworker, episode=episode, ended_at=now - HOUR
            )
            with pytest.raises(ValidationError) as error:
                services.return_screening_record(
                    actor=world.county_caseworker, episode=episode, screened_at=now - 2 * HOUR
                )
            assert "before the return" in " ".join(error.value.message_dict["screened_at"])
            services.return_screening_record(
                actor=world.county_caseworker, episode=episode, screened_at=now
            )
            interview = services.return_interview_record(
                actor=world.county_caseworker,
                episode=episode,
                interviewed_at=now,
                why_left="Felt unsafe at the placement",
                what_happened="Stayed with an older friend",
                placement_changes="Moved to a kinship placement",
            )
        assert ReturnInterview.objects.get() == interview
        assert AuditEvent.objects.filter(
            object_type="contact.returninterview", category="notes"
        ).exists()

    def test_law_enforcement_on_the_care_team_may_record_episodes_but_no_interview(
        self, world, now
    ):
        care_team_add(
            actor=world.county_caseworker,
            youth=world.maya,
            user=world.police_officer,
            team_role="caseworker",
            starts_on=now.date() - DAY,
        )
        episode = open_episode(world, now, actor=world.police_officer)
        with at(now):
            services.missing_episode_close(
                actor=world.police_officer, episode=episode, ended_at=now
            )
            with pytest.raises(PermissionDenied):
                services.return_interview_record(
                    actor=world.police_officer,
                    episode=episode,
                    interviewed_at=now,
                    why_left="x",
                    what_happened="y",
                )

    def test_an_unrelated_worker_cannot_open_an_episode(self, world, now):
        with pytest.raises(PermissionDenied):
            open_episode(world, now, actor=world.other_caseworker)
        assert not MissingEpisode.objects.exists()


class TestRules:
    def test_a_supervisor_sets_the_agency_rule_within_limits(self, world):
        rule = services.contact_rule_set(
            actor=world.county_supervisor,
            agency=world.county,
            lost_contact_days=7,
            stabilisation_hours=48,
            location_attempt_days=14,
        )
        assert ContactRule.objects.get(agency=world.county) == rule
        with pytest.raises(ValidationError):
            services.contact_rule_set(
                actor=world.county_supervisor,
                agency=world.county,
                lost_contact_days=7,
                stabilisation_hours=48,
                location_attempt_days=31,  # at least monthly
            )
        assert ContactRule.objects.get().location_attempt_days == 14

    @pytest.mark.parametrize("who", ["county_caseworker", "other_caseworker"])
    def test_others_cannot(self, world, who):
        with pytest.raises(PermissionDenied):
            services.contact_rule_set(
                actor=getattr(world, who),
                agency=world.county,
                lost_contact_days=7,
                stabilisation_hours=48,
                location_attempt_days=14,
            )


def test_datetimes_from_any_zone_compare_as_instants(world, now):
    """A time typed in New York for an episode learned in Los Angeles compares correctly."""
    from zoneinfo import ZoneInfo

    episode = open_episode(world, now)
    new_york = (episode.started_at - MINUTE).astimezone(ZoneInfo("America/New_York"))
    with at(now), pytest.raises(ValidationError):
        services.missing_episode_report(
            actor=world.county_caseworker, episode=episode, to=ReportTo.NCMEC, reported_at=new_york
        )
    assert isinstance(episode.learned_at, datetime.datetime)
