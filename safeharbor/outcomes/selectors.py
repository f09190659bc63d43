"""Every read of the outcomes app, through the policy and audited.

Two kinds of reader:

- a youth's workers. Enrolments, services delivered and outcome observations are the
  ``services`` category of ``access_for``; a youth the actor may not see, or whose services the
  policy withholds, is a 404, the same answer as for a youth that does not exist.
- an agency's supervisors, administrators and analysts, who see its programs with their funding
  and counts (``can_view_program_figures`` / ``can_manage_programs``): never a youth.

The youth's timeline also reads the screening, contact and referral rows directly (their models,
not their selectors, so that one page makes one audit event): each kind only after
``access_for(...).allows(view, <its category>)``.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from itertools import chain
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Sum
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from safeharbor.access.choices import Action, Category
from safeharbor.access.policy import (
    YouthAccess,
    can_manage_programs,
    can_view_program_figures,
)
from safeharbor.audit.choices import AuditAction
from safeharbor.audit.services import record, record_object
from safeharbor.contact.choices import Outcome as ContactOutcome
from safeharbor.contact.models import ContactAttempt
from safeharbor.core import clock
from safeharbor.core.routing import reporting_reads
from safeharbor.referrals.choices import Status as ReferralStatus
from safeharbor.referrals.models import Referral
from safeharbor.screening.choices import ScreeningStatus
from safeharbor.screening.models import Screening
from safeharbor.youth.selectors import youth_get

from . import effectiveness
from .choices import MeasureKind, ServiceType
from .models import (
    Enrolment,
    FundingSource,
    OutcomeMeasure,
    OutcomeObservation,
    Program,
    ServiceDelivery,
)

if TYPE_CHECKING:
    from safeharbor.accounts.models import User
    from safeharbor.youth.models import Youth

PANEL_SERVICES = 5
PANEL_ENROLMENTS = 20
# The timeline shows the newest this many entries (of every kind together).
TIMELINE_SIZE = 200
RECENT_DAYS = 90
TIMELINE_CATEGORIES: tuple[str, ...] = (
    Category.SCREENING,
    Category.CONTACT_PLAN,
    Category.REFERRALS,
    Category.SERVICES,
)


def value_label(measure: OutcomeMeasure, value: Decimal) -> str:
    """An observation as the worker entered it: the stage's name, yes or no, or the number."""
    if measure.kind == MeasureKind.STAGE:
        position = int(value)
        if 1 <= position <= len(measure.stages):
            # Shipped stage names are ChangeStage's labels, which the catalogue translates.
            return _(str(measure.stages[position - 1][1]))
    if measure.kind == MeasureKind.YES_NO:
        return _("Yes") if value == 1 else _("No")
    if value == value.to_integral_value():
        return str(int(value))
    return f"{value.normalize():f}"


# --- On the youth's page -------------------------------------------------------------------


@dataclass(frozen=True)
class Latest:
    """The newest observation of one measure."""

    measure: OutcomeMeasure
    observation: OutcomeObservation

    @property
    def shown(self) -> str:
        return value_label(self.measure, self.observation.value)


@dataclass(frozen=True)
class YouthOutcomes:
    youth: Youth
    enrolments: list[Enrolment]
    services: list[ServiceDelivery]
    services_total: int
    latest: list[Latest]
    can_change: bool

    @property
    def is_empty(self) -> bool:
        return not (self.enrolments or self.services or self.latest)


def _latest_observations(youth: Youth) -> list[Latest]:
    newest = (
        OutcomeObservation.objects.filter(youth=OuterRef("youth"), measure=OuterRef("measure"))
        .order_by("-observed_on", "-pk")
        .values("pk")[:1]
    )
    observations = (
        OutcomeObservation.objects.filter(youth=youth, pk=Subquery(newest))
        .select_related("measure")
        .order_by("measure__name")
    )
    return [Latest(measure=o.measure, observation=o) for o in observations]


def youth_outcomes(
    *, actor: User, youth: Youth, access: YouthAccess, request: HttpRequest | None = None
) -> YouthOutcomes | None:
    """Enrolments, the latest services and the latest observation of each measure, for the
    youth page; None where the policy withholds services. One audit event when anything shows."""
    if not access.allows(Action.VIEW, Category.SERVICES):
        return None
    enrolments = list(
        Enrolment.objects.filter(youth=youth).select_related("program__agency")[:PANEL_ENROLMENTS]
    )
    queryset = ServiceDelivery.objects.filter(youth=youth).select_related("program")
    services = list(queryset[:PANEL_SERVICES])
    data = YouthOutcomes(
        youth=youth,
        enrolments=enrolments,
        services=services,
        services_total=queryset.count() if len(services) == PANEL_SERVICES else len(services),
        latest=_latest_observations(youth),
        can_change=access.allows(Action.CHANGE, Category.SERVICES),
    )
    if not data.is_empty:
        record_object(
            actor=actor,
            action=AuditAction.LIST,
            obj=youth,
            youth_id=youth.pk,
            category=Category.SERVICES,
            request=request,
        )
    return data


# --- Writing pages: what a form needs ------------------------------------------------------


def youth_for_services(*, actor: User, youth_id: uuid.UUID) -> Youth:
    """The youth whose services the actor is about to record: 404 where the actor may not see
    them, PermissionDenied where the actor may see but not change them (a consented agency)."""
    youth, access = youth_get(actor=actor, youth_id=youth_id)
    if not access.allows(Action.VIEW, Category.SERVICES):
        raise Http404
    if not access.allows(Action.CHANGE, Category.SERVICES):
        raise PermissionDenied
    return youth


def enrolment_for_exit(
    *,
    actor: User,
    youth_id: uuid.UUID,
    enrolment_id: int,
    request: HttpRequest | None = None,
) -> Enrolment:
    """An open enrolment of a youth whose services the actor changes (audited as viewed);
    404 for an enrolment of another youth, one that has ended, or one that does not exist."""
    youth = youth_for_services(actor=actor, youth_id=youth_id)
    try:
        enrolment = Enrolment.objects.select_related("program", "youth").get(
            pk=enrolment_id, youth=youth, ends_on__isnull=True
        )
    except Enrolment.DoesNotExist as exc:
        raise Http404 from exc
    record_object(
        actor=actor,
        action=AuditAction.VIEW,
        obj=enrolment,
        youth_id=youth.pk,
        category=Category.SERVICES,
        request=request,
    )
    return enrolment


def enrolment_programs(*, actor: User) -> QuerySet[Program]:
    """The programs an actor may enrol a youth in: their own agency's."""
    agency_id = actor.agency_id_or_none
    if agency_id is None:
        return Program.objects.none()
    return Program.objects.filter(agency_id=agency_id)


def service_programs(*, actor: User, youth: Youth) -> QuerySet[Program]:
    """The actor's agency's programs the youth has been enrolled in (a service may count
    under one of them; the service checks the dates)."""
    agency_id = actor.agency_id_or_none
    if agency_id is None:
        return Program.objects.none()
    return Program.objects.filter(agency_id=agency_id, enrolments__youth=youth).distinct()


def outcome_measures() -> QuerySet[OutcomeMeasure]:
    return OutcomeMeasure.objects.all()


# --- The youth's timeline ------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One dated thing on the timeline; ``at`` is set where the time of day is known."""

    day: datetime.date
    at: datetime.datetime | None
    category: str
    title: str
    detail: str = ""

    @property
    def category_label(self) -> str:
        return str(Category(self.category).label)

    def sort_key(self) -> tuple[datetime.date, datetime.time]:
        return (self.day, self.at.time() if self.at else datetime.time.min)


@dataclass(frozen=True)
class Timeline:
    youth: Youth
    access: YouthAccess
    entries: list[Entry]
    shown: list[str]
    withheld: list[str]
    truncated: bool
    summary: list[tuple[str, str]]

    @property
    def shown_labels(self) -> list[str]:
        return [str(Category(c).label) for c in self.shown]

    @property
    def withheld_labels(self) -> list[str]:
        return [str(Category(c).label) for c in self.withheld]

    @property
    def show_identity(self) -> bool:
        return self.access.allows(Action.VIEW, Category.IDENTITY)


def _dated(moment: datetime.datetime, category: str, title: str, detail: str = "") -> Entry:
    local = timezone.localtime(moment)
    return Entry(day=local.date(), at=local, category=category, title=title, detail=detail)


def _screening_entries(youth: Youth) -> list[Entry]:
    screenings = (
        Screening.objects.filter(youth=youth, status=ScreeningStatus.COMPLETED)
        .select_related("instrument")
        .order_by("-completed_at", "-pk")[:TIMELINE_SIZE]
    )
    entries = []
    for screening in screenings:
        assert screening.completed_at is not None  # noqa: S101  (completed, by the filter)
        detail = _("Level: %(level)s") % {"level": screening.get_level_display()}
        if screening.amends_id:
            detail = _("%(detail)s (an amendment)") % {"detail": detail}
        title = _("Screening: %(instrument)s") % {"instrument": screening.instrument.title}
        entries.append(_dated(screening.completed_at, Category.SCREENING, title, detail))
    return entries


def _contact_entries(youth: Youth) -> list[Entry]:
    attempts = ContactAttempt.objects.filter(youth=youth).order_by("-attempted_at", "-pk")[
        :TIMELINE_SIZE
    ]
    return [
        _dated(
            attempt.attempted_at,
            Category.CONTACT_PLAN,
            _("Contact attempt: %(way)s") % {"way": attempt.get_channel_display()},
            attempt.get_outcome_display(),
        )
        for attempt in attempts
    ]


def _referral_entries(youth: Youth) -> list[Entry]:
    # A draft has not happened yet; a referral entered in error never happened.
    referrals = (
        Referral.objects.filter(youth=youth, sent_at__isnull=False)
        .exclude(status=ReferralStatus.ENTERED_IN_ERROR)
        .order_by("-sent_at", "-pk")[:TIMELINE_SIZE]
    )
    entries = []
    for referral in referrals:
        assert referral.sent_at is not None  # noqa: S101  (sent, by the filter)
        detail = referral.get_status_display()
        if referral.outcome:
            detail = _("%(status)s, outcome: %(outcome)s") % {
                "status": detail,
                "outcome": referral.get_outcome_display(),
            }
        title = _("Referral to %(service)s") % {"service": referral.service_name}
        entries.append(_dated(referral.sent_at, Category.REFERRALS, title, detail))
    return entries


def _services_entries(youth: Youth) -> list[Entry]:
    entries = []
    enrolments = (
        Enrolment.objects.filter(youth=youth)
        .select_related("program")
        .order_by("-starts_on", "-pk")[:TIMELINE_SIZE]
    )
    for enrolment in enrolments:
        name = enrolment.program.name
        entries.append(
            Entry(
                day=enrolment.starts_on,
                at=None,
                category=Category.SERVICES,
                title=_("Enrolled in %(program)s") % {"program": name},
            )
        )
        if enrolment.ends_on is not None:
            entries.append(
                Entry(
                    day=enrolment.ends_on,
                    at=None,
                    category=Category.SERVICES,
                    title=_("Left %(program)s") % {"program": name},
                    detail=enrolment.get_exit_reason_display(),
                )
            )
    deliveries = (
        ServiceDelivery.objects.filter(youth=youth)
        .select_related("program")
        .order_by("-delivered_on", "-pk")[:TIMELINE_SIZE]
    )
    for delivery in deliveries:
        detail = _("%(minutes)d minutes, %(how)s") % {
            "minutes": delivery.minutes,
            "how": delivery.get_mode_display(),
        }
        if delivery.program is not None:
            detail = _("%(detail)s, under %(program)s") % {
                "detail": detail,
                "program": delivery.program.name,
            }
        entries.append(
            Entry(
                day=delivery.delivered_on,
                at=None,
                category=Category.SERVICES,
                title=_("Service: %(service)s") % {"service": delivery.get_service_type_display()},
                detail=detail,
            )
        )
    observations = (
        OutcomeObservation.objects.filter(youth=youth)
        .select_related("measure")
        .order_by("-observed_on", "-pk")[:TIMELINE_SIZE]
    )
    for observation in observations:
        detail = value_label(observation.measure, observation.value)
        if observation.note:
            detail = f"{detail}. {observation.note}"
        entries.append(
            Entry(
                day=observation.observed_on,
                at=None,
                category=Category.SERVICES,
                title=_("Outcome: %(measure)s") % {"measure": observation.measure.name},
                detail=detail,
            )
        )
    return entries


def _minutes_label(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    return _("%(hours)d h %(minutes)02d min") % {"hours": hours, "minutes": rest}


def _summary(youth: Youth, shown: list[str], today: datetime.date) -> list[tuple[str, str]]:
    """A few figures about this one youth (the "micro" dashboard), each only with its category."""
    facts: list[tuple[str, str]] = []
    if Category.SERVICES in shown:
        open_programs = Enrolment.objects.filter(youth=youth, ends_on__isnull=True).values_list(
            "program__name", flat=True
        )
        facts.append((_("In programs now"), ", ".join(open_programs) or _("none")))
        recent = ServiceDelivery.objects.filter(
            youth=youth, delivered_on__gt=today - datetime.timedelta(days=RECENT_DAYS)
        ).aggregate(n=Count("pk"), minutes=Sum("minutes"))
        facts.append(
            (
                _("Services in the last %(days)d days") % {"days": RECENT_DAYS},
                _("%(count)d (%(time)s)")
                % {"count": recent["n"], "time": _minutes_label(recent["minutes"] or 0)},
            )
        )
    if Category.SCREENING in shown:
        screening = (
            Screening.objects.filter(youth=youth, status=ScreeningStatus.COMPLETED)
            .order_by("-completed_at", "-pk")
            .first()
        )
        if screening is not None and screening.completed_at is not None:
            facts.append(
                (
                    _("Latest screening"),
                    _("%(level)s on %(day)s")
                    % {
                        "level": screening.get_level_display(),
                        "day": timezone.localdate(screening.completed_at).isoformat(),
                    },
                )
            )
    if Category.CONTACT_PLAN in shown:
        reached = (
            ContactAttempt.objects.filter(youth=youth, outcome=ContactOutcome.REACHED)
            .order_by("-attempted_at")
            .values_list("attempted_at", flat=True)
            .first()
        )
        facts.append(
            (
                _("Last conversation"),
                timezone.localdate(reached).isoformat() if reached else _("none logged"),
            )
        )
    if Category.REFERRALS in shown:
        waiting = (
            Referral.objects.filter(youth=youth, sent_at__isnull=False, closed_at__isnull=True)
            .exclude(status=ReferralStatus.ENTERED_IN_ERROR)
            .count()
        )
        facts.append((_("Open referrals"), str(waiting)))
    return facts


_READERS: dict[str, Callable[[Youth], list[Entry]]] = {
    Category.SCREENING: _screening_entries,
    Category.CONTACT_PLAN: _contact_entries,
    Category.REFERRALS: _referral_entries,
    Category.SERVICES: _services_entries,
}


def youth_timeline(
    *, actor: User, youth_id: uuid.UUID, request: HttpRequest | None = None
) -> Timeline:
    """The youth's screenings, contact attempts, referrals, services and outcomes, newest first,
    each kind only where the policy shows its category; one audit event naming the categories
    shown. 404 alike for a youth the actor may not see and one of whom none of these shows."""
    youth, access = youth_get(actor=actor, youth_id=youth_id)
    shown = [c for c in TIMELINE_CATEGORIES if access.allows(Action.VIEW, c)]
    if not shown:
        raise Http404
    entries = sorted(
        chain.from_iterable(_READERS[category](youth) for category in shown),
        key=Entry.sort_key,
        reverse=True,
    )
    record(
        actor=actor,
        action=AuditAction.LIST,
        object_type="outcomes.timeline",
        object_id=youth.pk,
        youth_id=youth.pk,
        category=",".join(shown),
        request=request,
    )
    return Timeline(
        youth=youth,
        access=access,
        entries=entries[:TIMELINE_SIZE],
        shown=shown,
        withheld=[c for c in TIMELINE_CATEGORIES if c not in shown],
        truncated=len(entries) > TIMELINE_SIZE,
        summary=_summary(youth, shown, clock.today()),
    )


# --- Programs (no youth) -------------------------------------------------------------------


@dataclass(frozen=True)
class ProgramFigures:
    """A program with counts of youth: never who they are."""

    program: Program
    open_enrolments: int
    enrolled_this_year: int


@dataclass(frozen=True)
class ProgramPage:
    figures: ProgramFigures
    funding: list[FundingSource]
    can_manage: bool
    can_see_figures: bool = False


def _may_see_programs(actor: User, agency_id: int | None) -> bool:
    return can_view_program_figures(actor, agency_id) or can_manage_programs(actor, agency_id)


def _with_counts(queryset: QuerySet[Program], today: datetime.date) -> QuerySet[Program]:
    return queryset.annotate(
        open_count=Count(
            "enrolments__youth", filter=Q(enrolments__ends_on__isnull=True), distinct=True
        ),
        year_count=Count(
            "enrolments__youth",
            filter=Q(enrolments__starts_on__gte=datetime.date(today.year, 1, 1)),
            distinct=True,
        ),
    )


def _figures(program: Program) -> ProgramFigures:
    return ProgramFigures(
        program=program,
        open_enrolments=program.open_count,  # type: ignore[attr-defined]
        enrolled_this_year=program.year_count,  # type: ignore[attr-defined]
    )


def programs_for(*, actor: User) -> list[ProgramFigures]:
    """The actor's agency's programs with their counts; PermissionDenied for anyone who may
    neither see program figures nor manage programs."""
    agency_id = actor.agency_id_or_none
    if agency_id is None or not _may_see_programs(actor, agency_id):
        raise PermissionDenied
    programs = _with_counts(Program.objects.filter(agency_id=agency_id), clock.today())
    return [_figures(program) for program in programs.order_by("name")]


def program_get(*, actor: User, program_id: int) -> ProgramPage:
    """One program of the actor's agency with its funding and counts; 404 alike for a program
    that does not exist, one of another agency, and an actor who may not see programs."""
    agency_id = actor.agency_id_or_none
    if agency_id is None or not _may_see_programs(actor, agency_id):
        raise Http404
    try:
        program = _with_counts(Program.objects.filter(agency_id=agency_id), clock.today()).get(
            pk=program_id
        )
    except Program.DoesNotExist as exc:
        raise Http404 from exc
    return ProgramPage(
        figures=_figures(program),
        funding=list(program.funding.all()),
        can_manage=can_manage_programs(actor, agency_id),
        can_see_figures=can_view_program_figures(actor, agency_id),
    )


def program_for_change(*, actor: User, program_id: int) -> Program:
    """A program whose funding the actor may add to: 404 for one the actor may not see,
    PermissionDenied for one the actor sees but may not manage (an analyst)."""
    page = program_get(actor=actor, program_id=program_id)
    if not page.can_manage:
        raise PermissionDenied
    return page.figures.program


# --- The program dashboard (mezzo) ---------------------------------------------------------


@dataclass(frozen=True)
class ServiceLine:
    label: str
    services: int
    hours: float


@dataclass(frozen=True)
class Dashboard:
    """A program's figures for a period: aggregates only, never a youth."""

    program: Program
    start: datetime.date
    end: datetime.date
    figures: list[effectiveness.Figure]
    services: list[ServiceLine]
    youth_served: int
    new_enrolments: int
    exits: int


def program_dashboard(
    *,
    actor: User,
    program_id: int,
    start: datetime.date,
    end: datetime.date,
    request: HttpRequest | None = None,
) -> Dashboard:
    """The program's effectiveness figures and services for the period (a ValidationError for
    a bad period; 404 as ``program_get`` for a program the actor may not see). Analysts may see
    it: every figure is a count, a share or a statistic. The view is audited without a youth."""
    agency_id = actor.agency_id_or_none
    if agency_id is None or not can_view_program_figures(actor, agency_id):
        raise Http404
    program = Program.objects.filter(agency_id=agency_id, pk=program_id).first()
    if program is None:
        raise Http404
    figures = effectiveness.all_figures(program, start, end)
    labels = dict(ServiceType.choices)
    delivered = (
        ServiceDelivery.objects.filter(program=program, delivered_on__range=(start, end))
        .values("service_type")
        # COUNT(*), not of the id: the covering index answers without reading the table.
        .annotate(n=Count("*"), minutes=Sum("minutes"))
        .order_by("-n", "service_type")
    )
    enrolments = Enrolment.objects.filter(program=program)
    overlapping = enrolments.filter(starts_on__lte=end).exclude(ends_on__lt=start)
    with reporting_reads():  # figures, not records: the read replica may answer (core.routing)
        services = [
            ServiceLine(
                str(labels.get(row["service_type"], row["service_type"])),
                row["n"],
                round((row["minutes"] or 0) / 60, 1),
            )
            for row in delivered
        ]
        youth_served = overlapping.values("youth_id").distinct().count()
        new_enrolments = enrolments.filter(starts_on__range=(start, end)).count()
        exits = enrolments.filter(ends_on__range=(start, end)).count()
    record(
        actor=actor,
        action=AuditAction.VIEW,
        object_type="outcomes.program",
        object_id=program.pk,
        reason=f"dashboard {start.isoformat()}..{end.isoformat()}",
        request=request,
    )
    return Dashboard(
        program=program,
        start=start,
        end=end,
        figures=figures,
        services=services,
        youth_served=youth_served,
        new_enrolments=new_enrolments,
        exits=exits,
    )
