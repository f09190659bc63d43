"""The outcomes pages through HTTP: the youth page's section and who sees it, the forms (saved,
or refused with the input kept and nothing saved), the youth's timeline by category, the
program pages, and the audit events they leave. An analyst never reaches a youth."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from safeharbor.accounts.choices import Role
from safeharbor.accounts.models import Agency
from safeharbor.accounts.services import user_create
from safeharbor.audit.models import AuditEvent
from safeharbor.contact.services import contact_attempt_log
from safeharbor.core import clock
from safeharbor.core.tests.personas import PASSWORD, World, verified_client
from safeharbor.outcomes import services
from safeharbor.outcomes.choices import ExitReason, ProgramKind, ReferralSource
from safeharbor.outcomes.models import (
    Enrolment,
    FundingSource,
    OutcomeMeasure,
    OutcomeObservation,
    Program,
    ServiceDelivery,
)
from safeharbor.youth.services import consent_grant

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)
SECTION = 'id="outcomes-h"'
ACTIONS = ("Enrol in a program", "Record a service", "Record an outcome")
CONTACT_NOTE = "Talked about the Wrenfield placement"


def _today() -> datetime.date:
    return clock.today()


def _iso(days_ago: int = 0) -> str:
    return (_today() - days_ago * DAY).isoformat()


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


def _page(client: Client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return response.content.decode()


def _youth_page(world: World) -> str:
    return reverse("youth:detail", args=[world.maya.pk])


def _url(name: str, world: World, *args: object) -> str:
    return reverse(f"outcomes:{name}", args=[world.maya.pk, *args])


def _enrol(world: World, program: Program, days_ago: int = 30) -> Enrolment:
    return services.enrolment_start(
        actor=world.county_caseworker,
        youth=world.maya,
        program=program,
        starts_on=_today() - days_ago * DAY,
        referral_source=ReferralSource.CHILD_WELFARE,
    )


def _clinic_program(world: World) -> Program:
    clinic_supervisor = user_create(
        username="clinic_supervisor", password=PASSWORD, agency=world.clinic, role=Role.SUPERVISOR
    )
    return services.program_create(
        actor=clinic_supervisor,
        name="Bayside Therapy",
        kind=ProgramKind.CLINICAL,
        starts_on=datetime.date(2024, 1, 1),
    )


def _value_of(body: str, name: str) -> str | None:
    """The value an <input name=...> carries on the page (the input kept after an error)."""
    match = re.search(rf'<input[^>]*name="{name}"[^>]*>', body)
    assert match, f"no input {name}"
    value = re.search(r'value="([^"]*)"', match.group(0))
    return value.group(1) if value else None


def _selected(body: str, name: str) -> list[str]:
    select = re.search(rf'<select name="{name}".*?</select>', body, re.DOTALL)
    assert select, f"no select {name}"
    return re.findall(r'<option value="([^"]*)"[^>]*selected', select.group(0))


def _checked(body: str, name: str) -> list[str]:
    return re.findall(rf'<input type="radio" name="{name}" value="([^"]*)"[^>]*checked', body)


# --- The youth page ------------------------------------------------------------------------


def test_the_care_team_sees_the_section_with_its_actions(world: World, program: Program) -> None:
    _enrol(world, program)
    body = _page(verified_client(world.county_caseworker), _youth_page(world))
    assert SECTION in body
    assert "Harbor Mentoring" in body
    for label in ACTIONS:
        assert label in body
    assert _url("enrol", world) in body
    assert _url("timeline", world) in body
    assert "Record leaving Harbor Mentoring" in body


def test_law_enforcement_without_consent_never_sees_the_section(
    world: World, program: Program
) -> None:
    _enrol(world, program)
    officer = verified_client(world.police_officer)
    _page(officer, _youth_page(world), status=404)
    _consent(world, world.sheriff, ["identity"])
    body = _page(officer, _youth_page(world))
    assert SECTION not in body
    assert "Harbor Mentoring" not in body
    _page(officer, _url("timeline", world), status=404)
    # With services in the consent the officer reads them, but recording is the care team's.
    _consent(world, world.sheriff, ["identity", "services"])
    body = _page(officer, _youth_page(world))
    assert SECTION in body
    assert "Harbor Mentoring" in body
    assert not [label for label in ACTIONS if label in body]
    assert "Record leaving" not in body
    _page(officer, _url("enrol", world), status=403)
    response = officer.post(_url("service_new", world), {"service_type": "legal"})
    assert response.status_code == 403
    assert not ServiceDelivery.objects.exists()


def test_the_section_is_audited_as_a_list_of_services(world: World, program: Program) -> None:
    _enrol(world, program)
    _page(verified_client(world.county_caseworker), _youth_page(world))
    assert AuditEvent.objects.filter(
        action="list",
        actor=world.county_caseworker,
        youth_id=world.maya.pk,
        category="services",
        object_type="youth.youth",
    ).exists()


# --- Enrol and exit ------------------------------------------------------------------------


def _enrol_data(program: Program, **overrides: str) -> dict[str, str]:
    data = {
        "program": str(program.pk),
        "starts_on": _iso(3),
        "referral_source": ReferralSource.SCHOOL,
        "trafficking_type": "at_risk",
        "has_disability": "no",
    }
    data.update(overrides)
    return data


def test_enrolling_a_youth(world: World, program: Program) -> None:
    client = verified_client(world.county_caseworker)
    body = _page(client, _url("enrol", world))
    assert _value_of(body, "starts_on") == _iso()
    response = client.post(_url("enrol", world), _enrol_data(program))
    assert response.status_code == 302
    assert response["Location"] == _youth_page(world) + "#outcomes-h"
    enrolment = Enrolment.objects.get()
    assert (enrolment.program, enrolment.starts_on, enrolment.referral_source) == (
        program,
        _today() - 3 * DAY,
        "school",
    )
    assert (enrolment.trafficking_type, enrolment.has_disability) == ("at_risk", "no")
    assert AuditEvent.objects.filter(
        action="create", object_type="outcomes.enrolment", youth_id=world.maya.pk
    ).exists()
    body = _page(client, _youth_page(world))
    assert "Enrolled in Harbor Mentoring." in body


def test_an_enrolment_in_the_future_is_refused_and_the_input_kept(
    world: World, program: Program
) -> None:
    client = verified_client(world.county_caseworker)
    future = (_today() + 2 * DAY).isoformat()
    response = client.post(_url("enrol", world), _enrol_data(program, starts_on=future))
    assert response.status_code == 200
    body = response.content.decode()
    assert "This date is in the future" in body
    assert _value_of(body, "starts_on") == future
    assert _selected(body, "program") == [str(program.pk)]
    assert _selected(body, "referral_source") == ["school"]
    assert _checked(body, "has_disability") == ["no"]
    assert not Enrolment.objects.exists()


def test_another_agencys_program_is_not_offered_nor_accepted(
    world: World, program: Program
) -> None:
    # The choice is limited to the actor's agency's programs, whatever is posted.
    other = _clinic_program(world)
    client = verified_client(world.county_caseworker)
    body = _page(client, _url("enrol", world))
    assert "Bayside Therapy" not in body
    response = client.post(_url("enrol", world), _enrol_data(other))
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Enrolment.objects.exists()


def test_recording_an_exit(world: World, program: Program) -> None:
    enrolment = _enrol(world, program)
    client = verified_client(world.county_caseworker)
    exit_url = _url("exit", world, enrolment.pk)
    body = _page(client, exit_url)
    assert "Leaving Harbor Mentoring" in body
    response = client.post(exit_url, {"ends_on": _iso(1), "exit_reason": ExitReason.GOALS_MET})
    assert response.status_code == 302
    enrolment.refresh_from_db()
    assert (enrolment.ends_on, enrolment.exit_reason) == (_today() - DAY, "goals_met")
    assert AuditEvent.objects.filter(
        action="update", object_type="outcomes.enrolment", object_id=str(enrolment.pk)
    ).exists()
    # An ended enrolment has no exit page.
    _page(client, exit_url, status=404)


def test_an_exit_before_the_enrolment_is_refused_and_the_input_kept(
    world: World, program: Program
) -> None:
    enrolment = _enrol(world, program, days_ago=5)
    client = verified_client(world.county_caseworker)
    response = client.post(
        _url("exit", world, enrolment.pk), {"ends_on": _iso(9), "exit_reason": "moved"}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "The exit cannot be before the enrolment." in body
    assert _value_of(body, "ends_on") == _iso(9)
    assert _selected(body, "exit_reason") == ["moved"]
    enrolment.refresh_from_db()
    assert (enrolment.ends_on, enrolment.exit_reason) == (None, "")


# --- Services delivered --------------------------------------------------------------------


def _service_data(**overrides: str) -> dict[str, str]:
    data = {
        "service_type": "counseling",
        "delivered_on": _iso(1),
        "minutes": "50",
        "mode": "remote",
        "program": "",
    }
    data.update(overrides)
    return data


def test_recording_a_service_under_a_program(world: World, program: Program) -> None:
    _enrol(world, program)
    client = verified_client(world.county_caseworker)
    body = _page(client, _url("service_new", world))
    assert 'inputmode="numeric"' in body
    assert 'max="1440"' in body
    response = client.post(_url("service_new", world), _service_data(program=str(program.pk)))
    assert response.status_code == 302
    delivery = ServiceDelivery.objects.get()
    assert (delivery.service_type, delivery.minutes, delivery.mode, delivery.program) == (
        "counseling",
        50,
        "remote",
        program,
    )
    assert delivery.provider == world.county_caseworker
    assert AuditEvent.objects.filter(
        action="create", object_type="outcomes.servicedelivery", youth_id=world.maya.pk
    ).exists()
    body = _page(client, _youth_page(world))
    assert "Counselling / therapy" in body


def test_a_service_outside_the_enrolment_is_refused_and_the_input_kept(
    world: World, program: Program
) -> None:
    _enrol(world, program, days_ago=5)
    client = verified_client(world.county_caseworker)
    data = _service_data(delivered_on=_iso(20), program=str(program.pk), minutes="35")
    response = client.post(_url("service_new", world), data)
    assert response.status_code == 200
    body = response.content.decode()
    assert "The youth was not enrolled in this program on that date." in body
    assert _value_of(body, "delivered_on") == _iso(20)
    assert _value_of(body, "minutes") == "35"
    assert _selected(body, "service_type") == ["counseling"]
    assert _checked(body, "mode") == ["remote"]
    assert not ServiceDelivery.objects.exists()


@pytest.mark.parametrize("minutes", ["0", "1441", "an hour"])
def test_minutes_out_of_range_are_refused(world: World, minutes: str) -> None:
    client = verified_client(world.county_caseworker)
    response = client.post(_url("service_new", world), _service_data(minutes=minutes))
    assert response.status_code == 200
    assert 'class="error"' in response.content.decode()
    assert not ServiceDelivery.objects.exists()


# --- Outcomes ------------------------------------------------------------------------------


def _observation_url(world: World, code: str) -> str:
    return f"{_url('observation_new', world)}?measure={code}"


def test_the_outcome_form_starts_by_choosing_the_measure(world: World) -> None:
    body = _page(verified_client(world.county_caseworker), _url("observation_new", world))
    assert "Which outcome" in body
    assert 'value="stage_of_change"' in body
    assert 'name="value"' not in body


def test_a_stage_measure_offers_its_stages(world: World) -> None:
    body = _page(
        verified_client(world.county_caseworker), _observation_url(world, "stage_of_change")
    )
    assert re.findall(r'name="value" value="([^"]+)"', body) == [
        "precontemplation",
        "contemplation",
        "preparation",
        "action",
        "maintenance",
    ]
    assert "Pre-contemplation" in body
    assert _selected(body, "measure") == ["stage_of_change"]


def test_a_yes_no_measure_offers_yes_and_no(world: World) -> None:
    body = _page(
        verified_client(world.county_caseworker), _observation_url(world, "school_enrolled")
    )
    assert re.findall(r'name="value" value="([^"]+)"', body) == ["1", "0"]


def test_a_scale_measure_is_a_number_within_the_scale(world: World) -> None:
    body = _page(
        verified_client(world.county_caseworker), _observation_url(world, "school_attendance")
    )
    value = re.search(r'<input[^>]*name="value"[^>]*>', body)
    assert value
    assert 'type="number"' in value.group(0)
    assert 'min="0"' in value.group(0)
    assert 'max="100"' in value.group(0)


@pytest.mark.parametrize(
    ("code", "value", "stored"),
    [
        ("stage_of_change", "preparation", "3.00"),
        ("school_enrolled", "1", "1.00"),
        ("school_attendance", "92.5", "92.50"),
        ("arrests", "0", "0.00"),
    ],
)
def test_recording_an_outcome_of_each_kind(
    world: World, code: str, value: str, stored: str
) -> None:
    client = verified_client(world.county_caseworker)
    response = client.post(
        _observation_url(world, code),
        {"value": value, "observed_on": _iso(2), "note": "At the monthly review."},
    )
    assert response.status_code == 302
    observation = OutcomeObservation.objects.get()
    assert observation.measure.code == code
    assert str(observation.value) == stored
    assert (observation.observed_on, observation.note) == (
        _today() - 2 * DAY,
        "At the monthly review.",
    )
    assert AuditEvent.objects.filter(
        action="create", object_type="outcomes.outcomeobservation", youth_id=world.maya.pk
    ).exists()


def test_a_value_outside_the_scale_is_refused_and_the_input_kept(world: World) -> None:
    client = verified_client(world.county_caseworker)
    response = client.post(
        _observation_url(world, "school_attendance"),
        {"value": "150", "observed_on": _iso(1), "note": "From the school office."},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Enter a value from 0 to 100." in body
    assert _value_of(body, "value") == "150"
    assert _value_of(body, "observed_on") == _iso(1)
    assert "From the school office." in body
    assert not OutcomeObservation.objects.exists()


def test_a_count_must_be_whole(world: World) -> None:
    client = verified_client(world.county_caseworker)
    response = client.post(
        _observation_url(world, "arrests"), {"value": "1.5", "observed_on": _iso(1)}
    )
    assert response.status_code == 200
    assert "Enter a whole number, 0 or more." in response.content.decode()
    assert not OutcomeObservation.objects.exists()


def test_a_value_without_its_measure_is_refused(world: World) -> None:
    client = verified_client(world.county_caseworker)
    response = client.post(_url("observation_new", world), {"value": "1", "observed_on": _iso()})
    assert response.status_code == 400
    response = client.post(
        _observation_url(world, "no_such_measure"), {"value": "1", "observed_on": _iso()}
    )
    assert response.status_code == 400
    assert not OutcomeObservation.objects.exists()


# --- Who may open the forms ----------------------------------------------------------------


def _youth_form_urls(world: World, enrolment: Enrolment) -> list[str]:
    return [
        _url("enrol", world),
        _url("exit", world, enrolment.pk),
        _url("service_new", world),
        _observation_url(world, "arrests"),
    ]


def test_a_consented_clinician_may_read_but_not_record(world: World, program: Program) -> None:
    enrolment = _enrol(world, program)
    _consent(world, world.clinic, ["services"])
    client = verified_client(world.clinic_clinician)
    for url in _youth_form_urls(world, enrolment):
        _page(client, url, status=403)
    response = client.post(
        _observation_url(world, "arrests"), {"value": "1", "observed_on": _iso()}
    )
    assert response.status_code == 403
    assert not OutcomeObservation.objects.exists()


def test_an_unrelated_worker_gets_a_404(world: World, program: Program) -> None:
    enrolment = _enrol(world, program)
    client = verified_client(world.other_caseworker)
    for url in [*_youth_form_urls(world, enrolment), _url("timeline", world)]:
        _page(client, url, status=404)


def test_an_analyst_never_reaches_a_youth_on_any_outcomes_page(
    world: World, program: Program
) -> None:
    enrolment = _enrol(world, program)
    services.service_record(
        actor=world.county_caseworker,
        youth=world.maya,
        service_type="legal",
        delivered_on=_today(),
        minutes=30,
        mode="in_person",
        program=program,
    )
    identifiers = [
        str(world.maya.pk),
        world.maya.record_number,
        world.maya.given_name,
        world.maya.family_name,
        world.maya.preferred_name,
    ]
    client = verified_client(world.county_analyst)
    youth_urls = [*_youth_form_urls(world, enrolment), _url("timeline", world)]
    program_urls = [reverse("outcomes:programs"), reverse("outcomes:program", args=[program.pk])]
    for url in youth_urls + program_urls:
        response = client.get(url)
        body = response.content.decode()
        assert not [value for value in identifiers if value in body], url
        if url in youth_urls:
            assert response.status_code in (403, 404), url
        else:
            assert response.status_code == 200, url
    for url in youth_urls:
        assert client.post(url, {"value": "1", "observed_on": _iso()}).status_code in (403, 404)
    assert not OutcomeObservation.objects.exists()


# --- The timeline --------------------------------------------------------------------------


def _history(world: World, program: Program) -> None:
    _enrol(world, program)
    contact_attempt_log(
        actor=world.county_caseworker,
        youth=world.maya,
        channel="text",
        outcome="reached",
        note=CONTACT_NOTE,
    )
    services.observation_record(
        actor=world.county_caseworker,
        youth=world.maya,
        measure=OutcomeMeasure.objects.get(code="stage_of_change"),
        observed_on=_today() - DAY,
        value="action",
    )


def test_the_care_team_sees_the_whole_timeline(world: World, program: Program) -> None:
    _history(world, program)
    body = _page(verified_client(world.county_caseworker), _url("timeline", world))
    assert "Timeline of May Quillfeather" in body
    assert "Contact attempt: Text message" in body
    assert "Enrolled in Harbor Mentoring" in body
    assert "Outcome: Stage of change" in body
    assert "Action" in body
    assert "Not shared with your agency" not in body
    event = AuditEvent.objects.filter(object_type="outcomes.timeline").get()
    assert (event.action, event.actor, event.youth_id) == (
        "list",
        world.county_caseworker,
        world.maya.pk,
    )
    assert event.category == "screening,contact_plan,referrals,services"


def test_a_clinician_with_consent_for_services_sees_no_contact_attempts(
    world: World, program: Program
) -> None:
    _history(world, program)
    _consent(world, world.clinic, ["services"])
    client = verified_client(world.clinic_clinician)
    body = _page(client, _youth_page(world))
    assert SECTION in body
    body = _page(client, _url("timeline", world))
    assert "Enrolled in Harbor Mentoring" in body
    assert "Contact attempt" not in body
    assert "Last conversation" not in body
    assert "Not shared with your agency: Screening, Contact plan, Referrals." in body
    # Identity is not in the consent: no name, the record number only.
    assert "Quillfeather" not in body
    assert world.maya.record_number in body
    event = AuditEvent.objects.filter(object_type="outcomes.timeline").get()
    assert (event.actor, event.category) == (world.clinic_clinician, "services")


# --- Programs ------------------------------------------------------------------------------


def _nav(client: Client) -> str:
    body = _page(client, reverse("directory:search"))
    nav = re.search(r'<nav aria-label="Main">.*?</nav>', body, re.DOTALL)
    assert nav
    return nav.group(0)


@pytest.mark.parametrize(
    ("persona", "shown"),
    [
        ("county_supervisor", True),
        ("county_admin", True),
        ("county_analyst", True),
        ("county_caseworker", False),
        ("police_officer", False),
    ],
)
def test_the_programs_link_is_for_supervisors_admins_and_analysts(
    world: World, persona: str, shown: bool
) -> None:
    assert (reverse("outcomes:programs") in _nav(verified_client(getattr(world, persona)))) is shown


def test_a_supervisor_creates_a_program_and_adds_its_funding(world: World) -> None:
    client = verified_client(world.county_supervisor)
    assert "New program" in _page(client, reverse("outcomes:programs"))
    response = client.post(
        reverse("outcomes:program_new"),
        {"name": "Harbor Drop-in", "kind": "drop_in", "starts_on": "2025-01-01", "ends_on": ""},
    )
    program = Program.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("outcomes:program", args=[program.pk])
    assert (program.name, program.kind, program.agency) == (
        "Harbor Drop-in",
        "drop_in",
        world.county,
    )
    response = client.post(
        reverse("outcomes:funding_new", args=[program.pk]),
        {
            "funder": "Office for Victims of Crime",
            "kind": "federal",
            "award_number": "15POVC-25-GG-00001",
            "starts_on": "2025-01-01",
            "ends_on": "2027-12-31",
        },
    )
    assert response.status_code == 302
    funding = FundingSource.objects.get()
    assert (funding.program, funding.kind) == (program, "federal")
    body = _page(client, reverse("outcomes:program", args=[program.pk]))
    assert "Office for Victims of Crime" in body
    assert "15POVC-25-GG-00001" in body
    assert AuditEvent.objects.filter(action="create", object_type="outcomes.program").exists()
    assert AuditEvent.objects.filter(action="create", object_type="outcomes.fundingsource").exists()


def test_a_bad_program_or_funding_is_refused_and_the_input_kept(
    world: World, program: Program
) -> None:
    client = verified_client(world.county_admin)
    response = client.post(
        reverse("outcomes:program_new"),
        {
            "name": "Harbor Mentoring",
            "kind": "mentoring",
            "starts_on": "2025-06-01",
            "ends_on": "2025-01-01",
            "description": "Peer mentors",
        },
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Your agency already has a program with this name." in body
    assert "The end cannot be before the start." in body
    assert _value_of(body, "name") == "Harbor Mentoring"
    assert "Peer mentors" in body
    assert Program.objects.count() == 1
    response = client.post(
        reverse("outcomes:funding_new", args=[program.pk]),
        {"funder": "County", "kind": "county", "starts_on": "2025-06-01", "ends_on": "2025-01-01"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "The grant cannot end before it starts." in body
    assert _value_of(body, "funder") == "County"
    assert not FundingSource.objects.exists()


def test_the_program_page_shows_counts_and_never_a_youth(world: World, program: Program) -> None:
    _enrol(world, program)
    client = verified_client(world.county_analyst)
    body = _page(client, reverse("outcomes:programs"))
    assert "Harbor Mentoring" in body
    assert "New program" not in body
    body = _page(client, reverse("outcomes:program", args=[program.pk]))
    assert re.search(r"<dt>Youth enrolled now</dt><dd>1</dd>", body)
    assert re.search(r"<dt>Enrolled this year</dt><dd>1</dd>", body)
    assert "Add funding" not in body
    assert str(world.maya.pk) not in body
    assert "Quillfeather" not in body


def test_program_pages_refuse_who_may_not(world: World, program: Program) -> None:
    analyst = verified_client(world.county_analyst)
    _page(analyst, reverse("outcomes:program_new"), status=403)
    _page(analyst, reverse("outcomes:funding_new", args=[program.pk]), status=403)
    response = analyst.post(reverse("outcomes:program_new"), {"name": "X", "kind": "other"})
    assert response.status_code == 403
    caseworker = verified_client(world.county_caseworker)
    _page(caseworker, reverse("outcomes:programs"), status=403)
    _page(caseworker, reverse("outcomes:program", args=[program.pk]), status=404)
    _page(caseworker, reverse("outcomes:program_new"), status=403)
    # Another agency's supervisor: a 404, as for a program that does not exist.
    other = _clinic_program(world)
    supervisor = verified_client(world.county_supervisor)
    _page(supervisor, reverse("outcomes:program", args=[other.pk]), status=404)
    _page(supervisor, reverse("outcomes:funding_new", args=[other.pk]), status=404)
    assert Program.objects.count() == 2
    anonymous = Client()
    response = anonymous.get(reverse("outcomes:programs"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


# --- Query counts --------------------------------------------------------------------------


def _count_queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def _more_rows(world: World, program: Program, count: int) -> None:
    """``count`` more enrolments (each in its own program), services and observations."""
    supervisor = world.county_supervisor
    measures = list(OutcomeMeasure.objects.exclude(kind="stage").order_by("code"))  # "1" fits
    for index in range(count):
        extra = services.program_create(
            actor=supervisor,
            name=f"Program {Program.objects.count() + 1}",
            kind=ProgramKind.OTHER,
            starts_on=datetime.date(2024, 1, 1),
        )
        _enrol(world, extra, days_ago=index + 1)
        services.service_record(
            actor=world.county_caseworker,
            youth=world.maya,
            service_type="mentoring",
            delivered_on=_today() - index * DAY,
            minutes=20,
            mode="in_person",
            program=program,
        )
        services.observation_record(
            actor=world.county_caseworker,
            youth=world.maya,
            measure=measures[index % len(measures)],
            observed_on=_today() - index * DAY,
            value="1",
        )


@pytest.mark.parametrize(
    ("persona", "url_of"),
    [
        ("county_caseworker", lambda world: reverse("youth:detail", args=[world.maya.pk])),
        ("county_caseworker", lambda world: _url("timeline", world)),
        ("county_supervisor", lambda world: reverse("outcomes:programs")),
    ],
    ids=["youth page", "timeline", "programs"],
)
def test_list_pages_run_a_fixed_number_of_queries(
    world: World, program: Program, persona: str, url_of: Callable[[World], str]
) -> None:
    _enrol(world, program, days_ago=60)
    client = verified_client(getattr(world, persona))
    url = url_of(world)
    # More services than the youth page's section lists, so that both counts include the one
    # query that counts them all.
    _more_rows(world, program, 6)
    few = _count_queries(client, url)
    _more_rows(world, program, 12)
    assert _count_queries(client, url) == few
