"""Demo referrals for the fictional county (called by ``youth.demo.seed_demo`` after the directory
is loaded).

Workers refer some of their youth to directory services: some on the platform (the clinic's and
the advocates' organisations are linked to their agencies here, so their staff see the referrals
in their inbox and answer them), some off it (the worker records what the service said). Every
status appears, closed ones with their outcome; some services answered within 48 hours and some
did not; a few referrals wait too long for an answer or an outcome. One youth's consent lets the
clinic see their name and the referral note.

Everything goes through ``services.referral_create`` and ``services.referral_move`` with the clock
set to the moment each step happened, so that the history, the audit trail and the deadlines read
as if the referrals had been made over the past weeks. Fictional; deterministic per seed.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from unittest import mock

from django.db import transaction
from django.db.models import Q

from safeharbor.access.choices import Category
from safeharbor.accounts.choices import YOUTH_DATA_ROLES, Role
from safeharbor.accounts.models import Agency, User
from safeharbor.core import clock
from safeharbor.directory import search
from safeharbor.directory.choices import ServiceStatus
from safeharbor.directory.demo import KINDS
from safeharbor.directory.models import Organization, Service
from safeharbor.youth.choices import SignerKind, TeamRole
from safeharbor.youth.models import CareTeamMember, Youth
from safeharbor.youth.services import consent_grant

from . import services
from .choices import Outcome, Priority, Status
from .models import Referral

HOUR = datetime.timedelta(hours=1)
MINUTE = datetime.timedelta(minutes=1)

# Demo agencies whose organisation in the directory answers referrals on the platform, and the
# kinds of service that organisation should offer (``directory.demo.KINDS`` names).
LINKS = (
    ("Bayside Youth Clinic", ("Teen Health Clinic", "Trauma Counseling")),
    ("Lighthouse Advocates", ("Survivor Mentoring", "Youth Legal Advocacy")),
)
CONSENTED_AGENCY = "Bayside Youth Clinic"

_NOTES = (
    "Would like a counsellor who speaks Spanish.",
    "Prefers appointments after school, from 4 pm.",
    "Has a court date next month and would like help before then.",
    "Would like to meet somewhere other than the old neighbourhood.",
    "Asked for a worker who has supported survivors before.",
    "",
    "",
)
_PRIORITIES = [Priority.ROUTINE] * 6 + [Priority.URGENT] * 3 + [Priority.ASAP]


@dataclass(frozen=True)
class Step:
    """One move, ``after`` hours after the referral was sent. ``by`` the receiving service
    (on the platform its staff; off it the referring worker records what the service said) or
    the referring worker."""

    after: float
    to: str
    by: str = "service"
    reason: str = ""
    outcome: str = ""
    note: str = ""


@dataclass(frozen=True)
class Story:
    name: str
    sent_hours_ago: tuple[int, int]
    steps: tuple[Step, ...] = ()
    platform_only: bool = False  # "received" is recorded only by the service's own staff
    draft: bool = False
    weight: int = 1


STORIES = (
    Story("draft", (20, 80), draft=True),
    # Sent today: the service still has time to answer.
    Story("sent_today", (3, 20), weight=2),
    # No answer after 48 hours: waiting too long.
    Story("no_answer", (60, 200)),
    Story("received_no_answer", (70, 140), (Step(3, Status.RECEIVED),), platform_only=True),
    # Taken on within 48 hours, and one only after three days.
    Story("accepted_fast", (80, 300), (Step(2, Status.RECEIVED), Step(20, Status.ACCEPTED)), True),
    Story("accepted_slow", (150, 400), (Step(75, Status.ACCEPTED),)),
    Story(
        "in_progress",
        (240, 480),
        (Step(18, Status.ACCEPTED), Step(50, Status.IN_PROGRESS)),
        weight=2,
    ),
    Story(
        "on_hold",
        (300, 600),
        (
            Step(30, Status.ACCEPTED),
            Step(120, Status.ON_HOLD, reason="Waiting for a place in the next group to open."),
        ),
    ),
    # Taken on 40 days ago and no outcome since: waiting too long for the outcome.
    Story(
        "stalled",
        (960, 1400),
        (Step(24, Status.ACCEPTED), Step(72, Status.IN_PROGRESS)),
    ),
    Story(
        "completed_help",
        (500, 2000),
        (
            Step(6, Status.ACCEPTED),
            Step(48, Status.IN_PROGRESS),
            Step(
                400,
                Status.COMPLETED,
                outcome=Outcome.GOT_HELP,
                note="Attended six sessions and has a plan to keep going.",
            ),
        ),
        weight=3,
    ),
    Story(
        "completed_elsewhere",
        (400, 1500),
        (
            Step(30, Status.ACCEPTED),
            Step(
                200,
                Status.COMPLETED,
                outcome=Outcome.REFERRED_ELSEWHERE,
                note="Connected to a program closer to the youth's placement.",
            ),
        ),
    ),
    Story(
        "rejected_no_capacity",
        (120, 700),
        (
            Step(
                20,
                Status.REJECTED,
                reason="Full for this age group until next month.",
                outcome=Outcome.NO_CAPACITY,
            ),
        ),
    ),
    Story(
        "rejected_not_eligible",
        (150, 700),
        (
            Step(
                70,
                Status.REJECTED,
                reason="This program serves young adults aged 18 to 24 only.",
                outcome=Outcome.NOT_ELIGIBLE,
            ),
        ),
    ),
    Story(
        "cancelled",
        (100, 900),
        (
            Step(
                30,
                Status.CANCELLED,
                by="referrer",
                reason="The youth decided not to go ahead for now.",
                outcome=Outcome.DECLINED,
            ),
        ),
    ),
    Story(
        "failed",
        (300, 1200),
        (
            Step(12, Status.ACCEPTED),
            Step(
                170,
                Status.FAILED,
                reason="Could not reach the youth after three tries.",
                outcome=Outcome.COULD_NOT_CONTACT,
            ),
        ),
    ),
)
SENT_TODAY = next(story for story in STORIES if story.name == "sent_today")


@dataclass
class ReferralsDemoSummary:
    referrals: int = 0
    moves: int = 0
    consents: int = 0
    linked: list[str] = field(default_factory=list)


@contextmanager
def _at(moment: datetime.datetime) -> Iterator[None]:
    """The clock (and the models' own timestamps) at ``moment``."""
    with (
        mock.patch("safeharbor.core.clock.now", return_value=moment),
        mock.patch("django.utils.timezone.now", return_value=moment),
    ):
        yield


def _link_organizations() -> list[str]:
    """Link an organisation that offers the right kind of service to each answering agency
    (as ``directory.demo.seed_directory`` does for the shelter and child welfare), unless the
    agency already has one."""
    linked = []
    for agency_name, kinds in LINKS:
        agency = Agency.objects.filter(name=agency_name).first()
        if agency is None or Organization.objects.filter(agency=agency).exists():
            continue
        wanted = Q()
        for kind in kinds:
            wanted |= Q(services__name__endswith=kind)
        organization = (
            Organization.objects.filter(wanted, agency__isnull=True)
            .filter(services__status=ServiceStatus.ACTIVE)
            .order_by("name", "pk")
            .first()
        )
        if organization is None:
            continue
        organization.name = agency.name
        organization.agency = agency
        organization.save(update_fields=["name", "agency", "updated_at"])
        search.reindex(organization.services.values_list("pk", flat=True))
        linked.append(agency.name)
    return linked


def _need(service: Service) -> str:
    for kind in KINDS:
        if service.name.endswith(kind.name):
            return kind.needs[0]
    return "need-case-management"


def _callback(worker: User) -> str:
    membership = worker.agency_membership
    parts = [worker.get_full_name() or worker.username]
    if membership is not None:
        parts.append(str(membership.agency))
    if worker.email:
        parts.append(worker.email)
    return ", ".join(parts)


class _World:
    """Who refers whom, where to, and who answers."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.leads = {
            member.youth_id: member.user
            for member in CareTeamMember.objects.filter(team_role=TeamRole.LEAD)
            .select_related("user__membership")
            .order_by("pk")
        }
        self.youths = list(
            Youth.objects.filter(pk__in=self.leads)
            .select_related("owning_agency")
            .order_by("record_number")
        )
        active = Service.objects.filter(status=ServiceStatus.ACTIVE).select_related("organization")
        self.staff: dict[int, list[User]] = {}
        for user in (
            User.objects.filter(
                membership__is_active=True,
                membership__role__in=sorted(YOUTH_DATA_ROLES - {Role.AGENCY_ADMIN}),
                membership__agency__directory_organizations__isnull=False,
            )
            .select_related("membership")
            .distinct()
            .order_by("username")
        ):
            self.staff.setdefault(user.membership.agency_id, []).append(user)
        # On the platform: services of a linked organisation whose agency has staff to answer.
        self.on_platform = list(
            active.filter(organization__agency_id__in=self.staff).order_by("name", "pk")
        )
        self.off_platform = list(
            active.filter(organization__agency__isnull=True).order_by("name", "pk")[:60]
        )

    def service_for(self, youth: Youth, *, on_platform: bool, prefer: str = "") -> Service | None:
        if not on_platform:
            return self.rng.choice(self.off_platform) if self.off_platform else None
        # Never the youth's own agency: it does not refer to itself.
        choices = [
            s for s in self.on_platform if s.organization.agency_id != youth.owning_agency_id
        ]
        preferred = [s for s in choices if s.organization.name == prefer]
        pool = preferred or choices
        return self.rng.choice(pool) if pool else None


def _tell(
    world: _World, youth: Youth, story: Story, service: Service, now: datetime.datetime
) -> int:
    """Make one referral and move it through its story. Returns the number of moves."""
    rng = world.rng
    lead = world.leads[youth.pk]
    sent = now - datetime.timedelta(
        hours=rng.randint(*story.sent_hours_ago), minutes=rng.randint(0, 59)
    )
    with _at(sent):
        referral = services.referral_create(
            actor=lead,
            youth=youth,
            service=service,
            need=_need(service),
            priority=rng.choice(_PRIORITIES),
            note=rng.choice(_NOTES),
            callback=_callback(lead),
            send=not story.draft,
        )
    answering = world.staff.get(referral.receiving_agency_id or 0, [])
    moves = 0
    for step in story.steps:
        if step.by == "referrer" or not answering:
            actor = lead
        else:
            actor = rng.choice(answering)
        # Never in the future, whatever the draw.
        moment = min(sent + step.after * HOUR, now - 5 * MINUTE)
        with _at(moment):
            referral = services.referral_move(
                actor=actor,
                referral=referral,
                to_status=step.to,
                reason=step.reason,
                outcome=step.outcome,
                note=step.note,
            )
        moves += 1
    return moves


def _consent(world: _World, summary: ReferralsDemoSummary, now: datetime.datetime) -> None:
    """A live consent naming the clinic for identity and referrals, for one youth referred
    there whose care team does not include the clinic (so it is the consent that shows the
    clinic the youth's name and the note)."""
    clinic = Agency.objects.filter(name=CONSENTED_AGENCY).first()
    if clinic is None:
        return
    referral = _referral_outside_the_clinics_care(world, summary, clinic, now)
    if referral is None:
        return
    today = clock.today()
    consent_grant(
        actor=world.leads[referral.youth_id],
        youth=referral.youth,
        signer_kind=SignerKind.YOUTH,
        signer_name="Signed by the youth at the referral meeting",
        signer_is_suspected_exploiter=False,
        recipient_agency=clinic,
        categories=[Category.IDENTITY, Category.REFERRALS],
        purpose="Referral to the clinic's counselling and health services",
        valid_from=today,
        expires_on=today + datetime.timedelta(days=180),
    )
    summary.consents += 1


def _referral_outside_the_clinics_care(
    world: _World, summary: ReferralsDemoSummary, clinic: Agency, now: datetime.datetime
) -> Referral | None:
    """The first sent referral to the clinic for a youth it does not care for. Record numbers
    (and so the order youth are dealt stories in) are random, so where chance sent every
    clinic referral to youth already in its care, one more is made."""
    candidates = (
        Referral.objects.filter(receiving_agency=clinic)
        .exclude(status=Status.DRAFT)
        .exclude(youth__care_team__user__membership__agency=clinic)
        .select_related("youth__owning_agency")
        .order_by("sent_at", "pk")
    )
    referral = candidates.first()
    if referral is not None:
        return referral
    cared_for = set(
        CareTeamMember.objects.filter(user__membership__agency=clinic).values_list(
            "youth_id", flat=True
        )
    )
    youth = next(
        (y for y in world.youths if y.pk not in cared_for and y.owning_agency_id != clinic.pk),
        None,
    )
    service = next((s for s in world.on_platform if s.organization.agency_id == clinic.pk), None)
    if youth is None or service is None:
        return None
    summary.moves += _tell(world, youth, SENT_TODAY, service, now)
    summary.referrals += 1
    return candidates.first()


@transaction.atomic
def seed_referrals_demo(*, seed: int) -> ReferralsDemoSummary:
    rng = random.Random(seed + 11)  # noqa: S311  (fictional demo values, not security)
    now = clock.now().replace(second=0, microsecond=0)
    summary = ReferralsDemoSummary(linked=_link_organizations())
    world = _World(rng)
    if not world.youths or not world.off_platform:
        return summary
    # Every story at least once, on the platform where it can be (alternating the clinic and
    # the advocates) and off it too, for the first youth of the main demo caseworker.
    caseworker_youth = [y for y in world.youths if world.leads[y.pk].username == "caseworker"]
    first = caseworker_youth or world.youths
    plan: list[tuple[Youth, Story, bool, str]] = []
    for index, story in enumerate(STORIES):
        prefer = LINKS[index % len(LINKS)][0]
        plan.append((first[index % len(first)], story, True, prefer))
        if not story.platform_only:
            plan.append((first[(index + 7) % len(first)], story, False, ""))
    # Then about four youth in ten have one to three referrals.
    stories = [story for story in STORIES for _ in range(story.weight)]
    for youth in world.youths:
        if rng.random() >= 0.4:
            continue
        for _ in range(rng.randint(1, 3)):
            story = rng.choice(stories)
            on_platform = story.platform_only or rng.random() < 0.5
            plan.append((youth, story, on_platform, ""))
    for youth, story, on_platform, prefer in plan:
        service = world.service_for(youth, on_platform=on_platform, prefer=prefer)
        if service is None:
            continue
        summary.moves += _tell(world, youth, story, service, now)
        summary.referrals += 1
    _consent(world, summary, now)
    return summary
