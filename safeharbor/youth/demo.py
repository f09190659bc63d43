"""The synthetic demo world: a fictional county, its agencies, staff for every role, and youth.

Built through the services (so every write is validated and audited, like real use).
Deterministic for a given seed. Nothing here describes a real person or agency.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import random
from dataclasses import dataclass

from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from safeharbor.access.choices import Category
from safeharbor.accounts.choices import AgencyKind, Role
from safeharbor.accounts.models import Agency, User
from safeharbor.accounts.services import agency_create, user_create
from safeharbor.core import clock
from safeharbor.core.demo.people import PeopleGenerator
from safeharbor.directory.demo import seed_directory
from safeharbor.referrals.demo import seed_referrals_demo
from safeharbor.research.demo import seed_research_demo
from safeharbor.screening.demo import seed_screening_demo

from . import services
from .choices import GenderIdentity, NoteKind, RaceEthnicity, SignerKind, TeamRole
from .models import ConsentToShare, Youth

DEMO_PASSWORD = "SafeHarbor-demo-2026"  # noqa: S105  (documented demo login, fictional data)
COUNTY = "Harbor"

AGENCIES = [
    ("child_welfare", "Harbor County Children's Services", AgencyKind.CHILD_WELFARE, False),
    ("probation", "Harbor County Probation", AgencyKind.PROBATION, False),
    ("sheriff", "Harbor County Sheriff's Office", AgencyKind.LAW_ENFORCEMENT, False),
    ("clinic", "Bayside Youth Clinic", AgencyKind.HEALTH, False),
    ("lighthouse", "Lighthouse Advocates", AgencyKind.ADVOCACY, True),
    ("shelter", "Safe Passage Youth Shelter", AgencyKind.SHELTER, True),
    ("school", "Harbor Unified School District", AgencyKind.EDUCATION, False),
    ("court", "Harbor Juvenile Court", AgencyKind.COURT, False),
    ("university", "Coastal University Research Center", AgencyKind.RESEARCH, False),
]

# (username, agency key, role, first name, last name) — the logins the README lists.
DEMO_USERS = [
    ("caseworker", "child_welfare", Role.CASEWORKER, "Casey", "Rivera"),
    ("supervisor", "child_welfare", Role.SUPERVISOR, "Sam", "Okafor"),
    ("admin", "child_welfare", Role.AGENCY_ADMIN, "Alex", "Morgan"),
    ("caseworker2", "probation", Role.CASEWORKER, "Pat", "Lindqvist"),
    ("clinician", "clinic", Role.CLINICIAN, "Dr. Lee", "Navarro"),
    ("advocate", "lighthouse", Role.ADVOCATE, "Ana", "Whitfield"),
    ("officer", "sheriff", Role.LAW_ENFORCEMENT, "Officer Jo", "Park"),
    ("analyst", "child_welfare", Role.ANALYST, "Ari", "Singh"),
    ("researcher", "university", Role.RESEARCHER, "Robin", "Achebe"),
]
# More staff so that care teams are not all one person.
EXTRA_STAFF = (
    [(f"cw{i}", "child_welfare", Role.CASEWORKER) for i in range(1, 6)]
    + [(f"po{i}", "probation", Role.CASEWORKER) for i in range(1, 3)]
    + [
        ("clinician2", "clinic", Role.CLINICIAN),
        ("advocate2", "lighthouse", Role.ADVOCATE),
    ]
)


def demo_totp_key(seed: int, username: str) -> str:
    """A deterministic TOTP key per demo user, so `demo_totp` can print codes (hex, 20 bytes)."""
    return hmac.new(str(seed).encode(), username.encode(), hashlib.sha1).hexdigest()


@dataclass
class DemoSummary:
    agencies: int
    users: int
    youth: int
    consents: int
    notes: int


def _make_user(username: str, agency: Agency, role: str, first: str, last: str, seed: int) -> User:
    user = user_create(
        username=username,
        password=DEMO_PASSWORD,
        agency=agency,
        role=role,
        first_name=first,
        last_name=last,
        email=f"{username}@demo.invalid",
    )
    TOTPDevice.objects.create(
        user=user, name="Demo authenticator", confirmed=True, key=demo_totp_key(seed, username)
    )
    return user


@transaction.atomic
def seed_demo(*, seed: int = 7, youth_count: int = 200) -> DemoSummary:
    rng = random.Random(seed)
    today = clock.today()
    people = PeopleGenerator(seed, today)
    agencies = {
        key: agency_create(name=name, kind=kind, county=COUNTY, is_victim_service_provider=vsp)
        for key, name, kind, vsp in AGENCIES
    }
    users = {
        name: _make_user(name, agencies[agency], role, first, last, seed)
        for name, agency, role, first, last in DEMO_USERS
    }
    for username, agency_key, role in EXTRA_STAFF:
        users[username] = _make_user(
            username,
            agencies[agency_key],
            role,
            username.rstrip("0123456789").title(),
            "Demo",
            seed,
        )
    owners = (
        [("child_welfare", ["caseworker", "cw1", "cw2", "cw3", "cw4", "cw5"])] * 6
        + [("probation", ["caseworker2", "po1", "po2"])] * 3
        + [("lighthouse", ["advocate", "advocate2"])]
    )
    consents = notes = 0
    for index in range(youth_count):
        agency_key, workers = owners[index % len(owners)]
        lead = users[workers[index % len(workers)]]
        person = people.person()
        youth = services.youth_create(
            actor=lead,
            owning_agency=agencies[agency_key],
            given_name=person.given_name,
            family_name=person.family_name,
            date_of_birth=person.date_of_birth,
            phone=person.phone,
            address=person.address,
            gender_identity=rng.choice(GenderIdentity.values),
            pronouns="",
            preferred_language=rng.choice(["en", "en", "es"]),
            county=COUNTY,
            race_ethnicity=rng.sample(RaceEthnicity.values[:-1], k=rng.choice([1, 1, 2])),
        )
        if agency_key != "lighthouse" and rng.random() < 0.4:
            services.care_team_add(
                actor=lead,
                youth=youth,
                user=users["clinician"],
                team_role=TeamRole.CLINICIAN,
                starts_on=today,
            )
        consents += _demo_consents(rng, lead, youth, agencies, today)
        notes += _demo_notes(rng, lead, youth, users)
    from safeharbor.contact.demo import seed_contact_demo  # noqa: PLC0415  (demo only: contact -> youth)

    seed_contact_demo(seed=seed)
    seed_directory(seed=seed, services=300, agencies=agencies)  # the resource directory
    seed_referrals_demo(seed=seed)  # referrals to directory services (referrals app)
    seed_research_demo(lead=users["researcher"], seed=seed)  # the demo study (research app)
    seed_screening_demo(seed=seed)  # instruments, screenings, deadlines (screening app)
    return DemoSummary(
        agencies=len(agencies), users=len(users), youth=youth_count, consents=consents, notes=notes
    )


def _demo_consents(
    rng: random.Random, lead: User, youth: Youth, agencies: dict[str, Agency], today: datetime.date
) -> int:
    made = 0
    plans: list[tuple[str, list[str], str]] = [
        ("clinic", [Category.IDENTITY, Category.SCREENING], "Health follow-up"),
        ("sheriff", [Category.IDENTITY], "Locate the youth if missing"),
        (
            "probation",
            [Category.IDENTITY, Category.SCREENING, Category.REFERRALS],
            "Coordinated case planning",
        ),
    ]
    for agency_key, categories, purpose in plans:
        if agencies[agency_key].pk == youth.owning_agency_id or rng.random() > 0.35:
            continue
        state = rng.choice(["live", "live", "expired", "revoked"])
        start = today - datetime.timedelta(days=rng.randint(30, 400))
        end = (
            today - datetime.timedelta(days=rng.randint(1, 20))
            if state == "expired"
            else today + datetime.timedelta(days=rng.randint(30, 365))
        )
        consent: ConsentToShare = services.consent_grant(
            actor=lead,
            youth=youth,
            signer_kind=rng.choice(SignerKind.values),
            signer_name=f"{youth.given_name} {youth.family_name}",
            signer_is_suspected_exploiter=False,
            recipient_agency=agencies[agency_key],
            categories=categories,
            purpose=purpose,
            valid_from=start,
            expires_on=end,
        )
        if state == "revoked":
            services.consent_revoke(
                actor=lead, consent=consent, reason="The youth asked to stop sharing."
            )
        made += 1
    return made


_GENERAL_NOTES = (
    "Met at the drop-in centre. Youth engaged well and asked about school enrolment.",
    "Phone check-in. Youth said placement feels safe this week.",
    "Accompanied youth to a court date. Discussed the safety plan afterwards.",
    "Youth did not attend the planned meeting; left a message through the trusted adult.",
)
_CLINICAL_NOTES = (
    "Trauma-focused session. Youth practised grounding skills; sleep is improving.",
    "Screening for depressive symptoms repeated; scores lower than last month.",
)


def _demo_notes(rng: random.Random, lead: User, youth: Youth, users: dict[str, User]) -> int:
    count = rng.randint(0, 3)
    for _ in range(count):
        services.note_add(
            actor=lead, youth=youth, kind=NoteKind.GENERAL, body=rng.choice(_GENERAL_NOTES)
        )
    if youth.care_team.filter(user=users["clinician"]).exists():
        services.note_add(
            actor=users["clinician"],
            youth=youth,
            kind=NoteKind.CLINICAL,
            body=rng.choice(_CLINICAL_NOTES),
        )
        count += 1
    return count
