"""Every read of screening data. Youth come from ``access.policy.visible_youth`` (through
``youth.selectors.youth_get``), the ``screening`` category is checked with
``access_for(...).allows(...)``, a record that is missing or not allowed is the same 404, and
every read of screening data is audited.

What is due is derived here, by queries at read time (never stored, never a job):

- a screen within 24 hours of a return from a missing episode, and within 72 hours of learning
  of a runaway history (a ``TriggerEvent``, met by any screening completed after it);
- the report to law enforcement within 24 hours of identifying a youth as a victim;
- a routine rescreen, where the youth's agency set an interval for an instrument: due that many
  days after the last completed screening with any version of it, and from the day the record
  was opened for a youth never screened with it.
"""

from __future__ import annotations

import datetime
import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone

from safeharbor.access.choices import Action, Category
from safeharbor.access.policy import YouthAccess, access_for_many, visible_youth
from safeharbor.accounts.choices import Role
from safeharbor.audit.choices import AuditAction
from safeharbor.audit.services import record, record_listed_youth
from safeharbor.core import clock
from safeharbor.youth.models import CareTeamMember, Youth
from safeharbor.youth.selectors import youth_get

from . import scoring
from .chart import Chart, level_chart
from .choices import (
    LAW_ENFORCEMENT_REPORT_HOURS,
    TRIGGER_DUE_HOURS,
    TRIGGER_REASON,
    InstrumentStatus,
    ScreeningReason,
    ScreeningStatus,
    TriggerKind,
)
from .models import (
    Instrument,
    LatestScreening,
    RescreenInterval,
    Screening,
    TriggerEvent,
    VictimIdentification,
)
from .services import instrument_usable

if TYPE_CHECKING:
    from safeharbor.accounts.models import User

CATEGORY = str(Category.SCREENING)
# A routine rescreen is listed this many days before it falls due.
DUE_SOON_DAYS = 7
PAGE_SIZE = 50
# The encrypted columns a list or timeline does not show: never decrypted there.
_PRIVATE = ("answers_json", "override_reason", "next_action_note", "amendment_reason")
_YOUTH_LIST_FIELDS = (
    "id",
    "record_number",
    "given_name",
    "preferred_name",
    "family_name",
    "created_at",
    "owning_agency_id",
    "owning_agency__name",
    "owning_agency__is_victim_service_provider",
)


# --------------------------------------------------------------------------- instruments


def instruments_usable(*, actor: User) -> QuerySet[Instrument]:
    """Active instruments the actor's agency may administer: shipped ones and its own."""
    return Instrument.objects.filter(
        instrument_usable(agency_id=actor.agency_id_or_none), status=InstrumentStatus.ACTIVE
    ).defer("questionnaire")


def instruments_for_agency(*, actor: User) -> QuerySet[Instrument]:
    """Every instrument the actor's agency can see (any status), for the instruments page."""
    return (
        Instrument.objects.filter(instrument_usable(agency_id=actor.agency_id_or_none))
        .select_related("agency")
        .defer("questionnaire")
        .order_by("title", "-created_at")
    )


def instrument_get(*, actor: User, instrument_id: int) -> Instrument:
    try:
        return Instrument.objects.filter(instrument_usable(agency_id=actor.agency_id_or_none)).get(
            pk=instrument_id
        )
    except Instrument.DoesNotExist as exc:
        raise Http404 from exc


def instrument_by_canonical(*, actor: User, url: str, version: str) -> Instrument | None:
    """The instrument version a QuestionnaireResponse names, among those the agency may use."""
    return (
        Instrument.objects.filter(instrument_usable(agency_id=actor.agency_id_or_none))
        .filter(url=url, version=version)
        .order_by("agency_id")
        .first()
    )


def rescreen_intervals(*, actor: User) -> dict[str, int]:
    """{instrument URL: days} for the actor's agency."""
    agency_id = actor.agency_id_or_none
    if agency_id is None:
        return {}
    return dict(
        RescreenInterval.objects.filter(agency_id=agency_id).values_list("instrument_url", "days")
    )


# --------------------------------------------------------------------------- one youth


def screening_youth(
    *, actor: User, youth_id: uuid.UUID, action: str = Action.VIEW
) -> tuple[Youth, YouthAccess]:
    """The youth, when the actor may ``action`` their screening data; else 404."""
    youth, access = youth_get(actor=actor, youth_id=youth_id)
    if not access.allows(action, Category.SCREENING):
        raise Http404
    return youth, access


def _audit_view(
    actor: User, youth: Youth, object_type: str, object_id: Any, request: HttpRequest | None
) -> None:
    record(
        actor=actor,
        action=AuditAction.VIEW,
        object_type=object_type,
        object_id=object_id,
        youth_id=youth.pk,
        category=CATEGORY,
        request=request,
    )


@dataclass(frozen=True)
class ScreeningView:
    youth: Youth
    access: YouthAccess
    screening: Screening


def screening_get(
    *,
    actor: User,
    youth_id: uuid.UUID,
    screening_id: int,
    action: str = Action.VIEW,
    request: HttpRequest | None = None,
) -> ScreeningView:
    """One screening of a youth, with its answers; audited as a view of the screening."""
    youth, access = screening_youth(actor=actor, youth_id=youth_id, action=action)
    try:
        screening = Screening.objects.select_related("instrument", "administered_by", "amends").get(
            youth=youth, pk=screening_id
        )
    except Screening.DoesNotExist as exc:
        raise Http404 from exc
    screening.youth = youth
    _audit_view(actor, youth, "screening.screening", screening.pk, request)
    return ScreeningView(youth=youth, access=access, screening=screening)


def identification_get(
    *,
    actor: User,
    youth_id: uuid.UUID,
    identification_id: int,
    request: HttpRequest | None = None,
) -> tuple[Youth, VictimIdentification]:
    """A victim identification of a youth whose screening data the actor may change."""
    youth, _access = screening_youth(actor=actor, youth_id=youth_id, action=Action.CHANGE)
    try:
        identification = VictimIdentification.objects.get(youth=youth, pk=identification_id)
    except VictimIdentification.DoesNotExist as exc:
        raise Http404 from exc
    identification.youth = youth
    _audit_view(actor, youth, "screening.victimidentification", identification.pk, request)
    return youth, identification


def youth_screenings(
    *, actor: User, youth_id: uuid.UUID, request: HttpRequest | None = None
) -> tuple[Youth, list[Screening]]:
    """Every screening of a youth, newest first, with answers (the API); one audited view."""
    youth, _access = screening_youth(actor=actor, youth_id=youth_id)
    screenings = list(
        Screening.objects.filter(youth=youth)
        .select_related("instrument", "administered_by")
        .order_by("-started_at", "-pk")
    )
    record(
        actor=actor,
        action=AuditAction.VIEW,
        object_type="screening.screening",
        object_id=f"{len(screenings)} screening(s)",
        youth_id=youth.pk,
        category=CATEGORY,
        request=request,
    )
    return youth, screenings


@dataclass(frozen=True)
class Deadline:
    """Something due by ``due_at``; ``met_at`` when it was done."""

    label: str
    due_at: datetime.datetime
    met_at: datetime.datetime | None
    now: datetime.datetime

    @property
    def overdue(self) -> bool:
        return self.met_at is None and self.now > self.due_at

    @property
    def met_late(self) -> bool:
        return self.met_at is not None and self.met_at > self.due_at


@dataclass(frozen=True)
class TriggerRow:
    trigger: TriggerEvent
    deadline: Deadline


@dataclass(frozen=True)
class IdentificationRow:
    identification: VictimIdentification
    deadline: Deadline


@dataclass(frozen=True)
class History:
    """A youth's screening history for the youth page: each part already policy-checked."""

    youth: Youth
    screenings: Sequence[Screening]
    triggers: list[TriggerRow]
    identifications: list[IdentificationRow]
    chart: Chart | None
    can_change: bool
    now: datetime.datetime


def trigger_deadline(trigger: TriggerEvent, met_at: datetime.datetime | None, now: Any) -> Deadline:
    hours = TRIGGER_DUE_HOURS[TriggerKind(trigger.kind)]
    return Deadline(
        label=str(TriggerKind(trigger.kind).label),
        due_at=trigger.occurred_at + datetime.timedelta(hours=hours),
        met_at=met_at,
        now=now,
    )


def report_deadline(identification: VictimIdentification, now: datetime.datetime) -> Deadline:
    return Deadline(
        label="law_enforcement_report",
        due_at=identification.identified_at
        + datetime.timedelta(hours=LAW_ENFORCEMENT_REPORT_HOURS),
        met_at=identification.reported_at,
        now=now,
    )


def youth_screening_history(*, actor: User, youth: Youth, access: YouthAccess) -> History | None:
    """The screening part of the youth page, or None where the policy withholds screening.

    Not audited here: the youth page records one ``view`` event naming every category it shows,
    screening included (``youth.selectors.youth_record``).
    """
    if not access.allows(Action.VIEW, Category.SCREENING):
        return None
    now = clock.now()
    screenings = list(
        Screening.objects.filter(youth=youth)
        .select_related("instrument")
        .defer(*_PRIVATE, "instrument__questionnaire")
        .annotate(amended=Exists(Screening.objects.filter(amends=OuterRef("pk"))))
        .order_by("-started_at", "-pk")
    )
    completed = sorted(
        (s for s in screenings if s.completed_at is not None), key=lambda s: s.completed_at or now
    )
    triggers = []
    for trigger in TriggerEvent.objects.filter(youth=youth).order_by("-occurred_at"):
        met = next(
            (
                s.completed_at
                for s in completed
                if s.completed_at and s.completed_at >= trigger.occurred_at
            ),
            None,
        )
        triggers.append(TriggerRow(trigger, trigger_deadline(trigger, met, now)))
    identifications = [
        IdentificationRow(identification, report_deadline(identification, now))
        for identification in VictimIdentification.objects.filter(youth=youth)
    ]
    return History(
        youth=youth,
        screenings=screenings,
        triggers=triggers,
        identifications=identifications,
        chart=level_chart([s for s in completed if not getattr(s, "amended", False)]),
        can_change=access.allows(Action.CHANGE, Category.SCREENING),
        now=now,
    )


# --------------------------------------------------------------------------- what is due


@dataclass(frozen=True)
class DueRow:
    youth: Youth
    display_name: str | None
    deadline: Deadline
    detail: str = ""
    identification: VictimIdentification | None = None
    reason: str = ""  # the screening reason a screen started from this row takes


@dataclass(frozen=True)
class RescreenSection:
    interval: RescreenInterval
    title: str
    rows: list[DueRow]
    count: int
    page: int
    pages: int


@dataclass(frozen=True)
class DueList:
    scope: str  # "agency" (a supervisor's whole agency) or "mine" (the actor's caseload)
    triggers: list[DueRow]
    reports: list[DueRow]
    rescreens: list[RescreenSection]
    drafts: list[Screening]
    now: datetime.datetime


def _caseload(actor: User) -> QuerySet[Youth]:
    today = clock.today()
    on_team = CareTeamMember.objects.filter(
        Q(user=actor) & Q(starts_on__lte=today) & (Q(ends_on__isnull=True) | Q(ends_on__gte=today))
    ).values("youth_id")
    # A victim-service provider's record reaches outsiders only by consent: not through a team.
    return (
        visible_youth(actor)
        .filter(pk__in=on_team)
        .filter(
            Q(owning_agency__is_victim_service_provider=False)
            | Q(owning_agency_id=actor.agency_id_or_none)
        )
    )


def due_scope(actor: User, scope: str) -> tuple[str, QuerySet[Youth]]:
    """The youth a due list covers: a supervisor's agency, or the actor's caseload."""
    agency_id = actor.agency_id_or_none
    if scope == "agency" and actor.role == Role.SUPERVISOR and agency_id is not None:
        # visible_youth(actor) narrowed to the agency's own records is exactly those records
        # (an agency's staff know of every record it owns); asked directly, the list of a
        # 10,000-youth agency stays fast. Each row shown still passes access_for_many, and
        # test_due.py checks that both give the same youth.
        return "agency", Youth.objects.filter(owning_agency_id=agency_id)
    return "mine", _caseload(actor)


_Item = tuple[Youth, Deadline, str, VictimIdentification | None, str]


def _rows(accesses: dict[Any, YouthAccess], items: list[_Item]) -> list[DueRow]:
    """Keep the rows whose screening data the policy shows; the name only with identity."""
    rows = []
    for youth, deadline, detail, identification, reason in items:
        access = accesses[youth.pk]
        if not access.allows(Action.VIEW, Category.SCREENING):
            continue
        name = youth.display_name if access.allows(Action.VIEW, Category.IDENTITY) else None
        rows.append(DueRow(youth, name, deadline, detail, identification, reason))
    return rows


def _youth_only(prefix: str = "") -> list[str]:
    return [prefix + field for field in _YOUTH_LIST_FIELDS]


def _of_scope(scope: QuerySet[Youth], agency_id: int | None) -> Q:
    """Rows whose youth is in the scope: a join on the agency for a whole agency (no list of
    10,000 ids), the caseload's ids otherwise."""
    if agency_id is not None:
        return Q(youth__owning_agency_id=agency_id)
    return Q(youth__in=scope.values("pk"))


def _open_triggers(scope: Q, now: datetime.datetime) -> list[TriggerRow]:
    met = Screening.objects.filter(
        youth=OuterRef("youth_id"),
        status=ScreeningStatus.COMPLETED,
        completed_at__gte=OuterRef("occurred_at"),
    )
    triggers = (
        TriggerEvent.objects.filter(scope)
        .exclude(Exists(met))
        .select_related("youth", "youth__owning_agency")
        .only("id", "kind", "occurred_at", "youth_id", *_youth_only("youth__"))
        .order_by("occurred_at")[:PAGE_SIZE]
    )
    return [TriggerRow(t, trigger_deadline(t, None, now)) for t in triggers]


def _open_reports(scope: Q, now: datetime.datetime) -> list[IdentificationRow]:
    identifications = (
        VictimIdentification.objects.filter(scope, reported_at__isnull=True)
        .select_related("youth", "youth__owning_agency")
        .only("id", "identified_at", "reported_at", "youth_id", *_youth_only("youth__"))
        .order_by("identified_at")[:PAGE_SIZE]
    )
    return [IdentificationRow(i, report_deadline(i, now)) for i in identifications]


def _rescreens_due(
    scope: QuerySet[Youth],
    interval: RescreenInterval,
    whole_agency: bool,
    now: datetime.datetime,
    page: int,
) -> tuple[list[_Item], int]:
    """One page of the youth due (or due within ``DUE_SOON_DAYS``) for a routine rescreen, and
    how many are: first those never screened with the instrument (oldest record first), then
    those screened longest ago.

    Read from ``LatestScreening`` by ranges of ``latest_screening_due_idx`` (counts, and the
    page in index order), so an agency of 10,000 youth costs a few index scans, not a look at
    every youth's screenings (docs/performance.md, screening).
    """
    every = datetime.timedelta(days=interval.days)
    cutoff = now + datetime.timedelta(days=DUE_SOON_DAYS) - every
    in_agency = scope.filter(owning_agency_id=interval.agency_id)
    latest = LatestScreening.objects.filter(
        agency_id=interval.agency_id, instrument_url=interval.instrument_url
    )
    if not whole_agency:
        latest = latest.filter(youth__in=in_agency.values("pk"))
    screened = latest.aggregate(
        ever=Count("pk"), due=Count("pk", filter=Q(completed_at__lte=cutoff))
    )
    never_count = in_agency.count() - screened["ever"]
    start = (page - 1) * PAGE_SIZE
    picked: list[tuple[Any, datetime.datetime | None]] = []
    if start < never_count:
        never = in_agency.exclude(
            Exists(
                LatestScreening.objects.filter(
                    youth=OuterRef("pk"), instrument_url=interval.instrument_url
                )
            )
        )
        page_of_never = never.order_by("created_at", "pk").values_list("pk", flat=True)
        picked = [(pk, None) for pk in page_of_never[start : start + PAGE_SIZE]]
    if len(picked) < PAGE_SIZE:
        offset = max(0, start - never_count)
        longest_ago = (
            latest.filter(completed_at__lte=cutoff)
            .order_by("completed_at", "youth_id")
            .values_list("youth_id", "completed_at")
        )
        picked += list(longest_ago[offset : offset + PAGE_SIZE - len(picked)])
    by_pk = {
        youth.pk: youth
        for youth in Youth.objects.filter(pk__in=[pk for pk, _last in picked])
        .select_related("owning_agency")
        .only(*_YOUTH_LIST_FIELDS)
    }
    items: list[_Item] = []
    for pk, last_at in picked:
        youth = by_pk[pk]
        due_at = last_at + every if last_at else youth.created_at
        detail = "never" if last_at is None else timezone.localdate(last_at).isoformat()
        reason = ScreeningReason.INTAKE if last_at is None else ScreeningReason.ROUTINE_RESCREEN
        items.append((youth, Deadline("rescreen", due_at, None, now), detail, None, reason))
    return items, never_count + screened["due"]


def screenings_due(
    *, actor: User, scope: str = "agency", page: int = 1, request: HttpRequest | None = None
) -> DueList:
    """What is due and overdue for the actor's caseload (or, for a supervisor, their agency).

    One ``list`` event linked to each youth shown (categories identity and screening).
    """
    scope_name, youths = due_scope(actor, scope)
    related = _of_scope(youths, actor.agency_id_or_none if scope_name == "agency" else None)
    now = clock.now()
    trigger_items: list[_Item] = [
        (
            t.trigger.youth,
            t.deadline,
            t.trigger.kind,
            None,
            TRIGGER_REASON[TriggerKind(t.trigger.kind)],
        )
        for t in _open_triggers(related, now)
    ]
    report_items: list[_Item] = [
        (r.identification.youth, r.deadline, "", r.identification, "")
        for r in _open_reports(related, now)
    ]
    if scope_name == "agency":
        agency_ids = [actor.agency_id_or_none]
    else:
        agency_ids = list(youths.order_by().values_list("owning_agency_id", flat=True).distinct())
    intervals = list(
        RescreenInterval.objects.filter(agency_id__in=agency_ids).order_by("instrument_url")
    )
    titles = dict(
        Instrument.objects.filter(url__in=[i.instrument_url for i in intervals])
        .order_by("created_at")
        .values_list("url", "title")
    )
    whole_agency = scope_name == "agency"
    rescreen_items = [
        (interval, *_rescreens_due(youths, interval, whole_agency, now, page))
        for interval in intervals
    ]
    drafts = list(
        Screening.objects.filter(administered_by=actor, status=ScreeningStatus.DRAFT)
        .select_related("instrument", "youth", "youth__owning_agency")
        .only(
            "id",
            "started_at",
            "reason",
            "youth_id",
            "instrument__title",
            "youth__record_number",
            "youth__owning_agency_id",
            "youth__owning_agency__is_victim_service_provider",
        )
        .order_by("-started_at")[:PAGE_SIZE]
    )
    # What the policy allows, for every youth on the page at once (three queries).
    everyone = [item[0] for item in trigger_items + report_items]
    everyone += [item[0] for _interval, items, _count in rescreen_items for item in items]
    accesses = access_for_many(actor, everyone + [draft.youth for draft in drafts])
    # A draft of a record the actor may no longer change is not theirs to finish.
    drafts = [d for d in drafts if accesses[d.youth_id].allows(Action.CHANGE, Category.SCREENING)]
    trigger_rows = _rows(accesses, trigger_items)
    report_rows = _rows(accesses, report_items)
    sections = [
        RescreenSection(
            interval=interval,
            title=titles.get(interval.instrument_url, interval.instrument_url),
            rows=_rows(accesses, items),
            count=count,
            page=page,
            pages=max(1, -(-count // PAGE_SIZE)),
        )
        for interval, items, count in rescreen_items
    ]
    shown = {row.youth.pk for row in trigger_rows + report_rows if row.display_name}
    shown |= {row.youth.pk for s in sections for row in s.rows if row.display_name}
    record_listed_youth(
        actor=actor,
        action=AuditAction.LIST,
        object_type="screening.due",
        youth_ids=sorted(shown),
        category=f"{Category.IDENTITY},{Category.SCREENING}",
        request=request,
    )
    return DueList(
        scope=scope_name,
        triggers=trigger_rows,
        reports=report_rows,
        rescreens=sections,
        drafts=drafts,
        now=now,
    )


# --------------------------------------------------------------------------- re-scoring


@dataclass(frozen=True)
class RescoreMismatch:
    screening_id: int
    stored_level: str
    stored_total: str
    level: str
    total: str


@dataclass(frozen=True)
class RescoreReport:
    checked: int
    mismatches: list[RescoreMismatch]
    seconds: float


def screenings_rescore_check(*, batch_size: int = 2000) -> RescoreReport:
    """Score every completed screening again with its own instrument version; report where the
    stored result differs. Reads only; one audit event for the run (an operator's command)."""
    started = time.perf_counter()
    definitions = {instrument.pk: instrument.definition for instrument in Instrument.objects.all()}
    checked = 0
    mismatches: list[RescoreMismatch] = []
    last_pk = 0
    while True:
        rows = list(
            Screening.objects.filter(status=ScreeningStatus.COMPLETED, pk__gt=last_pk)
            .order_by("pk")
            # Only the stored total, not the whole score: less to read and parse.
            .values_list("pk", "instrument_id", "answers_json", "computed_level", "score__total")[
                :batch_size
            ]
        )
        if not rows:
            break
        for pk, instrument_id, answers_json, stored_level, total in rows:
            result = scoring.score(definitions[instrument_id], json.loads(answers_json or "{}"))
            stored_total = "" if total is None else str(total)
            if result.level != stored_level or _decimal_or_none(stored_total) != result.total:
                mismatches.append(
                    RescoreMismatch(pk, stored_level, stored_total, result.level, str(result.total))
                )
        checked += len(rows)
        last_pk = rows[-1][0]
    record(
        actor=None,
        action=AuditAction.VIEW,
        object_type="screening.rescore",
        object_id=f"{checked} screening(s)",
        category=CATEGORY,
        reason=f"re-scored: {len(mismatches)} stored result(s) differ",
        actor_label="rescore_screenings command",
    )
    return RescoreReport(checked, mismatches, time.perf_counter() - started)


def _decimal_or_none(value: str) -> Decimal | None:
    try:
        return Decimal(value)
    except InvalidOperation:
        return None
