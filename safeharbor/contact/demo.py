"""Demo data for staying in touch: contact plans, a contact log, check-ins, a new advocate,
two open missing episodes (one whose NCMEC report is overdue) and a return awaiting its
screening. Built through the services, like real use; fictional and deterministic per seed."""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass

from django.db import transaction

from safeharbor.access.choices import Category
from safeharbor.accounts.models import Agency, User
from safeharbor.core import clock
from safeharbor.youth.choices import TeamRole
from safeharbor.youth.models import Youth
from safeharbor.youth.services import care_team_add, consent_grant

from . import services
from .choices import Channel, Outcome, ReportTo

_TIMES = (
    "Weekdays after 4 pm, when she is back from school.",
    "Evenings after 7 pm; never in the morning.",
    "Any time on weekends.",
)
_NEVER = (
    "Do not call the phone of the person she used to stay with (number in the case file).",
    "Never message the old social media account; someone else reads it.",
    "Do not leave messages with the uncle at the old address.",
)
_NOTES = (
    "Youth sounded well; agreed to meet on Friday.",
    "Voicemail full.",
    "Youth said someone was nearby; will try again tomorrow.",
    "",
    "",
)
_OUTCOMES = [Outcome.REACHED] * 5 + [
    Outcome.NO_ANSWER,
    Outcome.NO_ANSWER,
    Outcome.LEFT_MESSAGE,
    Outcome.UNSAFE_TO_TALK,
    Outcome.DECLINED,
    Outcome.WRONG_NUMBER,
]


@dataclass
class ContactDemoSummary:
    plans: int = 0
    attempts: int = 0
    check_ins: int = 0
    episodes: int = 0


def _lead(youth: Youth) -> User:
    return youth.care_team.filter(team_role=TeamRole.LEAD).select_related("user").first().user  # type: ignore[union-attr]


@transaction.atomic
def seed_contact_demo(*, seed: int) -> ContactDemoSummary:
    rng = random.Random(seed + 5)  # noqa: S311  (fictional demo values, not security)
    now = clock.now()
    summary = ContactDemoSummary()
    youths = list(Youth.objects.select_related("owning_agency").order_by("record_number"))
    leads = {youth.pk: _lead(youth) for youth in youths}
    for youth in youths:
        lead = leads[youth.pk]
        if rng.random() < 0.5:
            phone = youth.phone or "555-0100"
            services.contact_plan_save(
                actor=lead,
                youth=youth,
                methods=[(Channel.TEXT, phone), (Channel.PHONE, phone)]
                + ([(Channel.TRUSTED_ADULT, "Aunt (ask for Rosa)")] if rng.random() < 0.5 else []),
                safe_times=rng.choice(_TIMES),
                code_word=rng.choice(("blue kite", "lemonade", "homework")),
                never_use=rng.choice(_NEVER),
                trusted_adults="Aunt Rosa, 555-0123" if rng.random() < 0.5 else "",
            )
            summary.plans += 1
        # Most youth were reached recently; some not for weeks (lost contact shows).
        days_back = rng.choice((1, 2, 3, 5, 8, 10, 12, 20, 30))
        for offset in sorted(rng.sample(range(days_back, days_back + 25), k=rng.randint(0, 4))):
            services.contact_attempt_log(
                actor=lead,
                youth=youth,
                channel=rng.choice((Channel.TEXT, Channel.PHONE, Channel.IN_PERSON)),
                outcome=Outcome.REACHED if offset == days_back else rng.choice(_OUTCOMES),
                attempted_at=now - datetime.timedelta(days=offset, hours=rng.randint(0, 8)),
                note=rng.choice(_NOTES),
            )
            summary.attempts += 1
    county_youth = [y for y in youths if leads[y.pk].username == "caseworker"]
    caseworker = User.objects.get(username="caseworker")
    for youth in county_youth[5:9]:
        services.check_in_schedule(
            actor=caseworker,
            youth=youth,
            scheduled_for=(now + datetime.timedelta(days=rng.randint(1, 10))).replace(
                minute=0, second=0, microsecond=0
            ),
            channel=Channel.PHONE,
        )
        summary.check_ins += 1
    # A mentor from the advocacy agency joins two care teams today: stabilisation tasks.
    advocate = User.objects.get(username="advocate")
    for youth in county_youth[3:5]:
        care_team_add(
            actor=caseworker,
            youth=youth,
            user=advocate,
            team_role=TeamRole.ADVOCATE,
            starts_on=clock.today(),
        )
    summary.episodes = _episodes(county_youth[:3], caseworker, now)
    return summary


def _episodes(youths: list[Youth], caseworker: User, now: datetime.datetime) -> int:
    if len(youths) < 3:
        return 0
    hours = datetime.timedelta(hours=1)
    sheriff = Agency.objects.get(name="Harbor County Sheriff's Office")
    # 1. Missing since this morning; nothing reported yet (both 24-hour clocks running).
    first = services.missing_episode_open(
        actor=caseworker,
        youth=youths[0],
        started_at=now - 5 * hours,
        learned_at=now - 3 * hours,
        last_seen_at=now - 5 * hours,
        last_seen_where="Bus stop on Fictional Avenue, Harbor",
        last_seen_with="Two older youths, not known to staff",
        clothing="Grey hoodie, black jeans, white trainers",
        description="About 160 cm, slim, dark curly hair, small star tattoo on left wrist",
        medical_needs="Asthma: carries an inhaler",
    )
    # 2. Missing for 30 hours: law enforcement told on time, NCMEC not yet (overdue).
    second = services.missing_episode_open(
        actor=caseworker,
        youth=youths[1],
        started_at=now - 32 * hours,
        learned_at=now - 30 * hours,
        last_seen_where="Harbor Mall food court",
        clothing="Red jacket",
        description="About 170 cm, shoulder-length straight hair",
        mental_health_needs="Anxiety; takes daily medication",
    )
    services.missing_episode_report(
        actor=caseworker,
        episode=second,
        to=ReportTo.LAW_ENFORCEMENT,
        reported_at=now - 28 * hours,
        reference="HCSO-2026-0412",
        police_agency="Harbor County Sheriff's Office",
        police_officer="Officer Jo Park",
    )
    services.location_attempt_add(
        actor=caseworker,
        episode=second,
        attempted_at=now - 20 * hours,
        what_was_done="Called the youth's friends and the drop-in centre; checked the mall.",
    )
    # 3. Back since this morning: the screening after the return is due.
    third = services.missing_episode_open(
        actor=caseworker,
        youth=youths[2],
        started_at=now - 72 * hours,
        learned_at=now - 71 * hours,
    )
    for to in (ReportTo.LAW_ENFORCEMENT, ReportTo.NCMEC):
        services.missing_episode_report(
            actor=caseworker,
            episode=third,
            to=to,
            reported_at=now - 70 * hours,
            police_agency="Harbor County Sheriff's Office",
        )
    services.missing_episode_close(actor=caseworker, episode=third, ended_at=now - 10 * hours)
    # The sheriff's officers may see the open episodes (to locate the youth), never the notes.
    for episode in (first, second):
        consent_grant(
            actor=caseworker,
            youth=episode.youth,
            signer_kind="guardian",
            signer_name="Court-appointed guardian",
            signer_is_suspected_exploiter=False,
            recipient_agency=sheriff,
            categories=[Category.IDENTITY, Category.MISSING_EPISODES],
            purpose="Locate the youth while missing",
            valid_from=clock.today(),
            expires_on=clock.today() + datetime.timedelta(days=60),
        )
    return 3
