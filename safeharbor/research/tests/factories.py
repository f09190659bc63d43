"""Build research data through the services, like real use."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

import pytest

from safeharbor.accounts.choices import Role
from safeharbor.accounts.models import User
from safeharbor.accounts.services import user_create
from safeharbor.core.tests.personas import PASSWORD, World
from safeharbor.research import services
from safeharbor.research.choices import DocumentKind, TeamRole
from safeharbor.research.models import Code, Participant, Study, Transcript

DAY = datetime.date(2026, 3, 2)

TRANSCRIPT = (
    "Interviewer: How do you identify youth at risk?\n"
    "Participant: We use a screening tool at intake, and sometimes the school calls us.\n"
    "Interviewer: What gets in the way?\n"
    "Participant: Confidentiality rules stop us sharing, and funding ran out last year.\n"
    "Participant: We lose contact when they move placements. 🙂 It is hard."
)


@dataclass
class ResearchWorld:
    world: World
    study: Study
    lead: User
    coder: User
    viewer: User
    outsider: User
    participants: list[Participant] = field(default_factory=list)
    transcripts: list[Transcript] = field(default_factory=list)
    codes: dict[str, Code] = field(default_factory=dict)


def make_researcher(world: World, username: str) -> User:
    return user_create(
        username=username,
        password=PASSWORD,
        agency=world.county,
        role=Role.RESEARCHER,
        first_name=username.title(),
        last_name="Tester",
    )


def make_study(lead: User, **overrides: object) -> Study:
    fields: dict[str, object] = {
        "title": "Professionals and exploited youth",
        "research_questions": "How do professionals identify youth?\nWhat gets in the way?",
        "sampling_method": "purposive",
        "target_sample_size": 10,
        "consent_form_text": "You may stop at any time.",
        "debrief_statement_text": "Thank you. Here are support services.",
        "ethics_board": "Coastal University IRB",
        "ethics_number": "IRB-2026-001",
        "interview_guide": ["How do you identify youth?", "What gets in the way?"],
    }
    fields.update(overrides)
    return services.study_create(actor=lead, **fields)  # type: ignore[arg-type]


def enrol(
    study: Study,
    lead: User,
    code: str,
    role: str = "social_worker",
    interviewed_on: datetime.date = DAY,
    debrief: bool = True,
) -> Participant:
    """A participant through invitation, consent, interview (and debrief)."""
    participant = services.participant_add(
        actor=lead,
        study=study,
        code=code,
        professional_role=role,
        agency_type="child_welfare",
        years_experience=5,
        recruitment_source="Agency list",
    )
    form = study.documents.get(kind=DocumentKind.CONSENT_FORM, version=1)
    services.consent_record(
        actor=lead,
        participant=participant,
        form=form,
        consented_on=interviewed_on,
        method="written",
        permission_to_record=True,
    )
    services.interview_record(
        actor=lead,
        participant=participant,
        interviewed_on=interviewed_on,
        mode="video",
        duration_minutes=45,
        interviewer=lead,
    )
    if debrief:
        services.debrief_record(
            actor=lead,
            participant=participant,
            statement=study.documents.get(kind=DocumentKind.DEBRIEF_STATEMENT, version=1),
            debriefed_on=interviewed_on,
            resources_offered="Local counselling line",
        )
    participant.refresh_from_db()
    return participant


def make_research_world(world: World) -> ResearchWorld:
    lead = world.university_researcher
    study = make_study(lead)
    coder = make_researcher(world, "coder")
    viewer = make_researcher(world, "viewer")
    outsider = make_researcher(world, "outsider")
    services.member_add(actor=lead, study=study, user=coder, role=TeamRole.CODER)
    services.member_add(actor=lead, study=study, user=viewer, role=TeamRole.VIEWER)
    rw = ResearchWorld(world, study, lead, coder, viewer, outsider)
    theme = services.code_create(actor=lead, study=study, name="Barriers", level="theme")
    rw.codes["Barriers"] = theme
    rw.codes["Confidentiality"] = services.code_create(
        actor=lead, study=study, name="Confidentiality", level="code", parent=theme
    )
    rw.codes["Funding"] = services.code_create(
        actor=lead, study=study, name="Funding", level="code", parent=theme
    )
    rw.codes["Tools"] = services.code_create(
        actor=lead, study=study, name="Identification tools", level="theme"
    )
    for index, role in enumerate(["social_worker", "licensed_clinician", "law_enforcement"]):
        rw.participants.append(
            enrol(study, lead, f"P0{index + 1}", role, DAY + datetime.timedelta(days=index))
        )
    rw.transcripts = services.transcripts_import(
        actor=lead,
        study=study,
        uploads=[
            services.Upload(filename=f"{p.code}.txt", content=TRANSCRIPT.encode())
            for p in rw.participants
        ],
    )
    return rw


@pytest.fixture
def rworld(world: World) -> ResearchWorld:
    return make_research_world(world)
