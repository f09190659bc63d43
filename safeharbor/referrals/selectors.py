"""Every read of referrals, through the policy and audited (category ``referrals``).

Two kinds of reader: the youth's workers (``access_for(...).allows(view, referrals)``) and the
staff of the receiving agency (``can_answer_referrals``). What the second see of the youth is
the referral's de-identified core (need, urgency, age band, gender, language, county, how to
reach the referring worker) plus, only while a live consent names their agency, the youth's
name (``identity``) and the note (``referrals``): computed at each read, so revoking consent
takes effect at once.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.core.paginator import InvalidPage, Page, Paginator
from django.db.models import Case, F, QuerySet, Value, When
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _

from safeharbor.access.choices import Action, Category
from safeharbor.access.policy import (
    NO_ACCESS,
    YouthAccess,
    access_for,
    access_for_many,
    can_answer_referrals,
)
from safeharbor.accounts.choices import Role
from safeharbor.audit.choices import AuditAction
from safeharbor.audit.services import record_listed_youth, record_object
from safeharbor.core import clock
from safeharbor.youth.selectors import youth_get

from . import deadlines, services, workflow
from .choices import NEED_CHOICES, Outcome, Priority, Status
from .models import Referral, ReferralEvent
from .workflow import Side

if TYPE_CHECKING:
    from safeharbor.accounts.models import User
    from safeharbor.youth.models import Youth

PAGE_SIZE = 50
PRIORITY_ORDER = (Priority.STAT, Priority.ASAP, Priority.URGENT, Priority.ROUTINE)
PANEL_SIZE = 10


@dataclass(frozen=True)
class Row:
    """A referral in a list, with what the reader may see of the youth."""

    referral: Referral
    youth_name: str | None
    waiting_too_long: bool
    follow_up_due: datetime.datetime | None
    matched: bool | None
    outcome_unseen: bool
    # Choice labels looked up once per list (get_FOO_display per row re-translates each time).
    status_label: str = ""
    need_label: str = ""
    priority_label: str = ""
    outcome_label: str = ""


def _labels() -> dict[str, dict[str, str]]:
    return {
        name: {value: str(label) for value, label in choices}
        for name, choices in (
            ("status", Status.choices),
            ("need", NEED_CHOICES),
            ("priority", Priority.choices),
            ("outcome", Outcome.choices),
        )
    }


def _rows(
    referrals: list[Referral], accesses: dict[Any, YouthAccess], now: datetime.datetime
) -> list[Row]:
    rows = []
    labels = _labels()
    for referral in referrals:
        access = accesses.get(referral.youth_id, NO_ACCESS)
        rows.append(
            Row(
                referral=referral,
                youth_name=(
                    referral.youth.display_name
                    if access.allows(Action.VIEW, Category.IDENTITY)
                    else None
                ),
                waiting_too_long=deadlines.waiting_too_long(referral, now),
                follow_up_due=deadlines.follow_up_due(referral),
                matched=deadlines.matched_within_48_hours(referral, now),
                outcome_unseen=bool(referral.outcome) and referral.outcome_seen_at is None,
                status_label=labels["status"].get(referral.status, referral.status),
                need_label=labels["need"].get(referral.need, referral.need),
                priority_label=labels["priority"].get(referral.priority, referral.priority),
                outcome_label=labels["outcome"].get(referral.outcome, ""),
            )
        )
    return rows


def _audit_list(actor: User, rows: list[Row], request: HttpRequest | None, what: str) -> None:
    record_listed_youth(
        actor=actor,
        action=AuditAction.LIST,
        object_type=f"referrals.{what}",
        youth_ids=sorted({row.referral.youth_id for row in rows}),
        category=Category.REFERRALS,
        request=request,
    )


# --- On the youth's page -------------------------------------------------------------------


@dataclass(frozen=True)
class YouthReferrals:
    youth: Youth
    rows: list[Row]
    total: int
    can_refer: bool


def youth_referrals(
    *, actor: User, youth: Youth, access: YouthAccess, request: HttpRequest | None = None
) -> YouthReferrals | None:
    """The youth's latest referrals, or None when the reader may not see referrals."""
    if not access.allows(Action.VIEW, Category.REFERRALS):
        return None
    queryset = Referral.objects.filter(youth=youth).select_related("youth")
    referrals = list(queryset[:PANEL_SIZE])
    rows = _rows(referrals, {youth.pk: access}, clock.now())
    if rows:
        record_object(
            actor=actor,
            action=AuditAction.LIST,
            obj=youth,
            youth_id=youth.pk,
            category=Category.REFERRALS,
            request=request,
        )
    return YouthReferrals(
        youth=youth,
        rows=rows,
        total=queryset.count() if len(referrals) == PANEL_SIZE else len(referrals),
        can_refer=access.allows(Action.CHANGE, Category.REFERRALS),
    )


def youth_referral_list(
    *, actor: User, youth_id: uuid.UUID, request: HttpRequest | None = None
) -> tuple[Youth, YouthAccess, QuerySet[Referral]]:
    """All the youth's referrals, newest first, for the API to paginate; one audit event per
    page asked. 404 alike for a youth the actor may not see and for one whose referrals the
    actor may not see."""
    youth, access = youth_get(actor=actor, youth_id=youth_id)
    if not access.allows(Action.VIEW, Category.REFERRALS):
        raise Http404
    record_object(
        actor=actor,
        action=AuditAction.LIST,
        obj=youth,
        youth_id=youth.pk,
        category=Category.REFERRALS,
        request=request,
    )
    queryset = Referral.objects.filter(youth=youth).select_related("youth", "referring_agency")
    return youth, access, queryset


def youth_rows(youth: Youth, access: YouthAccess, referrals: list[Referral]) -> list[Row]:
    """Rows for a page of one youth's referrals (from ``youth_referral_list``)."""
    return _rows(referrals, {youth.pk: access}, clock.now())


def youth_to_refer(*, actor: User, youth_id: uuid.UUID) -> Youth:
    """The youth an actor is about to refer: 404 where the actor may not see the youth's
    referrals, PermissionDenied where they may see but not change them (a consented agency)."""
    youth, access = youth_get(actor=actor, youth_id=youth_id)
    if not access.allows(Action.VIEW, Category.REFERRALS):
        raise Http404
    if not access.allows(Action.CHANGE, Category.REFERRALS):
        raise PermissionDenied
    return youth


# --- One referral --------------------------------------------------------------------------


@dataclass(frozen=True)
class ReferralView:
    referral: Referral
    sides: frozenset[Side]
    access: YouthAccess
    show_identity: bool
    show_note: bool
    moves: frozenset[str]
    history: list[ReferralEvent]
    matched: bool | None
    follow_up_due: datetime.datetime | None
    waiting_too_long: bool
    facts: list[tuple[str, str]]

    @property
    def is_referrer(self) -> bool:
        return Side.REFERRER in self.sides

    @property
    def is_receiver(self) -> bool:
        return Side.RECEIVER in self.sides


def _readable(actor: User, referral: Referral, access: YouthAccess) -> frozenset[Side]:
    sides = set()
    if access.allows(Action.VIEW, Category.REFERRALS):
        sides.add(Side.REFERRER)
    # The service learns of a referral when it is sent: a draft is the referring side's alone.
    if referral.sent_at is not None and can_answer_referrals(actor, referral.receiving_agency_id):
        sides.add(Side.RECEIVER)
    return frozenset(sides)


def referral_detail(
    *, actor: User, referral_id: uuid.UUID, request: HttpRequest | None = None
) -> ReferralView:
    """One referral for whoever may read it (404 for anyone else: the same answer as for a
    referral that does not exist). Opening a sent referral at the service marks it received;
    opening a closed one on the referring side marks its outcome seen."""
    referral = (
        Referral.objects.select_related(
            "youth__owning_agency", "created_by", "referring_agency", "receiving_agency", "service"
        )
        .filter(pk=referral_id)
        .first()
    )
    if referral is None:
        raise Http404
    access = access_for(actor, referral.youth)
    readable = _readable(actor, referral, access)
    if not readable:
        raise Http404
    if Side.RECEIVER in readable:
        referral = services.referral_received(actor=actor, referral=referral)
    writable = services.sides_of(actor, referral) & readable
    # Only those who act for the referring side see the outcome "for" it: a reader by consent
    # (the service itself, law enforcement) must not clear the worker's "new outcome".
    if Side.REFERRER in writable:
        services.referral_outcome_seen(actor=actor, referral=referral)
    now = clock.now()
    shown = access.allows(Action.VIEW, Category.IDENTITY)
    record_object(
        actor=actor,
        action=AuditAction.VIEW,
        obj=referral,
        youth_id=referral.youth_id,
        category=f"{Category.REFERRALS},{Category.IDENTITY}" if shown else Category.REFERRALS,
        request=request,
    )
    return ReferralView(
        referral=referral,
        sides=readable,
        access=access,
        show_identity=shown,
        show_note=access.allows(Action.VIEW, Category.REFERRALS),
        moves=workflow.allowed_moves(referral.status, writable, on_platform=referral.on_platform),
        history=list(referral.history.select_related("actor", "actor_agency")),
        matched=deadlines.matched_within_48_hours(referral, now),
        follow_up_due=deadlines.follow_up_due(referral),
        waiting_too_long=deadlines.waiting_too_long(referral, now),
        facts=deidentified_facts(referral.youth),
    )


def deidentified_facts(youth: Youth) -> list[tuple[str, str]]:
    """What every reader of a referral learns about the youth: enough for a service to judge
    eligibility, not enough to name them."""
    facts = [
        (_("Age"), str(youth.age_band(clock.today()).label)),
        (_("Gender"), str(youth.get_gender_identity_display())),
        (_("Language"), str(youth.get_preferred_language_display())),
        (_("County"), youth.county),
    ]
    # What the record leaves blank is left out (as on the youth's page), not shown empty.
    return [(label, value) for label, value in facts if value]


def referral_for_change(*, actor: User, referral_id: uuid.UUID) -> Referral:
    """The referral an actor is about to move (services check what they may do with it)."""
    referral = (
        Referral.objects.select_related("youth__owning_agency").filter(pk=referral_id).first()
    )
    if referral is None or not services.sides_of(actor, referral):
        raise Http404
    return referral


# --- Lists: the service's inbox, what I sent, what waits too long ---------------------------

INBOX_STATES = ("open", "closed", "all")
SENT_SCOPES = ("mine", "waiting")


@dataclass(frozen=True)
class ReferralList:
    rows: list[Row]
    page: Page[Referral]
    state: str


def _page(queryset: QuerySet[Referral], page_number: Any, *, strict: bool) -> Page[Referral]:
    """``strict`` (the API): a page that does not exist is a 404 instead of the nearest page."""
    paginator = Paginator(queryset, PAGE_SIZE)
    if not strict:
        return paginator.get_page(page_number)
    try:
        return paginator.page(page_number)
    except InvalidPage as exc:
        raise Http404 from exc


def _listed(
    actor: User,
    queryset: QuerySet[Referral],
    page_number: Any,
    *,
    must_see_referrals: bool,
    strict: bool = False,
) -> tuple[list[Row], Page[Referral]]:
    page = _page(queryset, page_number, strict=strict)
    # The page's ids first, then those rows with what a row shows: the joins cover 50 rows
    # instead of every candidate before the sort (thousands in an agency's lists).
    bottom = (page.number - 1) * PAGE_SIZE
    ids = list(queryset.values_list("pk", flat=True)[bottom : bottom + PAGE_SIZE])
    found = Referral.objects.select_related(
        "youth__owning_agency", "created_by", "referring_agency"
    ).in_bulk(ids)
    referrals = [found[pk] for pk in ids]
    accesses = access_for_many(actor, {r.youth_id: r.youth for r in referrals}.values())
    if must_see_referrals:
        referrals = [
            r
            for r in referrals
            if accesses.get(r.youth_id, NO_ACCESS).allows(Action.VIEW, Category.REFERRALS)
        ]
    return _rows(referrals, accesses, clock.now()), page


def inbox(
    *,
    actor: User,
    state: str = "open",
    page_number: Any = 1,
    request: HttpRequest | None = None,
    strict: bool = False,
) -> ReferralList:
    """Referrals sent to the actor's agency, most urgent and oldest first while open.

    ``strict`` (the API): a page that does not exist is a 404 instead of the nearest page."""
    agency_id = actor.agency_id_or_none
    if not can_answer_referrals(actor, agency_id):
        raise Http404
    queryset = Referral.objects.filter(receiving_agency_id=agency_id).exclude(
        status__in=[workflow.Status.DRAFT, workflow.Status.ENTERED_IN_ERROR]
    )
    if state == "open":
        # Emergencies first, then by how long they have waited.
        urgency = Case(
            *[When(priority=p, then=Value(i)) for i, p in enumerate(PRIORITY_ORDER)],
            default=Value(len(PRIORITY_ORDER)),
        )
        queryset = (
            queryset.filter(status__in=sorted(workflow.OPEN))
            .alias(urgency=urgency)
            .order_by("urgency", "sent_at", "pk")
        )
    elif state == "closed":
        queryset = queryset.filter(status__in=sorted(workflow.CLOSED)).order_by("-closed_at", "pk")
    else:
        queryset = queryset.order_by("-sent_at", "pk")
    rows, page = _listed(actor, queryset, page_number, must_see_referrals=False, strict=strict)
    _audit_list(actor, rows, request, "inbox")
    return ReferralList(rows=rows, page=page, state=state)


def sent(
    *,
    actor: User,
    scope: str = "mine",
    page_number: Any = 1,
    request: HttpRequest | None = None,
) -> ReferralList:
    """``mine``: the actor's own referrals, open ones (and unseen outcomes) first.
    ``waiting``: every referral the actor's agency sent that waits too long for an answer or
    an outcome (a supervisor's list; a worker sees their own)."""
    now = clock.now()
    if scope == "waiting":
        # The status filter repeats what waiting_q implies; with it, PostgreSQL reads both arms
        # of the OR from the ``referral_sent`` index instead of every referral of the agency.
        queryset = Referral.objects.filter(
            deadlines.waiting_q(now),
            status__in=sorted(workflow.AWAITING_REPLY | workflow.UNDER_WAY),
        )
        if actor.role == Role.SUPERVISOR and actor.agency_id_or_none is not None:
            queryset = queryset.filter(referring_agency_id=actor.agency_id_or_none)
        else:
            queryset = queryset.filter(created_by=actor)
        queryset = queryset.order_by("sent_at", "pk")
    else:
        # Open referrals and outcomes not yet seen (both without outcome_seen_at) first.
        queryset = Referral.objects.filter(created_by=actor).order_by(
            F("outcome_seen_at").asc(nulls_first=True), "-created_at", "pk"
        )
    rows, page = _listed(actor, queryset, page_number, must_see_referrals=True)
    _audit_list(actor, rows, request, scope)
    return ReferralList(rows=rows, page=page, state=scope)
