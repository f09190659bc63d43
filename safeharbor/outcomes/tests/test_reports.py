"""Funder and county reports: each table against a small hand-built program (built through the
services, with the clock moved into the period), suppression at the deployment's threshold,
the period rules, and the pages (who may see them, what a bad parameter does, that no
identifier ever shows and that a report costs the same queries for more youth)."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from safeharbor.accounts.choices import Role
from safeharbor.accounts.models import User
from safeharbor.accounts.services import user_create
from safeharbor.audit.models import AuditEvent
from safeharbor.core.tests.personas import PASSWORD, World, verified_client
from safeharbor.directory.models import Organization, Service
from safeharbor.directory.tests.factories import load, service_object
from safeharbor.outcomes import reports, services
from safeharbor.outcomes.choices import (
    DeliveryMode,
    ExitReason,
    ProgramKind,
    ReferralSource,
    TraffickingType,
    YesNoUnknown,
)
from safeharbor.outcomes.models import OutcomeMeasure, Program
from safeharbor.outcomes.reports import Report, Table
from safeharbor.referrals import services as referral_services
from safeharbor.referrals.choices import Outcome, Status
from safeharbor.screening.tests import helpers as screening
from safeharbor.youth.models import Youth
from safeharbor.youth.services import youth_create

pytestmark = pytest.mark.django_db

START = datetime.date(2025, 1, 1)
END = datetime.date(2025, 6, 30)
BUILT_ON = datetime.date(2025, 7, 15)
URL = "/outcomes/reports/"
COUNTY_URL = "/outcomes/reports/county/"


@contextmanager
def on(day: datetime.date, hour: int = 12) -> Iterator[None]:
    """Move the clock (services date what they record by it) to ``day``, local time."""
    moment = timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))
    with mock.patch("safeharbor.core.clock.now", return_value=moment):
        yield


@dataclass
class Dataset:
    world: World
    program: Program
    youth: dict[str, Youth]
    secrets: list[str] = field(default_factory=list)

    def params(self, **overrides: Any) -> dict[str, str]:
        values = {"program": str(self.program.pk), "start": str(START), "end": str(END)}
        values.update(overrides)
        return values


def _service(name: str, code: str, agency: Any = None) -> Service:
    data = service_object(name=name, codes=(code,))
    load(data)
    if agency is not None:
        Organization.objects.filter(pk=data["organization"]["id"]).update(agency=agency)
    return Service.objects.select_related("organization").get(pk=data["id"])


def _youth(world: World, given: str, family: str, born: datetime.date, **extra: Any) -> Youth:
    return youth_create(
        actor=world.county_caseworker,
        owning_agency=world.county,
        given_name=given,
        family_name=family,
        date_of_birth=born,
        county="Harbor",
        phone="555-0199",
        address=f"{len(family)} Fictional Row, Harbor",
        **extra,
    )


def _enrol(
    world: World, program: Program, youth: Youth, starts: datetime.date, **extra: Any
) -> Any:
    with on(starts):
        return services.enrolment_start(
            actor=world.county_caseworker, youth=youth, program=program, starts_on=starts, **extra
        )


def _exit(world: World, enrolment: Any, ends: datetime.date, reason: str) -> None:
    with on(ends):
        services.enrolment_exit(
            actor=world.county_caseworker, enrolment=enrolment, ends_on=ends, exit_reason=reason
        )


def _serve(
    world: World, program: Program | None, youth: Youth, kind: str, day: datetime.date, minutes: int
) -> None:
    with on(day):
        services.service_record(
            actor=world.county_caseworker,
            youth=youth,
            service_type=kind,
            delivered_on=day,
            minutes=minutes,
            mode=DeliveryMode.IN_PERSON,
            program=program,
        )


def _moves(world: World, youth: Youth, day: datetime.date, value: str) -> None:
    measure = OutcomeMeasure.objects.get(code="placement_moves")
    with on(day):
        services.observation_record(
            actor=world.county_caseworker,
            youth=youth,
            measure=measure,
            observed_on=day,
            value=value,
        )


def _refer(world: World, youth: Youth, service: Service, day: datetime.date, **extra: Any) -> Any:
    with on(day):
        return referral_services.referral_create(
            actor=world.county_caseworker,
            youth=youth,
            service=service,
            need=extra.pop("need", "need-counseling"),
            callback="Casey Tester, Harbor County, 555-0100",
            **extra,
        )


def build(world: World, program: Program) -> Dataset:
    """Four youth served in the first half of 2025 (three new, one continuing), one served only
    before and one only after it, with services, referrals, screenings and placement moves in
    and out of the period. The expected figures are worked out by hand in the tests."""
    with on(BUILT_ON):
        maya = world.maya
        ada = _youth(
            world, "Adaeze", "Brightwater", datetime.date(2006, 3, 1), gender_identity="girl",
            race_ethnicity=["black", "white"],
        )  # fmt: skip
        ben = _youth(
            world, "Benedikt", "Oakenshield", datetime.date(2008, 8, 8), gender_identity="boy"
        )
        cal = _youth(
            world, "Calloway", "Thistledown", datetime.date(2007, 12, 31),
            gender_identity="nonbinary",
        )  # fmt: skip
        dee = _youth(world, "Delphine", "Marchbanks", datetime.date(2009, 1, 1))
        eli = _youth(world, "Elowen", "Fairweather", datetime.date(2009, 5, 5))
    youth = {"maya": maya, "ada": ada, "ben": ben, "cal": cal, "dee": dee, "eli": eli}

    cal_enrolment = _enrol(
        world, program, cal, datetime.date(2024, 6, 1),
        referral_source=ReferralSource.HOTLINE, trafficking_type=TraffickingType.SEX,
        has_disability=YesNoUnknown.NO,
    )  # fmt: skip
    eli_enrolment = _enrol(
        world, program, eli, datetime.date(2024, 1, 15), referral_source=ReferralSource.SELF
    )
    _exit(world, eli_enrolment, datetime.date(2024, 12, 20), ExitReason.DECLINED)
    ada_enrolment = _enrol(
        world, program, ada, datetime.date(2025, 1, 10),
        referral_source=ReferralSource.PROBATION, trafficking_type=TraffickingType.LABOR,
        has_disability=YesNoUnknown.YES,
    )  # fmt: skip
    _enrol(
        world, program, maya, datetime.date(2025, 3, 1),
        referral_source=ReferralSource.CHILD_WELFARE, trafficking_type=TraffickingType.SEX,
        has_disability=YesNoUnknown.NO,
    )  # fmt: skip
    _enrol(
        world, program, ben, END,
        referral_source=ReferralSource.SCHOOL, trafficking_type=TraffickingType.AT_RISK,
    )  # fmt: skip
    _enrol(world, program, dee, datetime.date(2025, 7, 2), referral_source=ReferralSource.HEALTH)

    # Services: in the period under the program (counted), before it or under no program (not).
    _serve(world, program, cal, "case_management", datetime.date(2024, 12, 1), 30)
    _serve(world, program, cal, "case_management", datetime.date(2025, 1, 20), 45)
    _serve(world, program, ada, "counseling", datetime.date(2025, 2, 1), 120)
    _serve(world, program, ada, "shelter", datetime.date(2025, 2, 2), 600)
    _serve(world, program, ada, "housing", datetime.date(2025, 3, 1), 60)
    _serve(world, program, maya, "counseling", datetime.date(2025, 3, 5), 90)
    _serve(world, program, maya, "legal", datetime.date(2025, 3, 10), 30)
    _serve(world, program, maya, "counseling", datetime.date(2025, 4, 1), 60)
    _serve(world, None, maya, "transportation", datetime.date(2025, 4, 2), 20)

    _exit(world, cal_enrolment, datetime.date(2025, 2, 10), ExitReason.COMPLETED)
    _exit(world, ada_enrolment, datetime.date(2025, 5, 31), ExitReason.LOST_CONTACT)

    # Referrals: the clinic answers on the platform; the food bank is not on it.
    clinic = _service("Bayside Youth Counseling", "need-counseling", world.clinic)
    food = _service("Harbor Food Bank", "need-food")
    done = _refer(world, maya, clinic, datetime.date(2025, 3, 15))
    with on(datetime.date(2025, 3, 16)):
        done = referral_services.referral_move(
            actor=world.clinic_clinician, referral=done, to_status=Status.ACCEPTED
        )
    with on(datetime.date(2025, 4, 20)):
        referral_services.referral_move(
            actor=world.clinic_clinician,
            referral=done,
            to_status=Status.COMPLETED,
            outcome=Outcome.GOT_HELP,
        )
    _refer(world, maya, food, datetime.date(2025, 4, 1), need="need-food")  # still open
    declined = _refer(world, ada, clinic, datetime.date(2025, 2, 15))
    with on(datetime.date(2025, 2, 16)):
        referral_services.referral_move(
            actor=world.clinic_clinician,
            referral=declined,
            to_status=Status.REJECTED,
            reason="No space this month.",
            outcome=Outcome.NO_CAPACITY,
        )
    _refer(world, ada, clinic, datetime.date(2025, 6, 10))  # after Ada left: not counted
    _refer(world, ben, clinic, END, send=False)  # a draft: not counted

    # Screenings completed in the period (six-item: validated; ten-domain: not validated).
    six, ten = screening.load(screening.SIX), screening.load(screening.TEN)
    with on(datetime.date(2024, 12, 1)):
        screening.completed(world, six, screening.six_answers(1), youth=cal)
    with on(datetime.date(2025, 2, 1)):
        screening.completed(world, ten, screening.ten_answers(), youth=ada, mode="record_review")
    with on(datetime.date(2025, 2, 3)):
        screening.completed(world, six, screening.six_answers(0), youth=ada)
    with on(datetime.date(2025, 3, 2)):
        screening.completed(world, six, screening.six_answers(2), youth=maya)

    # Placement moves: Maya 1 + 1, Ada 0, Cal 4 (and 3 before the period), Ben none.
    _moves(world, maya, datetime.date(2025, 4, 30), "1")
    _moves(world, maya, datetime.date(2025, 5, 31), "1")
    _moves(world, ada, datetime.date(2025, 3, 31), "0")
    _moves(world, cal, datetime.date(2024, 11, 30), "3")
    _moves(world, cal, datetime.date(2025, 1, 31), "4")

    secrets = []
    for person in youth.values():
        born = person.date_of_birth
        secrets += [
            person.given_name,
            person.family_name,
            person.record_number,
            str(person.pk),
            person.pk.hex,
            born.isoformat(),
            born.strftime("%m/%d/%Y"),
            person.phone,
            person.address,
        ]
    return Dataset(world=world, program=program, youth=youth, secrets=secrets)


@pytest.fixture
def data(world: World, program: Program) -> Dataset:
    return build(world, program)


@pytest.fixture
def exact(settings: Any) -> None:
    """No suppression (nothing is below 1): the tables' true counts."""
    settings.SAFEHARBOR_SMALL_CELL = 1


def values(table: Table) -> dict[str, tuple[Any, ...]]:
    return {line.label: line.values for line in table.lines}


def nonzero(table: Table) -> dict[str, tuple[Any, ...]]:
    return {label: v for label, v in values(table).items() if any(x != 0 for x in v)}


def report(data: Dataset) -> Report:
    return reports.funder_report(data.program, START, END)


# --- The tables ------------------------------------------------------------------------------


@pytest.mark.usefixtures("exact")
def test_youth_served_new_and_continuing_by_age_at_the_start(data: Dataset) -> None:
    served = report(data).table("served")
    assert served.columns == ("New in the period", "Continuing", "All youth served")
    assert nonzero(served) == {
        "Minor, 12–14": (1, 0, 1),  # Maya, 14 on 1 January
        "Minor, 15–17": (1, 1, 2),  # Ben (new), Cal (continuing, 17 on 1 January)
        "Young adult, 18–20": (1, 0, 1),  # Adaeze
    }
    assert served.total.values == (3, 1, 4)  # Dee enrolled after, Elowen left before
    assert served.population


@pytest.mark.usefixtures("exact")
def test_gender_race_type_disability_and_referral_source(data: Dataset) -> None:
    result = report(data)
    assert nonzero(result.table("gender")) == {
        "Girl / young woman": (1,),
        "Boy / young man": (1,),
        "Non-binary": (1,),
        "Not recorded": (1,),
    }
    race = result.table("race")
    assert nonzero(race) == {
        "Black or African American": (1,),
        "Hispanic or Latino": (1,),
        "White": (1,),
        "Not recorded": (2,),
    }
    assert race.total.values == (5,)  # answers: Adaeze counted twice
    assert not race.population
    assert nonzero(result.table("trafficking")) == {
        "Sex trafficking / sexual exploitation": (2,),
        "Labor trafficking": (1,),
        "At risk (not identified)": (1,),
    }
    assert values(result.table("disability")) == {"Yes": (1,), "No": (2,), "Not known": (1,)}
    assert nonzero(result.table("referral_sources")) == {
        "Child welfare": (1,),
        "Probation": (1,),
        "School": (1,),
        "Hotline": (1,),
    }


@pytest.mark.usefixtures("exact")
def test_services_by_funder_category_with_count_and_hours(data: Dataset) -> None:
    table = report(data).table("services")
    assert table.columns == ("Youth", "Services", "Hours")
    assert nonzero(table) == {
        "Case management": (1, 1, Decimal("0.8")),  # 45 minutes; December's is before
        "Mental health treatment": (2, 3, Decimal("4.5")),
        "Housing/shelter": (1, 2, Decimal("11.0")),  # shelter and housing share the area
        "Legal services": (1, 1, Decimal("0.5")),
    }  # the ride under no program is not the program's
    assert table.total.values == (5, 7, Decimal("16.8"))


@pytest.mark.usefixtures("exact")
def test_referrals_made_completed_and_partners(data: Dataset) -> None:
    result = report(data)
    referrals = result.table("referrals")
    assert [line.values for line in referrals.lines] == [(1,), (1,), (1,)]
    assert referrals.lines[0].label.startswith("Completed")
    assert referrals.total.values == (3,)  # not the draft, not the one after Adaeze left
    assert nonzero(result.table("partners")) == {
        "Health / clinic": (1,),
        "Not on Safe Harbor": (1,),
    }


@pytest.mark.usefixtures("exact")
def test_exits_screening_and_placement_moves(data: Dataset) -> None:
    result = report(data)
    assert nonzero(result.table("exits")) == {
        "Completed the program": (1,),
        "Lost contact": (1,),
    }  # Elowen's exit was before the period
    assert values(result.table("screened")) == {
        "Screened": (2,),
        "Not screened in the period": (2,),
    }
    instruments = result.table("instruments")
    assert instruments.columns == ("Validated instrument", "Not validated", "Youth")
    assert values(instruments) == {
        "Six-item example screen": (2, 0, 2),
        "Ten-domain example rating": (0, 1, 1),
    }
    placements = result.table("placements")
    assert values(placements) == {
        "Not recorded": (1, 0),
        "No move": (1, 0),
        "1 move": (0, 0),
        "2 or 3 moves": (1, 2),
        "4 or more moves": (1, 4),
    }
    assert placements.total.values == (4, 6)


def test_the_report_describes_itself_and_names_no_youth(data: Dataset, settings: Any) -> None:
    settings.SAFEHARBOR_SMALL_CELL = 1
    with on(BUILT_ON):
        services.funding_add(
            actor=data.world.county_supervisor,
            program=data.program,
            funder="Office for Victims of Crime",
            kind="federal",
            award_number="15POVC-25-GG-00001",
            starts_on=datetime.date(2024, 10, 1),
            ends_on=datetime.date(2027, 9, 30),
        )
    result = report(data)
    assert result.title == "Funder report: Harbor Mentoring"
    assert result.agency == "Harbor County Children's Services"
    assert result.funding == ("Office for Victims of Crime 15POVC-25-GG-00001",)
    assert result.threshold == 1
    text = repr(result)
    for secret in data.secrets:
        assert secret not in text


# --- Suppression ------------------------------------------------------------------------------


def test_at_the_default_threshold_every_small_count_is_suppressed(data: Dataset) -> None:
    result = report(data)
    assert result.threshold == 11
    for table in result.tables:
        for line in (*table.lines, table.total):
            assert all(value in (None, 0) for value in line.values), (table.key, line)
    served = result.table("served")
    assert served.grand_total is None  # four youth: fewer than 11
    assert values(result.table("gender"))["Transgender girl / young woman"] == (0,)  # zeros show


def test_a_low_threshold_shows_larger_counts_and_hides_their_complements(
    data: Dataset, settings: Any
) -> None:
    settings.SAFEHARBOR_SMALL_CELL = 2
    table = report(data).table("services")
    assert table.threshold == 2
    assert values(table)["Mental health treatment"] == (2, 3, Decimal("4.5"))
    hidden = {label for label, v in values(table).items() if v[0] is None}
    assert hidden == {"Case management", "Housing/shelter", "Legal services"}
    for label in hidden:  # the amounts beside a hidden count are hidden with it
        assert values(table)[label] == (None, None, None)
    assert table.total.values == (5, 7, Decimal("16.8"))  # three hidden: none recoverable


def test_one_small_count_takes_a_complement_with_it(data: Dataset, settings: Any) -> None:
    settings.SAFEHARBOR_SMALL_CELL = 2
    table = report(data).table("screened")  # 2 and 2: nothing small
    assert values(table) == {"Screened": (2,), "Not screened in the period": (2,)}
    exits = report(data).table("exits")  # 1 and 1 of 2: both hidden, the total shown
    assert nonzero(exits) == {"Completed the program": (None,), "Lost contact": (None,)}
    assert exits.total.values == (2,)


def test_a_population_table_never_rests_on_hiding_the_number_served() -> None:
    def table(total: int | None) -> Table:
        return Table(
            key="t",
            title="T",
            columns=("Youth",),
            lines=(reports.Line("a", (None,)), reports.Line("b", (20,))),
            total=reports.Line("Total", (total,)),
            threshold=11,
            population=True,
        )

    guarded = reports._guard_population([table(None), table(25)], served=25, small=11)
    assert [line.values for line in guarded[0].lines] == [(None,), (None,)]
    assert guarded[1] == table(25)
    assert reports._guard_population([table(None)], served=5, small=11) == [table(None)]


# --- Parameters -------------------------------------------------------------------------------


def test_parameters_are_checked_with_a_message_that_says_what_to_do(data: Dataset) -> None:
    with pytest.raises(ValidationError) as caught:
        reports.funder_report(data.program, END, START)
    assert "ends before it starts" in caught.value.message_dict["end"][0]
    with pytest.raises(ValidationError) as caught:
        reports.funder_report(data.program, datetime.date(2020, 1, 1), datetime.date(2025, 1, 1))
    assert "at most 5 years" in caught.value.message_dict["end"][0]
    reports.funder_report(data.program, datetime.date(2020, 1, 1), datetime.date(2024, 12, 31))
    for unknown in (999_999, "nonsense"):
        with pytest.raises(ValidationError) as caught:
            reports.funder_report(unknown, START, END)
        assert "no such program" in caught.value.message_dict["program"][0]
    assert reports.funder_report(str(data.program.pk), START, END).program_id == data.program.pk
    with pytest.raises(ValidationError) as caught:
        reports.county_report("Atlantis", START, END)
    assert "county" in caught.value.message_dict


# --- The county -------------------------------------------------------------------------------


def _person(username: str, agency: Any, role: str) -> User:
    return user_create(username=username, password=PASSWORD, agency=agency, role=role)


@pytest.mark.usefixtures("exact")
def test_the_county_counts_every_agency_there_and_groups_victim_service_providers(
    data: Dataset,
) -> None:
    world = data.world
    with on(BUILT_ON):
        lighthouse_program = services.program_create(
            actor=_person("lighthouse_supervisor", world.lighthouse, Role.SUPERVISOR),
            name="Lighthouse Drop-in",
            kind=ProgramKind.DROP_IN,
            starts_on=datetime.date(2024, 1, 1),
        )
        valley_program = services.program_create(
            actor=_person("valley_supervisor", world.valley, Role.SUPERVISOR),
            name="Valley Diversion",
            kind=ProgramKind.CASE_MANAGEMENT,
            starts_on=datetime.date(2024, 1, 1),
        )
        survivor = youth_create(
            actor=world.vsp_advocate,
            owning_agency=world.lighthouse,
            given_name="Wren",
            family_name="Saltmarsh",
            date_of_birth=datetime.date(2005, 2, 2),
            county="Harbor",
        )
        elsewhere = youth_create(
            actor=world.other_caseworker,
            owning_agency=world.valley,
            given_name="Juniper",
            family_name="Ashgrove",
            date_of_birth=datetime.date(2010, 2, 2),
            county="Valley",
        )
    with on(datetime.date(2025, 2, 1)):
        services.enrolment_start(
            actor=world.vsp_advocate,
            youth=survivor,
            program=lighthouse_program,
            starts_on=datetime.date(2025, 2, 1),
            referral_source=ReferralSource.HOTLINE,
        )
        services.service_record(
            actor=world.vsp_advocate,
            youth=survivor,
            service_type="crisis",
            delivered_on=datetime.date(2025, 2, 1),
            minutes=30,
            mode=DeliveryMode.REMOTE,
            program=lighthouse_program,
        )
        services.enrolment_start(
            actor=world.other_caseworker,
            youth=elsewhere,
            program=valley_program,
            starts_on=datetime.date(2025, 2, 1),
            referral_source=ReferralSource.PROBATION,
        )
    county = reports.county_report(" harbor ", START, END)
    assert county.kind == "county"
    assert county.title == "County report: harbor"
    assert county.table("served").total.values == (4, 1, 5)  # Valley's youth is not Harbor's
    assert nonzero(county.table("served_by_kind")) == {
        "Child welfare": (4,),
        "Victim-service providers (any kind)": (1,),  # not under "Community advocacy"
    }
    assert nonzero(county.table("services_by_kind")) == {
        "Child welfare": (3, 7, Decimal("16.8")),
        "Victim-service providers (any kind)": (1, 1, Decimal("0.5")),
    }
    assert county.table("services").total.values == (6, 8, Decimal("17.3"))
    assert reports.county_report("Valley", START, END).table("served").total.values == (1, 0, 1)
    program_only = reports.funder_report(data.program, START, END)
    assert program_only.table("served").total.values == (3, 1, 4)
    text = repr(county)
    for secret in [*data.secrets, "Saltmarsh", "Wren", survivor.record_number, "Lighthouse"]:
        assert secret not in text


# --- The pages --------------------------------------------------------------------------------


def _get(client: Client, url: str, params: dict[str, str] | None = None) -> Any:
    return client.get(url, params or {})


def test_an_analyst_sees_the_figures_and_no_identifier(data: Dataset, settings: Any) -> None:
    settings.SAFEHARBOR_SMALL_CELL = 2
    client = verified_client(data.world.county_analyst)
    response = _get(client, URL, data.params())
    assert response.status_code == 200
    page = response.content.decode()
    assert "Funder report: Harbor Mentoring" in page
    assert page.count("<svg") == sum(1 for t in report(data).tables if t.lines)
    assert 'role="img"' in page
    assert "<desc" in page
    assert "suppressed" in page
    assert not re.search(r"\sstyle=", page.split("<main", 1)[1])  # no inline style (CSP)
    for fmt in ("csv", "xlsx", "pdf"):
        assert f"/outcomes/reports/export.{fmt}?program={data.program.pk}" in page
    for secret in data.secrets:
        assert secret not in page, secret
    event = AuditEvent.objects.filter(action="view", object_type="outcomes.program").get()
    assert event.object_id == str(data.program.pk)
    assert event.youth_id is None
    assert event.actor == data.world.county_analyst


def test_the_form_alone_before_a_choice(data: Dataset) -> None:
    response = _get(verified_client(data.world.county_supervisor), URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Harbor Mentoring" in page  # a choice in the form
    assert "<svg" not in page
    assert not AuditEvent.objects.filter(object_type="outcomes.program", action="view").exists()


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("county_caseworker", 403),
        ("county_analyst", 200),
        ("county_supervisor", 200),
        ("county_admin", 200),
        ("university_researcher", 403),
        ("clinic_clinician", 403),
        ("police_officer", 403),
    ],
)
def test_who_may_see_a_programs_report(data: Dataset, who: str, status: int) -> None:
    client = verified_client(getattr(data.world, who))
    assert _get(client, URL, data.params()).status_code == status
    assert _get(client, URL + "export.csv", data.params()).status_code == status


def test_anonymous_is_sent_to_log_in(data: Dataset) -> None:
    response = Client().get(URL, data.params())
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_another_agencys_program_is_an_unknown_program(data: Dataset) -> None:
    outsider = _person("valley_analyst", data.world.valley, Role.ANALYST)
    response = _get(verified_client(outsider), URL, data.params())
    assert response.status_code == 400
    assert "There is no such program" in response.content.decode()
    assert "Harbor Mentoring" not in response.content.decode()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"start": "2025-06-30", "end": "2025-01-01"}, "ends before it starts"),
        ({"start": "2019-01-01", "end": "2025-06-30"}, "at most 5 years"),
        ({"end": "2025-13-45"}, "Enter a date as year-month-day"),
        ({"program": "999999"}, "There is no such program"),
        ({"program": ""}, "Choose a program."),
    ],
)
def test_bad_parameters_keep_the_input_and_say_why(
    data: Dataset, overrides: dict[str, str], message: str
) -> None:
    client = verified_client(data.world.county_analyst)
    params = data.params(**overrides)
    response = _get(client, URL, params)
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    assert "<svg" not in page
    for name in ("start", "end"):
        assert f'value="{params[name]}"' in page
    assert _get(client, URL + "export.pdf", params).status_code == 400
    assert (
        not AuditEvent.objects.filter(action__in=["view", "export"])
        .filter(object_type="outcomes.program")
        .exists()
    )


def test_a_download_without_parameters_or_of_an_unknown_format(data: Dataset) -> None:
    client = verified_client(data.world.county_analyst)
    assert _get(client, URL + "export.csv").status_code == 400
    assert _get(client, URL + "export.docx", data.params()).status_code == 404


def test_a_download_is_the_finished_file_and_audited(data: Dataset) -> None:
    client = verified_client(data.world.county_analyst)
    response = _get(client, URL + "export.csv", data.params())
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="funder-report-harbor-mentoring-20250101-20250630.csv"'
    )
    body = b"".join(response.streaming_content)
    assert int(response["Content-Length"]) == len(body)
    assert body.decode("utf-8-sig").startswith("Report,Funder report: Harbor Mentoring")
    event = AuditEvent.objects.get(action="export")
    assert (event.object_type, event.object_id, event.youth_id) == (
        "outcomes.program",
        str(data.program.pk),
        None,
    )


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("county_analyst", 200),
        ("county_supervisor", 200),
        ("county_admin", 403),
        ("county_caseworker", 403),
        ("vsp_advocate", 403),
        ("university_researcher", 403),
    ],
)
def test_who_may_see_the_county(data: Dataset, who: str, status: int) -> None:
    client = verified_client(getattr(data.world, who))
    params = {"start": str(START), "end": str(END)}
    assert _get(client, COUNTY_URL, params).status_code == status
    assert _get(client, COUNTY_URL + "export.xlsx", params).status_code == status


def test_the_county_page_is_the_users_county_and_audited(data: Dataset, settings: Any) -> None:
    settings.SAFEHARBOR_SMALL_CELL = 3
    client = verified_client(data.world.county_analyst)
    response = _get(client, COUNTY_URL, {"start": str(START), "end": str(END)})
    assert response.status_code == 200
    page = response.content.decode()
    assert "County report: Harbor" in page
    assert "Victim-service providers (any kind)" in page
    assert "/outcomes/reports/county/export.pdf?start=2025-01-01" in page
    for secret in data.secrets:
        assert secret not in page
    event = AuditEvent.objects.get(action="view", object_type="outcomes.county")
    assert (event.object_id, event.youth_id) == ("Harbor", None)
    bad = _get(client, COUNTY_URL, {"start": "2025-06-30", "end": "2025-01-01"})
    assert bad.status_code == 400
    assert "ends before it starts" in bad.content.decode()


def _more_youth(data: Dataset, count: int) -> None:
    world = data.world
    for index in range(count):
        with on(BUILT_ON):
            person = _youth(world, f"Extra{index}", f"Person{index}", datetime.date(2008, 1, 1))
        _enrol(world, data.program, person, datetime.date(2025, 2, 1), referral_source="school")
        _serve(world, data.program, person, "mentoring", datetime.date(2025, 2, 2), 30)
        _moves(world, person, datetime.date(2025, 2, 3), "1")


def _queries(data: Dataset) -> int:
    with CaptureQueriesContext(connection) as captured:
        reports.funder_report(data.program.pk, START, END)
    return len(captured.captured_queries)


def test_a_report_costs_the_same_queries_for_more_youth(data: Dataset) -> None:
    before = _queries(data)
    _more_youth(data, 5)
    assert _queries(data) == before
    assert before <= 12


def test_no_identifier_pattern_shows_on_the_page(data: Dataset, settings: Any) -> None:
    """Beyond the known secrets: nothing shaped like a record id or a date of birth."""
    settings.SAFEHARBOR_SMALL_CELL = 1
    page = _get(verified_client(data.world.county_analyst), URL, data.params()).content.decode()
    uuids = re.findall(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", page)
    assert uuids == []
    dates = set(re.findall(r"\b(?:19|20)\d\d-\d\d-\d\d\b", page))
    assert dates <= {"2025-01-01", "2025-06-30"}
