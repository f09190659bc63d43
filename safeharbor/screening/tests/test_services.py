"""Screening services: policy-checked, validated, audited, and nothing half-written on bad input."""

from __future__ import annotations

import datetime
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from safeharbor.audit.models import AuditEvent
from safeharbor.core import clock
from safeharbor.screening import services
from safeharbor.screening.models import (
    Instrument,
    RescreenInterval,
    Screening,
    TriggerEvent,
    VictimIdentification,
)
from safeharbor.screening.shipped import INDICATOR_CHECKLIST_URL, load_shipped_instruments
from safeharbor.youth.services import consent_grant, youth_create

from .helpers import SIX, TEN, completed, document, load, six_answers, ten_answers

HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)


def at(moment: datetime.datetime):
    return mock.patch("safeharbor.core.clock.now", return_value=moment)


def screening_events(**filters) -> int:
    return AuditEvent.objects.filter(category="screening", **filters).count()


# --------------------------------------------------------------------------- instruments


def test_an_instrument_is_imported_with_its_metadata_and_audited(world):
    instrument = load(SIX)
    assert instrument.canonical == "https://example.org/fhir/Questionnaire/six-item-screen|1"
    assert instrument.validated is True
    assert instrument.completed_by == "youth-interview"
    assert instrument.languages == ["en", "es"]
    assert instrument.agency is None
    event = AuditEvent.objects.get(object_type="screening.instrument", action="create")
    assert event.actor_label == "import_instrument command"
    assert instrument.canonical in event.reason


def test_export_gives_back_exactly_what_was_imported(world):
    original = document(TEN)
    instrument = services.instrument_import(actor=None, document=original, agency=None)
    instrument.refresh_from_db()
    exported = services.instrument_export(actor=world.county_admin, instrument=instrument)
    assert exported == original
    assert AuditEvent.objects.filter(action="export", object_type="screening.instrument").exists()


def test_an_invalid_instrument_is_refused_whole_with_every_problem(world):
    doc = document(SIX)
    doc["item"][0]["item"][1]["linkId"] = "q1"
    doc["item"][0]["item"][2]["enableWhen"] = [
        {"question": "nope", "operator": "exists", "answerBoolean": True}
    ]
    events = AuditEvent.objects.count()
    with pytest.raises(services.InstrumentInvalid) as refused:
        services.instrument_import(actor=world.county_admin, document=doc, agency=world.county)
    assert {p.rule for p in refused.value.problems} == {"unique-link-id", "enable-when-target"}
    assert len(refused.value.messages) == 2
    assert not Instrument.objects.exists()
    assert AuditEvent.objects.count() == events


def test_a_version_cannot_be_loaded_twice(world):
    load(SIX)
    with pytest.raises(services.InstrumentInvalid) as refused:
        load(SIX)
    assert [p.rule for p in refused.value.problems] == ["unique-version"]
    # An agency cannot load a shipped version again either...
    with pytest.raises(services.InstrumentInvalid):
        services.instrument_import(
            actor=world.county_admin, document=document(SIX), agency=world.county
        )
    # ...but a new version is a new instrument.
    newer = document(SIX)
    newer["version"] = "2"
    assert load_doc(newer).version == "2"


def load_doc(doc):
    return services.instrument_import(actor=None, document=doc, agency=None)


def test_only_an_agency_admin_loads_instruments_and_only_for_their_agency(world):
    doc = document(TEN)
    for actor, agency in (
        (world.county_caseworker, world.county),
        (world.county_supervisor, world.county),
        (world.county_admin, world.valley),
        (world.county_admin, None),
    ):
        with pytest.raises(PermissionDenied):
            services.instrument_import(actor=actor, document=doc, agency=agency)
    instrument = services.instrument_import(
        actor=world.county_admin, document=doc, agency=world.county
    )
    assert instrument.agency == world.county
    assert instrument.imported_by == world.county_admin


def test_an_agencys_own_instrument_is_not_open_to_other_agencies(world):
    instrument = services.instrument_import(
        actor=world.county_admin, document=document(TEN), agency=world.county
    )
    with pytest.raises(PermissionDenied):
        services.instrument_export(actor=world.other_caseworker, instrument=instrument)
    valley_youth = youth_create(
        actor=world.other_caseworker,
        owning_agency=world.valley,
        given_name="Rowan",
        family_name="Tessaly",
        date_of_birth=datetime.date(2011, 5, 6),
        county="Valley",
    )
    with pytest.raises(ValidationError) as refused:
        services.screening_start(
            actor=world.other_caseworker,
            youth=valley_youth,
            instrument=instrument,
            reason="intake",
            mode="record_review",
        )
    assert "instrument" in refused.value.message_dict


def test_the_shipped_checklist_loads_once(world):
    first = load_shipped_instruments()
    again = load_shipped_instruments()
    assert [loaded for _i, loaded in first] == [True]
    assert [loaded for _i, loaded in again] == [False]
    checklist = Instrument.objects.get(url=INDICATOR_CHECKLIST_URL)
    assert checklist.validated is False
    assert checklist.agency is None


def test_rescreen_intervals_are_set_by_admins_and_supervisors(world):
    instrument = load(SIX)
    interval = services.rescreen_interval_set(
        actor=world.county_supervisor, instrument_url=instrument.url, days=90
    )
    assert interval is not None
    assert interval.days == 90
    services.rescreen_interval_set(actor=world.county_admin, instrument_url=instrument.url, days=30)
    assert RescreenInterval.objects.get(agency=world.county).days == 30
    with pytest.raises(PermissionDenied):
        services.rescreen_interval_set(
            actor=world.county_caseworker, instrument_url=instrument.url, days=30
        )
    with pytest.raises(ValidationError):
        services.rescreen_interval_set(
            actor=world.county_admin, instrument_url=instrument.url, days=0
        )
    with pytest.raises(ValidationError):
        services.rescreen_interval_set(actor=world.county_admin, instrument_url="https://x", days=5)
    services.rescreen_interval_set(
        actor=world.county_admin, instrument_url=instrument.url, days=None
    )
    assert not RescreenInterval.objects.exists()


# --------------------------------------------------------------------------- screenings


def test_a_draft_is_saved_step_by_step_then_completed_and_scored(world):
    instrument = load(SIX)
    screening = services.screening_start(
        actor=world.county_caseworker,
        youth=world.maya,
        instrument=instrument,
        reason="intake",
        mode="interview_in_person",
        language="es",
    )
    assert screening.status == "draft"
    services.screening_save_answers(
        actor=world.county_caseworker, screening=screening, answers={"q1": "yes", "q2": "no"}
    )
    with pytest.raises(ValidationError) as incomplete:
        services.screening_complete(actor=world.county_caseworker, screening=screening)
    assert len(incomplete.value.message_dict["answers"]) == 4
    services.screening_save_answers(
        actor=world.county_caseworker,
        screening=screening,
        answers={"q3": "yes", "q4": "no", "q5": "no", "q6": "no"},
    )
    services.screening_complete(actor=world.county_caseworker, screening=screening)
    screening.refresh_from_db()
    assert screening.status == "completed"
    assert screening.computed_level == "clear_concern"
    assert screening.level == "clear_concern"
    assert screening.score["total"] == "2"
    assert screening.answers == {**six_answers(0), "q1": "yes", "q3": "yes"}
    assert screening_events(object_type="screening.screening", youth_id=world.maya.pk) == 4


def test_an_answer_outside_the_options_is_refused_naming_the_item_and_nothing_is_saved(world):
    instrument = load(SIX)
    screening = services.screening_start(
        actor=world.county_caseworker,
        youth=world.maya,
        instrument=instrument,
        reason="intake",
        mode="interview_in_person",
    )
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as refused:
        services.screening_save_answers(
            actor=world.county_caseworker,
            screening=screening,
            answers={"q1": "yes", "q2": "perhaps"},
        )
    (message,) = refused.value.message_dict["answers"]
    assert "q2" in message
    assert "'perhaps'" in message
    screening.refresh_from_db()
    assert screening.answers == {}
    assert AuditEvent.objects.count() == events
    with pytest.raises(ValidationError):
        completed(world, instrument, {**six_answers(1), "q6": "maybe"})
    assert Screening.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"reason": "curiosity"}, "reason"),
        ({"mode": "telepathy"}, "mode"),
        ({"mode": "record_review"}, "mode"),  # the six-item screen is an interview
        ({"language": "fr"}, "language"),
    ],
)
def test_bad_screening_set_up_is_refused_by_field(world, overrides, field):
    instrument = load(SIX)
    arguments = {
        "actor": world.county_caseworker,
        "youth": world.maya,
        "instrument": instrument,
        "reason": "intake",
        "mode": "interview_in_person",
        "language": "en",
        **overrides,
    }
    with pytest.raises(ValidationError) as refused:
        services.screening_start(**arguments)
    assert field in refused.value.message_dict
    assert not Screening.objects.exists()


def test_spanish_is_refused_for_an_instrument_without_spanish(world):
    instrument = load(TEN)
    with pytest.raises(ValidationError) as refused:
        services.screening_start(
            actor=world.county_caseworker,
            youth=world.maya,
            instrument=instrument,
            reason="intake",
            mode="record_review",
            language="es",
        )
    assert "language" in refused.value.message_dict


def test_a_retired_instrument_cannot_start_a_screening(world):
    doc = document(SIX)
    doc["status"] = "retired"
    instrument = load_doc(doc)
    with pytest.raises(ValidationError) as refused:
        completed(world, instrument, six_answers(0))
    assert "instrument" in refused.value.message_dict


def test_who_may_screen(world):
    instrument = load(SIX)
    for actor in (world.other_caseworker, world.county_admin, world.clinic_clinician):
        with pytest.raises(PermissionDenied):
            completed(world, instrument, six_answers(0), actor=actor)
    # A consent to share screening lets the clinic see it, never change it.
    consent_grant(
        actor=world.county_caseworker,
        youth=world.maya,
        signer_kind="youth",
        signer_name="Maya Quillfeather",
        signer_is_suspected_exploiter=False,
        recipient_agency=world.clinic,
        categories=["screening"],
        purpose="Follow-up care",
        valid_from=clock.today(),
        expires_on=clock.today() + DAY * 30,
    )
    with pytest.raises(PermissionDenied):
        completed(world, instrument, six_answers(0), actor=world.clinic_clinician)
    # The owning agency's supervisor, not on the care team, may.
    assert completed(world, instrument, six_answers(0), actor=world.county_supervisor).pk


def test_the_worker_may_override_the_level_only_with_a_reason(world):
    screening = completed(world, load(SIX), six_answers(1))
    assert screening.computed_level == "no_concern"
    with pytest.raises(ValidationError) as refused:
        services.screening_review(
            actor=world.county_caseworker,
            screening=screening,
            override_level="possible_concern",
            next_action="monitor",
        )
    assert "override_reason" in refused.value.message_dict
    screening.refresh_from_db()
    assert screening.override_level == ""
    services.screening_review(
        actor=world.county_caseworker,
        screening=screening,
        override_level="possible_concern",
        override_reason="An older partner picks her up from school.",
        next_action="full_assessment",
    )
    screening.refresh_from_db()
    assert screening.level == "possible_concern"
    assert screening.computed_level == "no_concern"
    assert screening.override_reason == "An older partner picks her up from school."
    # Choosing the computed level is no override at all.
    services.screening_review(
        actor=world.county_caseworker,
        screening=screening,
        override_level="no_concern",
        override_reason="",
        next_action="none",
    )
    screening.refresh_from_db()
    assert screening.override_level == ""
    assert screening.override_reason == ""


def test_corrections_in_the_window_then_amendments_that_keep_the_original(world, settings):
    settings.SAFEHARBOR_SCREENING_EDIT_WINDOW_DAYS = 7
    start = clock.now()
    with at(start):
        screening = completed(world, load(SIX), six_answers(1))
    with at(start + DAY * 6):
        services.screening_correct(
            actor=world.county_caseworker, screening=screening, answers=six_answers(3)
        )
        with pytest.raises(ValidationError):
            services.screening_amend(
                actor=world.county_caseworker,
                screening=screening,
                answers=six_answers(0),
                reason="x",
            )
    screening.refresh_from_db()
    assert screening.computed_level == "clear_concern"
    assert Screening.objects.count() == 1
    with at(start + DAY * 7):
        assert screening.is_locked(clock.now())
        for change in (
            lambda: services.screening_correct(
                actor=world.county_caseworker, screening=screening, answers=six_answers(0)
            ),
            lambda: services.screening_review(
                actor=world.county_caseworker, screening=screening, next_action="none"
            ),
        ):
            with pytest.raises(ValidationError):
                change()
        with pytest.raises(ValidationError) as no_reason:
            services.screening_amend(
                actor=world.county_caseworker,
                screening=screening,
                answers=six_answers(0),
                reason=" ",
            )
        assert "reason" in no_reason.value.message_dict
        amendment = services.screening_amend(
            actor=world.county_caseworker,
            screening=screening,
            answers=six_answers(0),
            reason="Two answers were recorded against the wrong question.",
        )
        with pytest.raises(ValidationError):
            services.screening_amend(
                actor=world.county_caseworker,
                screening=screening,
                answers=six_answers(0),
                reason="again",
            )
    original = Screening.objects.get(pk=screening.pk)
    assert original.computed_level == "clear_concern"
    assert original.answers == six_answers(3)
    assert amendment.amends == original
    assert amendment.computed_level == "no_concern"
    assert list(original.amendments.all()) == [amendment]


def test_a_window_set_in_settings_is_honoured(world, settings):
    settings.SAFEHARBOR_SCREENING_EDIT_WINDOW_DAYS = 1
    start = clock.now()
    with at(start):
        screening = completed(world, load(SIX), six_answers(1))
    assert not screening.is_locked(start + HOUR * 23)
    assert screening.is_locked(start + DAY)


def test_a_draft_may_be_discarded_but_a_finished_screen_is_kept(world):
    instrument = load(SIX)
    draft = services.screening_start(
        actor=world.county_caseworker,
        youth=world.maya,
        instrument=instrument,
        reason="intake",
        mode="interview_in_person",
    )
    services.screening_discard(actor=world.county_caseworker, screening=draft)
    assert not Screening.objects.filter(pk=draft.pk).exists()
    finished = completed(world, instrument, six_answers(0))
    with pytest.raises(ValidationError):
        services.screening_discard(actor=world.county_caseworker, screening=finished)


def test_answers_are_encrypted_at_rest(world):
    from django.db import connection

    screening = completed(world, load(SIX), six_answers(2))
    with connection.cursor() as cursor:
        cursor.execute("SELECT answers_json FROM screening_screening WHERE id = %s", [screening.pk])
        (stored,) = cursor.fetchone()
    assert stored.startswith("v1.")
    assert "yes" not in stored


def test_an_incomplete_submission_is_refused_naming_each_missing_question(world):
    answers = ten_answers(d1="1")
    del answers["d1-recent"]  # opened by rating area 1 above 0
    with pytest.raises(ValidationError) as refused:
        completed(world, load(TEN), answers, mode="record_review")
    (message,) = refused.value.message_dict["answers"]
    assert "d1-recent" in message
    assert not Screening.objects.exists()


# --------------------------------------------------------------------------- deadlines


def test_a_trigger_is_recorded_and_refused_in_the_future(world):
    now = clock.now()
    trigger = services.trigger_record(
        actor=world.county_caseworker, youth=world.maya, kind="return_from_missing", occurred_at=now
    )
    assert trigger.agency == world.county
    with pytest.raises(ValidationError):
        services.trigger_record(
            actor=world.county_caseworker,
            youth=world.maya,
            kind="return_from_missing",
            occurred_at=now + HOUR,
        )
    with pytest.raises(ValidationError):
        services.trigger_record(
            actor=world.county_caseworker, youth=world.maya, kind="party", occurred_at=now
        )
    with pytest.raises(PermissionDenied):
        services.trigger_record(
            actor=world.other_caseworker, youth=world.maya, kind="runaway_history", occurred_at=now
        )
    assert TriggerEvent.objects.count() == 1
    assert screening_events(object_type="screening.triggerevent") == 1


def test_identification_then_the_law_enforcement_report(world):
    screening = completed(world, load(SIX), six_answers(3))
    now = clock.now()
    identification = services.victim_identification_record(
        actor=world.county_caseworker,
        youth=world.maya,
        identified_at=now - HOUR,
        screening=screening,
    )
    with pytest.raises(ValidationError) as refused:
        services.law_enforcement_report_record(
            actor=world.county_caseworker,
            identification=identification,
            reported_at=now - HOUR * 2,
            receiving_agency="",
            report_number="",
        )
    assert set(refused.value.message_dict) == {"reported_at", "receiving_agency", "report_number"}
    services.law_enforcement_report_record(
        actor=world.county_caseworker,
        identification=identification,
        reported_at=now,
        receiving_agency="Harbor County Sheriff",
        report_number="HCS-2026-0042",
    )
    identification.refresh_from_db()
    assert identification.reported_by == world.county_caseworker
    assert identification.report_number == "HCS-2026-0042"
    with pytest.raises(ValidationError):
        services.law_enforcement_report_record(
            actor=world.county_caseworker,
            identification=identification,
            reported_at=now,
            receiving_agency="Again",
            report_number="2",
        )


def test_an_identification_must_follow_this_youths_finished_screening(world):
    draft = services.screening_start(
        actor=world.county_caseworker,
        youth=world.maya,
        instrument=load(SIX),
        reason="intake",
        mode="interview_in_person",
    )
    with pytest.raises(ValidationError):
        services.victim_identification_record(
            actor=world.county_caseworker,
            youth=world.maya,
            identified_at=clock.now(),
            screening=draft,
        )
    assert not VictimIdentification.objects.exists()


def test_an_amendment_keeps_the_administration_time_and_may_carry_a_judgement(world):
    start = clock.now()
    with at(start):
        screening = completed(world, load(SIX), six_answers(0))
        services.screening_review(
            actor=world.county_caseworker, screening=screening, next_action="monitor"
        )
    with at(start + DAY * 30):
        with pytest.raises(ValidationError) as no_reason:
            services.screening_amend(
                actor=world.county_caseworker,
                screening=screening,
                answers=six_answers(1),
                reason="A sign was recorded against the wrong question.",
                override_level="clear_concern",
            )
        assert "override_reason" in no_reason.value.message_dict
        amendment = services.screening_amend(
            actor=world.county_caseworker,
            screening=screening,
            answers=six_answers(1),
            reason="A sign was recorded against the wrong question.",
            override_level="clear_concern",
            override_reason="She disclosed being sold at a party.",
        )
    assert amendment.started_at == screening.started_at
    assert amendment.completed_at == screening.completed_at
    assert amendment.created_at > screening.created_at
    assert amendment.level == "clear_concern"
    assert amendment.computed_level == "no_concern"
    assert amendment.next_action == "monitor"  # carried over from the original
    assert Screening.objects.count() == 2
