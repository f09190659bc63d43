"""Named personas that read like a story (Zulip-style), built through the services.

- ``county_caseworker`` works at Harbor County Children's Services, which owns ``maya``'s record,
  and is on Maya's care team.
- ``county_supervisor`` and ``county_admin`` work at the same agency, not on the care team.
- ``clinic_clinician`` works at Bayside Youth Clinic; ``police_officer`` at Harbor County Sheriff;
  ``vsp_advocate`` at Lighthouse Advocates (a victim-service provider);
  ``other_caseworker`` at Valley County Probation (an unrelated agency).
- ``county_analyst`` and ``university_researcher`` hold roles that see no individual record.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from safeharbor.accounts.choices import AgencyKind, Role
from safeharbor.accounts.middleware import session_mark_refreshed
from safeharbor.accounts.models import Agency, User
from safeharbor.accounts.services import agency_create, user_create
from safeharbor.youth.models import Youth
from safeharbor.youth.services import youth_create

PASSWORD = "correct horse battery staple"


@dataclass
class World:
    county: Agency
    clinic: Agency
    sheriff: Agency
    lighthouse: Agency
    valley: Agency
    county_caseworker: User
    county_supervisor: User
    county_admin: User
    clinic_clinician: User
    police_officer: User
    vsp_advocate: User
    other_caseworker: User
    county_analyst: User
    university_researcher: User
    maya: Youth


def make_world() -> World:
    county = agency_create(
        name="Harbor County Children's Services", kind=AgencyKind.CHILD_WELFARE, county="Harbor"
    )
    clinic = agency_create(name="Bayside Youth Clinic", kind=AgencyKind.HEALTH, county="Harbor")
    sheriff = agency_create(
        name="Harbor County Sheriff", kind=AgencyKind.LAW_ENFORCEMENT, county="Harbor"
    )
    lighthouse = agency_create(
        name="Lighthouse Advocates",
        kind=AgencyKind.ADVOCACY,
        county="Harbor",
        is_victim_service_provider=True,
    )
    valley = agency_create(
        name="Valley County Probation", kind=AgencyKind.PROBATION, county="Valley"
    )

    def person(username: str, agency: Agency, role: str) -> User:
        return user_create(
            username=username,
            password=PASSWORD,
            agency=agency,
            role=role,
            first_name=username.split("_")[0].title(),
            last_name="Tester",
        )

    world = World(
        county=county,
        clinic=clinic,
        sheriff=sheriff,
        lighthouse=lighthouse,
        valley=valley,
        county_caseworker=person("county_caseworker", county, Role.CASEWORKER),
        county_supervisor=person("county_supervisor", county, Role.SUPERVISOR),
        county_admin=person("county_admin", county, Role.AGENCY_ADMIN),
        clinic_clinician=person("clinic_clinician", clinic, Role.CLINICIAN),
        police_officer=person("police_officer", sheriff, Role.LAW_ENFORCEMENT),
        vsp_advocate=person("vsp_advocate", lighthouse, Role.ADVOCATE),
        other_caseworker=person("other_caseworker", valley, Role.CASEWORKER),
        county_analyst=person("county_analyst", county, Role.ANALYST),
        university_researcher=person("university_researcher", county, Role.RESEARCHER),
        maya=None,  # type: ignore[arg-type]
    )
    world.maya = youth_create(
        actor=world.county_caseworker,
        owning_agency=county,
        given_name="Maya",
        family_name="Quillfeather",
        preferred_name="May",
        date_of_birth=datetime.date(2010, 4, 2),
        phone="555-0142",
        address="12 Imaginary Lane, Harbor",
        county="Harbor",
        race_ethnicity=["hispanic"],
    )
    return world


@pytest.fixture
def world(db: None) -> World:
    return make_world()


def verified_client(user: User) -> Client:
    """A test client logged in as ``user`` whose session has passed MFA."""
    client = Client()
    client.force_login(user)
    device = TOTPDevice.objects.create(user=user, name="test device", confirmed=True)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session_mark_refreshed(session)  # as a real sign-in's response does
    session.save()
    return client
