"""Every effectiveness figure, checked against numbers worked out by hand from a small program
built through the real services (docs/outcomes.md, "How each figure is computed").

The program (Harbor Mentoring, county agency) and the period: 1 January to 30 June 2025. The
figures are read "as of" 1 July 2025 at noon (the clock decides which referrals are still within
their 48 hours). Five enrolments overlap the period, one does not:

    youth  enrolled                 left                         days followed in the period
    maya   2025-01-10               2025-03-01 lost contact      50, disengaged (event)
    bea    2025-02-01               2025-04-01 completed         59, censored (left for a reason
                                                                     that is not disengagement)
    cal    2025-03-01               still enrolled               121, censored (period end)
    dee    2024-11-01               2025-02-15 declined          106, disengaged (event)
    gus    2025-05-01               2025-07-01 lost contact      60, censored (left after the
                                                                     period ended)
    fin    2024-06-01               2024-12-01 completed         (no overlap: never counted)
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from scipy import stats

from safeharbor.contact import services as contact
from safeharbor.contact.choices import Channel
from safeharbor.contact.choices import Outcome as ContactOutcome
from safeharbor.core.tests.personas import World
from safeharbor.directory.models import Service
from safeharbor.directory.tests.factories import load as load_directory
from safeharbor.directory.tests.factories import service_object
from safeharbor.outcomes import effectiveness, services
from safeharbor.outcomes.choices import ExitReason, ProgramKind, ReferralSource
from safeharbor.outcomes.effectiveness import Figure
from safeharbor.outcomes.models import Enrolment, OutcomeMeasure, Program
from safeharbor.referrals import services as referrals
from safeharbor.referrals.choices import Outcome as ReferralOutcome
from safeharbor.referrals.choices import Status
from safeharbor.referrals.models import Referral
from safeharbor.screening import services as screening
from safeharbor.screening.choices import ConcernLevel, NextAction
from safeharbor.screening.models import Instrument, Screening
from safeharbor.screening.tests.helpers import SIX, completed, six_answers
from safeharbor.screening.tests.helpers import load as load_instrument
from safeharbor.youth.models import Youth
from safeharbor.youth.services import youth_create

pytestmark = pytest.mark.django_db

START, END = datetime.date(2025, 1, 1), datetime.date(2025, 6, 30)
Z = stats.norm.ppf(0.975)  # 1.959964...


def moment(day: datetime.date, hour: int = 12, minute: int = 0) -> datetime.datetime:
    """A time on ``day`` in the deployment's time zone (America/Los_Angeles)."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def d(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


@contextmanager
def at(when: datetime.datetime) -> Iterator[None]:
    with mock.patch("safeharbor.core.clock.now", return_value=when):
        yield


AS_OF = moment(d("2025-07-01"), 12)


def figures_as_of(program: Program) -> dict[str, Figure]:
    with at(AS_OF):
        return {figure.key: figure for figure in effectiveness.all_figures(program, START, END)}


def wilson(k: int, n: int) -> tuple[float, float]:
    """The Wilson score interval, from its formula."""
    p = k / n
    centre = (p + Z**2 / (2 * n)) / (1 + Z**2 / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z**2 / (4 * n**2)) / (1 + Z**2 / n)
    return centre - half, centre + half


def log_log(survival: float, greenwood: float) -> tuple[float, float]:
    """The log-log interval of S(t), from S and Greenwood's sum of d / (n (n - d))."""
    spread = math.exp(Z * math.sqrt(greenwood) / abs(math.log(survival)))
    return survival**spread, survival ** (1 / spread)


# --- The program, built through the services --------------------------------------------------


@dataclass
class Harbor:
    world: World
    program: Program
    youth: dict[str, Youth]
    enrolments: dict[str, Enrolment]


def _youth(world: World, name: str) -> Youth:
    return youth_create(
        actor=world.county_caseworker,
        owning_agency=world.county,
        given_name=name.title(),
        family_name="Tester",
        date_of_birth=datetime.date(2009, 5, 1),
        county="Harbor",
    )


def _enrol(
    world: World, program: Program, youth: Youth, starts: str, ends: str = "", reason: str = ""
) -> Enrolment:
    enrolment = services.enrolment_start(
        actor=world.county_caseworker,
        youth=youth,
        program=program,
        starts_on=d(starts),
        referral_source=ReferralSource.CHILD_WELFARE,
    )
    if ends:
        enrolment = services.enrolment_exit(
            actor=world.county_caseworker, enrolment=enrolment, ends_on=d(ends), exit_reason=reason
        )
    return enrolment


def _service(world: World, youth: Youth, day: str, program: Program | None) -> None:
    services.service_record(
        actor=world.county_caseworker,
        youth=youth,
        service_type="mentoring",
        delivered_on=d(day),
        minutes=60,
        mode="in_person",
        program=program,
    )


def _food_bank() -> Service:
    """A service that is not on the platform: the referring worker records its answers."""
    data = service_object(name="Harbor Food Bank", codes=("need-food",))
    load_directory(data)
    return Service.objects.select_related("organization").get(pk=data["id"])


def _refer(
    world: World, service: Service, youth: Youth, sent: datetime.datetime, *moves: tuple
) -> Referral:
    """Send a referral at ``sent``, then each (time, status, outcome, reason) move."""
    with at(sent):
        referral = referrals.referral_create(
            actor=world.county_caseworker,
            youth=youth,
            service=service,
            need="need-food",
            callback="Casey Tester, Harbor County, 555-0100",
        )
    for when, status, outcome, reason in moves:
        with at(when):
            referral = referrals.referral_move(
                actor=world.county_caseworker,
                referral=referral,
                to_status=status,
                outcome=outcome,
                reason=reason,
            )
    return referral


def _attempt(world: World, youth: Youth, when: datetime.datetime, outcome: str) -> None:
    contact.contact_attempt_log(
        actor=world.county_caseworker,
        youth=youth,
        channel=Channel.PHONE,
        outcome=outcome,
        attempted_at=when,
    )


def _missing(world: World, youth: Youth, started: datetime.datetime) -> None:
    episode = contact.missing_episode_open(
        actor=world.county_caseworker, youth=youth, started_at=started, learned_at=started
    )
    contact.missing_episode_close(
        actor=world.county_caseworker,
        episode=episode,
        ended_at=started + datetime.timedelta(hours=6),
    )


def _screen(
    world: World, instrument: Instrument, youth: Youth, day: str, yes: int, worker_level: str = ""
) -> Screening:
    """A six-item screen (0-1 "yes": no concern; 2 or more: clear concern), and the worker's
    own level where given."""
    with at(moment(d(day), 10)):
        done = completed(world, instrument, six_answers(yes), youth=youth)
        if worker_level:
            done = screening.screening_review(
                actor=world.county_caseworker,
                screening=done,
                override_level=worker_level,
                override_reason="What the youth told me after the screen.",
                next_action=NextAction.MONITOR,
            )
    return done


def _observe(world: World, youth: Youth, code: str, day: str, value: str) -> None:
    services.observation_record(
        actor=world.county_caseworker,
        youth=youth,
        measure=OutcomeMeasure.objects.get(code=code),
        observed_on=d(day),
        value=value,
    )


@pytest.fixture
def harbor(world: World, program: Program) -> Harbor:
    youth = {"maya": world.maya} | {
        name: _youth(world, name) for name in ("bea", "cal", "dee", "gus", "fin")
    }
    enrolments = {
        "maya": _enrol(
            world, program, youth["maya"], "2025-01-10", "2025-03-01", ExitReason.LOST_CONTACT
        ),
        "bea": _enrol(
            world, program, youth["bea"], "2025-02-01", "2025-04-01", ExitReason.COMPLETED
        ),
        "cal": _enrol(world, program, youth["cal"], "2025-03-01"),
        "dee": _enrol(
            world, program, youth["dee"], "2024-11-01", "2025-02-15", ExitReason.DECLINED
        ),
        "gus": _enrol(
            world, program, youth["gus"], "2025-05-01", "2025-07-01", ExitReason.LOST_CONTACT
        ),
        "fin": _enrol(
            world, program, youth["fin"], "2024-06-01", "2024-12-01", ExitReason.COMPLETED
        ),
    }
    _services(world, program, youth)
    _referrals(world, youth)
    _contacts(world, youth)
    _missing_episodes(world, youth)
    _screenings(world, youth)
    _stages(world, youth)
    return Harbor(world, program, youth, enrolments)


def _services(world: World, program: Program, youth: dict[str, Youth]) -> None:
    _service(world, youth["maya"], "2025-01-11", None)  # not under the program: not counted
    _service(world, youth["maya"], "2025-01-13", program)  # first: 3 days after 10 January
    _service(world, youth["maya"], "2025-01-20", program)
    _service(world, youth["bea"], "2025-02-11", program)  # 10 days
    _service(world, youth["cal"], "2025-03-08", program)  # 7 days
    _service(world, youth["dee"], "2024-11-05", program)  # enrolled before the period: not asked
    # gus has had no service yet: no "days to the first service" for him.


def _referrals(world: World, youth: dict[str, Youth]) -> None:
    food = _food_bank()
    day = datetime.timedelta(days=1)
    hour = datetime.timedelta(hours=1)
    # R1 maya: accepted after 23 hours, completed, got help.
    sent = moment(d("2025-01-15"), 10)
    _refer(
        world, food, youth["maya"], sent,
        (sent + 23 * hour, Status.ACCEPTED, "", ""),
        (sent + 17 * day, Status.COMPLETED, ReferralOutcome.GOT_HELP, ""),
    )  # fmt: skip
    # R2 bea: accepted after 72 hours (too late), completed, got help.
    sent = moment(d("2025-02-03"), 9)
    _refer(
        world, food, youth["bea"], sent,
        (sent + 72 * hour, Status.ACCEPTED, "", ""),
        (sent + 26 * day, Status.COMPLETED, ReferralOutcome.GOT_HELP, ""),
    )  # fmt: skip
    # R3 cal: declined by the service the next day (no capacity).
    sent = moment(d("2025-03-05"), 12)
    _refer(
        world, food, youth["cal"], sent,
        (sent + day, Status.REJECTED, ReferralOutcome.NO_CAPACITY, "Full this month."),
    )  # fmt: skip
    # R4 cal: sent 27 hours before "now": still within its 48 hours, left out of "matched".
    _refer(world, food, youth["cal"], moment(d("2025-06-30"), 9))
    # R5 gus: sent 10 June, never answered.
    _refer(world, food, youth["gus"], moment(d("2025-06-10"), 9))
    # R6 cal: accepted exactly 48 hours after it was sent (in time), still under way.
    sent = moment(d("2025-03-10"), 9)
    _refer(world, food, youth["cal"], sent, (sent + 48 * hour, Status.ACCEPTED, "", ""))
    # R7 maya, after she left the program: not the program's referral.
    sent = moment(d("2025-03-15"), 9)
    _refer(
        world, food, youth["maya"], sent,
        (sent + hour, Status.ACCEPTED, "", ""),
        (sent + day, Status.COMPLETED, ReferralOutcome.GOT_HELP, ""),
    )  # fmt: skip
    # R8 maya: entered in error: not a referral at all.
    sent = moment(d("2025-01-20"), 9)
    _refer(
        world, food, youth["maya"], sent, (sent + hour, Status.ENTERED_IN_ERROR, "", "Wrong youth.")
    )
    # R9 maya: cancelled an hour after it was sent (closed, no help; never accepted).
    sent = moment(d("2025-02-10"), 9)
    _refer(
        world, food, youth["maya"], sent,
        (sent + hour, Status.CANCELLED, ReferralOutcome.DECLINED, "Maya changed her mind."),
    )  # fmt: skip
    # R10 fin, who was not enrolled in the period.
    _refer(world, food, youth["fin"], moment(d("2025-03-01"), 9))


def _contacts(world: World, youth: dict[str, Youth]) -> None:
    reached, no_answer = ContactOutcome.REACHED, ContactOutcome.NO_ANSWER
    _attempt(world, youth["maya"], moment(d("2025-01-05")), no_answer)  # before she enrolled
    _attempt(world, youth["maya"], moment(d("2025-01-12")), reached)
    _attempt(world, youth["maya"], moment(d("2025-01-20")), no_answer)
    _attempt(world, youth["maya"], moment(d("2025-02-05")), reached)
    _attempt(world, youth["maya"], moment(d("2025-03-10")), reached)  # after she left
    _attempt(world, youth["bea"], moment(d("2025-02-02")), ContactOutcome.LEFT_MESSAGE)
    _attempt(world, youth["bea"], moment(d("2025-03-03")), reached)
    # 30 June, 23:30 in Harbor County (already 1 July in UTC): in the period.
    _attempt(world, youth["cal"], moment(d("2025-06-30"), 23, 30), reached)
    _attempt(world, youth["cal"], moment(d("2025-07-01"), 0, 30), no_answer)  # after the period
    _attempt(world, youth["fin"], moment(d("2025-03-01")), reached)  # not enrolled then


def _missing_episodes(world: World, youth: dict[str, Youth]) -> None:
    _missing(world, youth["maya"], moment(d("2023-12-01")))  # over a year before: not counted
    _missing(world, youth["maya"], moment(d("2024-03-01")))  # before
    _missing(world, youth["maya"], moment(d("2024-08-01")))  # before
    _missing(world, youth["maya"], moment(d("2025-02-01")))  # while enrolled
    _missing(world, youth["bea"], moment(d("2024-12-25")))  # before
    _missing(world, youth["bea"], moment(d("2025-05-01")))  # after she left: not counted
    _missing(world, youth["cal"], moment(d("2025-06-30"), 23))  # while enrolled (local date)
    _missing(world, youth["cal"], moment(d("2025-07-02")))  # after the period
    _missing(world, youth["dee"], moment(d("2024-12-10")))  # while enrolled (before the period)


def _screenings(world: World, youth: dict[str, Youth]) -> None:
    no, possible, unclear = (
        ConcernLevel.NO_CONCERN,
        ConcernLevel.POSSIBLE_CONCERN,
        ConcernLevel.NOT_ENOUGH_INFORMATION,
    )
    six = load_instrument(SIX)
    # maya: clear in 2024; on 5 January clear by the instrument, "no concern" by the worker (the
    # baseline: the latest before enrolment, with the worker's level); clear on 20 February.
    _screen(world, six, youth["maya"], "2024-06-01", yes=2)
    _screen(world, six, youth["maya"], "2025-01-05", yes=2, worker_level=no)
    _screen(world, six, youth["maya"], "2025-02-20", yes=2)  # -> worse
    # bea: first screened 14 days after enrolling (the baseline), no concern on 20 March; clear
    # again on 10 April, after she left (not counted).
    _screen(world, six, youth["bea"], "2025-02-15", yes=3)
    _screen(world, six, youth["bea"], "2025-03-20", yes=0)  # -> improved
    _screen(world, six, youth["bea"], "2025-04-10", yes=3)
    # cal: possible concern before and during; "not enough information" in June is passed over.
    _screen(world, six, youth["cal"], "2025-02-25", yes=2, worker_level=possible)
    _screen(world, six, youth["cal"], "2025-05-01", yes=2, worker_level=possible)  # -> same
    _screen(world, six, youth["cal"], "2025-06-25", yes=2, worker_level=unclear)
    # gus: clear on 10 May, amended on 25 May to no concern (the amendment replaces it); no
    # concern on 20 June.
    original = _screen(world, six, youth["gus"], "2025-05-10", yes=2)
    with at(moment(d("2025-05-25"))):
        screening.screening_amend(
            actor=world.county_caseworker,
            screening=original,
            answers=six_answers(0),
            reason="Answers were entered against the wrong questions.",
        )
    _screen(world, six, youth["gus"], "2025-06-20", yes=0)  # -> same
    # dee: one screen only, no pair.
    _screen(world, six, youth["dee"], "2024-11-01", yes=2)


def _stages(world: World, youth: dict[str, Youth]) -> None:
    stage = "stage_of_change"
    _observe(world, youth["maya"], stage, "2025-01-12", "contemplation")  # 2
    _observe(world, youth["maya"], stage, "2025-02-20", "action")  # 4: +2
    _observe(world, youth["maya"], stage, "2025-03-05", "maintenance")  # after she left
    _observe(world, youth["bea"], stage, "2025-02-02", "preparation")  # 3
    _observe(world, youth["bea"], stage, "2025-03-15", "contemplation")  # 2: -1
    _observe(world, youth["cal"], stage, "2025-03-02", "precontemplation")  # 1
    _observe(world, youth["cal"], stage, "2025-04-01", "preparation")
    _observe(world, youth["cal"], stage, "2025-06-01", "maintenance")  # 5: +4 (first vs latest)
    _observe(world, youth["gus"], stage, "2025-04-20", "precontemplation")  # before enrolling
    _observe(world, youth["gus"], stage, "2025-05-05", "action")  # a single one: no pair
    _observe(world, youth["dee"], stage, "2024-12-01", "preparation")
    _observe(world, youth["dee"], stage, "2024-12-01", "action")  # the same day: no pair
    # Arrests, where lower is better: maya 2 in January, 0 in late February.
    _observe(world, youth["maya"], "arrests", "2025-01-15", "2")
    _observe(world, youth["maya"], "arrests", "2025-02-25", "0")


# --- The figures ------------------------------------------------------------------------------


def test_referral_figures(harbor: Harbor) -> None:
    figures = figures_as_of(harbor.program)
    # Closed referrals of enrolled youth sent in the period while enrolled: R1, R2 (completed,
    # got help), R3 (declined), R9 (cancelled) = 4; R4, R5, R6 are open, R7 and R10 were sent
    # while not enrolled, R8 was entered in error. Completed with help: R1, R2 -> 2 / 4.
    completion = figures["referral_completion"]
    assert (completion.count, completion.n, completion.value) == (2, 4, 0.5)
    # Wilson for 2 / 4: 0.5 -/+ 1.96 * sqrt(0.0625 + 0.0600) / 1.9604 = 0.1500 to 0.8500.
    assert (completion.ci_low, completion.ci_high) == pytest.approx((0.1500, 0.8500), abs=1e-4)
    assert (completion.ci_low, completion.ci_high) == pytest.approx(wilson(2, 4))
    # Matched: R1 (23 h), R2 (72 h: no), R3 (declined: no), R5 (no answer in 21 days: no), R6
    # (exactly 48 h: yes), R9 (cancelled unanswered: no) = 2 of 6; R4 is 27 hours old at noon on
    # 1 July, so not decided yet and left out.
    matched = figures["matched_48h"]
    assert (matched.count, matched.n) == (2, 6)
    assert matched.value == pytest.approx(1 / 3)
    assert (matched.ci_low, matched.ci_high) == pytest.approx(wilson(2, 6))
    # Two days later R4 has had its 48 hours unanswered: 2 of 7.
    with at(AS_OF + datetime.timedelta(days=2)):
        later = effectiveness.matched_within_48_hours(harbor.program, START, END)
    assert (later.count, later.n) == (2, 7)


def test_time_to_first_service(harbor: Harbor) -> None:
    figure = figures_as_of(harbor.program)["time_to_first_service"]
    # Enrolments that started in the period: maya 3 days (13 January; her 11 January service was
    # not under the program), bea 10, cal 7; gus has had none; dee started in 2024.
    # Median of (3, 7, 10) = 7, n = 3.
    assert (figure.value, figure.n, figure.unit) == (7, 3, "days")
    # Three values cannot give a distribution-free 95 % interval for a median (the widest one,
    # from the smallest to the largest, covers it with probability 1 - 2 / 2**3 = 75 %).
    assert (figure.ci_low, figure.ci_high) == (None, None)


def test_contact_success(harbor: Harbor) -> None:
    figure = figures_as_of(harbor.program)["contact_success"]
    # While enrolled and in the period: maya 12 Jan reached, 20 Jan no answer, 5 Feb reached;
    # bea 2 Feb message, 3 Mar reached; cal 30 June 23:30 reached = 4 reached of 6. Not counted:
    # maya 5 Jan and 10 Mar (not enrolled then), cal 1 July (after the period), fin.
    assert (figure.count, figure.n) == (4, 6)
    assert figure.value == pytest.approx(2 / 3)
    assert (figure.ci_low, figure.ci_high) == pytest.approx(wilson(4, 6))


def test_engagement_retention_kaplan_meier(harbor: Harbor) -> None:
    """Days followed, sorted: 50 (maya, event), 59 (bea, censored), 60 (gus, censored),
    106 (dee, event), 121 (cal, censored).

        day 50:  5 at risk, 1 leaves          S = 1 * (1 - 1/5)          = 0.8
        day 59:  bea censored (no drop; 3 left at risk), day 60: gus censored (2 at risk)
        day 106: 2 at risk, 1 leaves          S = 0.8 * (1 - 1/2)        = 0.4
        day 121: cal censored.

    Median: the first day S <= 0.5: day 106. S(90) = 0.8. S(180) is unknown: nobody was
    followed 180 days and the curve did not reach 0. Greenwood sums d / (n (n - d)): 1/20 at
    day 50, 1/20 + 1/2 = 0.55 from day 106.
    """
    figures = figures_as_of(harbor.program)
    median, at_90, at_180 = (
        figures[k] for k in ("retention_median", "retention_90d", "retention_180d")
    )
    assert (median.value, median.n) == (106, 5)
    assert (at_90.value, at_90.n) == (pytest.approx(0.8), 5)
    assert (at_180.value, at_180.n, at_180.ci_low) == (None, 5, None)
    low_90, high_90 = log_log(0.8, 1 / 20)  # 0.2038 to 0.9692
    assert (at_90.ci_low, at_90.ci_high) == pytest.approx((low_90, high_90))
    assert (low_90, high_90) == pytest.approx((0.2038, 0.9692), abs=1e-4)
    # The median's interval: where the band's lower edge first falls to 0.5 (day 50: 0.204) and
    # where its upper edge does (never: at day 106 it is 0.4 ** (1 / 4.886) = 0.829).
    assert log_log(0.4, 0.55)[1] == pytest.approx(0.8290, abs=1e-4)
    assert (median.ci_low, median.ci_high) == (50, None)
    steps = [(p.day, round(p.survival, 4)) for p in median.curve]
    assert steps == [(0, 1), (50, 0.8), (59, 0.8), (60, 0.8), (106, 0.4), (121, 0.4)]
    assert median.curve[4].low == pytest.approx(log_log(0.4, 0.55)[0])
    assert at_90.curve == median.curve


def test_missing_episodes_before_and_while_enrolled(harbor: Harbor) -> None:
    figures = figures_as_of(harbor.program)
    # Before (the 365 days before each start; 5 enrolments = 5 youth-years): maya 2 (March and
    # August 2024; December 2023 is too early), bea 1 = 3 -> 0.6 per youth-year.
    before = figures["missing_before"]
    assert (before.count, before.n, before.value) == (3, 5, pytest.approx(0.6))
    # While enrolled (start to exit or 30 June, both days counted): maya 51 days, bea 60, cal 122,
    # dee 107, gus 61 = 401 days = 1.0986 youth-years; maya 1, cal 1 (30 June, local), dee 1
    # (December 2024) = 3 -> 3 / (401 / 365) = 2.7307 per youth-year.
    after = figures["missing_after"]
    assert (after.count, after.n) == (3, 5)
    assert after.value == pytest.approx(3 * 365 / 401)
    assert after.value == pytest.approx(2.7307, abs=1e-4)
    assert figures["missing_difference"].value == pytest.approx(3 * 365 / 401 - 0.6)
    # Exact (Garwood) interval of a rate: chi-square quantiles / 2, per youth-year.
    assert (before.ci_low, before.ci_high) == pytest.approx(
        (stats.chi2.ppf(0.025, 6) / 2 / 5, stats.chi2.ppf(0.975, 8) / 2 / 5)
    )
    assert (before.ci_low, before.ci_high) == pytest.approx((0.1237, 1.7534), abs=1e-4)
    # Ratio 2.7307 / 0.6 = 4.551. Its exact interval: 3 of the 6 episodes fell while enrolled;
    # Clopper-Pearson for 3 / 6 is 0.1181 to 0.8819 (beta quantiles); the ratio is
    # p / (1 - p) * (5 / 1.0986).
    ratio = figures["missing_ratio"]
    assert ratio.value == pytest.approx((3 * 365 / 401) / 0.6)
    p_low, p_high = stats.beta.ppf(0.025, 3, 4), stats.beta.ppf(0.975, 4, 3)
    scale = 5 / (401 / 365)
    assert (ratio.ci_low, ratio.ci_high) == pytest.approx(
        (p_low / (1 - p_low) * scale, p_high / (1 - p_high) * scale)
    )
    assert (ratio.ci_low, ratio.ci_high) == pytest.approx((0.610, 33.98), abs=5e-3)
    assert (ratio.count, ratio.n) == (6, 5)


def test_screening_change(harbor: Harbor) -> None:
    figures = figures_as_of(harbor.program)
    # maya: no concern (the worker's level) -> clear: worse. bea: clear (within 30 days after
    # enrolling) -> no concern: improved (April is after she left). cal: possible -> possible:
    # same ("not enough information" is passed over). gus: no concern (the amendment, not the
    # clear original) -> no concern: same. dee: no second screen. 1 improved, 2 same, 1 worse.
    improved, same, worse = (
        figures[k] for k in ("screening_improved", "screening_same", "screening_worse")
    )
    assert [(f.count, f.n) for f in (improved, same, worse)] == [(1, 4), (2, 4), (1, 4)]
    assert (improved.value, same.value, worse.value) == (0.25, 0.5, 0.25)
    assert (improved.ci_low, improved.ci_high) == pytest.approx(wilson(1, 4))


def test_stage_of_change_and_any_measure(harbor: Harbor) -> None:
    figures = figures_as_of(harbor.program)
    # Pairs (first, latest within the enrolment): maya 2 -> 4 (+2), bea 3 -> 2 (-1), cal 1 -> 5
    # (+4); gus has one observation in his enrolment, dee two on the same day. Mean 5/3 = 1.667;
    # sd = sqrt(((1/3)^2 + (8/3)^2 + (7/3)^2) / 2) = 2.5166; t(0.975, 2) = 4.3027;
    # 1.667 -/+ 4.3027 * 2.5166 / sqrt(3) = -4.585 to 7.918.
    stage = figures["change_stage_of_change"]
    assert (stage.n, stage.value, stage.better) == (3, pytest.approx(5 / 3), "higher")
    half = 4.302652729911275 * math.sqrt(19 / 3) / math.sqrt(3)
    assert (stage.ci_low, stage.ci_high) == pytest.approx((5 / 3 - half, 5 / 3 + half))
    assert (stage.ci_low, stage.ci_high) == pytest.approx((-4.585, 7.918), abs=1e-3)
    assert effectiveness.stage_of_change(harbor.program, START, END) == stage
    # Arrests (lower is better): maya 2 -> 0, one pair: -2, no interval from one pair.
    arrests = effectiveness.pre_post(
        harbor.program, START, END, OutcomeMeasure.objects.get(code="arrests")
    )
    assert (arrests.value, arrests.n, arrests.ci_low, arrests.better) == (-2, 1, None, "lower")
    assert figures["change_arrests"] == arrests
    # A measure nobody recorded: no value, n 0.
    assert (figures["change_school_attendance"].value, figures["change_school_attendance"].n) == (
        None,
        0,
    )


def selects(queries: CaptureQueriesContext) -> int:
    """The queries that read (PostgreSQL adds a savepoint and SET LOCAL around them)."""
    return sum(query["sql"].lstrip().upper().startswith("SELECT") for query in queries)


def test_all_figures_come_in_a_fixed_order_from_five_queries(harbor: Harbor) -> None:
    with at(AS_OF), CaptureQueriesContext(connection) as queries:
        keys = [figure.key for figure in effectiveness.all_figures(harbor.program, START, END)]
    assert selects(queries) == 5
    assert keys[:18] == [
        "referral_completion",
        "time_to_first_service",
        "matched_48h",
        "contact_success",
        "retention_median",
        "retention_90d",
        "retention_180d",
        "missing_before",
        "missing_after",
        "missing_difference",
        "missing_ratio",
        "screening_improved",
        "screening_same",
        "screening_worse",
        "change_stage_of_change",
        "change_arrests",
        "change_lapse",
        "change_placement_moves",
    ]
    # The contact log stands in for the "missing episodes" and "engagement" measures.
    assert "change_missing_episodes" not in keys
    assert "change_engagement" not in keys
    # Labels are translated when shown.
    with at(AS_OF):
        first = effectiveness.all_figures(harbor.program, START, END)[5]
    assert str(first.label) == "Still engaged after 90 days"


def test_a_program_without_data_has_no_figures_only_n_zero(world: World, program: Program) -> None:
    empty = services.program_create(
        actor=world.county_supervisor,
        name="Harbor Drop-in",
        kind=ProgramKind.DROP_IN,
        starts_on=datetime.date(2024, 1, 1),
    )
    with CaptureQueriesContext(connection) as queries:
        figures = effectiveness.all_figures(empty, START, END)
    assert selects(queries) == 5
    assert figures
    for figure in figures:
        assert (figure.key, figure.value, figure.n) == (figure.key, None, 0)
        assert (figure.ci_low, figure.ci_high) == (None, None)


def test_retention_when_nobody_has_left(world: World, program: Program) -> None:
    # One youth, enrolled since 1 March 2025 and still there: followed 121 days, censored.
    # Nobody left, so S stays 1 (and is certain); the median is not reached.
    _enrol(world, program, world.maya, "2025-03-01")
    median, at_90, at_180 = effectiveness.retention(program, START, END)
    assert (median.value, median.n, median.ci_low, median.ci_high) == (None, 1, None, None)
    assert (at_90.value, at_90.ci_low, at_90.ci_high) == (1.0, 1.0, 1.0)
    assert (at_180.value, at_180.n) == (None, 1)  # nobody followed that long
    assert [(p.day, p.survival) for p in median.curve] == [(0, 1.0), (121, 1.0)]


def test_every_figure_is_defined_in_the_docs(program: Program) -> None:
    text = (Path(settings.BASE_DIR) / "docs" / "outcomes.md").read_text(encoding="utf-8")
    section = text.split("## How each figure is computed", 1)[1].split("\n## ", 1)[0]
    headings = {
        re.sub(r"[^a-z0-9 -]", "", line[4:].strip().lower()).replace(" ", "-")
        for line in section.splitlines()
        if line.startswith("### ")
    }
    anchors = {
        figure.definition_anchor for figure in effectiveness.all_figures(program, START, END)
    }
    assert anchors <= headings


def test_a_period_must_run_forwards_and_at_most_ten_years(program: Program) -> None:
    with pytest.raises(ValidationError) as caught:
        effectiveness.all_figures(program, END, START)
    assert "ends before it starts" in caught.value.message_dict["end"][0]
    with pytest.raises(ValidationError) as caught:
        effectiveness.contact_success(program, d("2015-01-01"), d("2025-01-02"))
    assert "at most 10 years" in caught.value.message_dict["end"][0]
    # Exactly ten years, and a single day, are fine.
    assert effectiveness.contact_success(program, d("2015-01-01"), d("2025-01-01")).n == 0
    assert effectiveness.contact_success(program, START, START).n == 0
    with pytest.raises(ValidationError):
        effectiveness.pre_post(
            program, d("2016-02-29"), d("2026-03-01"), OutcomeMeasure.objects.get(code="arrests")
        )
