"""Demo screenings for the fictional county (called by ``youth.demo.seed_demo``).

Loads the shipped indicator checklist, sets Harbor County Children's Services to rescreen every
90 days, and gives the agency's youth a history: screenings over the past 18 months,
a return from a missing episode and a runaway history that call for a screen, one youth
identified as a victim whose report to law enforcement is overdue, and an unfinished draft.
Everything goes through the services (validated and audited); screenings are then backdated so
that the history has a past.
"""

from __future__ import annotations

import datetime
import random

from safeharbor.accounts.models import User
from safeharbor.core import clock
from safeharbor.youth.models import CareTeamMember, Youth

from . import services
from .models import Instrument, Screening
from .shipped import INDICATOR_CHECKLIST_URL, load_shipped_instruments

DEMO_INTERVAL_DAYS = 90


def _answers(rng: random.Random, instrument: Instrument, concern: float) -> dict[str, str]:
    answers = {}
    for item in instrument.definition.questions:
        roll = rng.random()
        answers[item.link_id] = "yes" if roll < concern else ("not-known" if roll > 0.93 else "no")
    return answers


def seed_screening_demo(*, seed: int) -> int:
    """Returns how many screenings it made."""
    rng = random.Random(seed + 303)  # noqa: S311  (fictional demo values, not security)
    load_shipped_instruments()
    checklist = Instrument.objects.get(agency__isnull=True, url=INDICATOR_CHECKLIST_URL)
    admin = User.objects.get(username="admin")
    caseworker = User.objects.get(username="caseworker")
    services.rescreen_interval_set(
        actor=admin, instrument_url=checklist.url, days=DEMO_INTERVAL_DAYS
    )
    now = clock.now()
    leads = {
        member.youth_id: member.user
        for member in CareTeamMember.objects.filter(
            team_role="lead", youth__owning_agency_id=admin.agency_id_or_none
        ).select_related("user")
    }
    youths = list(Youth.objects.filter(pk__in=leads).order_by("record_number"))
    made = 0
    for index, youth in enumerate(youths):
        if index % 5 == 4:
            continue  # never screened: due since the record was opened
        worker = leads[youth.pk]
        concern = rng.choice([0.02, 0.05, 0.1, 0.25])
        days_ago = sorted(rng.sample(range(5, 540), k=rng.randint(1, 3)), reverse=True)
        for age in days_ago:
            screening = services.screening_submit(
                actor=worker,
                youth=youth,
                instrument=checklist,
                reason="intake" if age == days_ago[0] else "routine_rescreen",
                mode=rng.choice(["interview_in_person", "record_review"]),
                language=youth.preferred_language if youth.preferred_language == "es" else "en",
                answers=_answers(rng, checklist, concern),
            )
            when = now - datetime.timedelta(days=age, hours=rng.randint(0, 8))
            Screening.objects.filter(pk=screening.pk).update(started_at=when, completed_at=when)
            made += 1
    # The history was back-dated past the services: the due list's index follows it.
    services.latest_screenings_refresh(youth_ids=[youth.pk for youth in youths])
    youths = [youth for youth in youths if leads[youth.pk] == caseworker]
    if len(youths) >= 4:
        services.trigger_record(
            actor=caseworker,
            youth=youths[0],
            kind="return_from_missing",
            occurred_at=now - datetime.timedelta(hours=30),
        )
        services.trigger_record(
            actor=caseworker,
            youth=youths[1],
            kind="runaway_history",
            occurred_at=now - datetime.timedelta(hours=10),
        )
        services.victim_identification_record(
            actor=caseworker, youth=youths[2], identified_at=now - datetime.timedelta(hours=30)
        )
        services.screening_start(
            actor=caseworker,
            youth=youths[3],
            instrument=checklist,
            reason="allegation",
            mode="interview_in_person",
        )
    return made
