"""Services and outcomes in a browser: on a phone, a caseworker enrols a youth in a program,
records a service and an outcome (the outcome form changes with the measure), is told what to
fix without losing what they typed, and records the exit; the youth's timeline shows each
reader only the categories they may see; axe finds no violations on the outcomes pages, and
nothing scrolls sideways on a phone."""

from __future__ import annotations

import datetime
import importlib

import pytest
from django.apps import apps as django_apps
from playwright.sync_api import Page, expect

from safeharbor.contact.services import contact_attempt_log
from safeharbor.core import clock
from safeharbor.core.tests.personas import World
from safeharbor.outcomes import services
from safeharbor.outcomes.choices import ProgramKind, ReferralSource
from safeharbor.outcomes.models import (
    Enrolment,
    OutcomeMeasure,
    OutcomeObservation,
    Program,
    ServiceDelivery,
)
from safeharbor.youth.services import consent_grant

from .conftest import PHONE, log_in
from .test_accessibility import PageChecker

pytestmark = pytest.mark.browser

DAY = datetime.timedelta(days=1)
SECTION = "Services and outcomes"


@pytest.fixture
def shipped_measures(transactional_db: None) -> None:
    """The measures migration 0002 ships: a live-server test empties every table when it ends,
    rows written by data migrations included, so the tests after the first need them again."""
    migration = importlib.import_module("safeharbor.outcomes.migrations.0002_shipped_measures")
    migration.create_shipped(django_apps, None)


@pytest.fixture
def program(mfa_world: World, shipped_measures: None) -> Program:
    return services.program_create(
        actor=mfa_world.county_supervisor,
        name="Harbor Mentoring",
        kind=ProgramKind.MENTORING,
        starts_on=datetime.date(2024, 1, 1),
    )


def _iso(days_ago: int = 0) -> str:
    return (clock.today() - days_ago * DAY).isoformat()


def _enrol(world: World, program: Program) -> Enrolment:
    return services.enrolment_start(
        actor=world.county_caseworker,
        youth=world.maya,
        program=program,
        starts_on=clock.today() - 30 * DAY,
        referral_source=ReferralSource.CHILD_WELFARE,
    )


def _history(world: World, program: Program) -> Enrolment:
    """An enrolment, a service, an outcome and a conversation logged by the care team."""
    enrolment = _enrol(world, program)
    services.service_record(
        actor=world.county_caseworker,
        youth=world.maya,
        service_type="mentoring",
        delivered_on=clock.today() - 2 * DAY,
        minutes=60,
        mode="in_person",
        program=program,
    )
    services.observation_record(
        actor=world.county_caseworker,
        youth=world.maya,
        measure=OutcomeMeasure.objects.get(code="stage_of_change"),
        observed_on=clock.today() - DAY,
        value="preparation",
    )
    contact_attempt_log(
        actor=world.county_caseworker, youth=world.maya, channel="text", outcome="reached"
    )
    return enrolment


def _back_on_the_youth_page(page: Page, message: str) -> None:
    expect(page.get_by_text(message)).to_be_visible()
    expect(page.get_by_role("heading", name=SECTION, exact=True)).to_be_visible()


def test_a_caseworker_records_services_and_outcomes_on_a_phone(new_page, mfa_world, program):
    world = mfa_world
    page = new_page(viewport=PHONE)
    log_in(page, world.county_caseworker)
    page.goto(f"/youth/{world.maya.pk}/")
    expect(page.get_by_role("heading", name=SECTION, exact=True)).to_be_visible()
    expect(page.get_by_text("Not enrolled in any program.")).to_be_visible()

    # Enrol.
    page.get_by_role("link", name="Enrol in a program").click()
    page.get_by_label("Program", exact=True).select_option(label="Harbor Mentoring")
    page.get_by_label("Enrolled on").fill(_iso(7))
    page.get_by_label("Referred by").select_option(label="School")
    page.get_by_role("radio", name="No", exact=True).check()
    page.get_by_role("button", name="Enrol", exact=True).click()
    _back_on_the_youth_page(page, "Enrolled in Harbor Mentoring.")
    enrolment = Enrolment.objects.get()
    assert (enrolment.program, enrolment.starts_on.isoformat()) == (program, _iso(7))
    assert (enrolment.referral_source, enrolment.has_disability) == ("school", "no")

    # A service under the program.
    page.get_by_role("link", name="Record a service").click()
    page.get_by_label("Service", exact=True).select_option(label="Legal advocacy")
    page.get_by_label("Date", exact=True).fill(_iso(1))
    page.get_by_label("Minutes").fill("45")
    page.get_by_role("radio", name="Remote (phone or video)").check()
    page.get_by_label("Under a program (optional)").select_option(label="Harbor Mentoring")
    page.get_by_role("button", name="Record the service").click()
    _back_on_the_youth_page(page, "Recorded: Legal advocacy.")
    delivery = ServiceDelivery.objects.get()
    assert (delivery.service_type, delivery.minutes, delivery.mode, delivery.program) == (
        "legal",
        45,
        "remote",
        program,
    )

    # An outcome: the measure first, then the input that fits it (stages for a stage measure).
    page.get_by_role("link", name="Record an outcome").click()
    page.get_by_label("Which outcome").select_option(label="Stage of change")
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("heading", name="Stage of change")).to_be_visible()
    page.get_by_role("radio", name="Action", exact=True).check()
    tomorrow = (clock.today() + DAY).isoformat()
    page.get_by_label("Date", exact=True).fill(tomorrow)
    page.get_by_label("Note (optional)").fill("Has started the job programme.")
    page.get_by_role("button", name="Record the outcome").click()
    # A date in the future: said next to the field, and nothing typed is lost.
    expect(page.get_by_text("This date is in the future")).to_be_visible()
    expect(page.get_by_label("Date", exact=True)).to_have_value(tomorrow)
    expect(page.get_by_role("radio", name="Action", exact=True)).to_be_checked()
    expect(page.get_by_label("Note (optional)")).to_have_value("Has started the job programme.")
    assert not OutcomeObservation.objects.exists()
    page.get_by_label("Date", exact=True).fill(_iso())
    page.get_by_role("button", name="Record the outcome").click()
    _back_on_the_youth_page(page, "Recorded: Stage of change.")
    latest = page.get_by_role("region", name="Latest outcomes of this youth")
    expect(latest.get_by_role("row", name="Stage of change Action")).to_be_visible()
    observation = OutcomeObservation.objects.get()
    assert (observation.measure.code, observation.value) == ("stage_of_change", 4)

    # A yes/no measure asks yes or no.
    page.get_by_role("link", name="Record an outcome").click()
    page.get_by_label("Which outcome").select_option(label="Enrolled in school")
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("radio", name="Yes", exact=True)).to_be_visible()
    expect(page.get_by_role("radio", name="No", exact=True)).to_be_visible()
    page.get_by_role("link", name="Back to the youth's record").click()

    # The exit.
    page.get_by_role("link", name="Record leaving Harbor Mentoring").click()
    page.get_by_label("Left on").fill(_iso())
    page.get_by_label("Reason for leaving").select_option(label="Goals met before the end")
    page.get_by_role("button", name="Record leaving", exact=True).click()
    _back_on_the_youth_page(page, "Recorded leaving Harbor Mentoring.")
    expect(page.get_by_role("link", name="Record leaving Harbor Mentoring")).to_have_count(0)
    enrolment.refresh_from_db()
    assert enrolment.ends_on is not None
    assert (enrolment.ends_on.isoformat(), enrolment.exit_reason) == (_iso(), "goals_met")


def test_the_timeline_shows_each_reader_only_what_they_may_see(new_page, mfa_world, program):
    world = mfa_world
    _history(world, program)
    page = new_page(viewport=PHONE)
    log_in(page, world.county_caseworker)
    page.goto(f"/youth/{world.maya.pk}/")
    page.get_by_role("link", name="See the youth's timeline").click()
    expect(page.get_by_role("heading", name="Timeline of May Quillfeather")).to_be_visible()
    entries = page.get_by_role("listitem").filter(has_text="Services and outcomes")
    expect(entries.filter(has_text="Enrolled in Harbor Mentoring")).to_have_count(1)
    expect(entries.filter(has_text="Service: Mentoring / peer support")).to_have_count(1)
    expect(entries.filter(has_text="Outcome: Stage of change")).to_have_count(1)
    expect(page.get_by_text("Contact attempt: Text message")).to_be_visible()

    # Bayside's clinician, with the youth's consent for services only.
    today = clock.today()
    consent_grant(
        actor=world.county_caseworker,
        youth=world.maya,
        signer_kind="youth",
        signer_name="Maya Quillfeather",
        signer_is_suspected_exploiter=False,
        recipient_agency=world.clinic,
        categories=["services"],
        purpose="Coordinated care",
        valid_from=today,
        expires_on=today + 90 * DAY,
    )
    clinic = new_page(viewport=PHONE)
    log_in(clinic, world.clinic_clinician)
    clinic.goto(f"/youth/{world.maya.pk}/")
    expect(clinic.get_by_role("heading", name=SECTION, exact=True)).to_be_visible()
    expect(clinic.get_by_role("link", name="Record a service")).to_have_count(0)
    clinic.get_by_role("link", name="See the youth's timeline").click()
    # Identity is not in the consent: the record number, never the name.
    expect(clinic.get_by_role("heading", level=1)).to_have_text(
        f"Timeline {world.maya.record_number}"
    )
    expect(clinic.get_by_text("Enrolled in Harbor Mentoring")).to_be_visible()
    expect(clinic.get_by_text("Not shared with your agency:")).to_be_visible()
    expect(clinic.get_by_text("Contact attempt")).to_have_count(0)
    assert "Quillfeather" not in clinic.content()


def test_the_outcomes_pages_pass_axe_on_phone_and_desktop(new_page, mfa_world, program):
    world = mfa_world
    check = PageChecker()
    enrolment = _history(world, program)
    services.funding_add(
        actor=world.county_supervisor,
        program=program,
        funder="Office for Victims of Crime",
        kind="federal",
        award_number="15POVC-25-GG-00001",
        starts_on=datetime.date(2025, 1, 1),
        ends_on=datetime.date(2027, 12, 31),
    )
    maya = world.maya.pk
    page = new_page()
    log_in(page, world.county_caseworker)
    page.goto(f"/youth/{maya}/")
    expect(page.get_by_role("heading", name=SECTION, exact=True)).to_be_visible()
    check(page, "youth page with the services and outcomes section")
    page.goto(f"/outcomes/youth/{maya}/enrol/")
    check(page, "enrol in a program")
    page.get_by_label("Program", exact=True).select_option(label="Harbor Mentoring")
    page.get_by_label("Referred by").select_option(label="School")
    page.get_by_role("button", name="Enrol", exact=True).click()
    expect(page.get_by_text("The youth is already enrolled in this program.")).to_be_visible()
    check(page, "enrol in a program, with an error")
    page.goto(f"/outcomes/youth/{maya}/enrolments/{enrolment.pk}/exit/")
    check(page, "leaving a program")
    page.goto(f"/outcomes/youth/{maya}/services/new/")
    check(page, "record a service")
    page.goto(f"/outcomes/youth/{maya}/outcomes/new/")
    check(page, "record an outcome: choose the measure")
    for code in ("stage_of_change", "school_enrolled", "school_attendance", "arrests"):
        page.goto(f"/outcomes/youth/{maya}/outcomes/new/?measure={code}")
        check(page, f"record an outcome: {code}")
    page.goto(f"/outcomes/youth/{maya}/timeline/")
    check(page, "the youth's timeline")

    supervisor = new_page()
    log_in(supervisor, world.county_supervisor)
    supervisor.goto("/outcomes/programs/")
    expect(supervisor.get_by_role("link", name="Harbor Mentoring")).to_be_visible()
    check(supervisor, "programs")
    supervisor.get_by_role("link", name="Harbor Mentoring").click()
    expect(supervisor.get_by_text("Office for Victims of Crime")).to_be_visible()
    check(supervisor, "a program")
    supervisor.goto("/outcomes/programs/new/")
    check(supervisor, "new program")
    supervisor.goto(f"/outcomes/programs/{program.pk}/funding/new/")
    check(supervisor, "add funding")
    supervisor.goto(f"/outcomes/programs/{program.pk}/dashboard/")
    expect(supervisor.get_by_role("heading", name="Effectiveness", exact=True)).to_be_visible()
    check(supervisor, "the program's effectiveness")
    supervisor.goto("/outcomes/definitions/")
    check(supervisor, "how each figure is computed")
    check.assert_clean()
