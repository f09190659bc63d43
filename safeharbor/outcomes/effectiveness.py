"""Program effectiveness: every figure for one program and one period, computed when asked.

Pure reads: nothing here is stored and nothing is audited (the page or report that shows the
figures records the view). Each figure is a ``Figure``: its value, the ``n`` it rests on, and a
95 % confidence interval where one makes sense; with no data its value is ``None`` and ``n`` is 0,
never a made-up 0. docs/outcomes.md ("How each figure is computed") defines each one; a figure's
``definition_anchor`` is its heading there.

Scale: the counting is done in SQL, in a fixed number of queries whatever the size of the program
(``all_figures`` runs five). Only per-enrolment rows come back to Python, where the statistics
need them (Kaplan-Meier, medians, paired differences): one row per enrolment, with its first
service, its missing-episode counts and its screening levels already worked out by the database,
and at most two rows per enrolment and measure for the changes in outcome measures.

"The enrolled youth" of a period are the program's enrolments that overlap it. An enrolment is
followed from its start to its exit, or to the end of the period when it goes on past it
(``_window_end``). Records that belong to an agency (referrals, screenings) count only where the
program's agency made them: a program is credited with its own work, and another agency's records
do not leak into its figures. The youth's own events (contact attempts, missing episodes) count
whoever logged them.
"""

from __future__ import annotations

import datetime
import math
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from types import ModuleType
from typing import Any

import numpy as np
from django.core.exceptions import ValidationError
from django.db.models import (
    Case,
    Count,
    DateField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, Least, NullIf, RowNumber
from django.utils import timezone
from django.utils.functional import Promise, lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from safeharbor.contact.choices import SUCCESSFUL_OUTCOMES
from safeharbor.contact.models import ContactAttempt, MissingEpisode
from safeharbor.core import clock
from safeharbor.referrals import workflow
from safeharbor.referrals.choices import Outcome as ReferralOutcome
from safeharbor.referrals.choices import Status as ReferralStatus
from safeharbor.referrals.deadlines import MATCH_WITHIN
from safeharbor.referrals.models import Referral
from safeharbor.screening.choices import LEVEL_RANK, ConcernLevel, ScreeningStatus
from safeharbor.screening.models import Screening

from .choices import DISENGAGED
from .localdate import local_date
from .models import Enrolment, OutcomeMeasure, Program, ServiceDelivery
from .reading import figure_reads


def _stats() -> ModuleType:
    """``scipy.stats``, imported on first use: importing it takes half a second and some
    40,000 objects, and only these figures need it, while every process imports this module at
    start-up (the outcomes panels do): every command, test run and worker paid for it."""
    from scipy import stats

    return stats


CONFIDENCE = 0.95
MAX_PERIOD_YEARS = 10
# The window before an enrolment that missing episodes are compared with; one youth-year.
BEFORE_DAYS = 365
DAYS_PER_YOUTH_YEAR = 365
# A screening this long after the start still counts as the baseline when none came before it.
BASELINE_GRACE = datetime.timedelta(days=30)
RETENTION_DAYS = (90, 180)
STAGE_OF_CHANGE = "stage_of_change"
# Measures whose figures come from the contact log instead (docs/outcomes.md): not repeated.
FROM_THE_CONTACT_LOG = frozenset({"missing_episodes", "engagement"})
# Concern levels that can be compared, least concern first. "Not enough information" says
# nothing about the youth's situation, so a screening at that level is passed over.
_COMPARABLE_LEVELS = (
    ConcernLevel.NO_CONCERN,
    ConcernLevel.POSSIBLE_CONCERN,
    ConcernLevel.CLEAR_CONCERN,
)


class Unit(StrEnum):
    PROPORTION = "proportion"  # from 0 to 1
    DAYS = "days"
    PER_YOUTH_YEAR = "per_youth_year"
    RATIO = "ratio"
    CHANGE = "change"  # a mean change, in the measure's own units (stages for a stage measure)


class Better(StrEnum):
    HIGHER = "higher"
    LOWER = "lower"
    NEITHER = ""


@dataclass(frozen=True)
class CurvePoint:
    """One step of the retention curve: from ``day`` on (until the next point), ``survival`` of
    the enrolments are still engaged, between ``low`` and ``high`` (95 %; None where the
    interval is undefined). The curve starts at day 0 with everyone."""

    day: float
    survival: float
    low: float | None
    high: float | None


@dataclass(frozen=True)
class Figure:
    """One figure: ``value`` in ``unit`` (None when there is nothing to compute it from), the
    ``n`` it rests on (always stated), its 95 % interval where one makes sense, and the heading
    of docs/outcomes.md that defines it."""

    key: str
    label: Promise | str
    value: float | None
    n: int
    ci_low: float | None
    ci_high: float | None
    unit: str
    definition_anchor: str
    # How many of the n the figure counts: the k of a share, the episodes of a rate.
    count: int | None = None
    # Which way is good news for the value (pages word a change with it).
    better: str = Better.NEITHER
    # The Kaplan-Meier steps, on the retention figures only.
    curve: tuple[CurvePoint, ...] = ()


def _format(template: Promise, **values: Any) -> Promise | str:
    """``template % values``, translated when it is shown (not when it is built)."""
    return lazy(lambda: str(template) % values, str)()


# --- The period ------------------------------------------------------------------------------


def _years_after(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def check_period(start: datetime.date, end: datetime.date) -> None:
    """Raise ValidationError (fields ``start``/``end``) for a period that cannot be reported."""
    if end < start:
        raise ValidationError(
            {"end": [gettext("The period ends before it starts. Check both dates.")]}
        )
    if end > _years_after(start, MAX_PERIOD_YEARS):
        message = gettext("Choose a period of at most %(years)d years.") % {
            "years": MAX_PERIOD_YEARS
        }
        raise ValidationError({"end": [message]})


def _day_start(day: datetime.date) -> datetime.datetime:
    """Midnight starting ``day`` in the deployment's time zone (where dates are read)."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _datetimes(start: datetime.date, end: datetime.date) -> tuple[datetime.datetime, ...]:
    """The period as ``[from, to)`` times: from the first day's midnight to the day after."""
    return _day_start(start), _day_start(end + datetime.timedelta(days=1))


def _date(value: datetime.date) -> Value:
    return Value(value, output_field=DateField())


def _enrolments(program: Program, start: datetime.date, end: datetime.date) -> QuerySet[Enrolment]:
    """The program's enrolments that overlap the period."""
    return Enrolment.objects.filter(program=program, starts_on__lte=end).exclude(ends_on__lt=start)


def _window_end(end: datetime.date) -> Least:
    """An enrolment's last day in view: its exit, or the period's end if sooner (or no exit)."""
    return Least(Coalesce("ends_on", _date(end)), _date(end), output_field=DateField())


def _enrolled_on(program: Program, day: str) -> Exists:
    """The outer row's youth was enrolled in the program on the outer row's ``day``."""
    return Exists(
        Enrolment.objects.filter(
            youth=OuterRef("youth"), program=program, starts_on__lte=OuterRef(day)
        ).filter(Q(ends_on__isnull=True) | Q(ends_on__gte=OuterRef(day)))
    )


def _enrolled_youth(program: Program, start: datetime.date, end: datetime.date) -> QuerySet:
    return _enrolments(program, start, end).values("youth_id")


# --- Statistics ------------------------------------------------------------------------------


def _finite(value: Any) -> float | None:
    number = float(value)
    return number if math.isfinite(number) else None


def _share(
    key: str, label: Promise, anchor: str, k: int, n: int, better: str = Better.HIGHER
) -> Figure:
    """k of n, with the Wilson score interval."""
    if n == 0:
        return Figure(key, label, None, 0, None, None, Unit.PROPORTION, anchor, 0, better)
    interval = _stats().binomtest(k, n).proportion_ci(confidence_level=CONFIDENCE, method="wilson")
    return Figure(
        key,
        label,
        k / n,
        n,
        float(interval.low),
        float(interval.high),
        Unit.PROPORTION,
        anchor,
        k,
        better,
    )


def _mean_interval(differences: Sequence[float]) -> tuple[float | None, float | None, float | None]:
    """Mean and its t interval (the paired t interval, given the differences)."""
    n = len(differences)
    if n == 0:
        return None, None, None
    values = np.asarray(differences, dtype=float)
    mean = float(values.mean())
    if n == 1:
        return mean, None, None
    half = _stats().t.ppf((1 + CONFIDENCE) / 2, n - 1) * values.std(ddof=1) / math.sqrt(n)
    return mean, mean - float(half), mean + float(half)


def _poisson_interval(events: int, exposure: float) -> tuple[float | None, float | None]:
    """The exact (Garwood) interval of a Poisson rate: events per unit of exposure."""
    alpha = 1 - CONFIDENCE
    low = 0.0 if events == 0 else _stats().chi2.ppf(alpha / 2, 2 * events) / 2
    high = _stats().chi2.ppf(1 - alpha / 2, 2 * events + 2) / 2
    return float(low) / exposure, float(high) / exposure


# --- 1 and 2: referrals -------------------------------------------------------------------------


def _referral_counts(program: Program, start: datetime.date, end: datetime.date) -> dict[str, int]:
    """One query: the program's referrals sent in the period while the youth was enrolled."""
    since, until = _datetimes(start, end)
    now = clock.now()
    closed = Q(status__in=sorted(workflow.CLOSED))
    # Still within its 48 hours and not answered: not yet decided either way.
    pending = Q(status__in=sorted(workflow.AWAITING_REPLY), sent_at__gt=now - MATCH_WITHIN)
    matched = Q(accepted_at__isnull=False, accepted_at__lte=F("sent_at") + MATCH_WITHIN)
    return (
        Referral.objects.filter(
            referring_agency_id=program.agency_id,
            sent_at__gte=since,
            sent_at__lt=until,
            youth_id__in=_enrolled_youth(program, start, end),
        )
        .exclude(status=ReferralStatus.ENTERED_IN_ERROR)
        .annotate(day=local_date("sent_at", start, end))
        .filter(_enrolled_on(program, "day"))
        .aggregate(
            closed=Count("pk", filter=closed),
            got_help=Count(
                "pk",
                filter=closed
                & Q(status=ReferralStatus.COMPLETED, outcome=ReferralOutcome.GOT_HELP),
            ),
            decided=Count("pk", filter=~pending),
            matched=Count("pk", filter=~pending & matched),
        )
    )


def _referral_completion(counts: dict[str, int]) -> Figure:
    return _share(
        "referral_completion",
        _("Referrals completed with help received"),
        "referral-completion",
        counts["got_help"],
        counts["closed"],
    )


def _matched_48h(counts: dict[str, int]) -> Figure:
    return _share(
        "matched_48h",
        _("Referrals accepted within 48 hours"),
        "matched-within-48-hours",
        counts["matched"],
        counts["decided"],
    )


@figure_reads()
def referral_completion(program: Program, start: datetime.date, end: datetime.date) -> Figure:
    check_period(start, end)
    return _referral_completion(_referral_counts(program, start, end))


@figure_reads()
def matched_within_48_hours(program: Program, start: datetime.date, end: datetime.date) -> Figure:
    check_period(start, end)
    return _matched_48h(_referral_counts(program, start, end))


# --- 3: contact attempts ----------------------------------------------------------------------


def _contact_counts(program: Program, start: datetime.date, end: datetime.date) -> dict[str, int]:
    since, until = _datetimes(start, end)
    return (
        # Enrolled on the day implies being among the enrolled youth, so no ``youth_id IN``
        # as well: on PostgreSQL that extra semi-join made this query 3 to 5 times slower.
        ContactAttempt.objects.filter(attempted_at__gte=since, attempted_at__lt=until)
        .annotate(day=local_date("attempted_at", start, end))
        .filter(_enrolled_on(program, "day"))
        .aggregate(
            attempts=Count("pk"),
            reached=Count("pk", filter=Q(outcome__in=sorted(SUCCESSFUL_OUTCOMES))),
        )
    )


def _contact_success(counts: dict[str, int]) -> Figure:
    return _share(
        "contact_success",
        _("Contact attempts that reached the youth"),
        "contact-success",
        counts["reached"],
        counts["attempts"],
    )


@figure_reads()
def contact_success(program: Program, start: datetime.date, end: datetime.date) -> Figure:
    check_period(start, end)
    return _contact_success(_contact_counts(program, start, end))


# --- Per-enrolment rows: first service, retention, missing episodes, screening ----------------


@dataclass(frozen=True)
class _Row:
    starts_on: datetime.date
    ends_on: datetime.date | None
    exit_reason: str
    window_end: datetime.date
    first_service: datetime.date | None
    missing_before: int
    missing_after: int
    baseline_rank: int | None
    followup_rank: int | None


def _count_of(queryset: QuerySet) -> Coalesce:
    """COUNT(*) of a correlated queryset, as a scalar subquery (0 when it has no rows)."""
    counted = queryset.order_by().values("youth").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def _comparable_screenings(program: Program, start: datetime.date, end: datetime.date) -> QuerySet:
    """The program's agency's completed screenings of the outer row's youth at a level that can
    be compared, with the level that counts (the worker's override, else the computed one) as a
    rank; a screening later amended is replaced by its amendment, as the screening app shows."""
    level = Coalesce(NullIf("override_level", Value("")), "computed_level")
    rank = Case(
        *(When(final_level=lv, then=Value(LEVEL_RANK[lv])) for lv in _COMPARABLE_LEVELS),
        output_field=IntegerField(),
    )
    return (
        Screening.objects.filter(
            youth=OuterRef("youth"),
            agency_id=program.agency_id,
            status=ScreeningStatus.COMPLETED,
        )
        .exclude(Exists(Screening.objects.filter(amends=OuterRef("pk"))))
        .annotate(final_level=level)
        .filter(final_level__in=_COMPARABLE_LEVELS)
        .annotate(rank=rank, day=local_date("completed_at", start, end))
    )


def _enrolment_rows(program: Program, start: datetime.date, end: datetime.date) -> list[_Row]:
    """One query: a row per enrolment overlapping the period, the counting done in SQL."""
    first_service = (
        ServiceDelivery.objects.filter(
            youth=OuterRef("youth"),
            program=OuterRef("program"),
            delivered_on__gte=OuterRef("starts_on"),
            delivered_on__lte=Coalesce(OuterRef("ends_on"), _date(datetime.date.max)),
        )
        .order_by("delivered_on")
        .values("delivered_on")[:1]
    )
    episodes = MissingEpisode.objects.filter(youth=OuterRef("youth")).annotate(
        day=local_date("started_at", start, end)
    )
    before = episodes.filter(
        day__gte=OuterRef("starts_on") - datetime.timedelta(days=BEFORE_DAYS),
        day__lt=OuterRef("starts_on"),
    )
    after = episodes.filter(day__gte=OuterRef("starts_on"), day__lte=OuterRef("window_end"))
    screenings = _comparable_screenings(program, start, end)
    last_before = screenings.filter(day__lte=OuterRef("starts_on")).order_by("-completed_at", "-pk")
    first_after = screenings.filter(
        day__gt=OuterRef("starts_on"), day__lte=OuterRef("starts_on") + BASELINE_GRACE
    ).order_by("completed_at", "pk")
    followup = screenings.filter(
        completed_at__gt=OuterRef("baseline_at"),
        day__gte=OuterRef("starts_on"),
        day__lte=OuterRef("window_end"),
    ).order_by("-completed_at", "-pk")
    rows = (
        _enrolments(program, start, end)
        .order_by()
        .annotate(window_end=_window_end(end))
        .annotate(
            # Only the enrolments that start in the period are asked for their first service.
            first_service=Case(
                When(starts_on__gte=start, then=Subquery(first_service)),
                default=None,
                output_field=DateField(),
            ),
            missing_before=_count_of(before),
            missing_after=_count_of(after),
            baseline_at=Coalesce(
                Subquery(last_before.values("completed_at")[:1]),
                Subquery(first_after.values("completed_at")[:1]),
            ),
            baseline_rank=Coalesce(
                Subquery(last_before.values("rank")[:1]),
                Subquery(first_after.values("rank")[:1]),
            ),
        )
        .annotate(followup_rank=Subquery(followup.values("rank")[:1]))
        .values_list(
            "starts_on",
            "ends_on",
            "exit_reason",
            "window_end",
            "first_service",
            "missing_before",
            "missing_after",
            "baseline_rank",
            "followup_rank",
        )
    )
    return [_Row(*row) for row in rows]


def _time_to_first_service(rows: Iterable[_Row], start: datetime.date) -> Figure:
    days = [
        (row.first_service - row.starts_on).days
        for row in rows
        if row.starts_on >= start and row.first_service is not None
    ]
    key, label, anchor = (
        "time_to_first_service",
        _("Days to the first service"),
        "time-to-first-service",
    )
    if not days:
        return Figure(key, label, None, 0, None, None, Unit.DAYS, anchor, better=Better.LOWER)
    values = np.asarray(days, dtype=float)
    test = _stats().quantile_test(values, q=float(np.median(values)), p=0.5)
    interval = test.confidence_interval(CONFIDENCE)
    return Figure(
        key,
        label,
        float(np.median(values)),
        len(days),
        _finite(interval.low),
        _finite(interval.high),
        Unit.DAYS,
        anchor,
        better=Better.LOWER,
    )


def _first_at_or_below(days: np.ndarray, curve: np.ndarray, level: float) -> float | None:
    """The first day on which ``curve`` is at or below ``level`` (NaN never counts)."""
    below = np.flatnonzero(np.nan_to_num(curve, nan=np.inf) <= level)
    return float(days[below[0]]) if below.size else None


def _retention(rows: Sequence[_Row], end: datetime.date) -> list[Figure]:
    """Kaplan-Meier estimate of staying engaged, from the days each enrolment was followed."""
    anchor = "engagement-retention"
    keys = [
        ("retention_median", _("Median days engaged"), Unit.DAYS),
        *(
            (
                f"retention_{days}d",
                _format(_("Still engaged after %(days)d days"), days=days),
                Unit.PROPORTION,
            )
            for days in RETENTION_DAYS
        ),
    ]
    if not rows:
        return [
            Figure(key, label, None, 0, None, None, unit, anchor, better=Better.HIGHER)
            for key, label, unit in keys
        ]
    durations = np.array([(row.window_end - row.starts_on).days for row in rows], dtype=float)
    disengaged = np.array(
        [
            row.ends_on is not None and row.ends_on <= end and row.exit_reason in DISENGAGED
            for row in rows
        ]
    )
    data = _stats().CensoredData(uncensored=durations[disengaged], right=durations[~disengaged])
    sf = _stats().ecdf(data).sf
    with warnings.catch_warnings(action="ignore", category=RuntimeWarning):
        # Where S is 1 or 0 the log-log formula is undefined (NaN, handled below); scipy warns.
        band = sf.confidence_interval(CONFIDENCE, method="log-log")
    days, survival = sf.quantiles, sf.probabilities
    low, high = band.low.probabilities.copy(), band.high.probabilities.copy()
    # Nobody has left yet: no uncertainty (the formula divides by zero there).
    low[survival == 1], high[survival == 1] = 1.0, 1.0
    points = [CurvePoint(0.0, 1.0, 1.0, 1.0)] if days[0] > 0 else []
    points += [
        CurvePoint(float(t), float(s), _finite(lo), _finite(hi))
        for t, s, lo, hi in zip(days, survival, low, high, strict=True)
    ]
    curve = tuple(points)
    n = len(rows)
    median = Figure(
        "retention_median",
        keys[0][1],
        _first_at_or_below(days, survival, 0.5),
        n,
        _first_at_or_below(days, low, 0.5),
        _first_at_or_below(days, high, 0.5),
        Unit.DAYS,
        anchor,
        better=Better.HIGHER,
        curve=curve,
    )
    figures = [median]
    for (key, label, unit), at in zip(keys[1:], RETENTION_DAYS, strict=True):
        # Known at ``at`` only if someone was followed that long, or nobody was left before.
        known = durations.max() >= at or survival[-1] == 0
        value = float(sf.evaluate(at)) if known else None
        lo = _finite(band.low.evaluate(at)) if known else None
        hi = _finite(band.high.evaluate(at)) if known else None
        if value == 1.0:
            lo, hi = 1.0, 1.0
        figures.append(
            Figure(key, label, value, n, lo, hi, unit, anchor, better=Better.HIGHER, curve=curve)
        )
    return figures


def _missing_episodes(rows: Sequence[_Row]) -> list[Figure]:
    """Missing episodes per youth-year in the year before enrolment and while enrolled."""
    anchor = "missing-episodes"
    n = len(rows)
    before_events = sum(row.missing_before for row in rows)
    after_events = sum(row.missing_after for row in rows)
    before_years = n * BEFORE_DAYS / DAYS_PER_YOUTH_YEAR
    after_years = (
        sum((row.window_end - row.starts_on).days + 1 for row in rows) / DAYS_PER_YOUTH_YEAR
    )
    labels = {
        "missing_before": _("Missing episodes per youth-year, the year before enrolment"),
        "missing_after": _("Missing episodes per youth-year, while enrolled"),
        "missing_difference": _("Change in missing episodes per youth-year"),
        "missing_ratio": _("Missing episodes while enrolled, relative to the year before"),
    }
    if n == 0:
        units = [Unit.PER_YOUTH_YEAR, Unit.PER_YOUTH_YEAR, Unit.PER_YOUTH_YEAR, Unit.RATIO]
        return [
            Figure(key, label, None, 0, None, None, unit, anchor, better=Better.LOWER)
            for (key, label), unit in zip(labels.items(), units, strict=True)
        ]
    before_rate, after_rate = before_events / before_years, after_events / after_years
    figures = [
        Figure(
            "missing_before",
            labels["missing_before"],
            before_rate,
            n,
            *_poisson_interval(before_events, before_years),
            Unit.PER_YOUTH_YEAR,
            anchor,
            count=before_events,
            better=Better.LOWER,
        ),
        Figure(
            "missing_after",
            labels["missing_after"],
            after_rate,
            n,
            *_poisson_interval(after_events, after_years),
            Unit.PER_YOUTH_YEAR,
            anchor,
            count=after_events,
            better=Better.LOWER,
        ),
        Figure(
            "missing_difference",
            labels["missing_difference"],
            after_rate - before_rate,
            n,
            None,
            None,  # the interval is the ratio's
            Unit.PER_YOUTH_YEAR,
            anchor,
            better=Better.LOWER,
        ),
    ]
    # The exact conditional interval of a ratio of Poisson rates: given all the episodes, those
    # while enrolled are binomial with p = ratio * T_after / (ratio * T_after + T_before).
    total = before_events + after_events
    ratio: float | None = None
    ratio_low: float | None = None
    ratio_high: float | None = None
    if total:
        interval = (
            _stats()
            .binomtest(after_events, total)
            .proportion_ci(confidence_level=CONFIDENCE, method="exact")
        )
        scale = before_years / after_years
        ratio = after_rate / before_rate if before_events else None
        ratio_low = float(interval.low) / (1 - float(interval.low)) * scale
        ratio_high = (
            float(interval.high) / (1 - float(interval.high)) * scale if interval.high < 1 else None
        )
    figures.append(
        Figure(
            "missing_ratio",
            labels["missing_ratio"],
            ratio,
            n,
            ratio_low,
            ratio_high,
            Unit.RATIO,
            anchor,
            count=total,
            better=Better.LOWER,
        )
    )
    return figures


def _screening_change(rows: Iterable[_Row]) -> list[Figure]:
    pairs = [
        (row.baseline_rank, row.followup_rank)
        for row in rows
        if row.baseline_rank is not None and row.followup_rank is not None
    ]
    n = len(pairs)
    improved = sum(after < before for before, after in pairs)
    worse = sum(after > before for before, after in pairs)
    anchor = "screening-change"
    return [
        _share("screening_improved", _("Screening concern lower"), anchor, improved, n),
        _share(
            "screening_same",
            _("Screening concern unchanged"),
            anchor,
            n - improved - worse,
            n,
            Better.NEITHER,
        ),
        _share("screening_worse", _("Screening concern higher"), anchor, worse, n, Better.LOWER),
    ]


@figure_reads()
def time_to_first_service(program: Program, start: datetime.date, end: datetime.date) -> Figure:
    check_period(start, end)
    return _time_to_first_service(_enrolment_rows(program, start, end), start)


@figure_reads()
def retention(program: Program, start: datetime.date, end: datetime.date) -> list[Figure]:
    """The median days engaged and the share engaged at 90 and 180 days; each carries the
    Kaplan-Meier curve (``Figure.curve``)."""
    check_period(start, end)
    return _retention(_enrolment_rows(program, start, end), end)


@figure_reads()
def missing_episodes(program: Program, start: datetime.date, end: datetime.date) -> list[Figure]:
    """Rates before and while enrolled, their difference, and their ratio (with the interval)."""
    check_period(start, end)
    return _missing_episodes(_enrolment_rows(program, start, end))


@figure_reads()
def screening_change(program: Program, start: datetime.date, end: datetime.date) -> list[Figure]:
    """Shares of enrolments whose screening concern went down, stayed, went up."""
    check_period(start, end)
    return _screening_change(_enrolment_rows(program, start, end))


# --- 7 and 8: outcome measures before and after ----------------------------------------------


def _measure_pairs(
    program: Program,
    start: datetime.date,
    end: datetime.date,
    measures: Sequence[OutcomeMeasure],
) -> dict[int, list[tuple[Decimal, Decimal]]]:
    """One query: per enrolment and measure, the first observation within the enrolment and
    the latest one (both up to the end of the period), picked by the database with window
    functions: at most two rows per enrolment and measure come back, however many there are.
    A pair needs the latest on a later day than the first."""
    if not measures:
        return {}
    seen = "youth__observations__"
    partition = [F("pk"), F(f"{seen}measure_id")]
    rows = (
        _enrolments(program, start, end)
        .order_by()
        .annotate(window_end=_window_end(end))
        .filter(
            **{
                f"{seen}measure_id__in": [measure.pk for measure in measures],
                f"{seen}observed_on__gte": F("starts_on"),
                f"{seen}observed_on__lte": F("window_end"),
            }
        )
        .annotate(
            first=Window(
                RowNumber(),
                partition_by=partition,
                order_by=[F(f"{seen}observed_on").asc(), F(f"{seen}id").asc()],
            ),
            latest=Window(
                RowNumber(),
                partition_by=partition,
                order_by=[F(f"{seen}observed_on").desc(), F(f"{seen}id").desc()],
            ),
        )
        .filter(Q(first=1) | Q(latest=1))
        .values_list(
            "pk", f"{seen}measure_id", f"{seen}observed_on", f"{seen}value", "first", "latest"
        )
    )
    firsts: dict[tuple[int, int], tuple[datetime.date, Decimal]] = {}
    latests: dict[tuple[int, int], tuple[datetime.date, Decimal]] = {}
    for enrolment_id, measure_id, observed_on, value, first, latest in rows:
        if first == 1:
            firsts[(enrolment_id, measure_id)] = (observed_on, Decimal(value))
        if latest == 1:
            latests[(enrolment_id, measure_id)] = (observed_on, Decimal(value))
    pairs: dict[int, list[tuple[Decimal, Decimal]]] = {measure.pk: [] for measure in measures}
    for key, (first_on, first_value) in sorted(firsts.items()):
        last_on, last_value = latests[key]
        if last_on > first_on:
            pairs[key[1]].append((first_value, last_value))
    return pairs


def _pre_post(measure: OutcomeMeasure, pairs: Sequence[tuple[Decimal, Decimal]]) -> Figure:
    mean, low, high = _mean_interval([float(last - first) for first, last in pairs])
    return Figure(
        f"change_{measure.code}",
        _format(_("Change in %(measure)s"), measure=measure.name),
        mean,
        len(pairs),
        low,
        high,
        Unit.CHANGE,
        "change-in-an-outcome-measure",
        better=Better.HIGHER if measure.higher_is_better else Better.LOWER,
    )


@figure_reads()
def pre_post(
    program: Program, start: datetime.date, end: datetime.date, measure: OutcomeMeasure
) -> Figure:
    """The mean change in a measure from the first to the latest observation of each enrolment,
    with its paired t interval (``Figure.better`` says which way is good for this measure)."""
    check_period(start, end)
    return _pre_post(measure, _measure_pairs(program, start, end, [measure])[measure.pk])


@figure_reads()
def stage_of_change(program: Program, start: datetime.date, end: datetime.date) -> Figure:
    check_period(start, end)
    measure = OutcomeMeasure.objects.filter(code=STAGE_OF_CHANGE).first()
    if measure is None:  # an agency deleted it: nothing to compare
        label = _("Change in stage of change")
        anchor = "change-in-an-outcome-measure"
        return Figure(f"change_{STAGE_OF_CHANGE}", label, None, 0, None, None, Unit.CHANGE, anchor)
    return pre_post(program, start, end, measure)


def _measures_in_order() -> list[OutcomeMeasure]:
    """Stage of change first, then the others by code, less those the contact log replaces."""
    measures = OutcomeMeasure.objects.exclude(code__in=sorted(FROM_THE_CONTACT_LOG))
    return sorted(measures, key=lambda m: (m.code != STAGE_OF_CHANGE, m.code))


# --- Everything ------------------------------------------------------------------------------


@figure_reads()
def all_figures(program: Program, start: datetime.date, end: datetime.date) -> list[Figure]:
    """Every figure of the program for the period, always in the same order, in five queries."""
    check_period(start, end)
    referrals = _referral_counts(program, start, end)
    contacts = _contact_counts(program, start, end)
    rows = _enrolment_rows(program, start, end)
    measures = _measures_in_order()
    pairs = _measure_pairs(program, start, end, measures)
    return [
        _referral_completion(referrals),
        _time_to_first_service(rows, start),
        _matched_48h(referrals),
        _contact_success(contacts),
        *_retention(rows, end),
        *_missing_episodes(rows),
        *_screening_change(rows),
        *(_pre_post(measure, pairs[measure.pk]) for measure in measures),
    ]
