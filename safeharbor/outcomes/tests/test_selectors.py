"""Reading services and outcomes: what each reader gets (and the 404 or refusal otherwise), the
latest observation per measure, the youth's timeline by category, program counts, and the
audit events each read leaves."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from safeharbor.access.choices import Category
from safeharbor.access.policy import access_for
from safeharbor.accounts.choices import Role
from safeharbor.accounts.models import Agency
from safeharbor.accounts.services import user_create
from safeharbor.audit.models import AuditEvent
from safeharbor.contact.services import contact_attempt_log
from safeharbor.core import clock
from safeharbor.core.tests.personas import PASSWORD, World
from safeharbor.directory.models import Organization, Service
from safeharbor.directory.tests.factories import load as load_service
from safeharbor.directory.tests.factories import service_object
from safeharbor.outcomes import selectors, services
from safeharbor.outcomes.choices import ExitReason, ProgramKind, ReferralSource
from safeharbor.outcomes.models import Enrolment, OutcomeMeasure, Program
from safeharbor.referrals import services as referral_services
from safeharbor.screening.tests.helpers import SIX, completed, six_answers
from safeharbor.screening.tests.helpers import load as load_instrument
from safeharbor.youth.services import consent_grant, youth_create

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


def _today() -> datetime.date:
    return clock.today()


def _consent(world: World, agency: Agency, categories: list[str]) -> None:
    consent_grant(
        actor=world.county_caseworker,
        youth=world.maya,
        signer_kind="youth",
        signer_name="Maya Quillfeather",
        signer_is_suspected_exploiter=False,
        recipient_agency=agency,
        categories=categories,
        purpose="Coordinated care",
        valid_from=_today() - DAY,
        expires_on=_today() + 90 * DAY,
    )


def _enrol(world: World, program: Program, starts_on: datetime.date | None = None) -> Enrolment:
    return services.enrolment_start(
        actor=world.county_caseworker,
        youth=world.maya,
        program=program,
        starts_on=starts_on or _today() - 30 * DAY,
        referral_source=ReferralSource.CHILD_WELFARE,
    )


def _observe(world: World, code: str, value: str, days_ago: int) -> None:
    services.observation_record(
        actor=world.county_caseworker,
        youth=world.maya,
        measure=OutcomeMeasure.objects.get(code=code),
        observed_on=_today() - days_ago * DAY,
        value=value,
    )


def _service(world: World, days_ago: int, service_type: str = "counseling") -> None:
    services.service_record(
        actor=world.county_caseworker,
        youth=world.maya,
        service_type=service_type,
        delivered_on=_today() - days_ago * DAY,
        minutes=45,
        mode="in_person",
    )


def _events(**filters: object) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(**filters).order_by("seq"))


# --- value_label ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "value", "shown"),
    [
        ("stage_of_change", "1", "Pre-contemplation"),
        ("stage_of_change", "5", "Maintenance"),
        ("school_enrolled", "1", "Yes"),
        ("school_enrolled", "0", "No"),
        ("school_attendance", "87.50", "87.5"),
        ("school_attendance", "90.00", "90"),
        ("arrests", "2.00", "2"),
    ],
)
def test_an_observation_reads_as_it_was_entered(code: str, value: str, shown: str) -> None:
    measure = OutcomeMeasure.objects.get(code=code)
    assert selectors.value_label(measure, Decimal(value)) == shown


# --- The youth page ------------------------------------------------------------------------


def test_the_panel_data_is_none_where_services_are_withheld(world: World) -> None:
    _consent(world, world.sheriff, ["identity"])
    access = access_for(world.police_officer, world.maya)
    assert access.sees_record
    before = AuditEvent.objects.count()
    assert (
        selectors.youth_outcomes(actor=world.police_officer, youth=world.maya, access=access)
        is None
    )
    assert AuditEvent.objects.count() == before


def test_the_panel_shows_enrolments_recent_services_and_the_latest_of_each_measure(
    world: World, program: Program
) -> None:
    _enrol(world, program)
    for days_ago in range(1, 8):
        _service(world, days_ago)
    # Recorded out of date order: the latest is the one observed last, not the one typed last.
    _observe(world, "stage_of_change", "contemplation", days_ago=3)
    _observe(world, "stage_of_change", "precontemplation", days_ago=20)
    _observe(world, "arrests", "1", days_ago=10)
    access = access_for(world.county_caseworker, world.maya)
    data = selectors.youth_outcomes(actor=world.county_caseworker, youth=world.maya, access=access)
    assert data is not None
    assert [e.program for e in data.enrolments] == [program]
    assert len(data.services) == selectors.PANEL_SERVICES
    assert data.services_total == 7
    assert data.services[0].delivered_on == _today() - DAY
    assert [(row.measure.code, row.shown) for row in data.latest] == [
        ("arrests", "1"),
        ("stage_of_change", "Contemplation"),
    ]
    assert data.can_change
    event = _events(action="list", youth_id=world.maya.pk)[-1]
    assert (event.category, event.object_type) == (Category.SERVICES, "youth.youth")
    assert event.actor == world.county_caseworker


def test_an_empty_panel_is_not_audited(world: World) -> None:
    access = access_for(world.county_caseworker, world.maya)
    data = selectors.youth_outcomes(actor=world.county_caseworker, youth=world.maya, access=access)
    assert data is not None
    assert data.is_empty
    assert not AuditEvent.objects.filter(action="list", category=Category.SERVICES).exists()


def test_a_consented_agency_reads_services_but_does_not_record_them(
    world: World, program: Program
) -> None:
    _enrol(world, program)
    _consent(world, world.clinic, ["services"])
    access = access_for(world.clinic_clinician, world.maya)
    data = selectors.youth_outcomes(actor=world.clinic_clinician, youth=world.maya, access=access)
    assert data is not None
    assert len(data.enrolments) == 1
    assert not data.can_change
    with pytest.raises(PermissionDenied):
        selectors.youth_for_services(actor=world.clinic_clinician, youth_id=world.maya.pk)


@pytest.mark.parametrize("persona", ["other_caseworker", "county_analyst", "police_officer"])
def test_the_youth_for_a_form_is_a_404_for_those_who_may_not_see_services(
    world: World, persona: str
) -> None:
    with pytest.raises(Http404):
        selectors.youth_for_services(actor=getattr(world, persona), youth_id=world.maya.pk)


def test_only_an_open_enrolment_of_that_youth_can_be_exited(world: World, program: Program) -> None:
    enrolment = _enrol(world, program)
    other = youth_create(
        actor=world.county_caseworker,
        owning_agency=world.county,
        given_name="Rae",
        family_name="Fernwood",
        date_of_birth=datetime.date(2009, 1, 5),
        county="Harbor",
    )
    found = selectors.enrolment_for_exit(
        actor=world.county_caseworker, youth_id=world.maya.pk, enrolment_id=enrolment.pk
    )
    assert found == enrolment
    viewed = _events(action="view", object_type="outcomes.enrolment")[-1]
    assert (viewed.object_id, viewed.youth_id) == (str(enrolment.pk), world.maya.pk)
    with pytest.raises(Http404):
        selectors.enrolment_for_exit(
            actor=world.county_caseworker, youth_id=other.pk, enrolment_id=enrolment.pk
        )
    services.enrolment_exit(
        actor=world.county_caseworker,
        enrolment=enrolment,
        ends_on=_today(),
        exit_reason=ExitReason.COMPLETED,
    )
    with pytest.raises(Http404):
        selectors.enrolment_for_exit(
            actor=world.county_caseworker, youth_id=world.maya.pk, enrolment_id=enrolment.pk
        )


def test_programs_offered_for_enrolment_and_for_a_service(world: World, program: Program) -> None:
    unused = services.program_create(
        actor=world.county_supervisor,
        name="Harbor Drop-in",
        kind=ProgramKind.DROP_IN,
        starts_on=datetime.date(2024, 1, 1),
    )
    assert set(selectors.enrolment_programs(actor=world.county_caseworker)) == {program, unused}
    assert not selectors.enrolment_programs(actor=world.clinic_clinician).exists()
    assert not selectors.service_programs(actor=world.county_caseworker, youth=world.maya).exists()
    _enrol(world, program)
    assert list(selectors.service_programs(actor=world.county_caseworker, youth=world.maya)) == [
        program
    ]


# --- The timeline --------------------------------------------------------------------------


@pytest.fixture
def clinic_service(world: World) -> Service:
    data = service_object(name="Bayside Youth Counseling", codes=("need-counseling",))
    load_service(data)
    Organization.objects.filter(pk=data["organization"]["id"]).update(agency=world.clinic)
    return Service.objects.select_related("organization").get(pk=data["id"])


@pytest.fixture
def history(world: World, program: Program, clinic_service: Service) -> None:
    """One of everything the timeline shows, and a draft referral it does not."""
    completed(world, load_instrument(SIX), six_answers(3))
    contact_attempt_log(
        actor=world.county_caseworker, youth=world.maya, channel="phone", outcome="reached"
    )
    referral_services.referral_create(
        actor=world.county_caseworker,
        youth=world.maya,
        service=clinic_service,
        need="need-counseling",
        priority="routine",
        note="",
        callback="Casey Tester, 555-0100",
    )
    referral_services.referral_create(
        actor=world.county_caseworker,
        youth=world.maya,
        service=clinic_service,
        need="need-counseling",
        priority="routine",
        note="",
        callback="Casey Tester, 555-0100",
        send=False,
    )
    enrolment = _enrol(world, program, starts_on=_today() - 40 * DAY)
    services.enrolment_exit(
        actor=world.county_caseworker,
        enrolment=enrolment,
        ends_on=_today() - 10 * DAY,
        exit_reason=ExitReason.GOALS_MET,
    )
    _service(world, days_ago=20)
    _observe(world, "school_enrolled", "1", days_ago=15)


def _titles(timeline: selectors.Timeline) -> list[str]:
    return [entry.title for entry in timeline.entries]


def test_the_care_team_sees_every_kind_newest_first(world: World, history: None) -> None:
    timeline = selectors.youth_timeline(actor=world.county_caseworker, youth_id=world.maya.pk)
    assert timeline.shown == [
        Category.SCREENING,
        Category.CONTACT_PLAN,
        Category.REFERRALS,
        Category.SERVICES,
    ]
    assert timeline.withheld == []
    assert {entry.category for entry in timeline.entries} == set(timeline.shown)
    titles = _titles(timeline)
    # The three of today (times known) first, then the dated services rows, newest first.
    assert titles[3:] == [
        "Left Harbor Mentoring",
        "Outcome: Enrolled in school",
        "Service: Counselling / therapy",
        "Enrolled in Harbor Mentoring",
    ]
    assert set(titles[:3]) == {
        "Screening: Six-item example screen",
        "Contact attempt: Phone call",
        "Referral to Bayside Youth Counseling",
    }
    # The draft referral has not happened: one referral on the timeline.
    assert titles.count("Referral to Bayside Youth Counseling") == 1
    keys = [entry.sort_key() for entry in timeline.entries]
    assert keys == sorted(keys, reverse=True)
    summary = dict(timeline.summary)
    assert summary["In programs now"] == "none"
    assert summary["Services in the last 90 days"] == "1 (0 h 45 min)"
    assert summary["Open referrals"] == "1"
    assert summary["Last conversation"] == _today().isoformat()


def test_the_timeline_is_one_audit_event_naming_the_categories_shown(
    world: World, history: None
) -> None:
    before = AuditEvent.objects.count()
    selectors.youth_timeline(actor=world.county_caseworker, youth_id=world.maya.pk)
    events = list(AuditEvent.objects.order_by("seq")[before:])
    assert len(events) == 1
    assert (events[0].action, events[0].object_type, events[0].youth_id) == (
        "list",
        "outcomes.timeline",
        world.maya.pk,
    )
    assert events[0].category == "screening,contact_plan,referrals,services"


def test_a_clinician_with_consent_for_services_sees_no_contact_attempts(
    world: World, history: None
) -> None:
    _consent(world, world.clinic, ["services"])
    timeline = selectors.youth_timeline(actor=world.clinic_clinician, youth_id=world.maya.pk)
    assert timeline.shown == [Category.SERVICES]
    assert timeline.withheld == [Category.SCREENING, Category.CONTACT_PLAN, Category.REFERRALS]
    assert {entry.category for entry in timeline.entries} == {Category.SERVICES}
    assert not any(title.startswith("Contact attempt") for title in _titles(timeline))
    assert not timeline.show_identity
    assert [label for label, _value in timeline.summary] == [
        "In programs now",
        "Services in the last 90 days",
    ]
    event = _events(object_type="outcomes.timeline")[-1]
    assert (event.actor, event.category) == (world.clinic_clinician, "services")


def test_consent_for_screening_and_referrals_never_opens_the_contact_log(
    world: World, history: None
) -> None:
    # The contact plan is the care team's alone, whatever a consent lists.
    _consent(world, world.clinic, ["screening", "referrals", "contact_plan"])
    timeline = selectors.youth_timeline(actor=world.clinic_clinician, youth_id=world.maya.pk)
    assert timeline.shown == [Category.SCREENING, Category.REFERRALS]
    assert Category.CONTACT_PLAN in timeline.withheld


def test_the_timeline_is_a_404_where_none_of_its_categories_shows(world: World) -> None:
    _consent(world, world.sheriff, ["identity"])
    before = AuditEvent.objects.count()
    with pytest.raises(Http404):
        selectors.youth_timeline(actor=world.police_officer, youth_id=world.maya.pk)
    with pytest.raises(Http404):
        selectors.youth_timeline(actor=world.other_caseworker, youth_id=world.maya.pk)
    with pytest.raises(Http404):
        selectors.youth_timeline(actor=world.county_analyst, youth_id=world.maya.pk)
    assert AuditEvent.objects.count() == before


# --- Programs ------------------------------------------------------------------------------


def test_program_counts_are_open_enrolments_and_youth_enrolled_this_year(
    world: World, program: Program
) -> None:
    today = _today()
    ended = _enrol(world, program, starts_on=datetime.date(today.year - 1, 6, 1))
    services.enrolment_exit(
        actor=world.county_caseworker,
        enrolment=ended,
        ends_on=datetime.date(today.year - 1, 9, 1),
        exit_reason=ExitReason.MOVED,
    )
    _enrol(world, program, starts_on=datetime.date(today.year, 1, 1))  # back this year
    rae = youth_create(
        actor=world.county_caseworker,
        owning_agency=world.county,
        given_name="Rae",
        family_name="Fernwood",
        date_of_birth=datetime.date(2009, 1, 5),
        county="Harbor",
    )
    services.enrolment_start(
        actor=world.county_caseworker,
        youth=rae,
        program=program,
        starts_on=datetime.date(today.year - 1, 3, 1),
        referral_source=ReferralSource.SCHOOL,
    )
    rows = selectors.programs_for(actor=world.county_analyst)
    assert [(r.program, r.open_enrolments, r.enrolled_this_year) for r in rows] == [(program, 2, 1)]
    page = selectors.program_get(actor=world.county_supervisor, program_id=program.pk)
    assert (page.figures.open_enrolments, page.figures.enrolled_this_year) == (2, 1)


@pytest.mark.parametrize("persona", ["county_supervisor", "county_admin", "county_analyst"])
def test_supervisors_admins_and_analysts_see_their_agencys_programs(
    world: World, program: Program, persona: str
) -> None:
    actor = getattr(world, persona)
    assert [row.program for row in selectors.programs_for(actor=actor)] == [program]
    page = selectors.program_get(actor=actor, program_id=program.pk)
    assert page.figures.program == program
    assert page.can_manage is (persona != "county_analyst")


@pytest.mark.parametrize("persona", ["county_caseworker", "clinic_clinician", "police_officer"])
def test_workers_do_not_see_program_pages(world: World, program: Program, persona: str) -> None:
    actor = getattr(world, persona)
    with pytest.raises(PermissionDenied):
        selectors.programs_for(actor=actor)
    with pytest.raises(Http404):
        selectors.program_get(actor=actor, program_id=program.pk)


def test_another_agencys_program_is_a_404(world: World, program: Program) -> None:
    valley_supervisor = user_create(
        username="valley_supervisor",
        password=PASSWORD,
        agency=world.valley,
        role=Role.SUPERVISOR,
    )
    assert selectors.programs_for(actor=valley_supervisor) == []
    with pytest.raises(Http404):
        selectors.program_get(actor=valley_supervisor, program_id=program.pk)
    with pytest.raises(Http404):
        selectors.program_get(actor=world.county_supervisor, program_id=program.pk + 1000)


def test_an_analyst_sees_a_program_but_may_not_add_funding(world: World, program: Program) -> None:
    with pytest.raises(PermissionDenied):
        selectors.program_for_change(actor=world.county_analyst, program_id=program.pk)
    assert selectors.program_for_change(actor=world.county_admin, program_id=program.pk) == program
