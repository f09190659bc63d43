"""The demo study: ten fictional professionals, consent and debrief records, synthetic interview
transcripts written here, a colour codebook, and coding that makes the analysis tell a story.

Built through the services (validated and audited like real use); deterministic for a seed.
Nothing here describes a real person, agency or interview.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import random
from dataclasses import dataclass

from django_otp.plugins.otp_totp.models import TOTPDevice

from safeharbor.accounts.choices import Role
from safeharbor.accounts.models import User
from safeharbor.accounts.services import user_create
from safeharbor.core import clock

from . import services
from .choices import DocumentKind, TeamRole
from .models import Code, Study

DEMO_PASSWORD = "SafeHarbor-demo-2026"  # noqa: S105  (documented demo login, fictional data)

# (code, professional role, agency type, years, interview mode, story weights per theme)
PARTICIPANTS = [
    ("P01", "social_worker", "child_welfare", 12, "video"),
    ("P02", "licensed_clinician", "health", 8, "video"),
    ("P03", "law_enforcement", "law_enforcement", 15, "phone"),
    ("P04", "community_advocate", "advocacy", 6, "video"),
    ("P05", "social_worker", "child_welfare", 4, "phone"),
    ("P06", "licensed_clinician", "health", 19, "video"),
    ("P07", "community_advocate", "shelter", 9, "video"),
    ("P08", "law_enforcement", "law_enforcement", 7, "phone"),
    ("P09", "social_worker", "probation", 22, "video"),
    ("P10", "community_advocate", "advocacy", 3, "phone"),
]

# theme -> (colour, description, [category or None, code, [snippets]])
CODEBOOK: list[tuple[str, str, str, list[tuple[str | None, str, list[str]]]]] = [
    (
        "Identification tools",
        "#0072B2",
        "How professionals recognise that a young person is being exploited.",
        [
            (
                None,
                "Screening instruments",
                [
                    "We started using a short screening tool at intake, and it catches things I used to miss.",
                    "The screening questions give me words to ask about exploitation without leading the youth.",
                ],
            ),
            (
                None,
                "Warning signs",
                [
                    "Older boyfriends, new phones and hotel key cards are the signs I watch for.",
                    "When a youth suddenly has money and stops going to school, I start asking questions.",
                ],
            ),
            (
                None,
                "School referrals",
                [
                    "Most of my referrals come from school counsellors who noticed something was off.",
                ],
            ),
        ],
    ),
    (
        "Known resources",
        "#009E73",
        "Services the professional knows and uses.",
        [
            (
                None,
                "Specialised advocates",
                [
                    "The specialised advocates at the drop-in centre are the first people I call.",
                    "Having an advocate who has lived through it changes how the youth talks to us.",
                ],
            ),
            (
                None,
                "Shelter beds",
                [
                    "There are two shelter beds in the county for this population, and they are always full.",
                ],
            ),
            (
                None,
                "Hotlines",
                [
                    "I give every youth the hotline number, but I am not sure they ever use it.",
                ],
            ),
        ],
    ),
    (
        "Confidentiality barriers",
        "#D55E00",
        "Rules and practices that stop information from moving.",
        [
            (
                "Rules",
                "Consent rules",
                [
                    "Without a signed release I cannot even confirm the youth is on my caseload.",
                    "The consent forms expire, and by the time we renew them the youth is gone.",
                ],
            ),
            (
                "Rules",
                "Privacy law",
                [
                    "Between health privacy law and school records law, nobody is sure what they may share.",
                ],
            ),
            (
                "Practice",
                "Agencies do not share",
                [
                    "Law enforcement and the clinic hold pieces of the same story and never put them together.",
                    "We find out weeks later that another agency already knew about the trafficker.",
                ],
            ),
        ],
    ),
    (
        "Losing contact",
        "#CC79A7",
        "How and why professionals lose track of a youth.",
        [
            (
                None,
                "Placement moves",
                [
                    "Every placement move means a new worker, and the youth has to start trusting all over again.",
                ],
            ),
            (
                None,
                "Running away",
                [
                    "When they run, the exploiter is often the one who gives them a place to stay.",
                    "After a runaway episode we may not hear anything for weeks.",
                ],
            ),
            (
                None,
                "Phone changes",
                [
                    "Their phone numbers change every month, so the contact sheet is always out of date.",
                ],
            ),
        ],
    ),
    (
        "Gauging effectiveness",
        "#E69F00",
        "How professionals know whether what they do works.",
        [
            (
                None,
                "No outcome data",
                [
                    "Honestly, we have no data on what happens to these youth after the case closes.",
                    "Nobody tracks outcomes, so I judge by whether they call me back.",
                ],
            ),
            (
                None,
                "Stories of success",
                [
                    "One young woman I worked with is now in college, and that keeps me going.",
                ],
            ),
        ],
    ),
    (
        "Funding",
        "#56B4E9",
        "Money, staffing and how long programmes last.",
        [
            (
                None,
                "Grant cuts",
                [
                    "Our grant ended last year and the specialised unit was folded back into general cases.",
                ],
            ),
            (
                None,
                "Staff turnover",
                [
                    "We lose staff every year because the work is heavy and the pay is low.",
                ],
            ),
        ],
    ),
]

THEME_OF = {name: theme for theme, _c, _d, children in CODEBOOK for _cat, name, _s in children}

# Some passages speak to two codes at once (co-occurrence tells that these go together).
ALSO = {
    "Agencies do not share": "Privacy law",
    "Consent rules": "No outcome data",
    "Running away": "Phone changes",
    "Grant cuts": "Staff turnover",
    "Screening instruments": "Specialised advocates",
}

# How likely each role is to speak to each theme (the story the analysis tells).
WEIGHTS = {
    "social_worker": [0.9, 0.7, 0.8, 0.95, 0.8, 0.5],
    "licensed_clinician": [0.95, 0.6, 0.9, 0.6, 0.7, 0.4],
    "law_enforcement": [0.6, 0.4, 0.95, 0.9, 0.5, 0.3],
    "community_advocate": [0.5, 0.95, 0.6, 0.9, 0.7, 0.95],
}

FILLER = [
    "That is a good question.",
    "It depends on the case, really.",
    "I have been thinking about this a lot lately.",
    "Let me give you an example from last spring.",
]

GUIDE = [
    "How do you recognise that a young person may be exploited?",
    "Which services do you turn to, and how well do you know them?",
    "What gets in the way of sharing information with other agencies?",
    "How do you keep in touch with a young person over time?",
    "How do you know whether what you do is working?",
    "What would you need to do this work better?",
]


@dataclass
class ResearchDemoSummary:
    participants: int
    transcripts: int
    segments: int


def _coder(lead: User, seed: int) -> User:
    membership = lead.agency_membership
    assert membership is not None  # noqa: S101  (the demo researcher has an agency)
    user = User.objects.filter(username="researcher2").first() or user_create(
        username="researcher2",
        password=DEMO_PASSWORD,
        agency=membership.agency,
        role=Role.RESEARCHER,
        first_name="Jamie",
        last_name="Osei",
        email="researcher2@demo.invalid",
    )
    key = hmac.new(str(seed).encode(), user.username.encode(), hashlib.sha1).hexdigest()
    TOTPDevice.objects.get_or_create(
        user=user, name="Demo authenticator", defaults={"confirmed": True, "key": key}
    )
    return user


def _codebook(lead: User, study: Study) -> dict[str, Code]:
    codes: dict[str, Code] = {}
    for theme_name, colour, description, children in CODEBOOK:
        theme = services.code_create(
            actor=lead,
            study=study,
            name=theme_name,
            level="theme",
            color=colour,
            description=description,
        )
        codes[theme_name] = theme
        categories: dict[str, Code] = {}
        for category, name, snippets in children:
            parent = theme
            if category:
                if category not in categories:
                    categories[category] = services.code_create(
                        actor=lead,
                        study=study,
                        name=category,
                        level="category",
                        parent=theme,
                        color=colour,
                    )
                parent = categories[category]
            codes[name] = services.code_create(
                actor=lead,
                study=study,
                name=name,
                level="code",
                parent=parent,
                color=colour,
                description=f"{description} ({name.lower()}).",
                example=snippets[0],
            )
    return codes


def _transcript(
    rng: random.Random, code: str, role: str, index: int
) -> tuple[str, list[tuple[str, str]]]:
    """Interviewer questions from the guide; answers mixing filler and coded snippets.
    Later interviews mostly repeat what earlier ones said (so saturation can be reached)."""
    lines: list[str] = []
    planned: list[tuple[str, str]] = []  # (snippet, code name)
    weights = WEIGHTS[role]
    for theme_index, (question, (_theme, _c, _d, children)) in enumerate(
        zip(GUIDE, CODEBOOK, strict=False)
    ):
        lines.append(f"Interviewer: {question}")
        answer = [rng.choice(FILLER)]
        if rng.random() < weights[theme_index]:
            # early interviews open new codes; later ones keep to the most common
            pool = children if index < 5 else children[:2]
            for _category, name, snippets in rng.sample(
                pool, k=min(len(pool), rng.choice([1, 1, 2]))
            ):
                snippet = rng.choice(snippets)
                if all(s != snippet for s, _n in planned):
                    answer.append(snippet)
                    planned.append((snippet, name))
        lines.append(f"{code}: " + " ".join(answer))
    lines.append("Interviewer: What would you need to do this work better?")
    lines.append(f"{code}: Time, and people who stay long enough to know the youth.")
    return "\n".join(lines), planned


def seed_research_demo(*, lead: User, seed: int = 7) -> ResearchDemoSummary:
    """The demo study, led by ``lead`` (a researcher), with a second coder."""
    rng = random.Random(seed + 101)
    today = clock.today()
    coder = _coder(lead, seed)
    study = services.study_create(
        actor=lead,
        title="Keeping exploited youth in view: ten professionals' experiences",
        research_questions=(
            "How do professionals identify youth who are being sexually exploited?\n"
            "What helps and what hinders them in serving and keeping contact with these youth?"
        ),
        sampling_method="purposive",
        target_sample_size=10,
        ethics_board="Coastal University Institutional Review Board",
        ethics_number="CU-IRB-2025-117",
        ethics_approved_on=today - datetime.timedelta(days=150),
        interview_guide=GUIDE,
        consent_form_text=(
            "You are invited to talk about your work with young people. Taking part is "
            "voluntary; you may skip any question and stop at any time. We will not record "
            "names. (Fictional demo text.)"
        ),
        debrief_statement_text=(
            "Thank you for taking part. Talking about this work can be hard; the resources "
            "below are there for you. (Fictional demo text.)"
        ),
    )
    services.member_add(actor=lead, study=study, user=coder, role=TeamRole.CODER)
    services.document_add_version(
        actor=lead,
        study=study,
        kind=DocumentKind.CONSENT_FORM,
        text="Version 2 adds: with your permission, the interview is recorded and transcribed, "
        "then the recording is deleted. (Fictional demo text.)",
    )
    rural = services.attribute_define(
        actor=lead, study=study, name="Rural caseload", value_type="yes_no"
    )
    trained = services.attribute_define(
        actor=lead, study=study, name="Trained in exploitation screening", value_type="yes_no"
    )
    codes = _codebook(lead, study)
    consent_v2 = study.documents.get(kind=DocumentKind.CONSENT_FORM, version=2)
    debrief_v1 = study.documents.get(kind=DocumentKind.DEBRIEF_STATEMENT, version=1)
    participants = []
    for index, (code, role, agency, years, mode) in enumerate(PARTICIPANTS):
        day = today - datetime.timedelta(days=120 - index * 9)
        participant = services.participant_add(
            actor=lead,
            study=study,
            code=code,
            professional_role=role,
            agency_type=agency,
            years_experience=years,
            recruitment_source="Regional task force list"
            if index % 3
            else "Referred by a participant",
            invited_on=day - datetime.timedelta(days=10),
            attributes={
                rural: "yes" if index % 4 == 0 else "no",
                trained: "yes" if index % 2 else "no",
            },
        )
        services.consent_record(
            actor=lead,
            participant=participant,
            form=consent_v2,
            consented_on=day - datetime.timedelta(days=2),
            method="written" if mode == "video" else "verbal",
            permission_to_record=True,
        )
        services.interview_record(
            actor=lead,
            participant=participant,
            interviewed_on=day,
            mode=mode,
            duration_minutes=rng.randint(38, 75),
            interviewer=lead,
        )
        services.debrief_record(
            actor=lead,
            participant=participant,
            statement=debrief_v1,
            debriefed_on=day,
            resources_offered="Employee assistance programme; regional vicarious-trauma peer group.",
        )
        participants.append(participant)
    plans: dict[str, list[tuple[str, str]]] = {}
    uploads = []
    for index, participant in enumerate(participants):
        text, planned = _transcript(rng, participant.code, participant.professional_role, index)
        plans[participant.code] = planned
        uploads.append(
            services.Upload(filename=f"{participant.code}-interview.txt", content=text.encode())
        )
    transcripts = services.transcripts_import(actor=lead, study=study, uploads=uploads)
    segments = 0
    exemplars: dict[str, int] = {}
    for transcript in transcripts:
        code = transcript.participant.code
        for snippet, name in plans[code]:
            start = transcript.text.index(snippet)
            end = start + len(snippet)
            also = [codes[ALSO[name]]] if name in ALSO else []
            segment = services.segment_apply(
                actor=lead, transcript=transcript, start=start, end=end, codes=[codes[name], *also]
            )
            segments += 1
            theme = THEME_OF[name]
            if exemplars.get(theme, 0) < 2:
                services.segment_set_exemplar(actor=lead, segment=segment, is_exemplar=True)
                exemplars[theme] = exemplars.get(theme, 0) + 1
            # the second coder double-codes the first four interviews, mostly agreeing
            if code in ("P01", "P02", "P03", "P04") and rng.random() < 0.85:
                services.segment_apply(
                    actor=coder, transcript=transcript, start=start, end=end, codes=[codes[name]]
                )
                segments += 1
        if transcript.participant.code == "P02":
            services.memo_add(
                actor=lead,
                study=study,
                transcript=transcript,
                body="Clinician ties screening to consent: the tool works only when sharing is allowed.",
            )
    services.memo_add(
        actor=lead,
        study=study,
        code=codes["Agencies do not share"],
        body="Strongest among law enforcement and clinicians; see the matrix.",
    )
    services.participant_withdraw(
        actor=lead,
        participant=participants[-1],
        note="Asked to withdraw after the interview (fictional).",
    )
    return ResearchDemoSummary(len(participants), len(transcripts), segments)
