""" "Needs attention today": what is due or overdue, derived by query when the page is asked.

Nothing here is stored or computed by a job. Each row comes from timestamps and the agency's
rule (``ContactRule``, or the defaults):

- **Report to law enforcement / to NCMEC**: an open missing episode whose report is not recorded;
  due 24 hours after the agency learned of it (P.L. 113-183). Always listed.
- **Screening after return**: a closed episode whose screening is not recorded; due 24 hours
  after the return. Always listed.
- **Location attempt**: an open episode; due one interval (at most 30 days) after the last
  attempt, or after the agency learned. Listed from a day before it is due.
- **Stabilisation contact**: an advocate or mentor who joined the care team in the last 30 days
  and has not yet reached the youth; due 72 hours (the rule) after the assignment. Always listed.
- **Lost contact**: no successful contact (outcome "reached") for the rule's days (default 14),
  counted from the last one or, when there has been none, from when the record was opened;
  youth who are missing are left out (their episode is listed instead). Listed from a day
  before it is due.

Other apps add rows of their own through ``youth.attention`` (screenings due, referrals
waiting too long), checked, paged, named and audited here like the rows above.

Scope: a worker's page covers the youth on their current care team (and their own stabilisation
tasks); a supervisor's page covers every youth their agency owns. The number of queries does not
depend on how many youth or rows there are.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.core.paginator import InvalidPage, Page, Paginator
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from safeharbor.access.choices import Action, Category
from safeharbor.access.policy import YouthAccess, access_for_many, visible_youth
from safeharbor.accounts.choices import Role
from safeharbor.audit.choices import AuditAction
from safeharbor.audit.services import record_listed_youth
from safeharbor.core import clock
from safeharbor.youth import attention as youth_attention
from safeharbor.youth.choices import TeamRole
from safeharbor.youth.models import CareTeamMember, Youth

from . import deadlines
from .choices import AttentionKind, Outcome, ReportTo
from .models import ContactAttempt, ContactRule, LocationAttempt, MissingEpisode

if TYPE_CHECKING:
    from safeharbor.accounts.models import User

PAGE_SIZE = 50
# The screening app's "new screening" page, linked when that app is installed.
SCREENING_URL_NAME = "screening:new"
# Legal deadlines first, then tasks, then the lost-contact flag.
_PRIORITY = {
    AttentionKind.REPORT_LAW_ENFORCEMENT: 0,
    AttentionKind.REPORT_NCMEC: 0,
    AttentionKind.RETURN_SCREENING: 1,
    AttentionKind.STABILISATION: 2,
    AttentionKind.LOCATION_ATTEMPT: 2,
    AttentionKind.LOST_CONTACT: 3,
}


@dataclass(frozen=True)
class Item:
    """One row: what is due, for which youth, when, and where to act on it."""

    kind: str
    youth_id: uuid.UUID
    record_number: str
    due: datetime.datetime
    episode_id: int | None = None
    worker_id: int | None = None
    display_name: str | None = None
    team: str = ""
    # A row another app adds (``youth.attention``) brings its own rank, category and action.
    extra: youth_attention.Due | None = None

    def overdue(self, now: datetime.datetime) -> bool:
        return deadlines.is_overdue(self.due, now)

    @property
    def urgency(self) -> int:
        return self.extra.urgency if self.extra else _PRIORITY[AttentionKind(self.kind)]

    @property
    def category(self) -> str:
        return self.extra.category if self.extra else _CATEGORY[AttentionKind(self.kind)]

    def sort_key(self, now: datetime.datetime) -> tuple[bool, int, datetime.datetime, str]:
        return (not self.overdue(now), self.urgency, self.due, self.kind)


@dataclass(frozen=True)
class Row:
    """An item ready for the page (its clock text made here: a template include per row
    would cost more than the queries of the whole page)."""

    item: Item
    label: str
    overdue: bool
    remaining: deadlines.Remaining
    action_url: str
    action_label: str
    clock_text: str = ""
    due_local: str = ""
    due_iso: str = ""


@dataclass(frozen=True)
class Counts:
    overdue: int
    due_soon: int
    by_kind: dict[str, int]

    @property
    def total(self) -> int:
        return self.overdue + self.due_soon


def _active_team(today: datetime.date) -> Q:
    return Q(starts_on__lte=today) & (Q(ends_on__isnull=True) | Q(ends_on__gte=today))


def scope_for_worker(actor: User) -> QuerySet[Youth]:
    """Youth on the actor's current care team that the policy lets them see."""
    today = clock.today()
    on_team = CareTeamMember.objects.filter(_active_team(today), user=actor).values("youth_id")
    return visible_youth(actor).filter(pk__in=on_team)


def scope_for_supervisor(actor: User) -> QuerySet[Youth]:
    """Every youth the supervisor's agency owns.

    This is the policy's first rule (an agency's staff may know of every record it owns), taken
    directly: narrowing ``visible_youth()`` to the agency would give the same rows (a test checks
    it) while repeating its consent, care-team and break-glass subqueries in each of the
    page's queries."""
    agency_id = actor.agency_id_or_none
    if actor.role != Role.SUPERVISOR or agency_id is None:
        return Youth.objects.none()
    return Youth.objects.filter(owning_agency_id=agency_id)


def _rules() -> dict[int, deadlines.Rule]:
    """Every agency's rule (a small table); agencies without a row use the defaults."""
    return {
        agency_id: deadlines.Rule.of(days, hours, location)
        for agency_id, days, hours, location in ContactRule.objects.values_list(
            "agency_id", "lost_contact_days", "stabilisation_hours", "location_attempt_days"
        )
    }


def _lost_contact_filter(rules: dict[int, deadlines.Rule], now: datetime.datetime) -> Q:
    """Rows whose lost-contact moment is within a day (or past), per agency rule, in SQL, so
    that only those rows come back. ``since`` is the last conversation, or the record's
    opening when there was none."""

    def due_by(rule: deadlines.Rule) -> Q:
        return Q(since__lte=now + deadlines.DUE_SOON - rule.lost_contact)

    condition = ~Q(owning_agency_id__in=list(rules)) & due_by(deadlines.DEFAULT_RULE)
    for agency_id, rule in rules.items():
        condition |= Q(owning_agency_id=agency_id) & due_by(rule)
    return condition


def _lost_contact(
    scope: QuerySet[Youth], rules: dict[int, deadlines.Rule], now: datetime.datetime
) -> list[Item]:
    last_reached = (
        ContactAttempt.objects.filter(youth=OuterRef("pk"), outcome=Outcome.REACHED)
        .order_by("-attempted_at")
        .values("attempted_at")[:1]
    )
    missing = MissingEpisode.objects.filter(youth=OuterRef("pk"), ended_at__isnull=True)
    rows = (
        scope.annotate(since=Coalesce(Subquery(last_reached), F("created_at")))
        .filter(_lost_contact_filter(rules, now))
        .filter(~Exists(missing))
        .values_list("pk", "record_number", "owning_agency_id", "since")
    )
    items = []
    for youth_id, number, agency_id, since in rows:
        rule = rules.get(agency_id, deadlines.DEFAULT_RULE)
        due = deadlines.lost_contact_due(since, None, rule)
        if deadlines.needs_attention(due, now):
            items.append(Item(AttentionKind.LOST_CONTACT, youth_id, number, due))
    return items


def _episodes(
    scope: QuerySet[Youth], rules: dict[int, deadlines.Rule], now: datetime.datetime
) -> list[Item]:
    last_location = (
        LocationAttempt.objects.filter(episode=OuterRef("pk"))
        .order_by("-attempted_at")
        .values("attempted_at")[:1]
    )
    rows = (
        MissingEpisode.objects.filter(youth__in=scope)
        .filter(Q(ended_at__isnull=True) | Q(return_screening_at__isnull=True))
        .annotate(last_location=Subquery(last_location))
        .order_by()
        .values_list(
            "pk",
            "youth_id",
            "youth__record_number",
            "youth__owning_agency_id",
            "learned_at",
            "ended_at",
            "reported_to_law_enforcement_at",
            "reported_to_ncmec_at",
            "last_location",
        )
    )
    items = []
    for (
        episode_id,
        youth_id,
        number,
        agency_id,
        learned_at,
        ended_at,
        reported_le,
        reported_ncmec,
        last_location_at,
    ) in rows:
        if ended_at is not None:
            due = deadlines.return_screening_due(ended_at)
            items.append(Item(AttentionKind.RETURN_SCREENING, youth_id, number, due, episode_id))
            continue
        report_due = deadlines.report_due(learned_at)
        if reported_le is None:
            items.append(
                Item(AttentionKind.REPORT_LAW_ENFORCEMENT, youth_id, number, report_due, episode_id)
            )
        if reported_ncmec is None:
            items.append(Item(AttentionKind.REPORT_NCMEC, youth_id, number, report_due, episode_id))
        rule = rules.get(agency_id, deadlines.DEFAULT_RULE)
        due = deadlines.location_attempt_due(learned_at, last_location_at, rule)
        if deadlines.needs_attention(due, now):
            items.append(Item(AttentionKind.LOCATION_ATTEMPT, youth_id, number, due, episode_id))
    return items


def _stabilisation(
    scope: QuerySet[Youth],
    rules: dict[int, deadlines.Rule],
    now: datetime.datetime,
    only_user: User | None,
) -> list[Item]:
    today = clock.today()
    reached = ContactAttempt.objects.filter(
        youth=OuterRef("youth_id"),
        attempted_by=OuterRef("user_id"),
        outcome=Outcome.REACHED,
        attempted_at__gte=OuterRef("created_at"),
    )
    members = CareTeamMember.objects.filter(
        _active_team(today),
        youth__in=scope,
        team_role=TeamRole.ADVOCATE,
        starts_on__gte=today - deadlines.STABILISATION_LOOKBACK,
    )
    if only_user is not None:
        members = members.filter(user=only_user)
    rows = members.filter(~Exists(reached)).values_list(
        "youth_id",
        "youth__record_number",
        "youth__owning_agency_id",
        "user_id",
        "created_at",
        "starts_on",
    )
    items = []
    for youth_id, number, agency_id, user_id, created_at, starts_on in rows:
        # The later of when the assignment was recorded and the start of its first day.
        first_day = timezone.make_aware(datetime.datetime.combine(starts_on, datetime.time.min))
        assigned_at = max(created_at, first_day)
        due = deadlines.stabilisation_due(assigned_at, rules.get(agency_id, deadlines.DEFAULT_RULE))
        items.append(Item(AttentionKind.STABILISATION, youth_id, number, due, None, user_id))
    return items


def compute(
    *, scope: QuerySet[Youth], now: datetime.datetime, stabilisation_user: User | None
) -> list[Item]:
    """Every item for the youth in ``scope``, sorted by urgency (a handful of queries)."""
    now = now.astimezone(datetime.UTC)  # elapsed-time arithmetic (see deadlines._utc)
    rules = _rules()
    items = (
        _episodes(scope, rules, now)
        + _stabilisation(scope, rules, now, stabilisation_user)
        + _lost_contact(scope, rules, now)
    )
    for source in youth_attention.sources():
        items += [
            Item(due.kind, due.youth_id, due.record_number, due.due, extra=due)
            for due in source(scope, now, stabilisation_user)
        ]
    items.sort(key=lambda item: item.sort_key(now))
    return items


def kind_choices() -> list[tuple[str, Any]]:
    """This app's kinds of row, then those other apps registered (``youth.attention``)."""
    return list(AttentionKind.choices) + list(youth_attention.kinds().items())


def counts(items: list[Item], now: datetime.datetime) -> Counts:
    by_kind: dict[str, int] = {}
    overdue = 0
    for item in items:
        by_kind[item.kind] = by_kind.get(item.kind, 0) + 1
        overdue += item.overdue(now)
    return Counts(overdue=overdue, due_soon=len(items) - overdue, by_kind=by_kind)


# --- Policy filter, and the page ------------------------------------------------------------

# The data category each kind of row reveals. Lost contact and stabilisation are derived flags
# (how long since a conversation), not the contact log itself: they show to whoever sees the
# youth's identity, so a supervisor, who is not on the care team, can oversee them.
_CATEGORY = {
    AttentionKind.REPORT_LAW_ENFORCEMENT: Category.MISSING_EPISODES,
    AttentionKind.REPORT_NCMEC: Category.MISSING_EPISODES,
    AttentionKind.RETURN_SCREENING: Category.MISSING_EPISODES,
    AttentionKind.LOCATION_ATTEMPT: Category.MISSING_EPISODES,
    AttentionKind.STABILISATION: Category.IDENTITY,
    AttentionKind.LOST_CONTACT: Category.IDENTITY,
}


def _items_and_access(
    actor: User, team: bool, now: datetime.datetime
) -> tuple[list[Item], dict[Any, YouthAccess]]:
    if team:
        items = compute(scope=scope_for_supervisor(actor), now=now, stabilisation_user=None)
    else:
        items = compute(scope=scope_for_worker(actor), now=now, stabilisation_user=actor)
    if not items:
        return [], {}
    accesses: dict[Any, YouthAccess]
    if team:
        # Every youth on the team page is owned by the supervisor's agency: ownership alone
        # decides the categories these rows reveal (care team, consent and break-glass only
        # ever add to it), so the policy's answer for an owner holds for each of them.
        owner = YouthAccess(
            role=actor.role, owns=True, on_care_team=False, consented=frozenset(), break_glass=False
        )
        accesses = dict.fromkeys({item.youth_id for item in items}, owner)
    else:
        youths = (
            Youth.objects.filter(pk__in={item.youth_id for item in items})
            .select_related("owning_agency")
            .only("id", "owning_agency_id", "owning_agency__is_victim_service_provider")
        )
        accesses = access_for_many(actor, youths)
    allowed = [
        item
        for item in items
        if item.youth_id in accesses and accesses[item.youth_id].allows(Action.VIEW, item.category)
    ]
    return allowed, accesses


def items_for(*, actor: User, team: bool, now: datetime.datetime) -> list[Item]:
    """The actor's items (their care team, or their agency's youth for a supervisor's team
    page), each checked against the policy for the category it reveals."""
    return _items_and_access(actor, team, now)[0]


def screening_app_url(youth_id: uuid.UUID) -> str:
    """The screening app's "new screening" page for the youth, or "" when that app is not
    installed (this app never imports it)."""
    if apps.is_installed("safeharbor.screening"):
        try:
            return reverse(SCREENING_URL_NAME, kwargs={"youth_id": youth_id})
        except NoReverseMatch:
            return ""
    return ""


def return_screening_url(youth_id: uuid.UUID, episode_id: int) -> str:
    """Where to act on a screening due after a return: the screening app when present,
    otherwise the page that records the screening as done on the episode."""
    return screening_app_url(youth_id) or reverse(
        "contact:screening_record", args=[youth_id, episode_id]
    )


def _action(item: Item, *, team: bool) -> tuple[str, str]:
    if item.extra is not None:
        return str(item.extra.action_url), str(item.extra.action_label)
    kind = AttentionKind(item.kind)
    if kind in (AttentionKind.REPORT_LAW_ENFORCEMENT, AttentionKind.REPORT_NCMEC):
        to = (
            ReportTo.LAW_ENFORCEMENT
            if kind == AttentionKind.REPORT_LAW_ENFORCEMENT
            else ReportTo.NCMEC
        )
        url = reverse("contact:episode_report", args=[item.youth_id, item.episode_id, to])
        return url, _("Record the report")
    if kind == AttentionKind.LOCATION_ATTEMPT:
        url = reverse("contact:location_new", args=[item.youth_id, item.episode_id])
        return url, _("Record a location attempt")
    if kind == AttentionKind.RETURN_SCREENING:
        assert item.episode_id is not None  # noqa: S101  (episode rows carry their episode)
        return return_screening_url(item.youth_id, item.episode_id), _("Screen")
    if team:
        return reverse("youth:detail", args=[item.youth_id]), _("Open the record")
    return reverse("contact:log", args=[item.youth_id]), _("Log contact")


@dataclass(frozen=True)
class AttentionPage:
    rows: list[Row]
    page: Page[Item]
    counts: Counts
    now: datetime.datetime
    team: bool


def attention_page(
    *,
    actor: User,
    team: bool,
    page_number: Any = 1,
    request: HttpRequest | None = None,
    strict: bool = False,
) -> AttentionPage:
    """One page of the actor's items; names only where identity is shared; audited as one list
    event linked to each youth named.

    ``strict`` (the API): a page that does not exist is a 404 instead of the nearest page."""
    now = clock.now()
    items, accesses = _items_and_access(actor, team, now)
    paginator = Paginator(items, PAGE_SIZE)
    if strict:
        try:
            page = paginator.page(page_number)
        except InvalidPage as exc:
            raise Http404 from exc
    else:
        page = paginator.get_page(page_number)
    page_items: list[Item] = list(page.object_list)
    ids = {item.youth_id for item in page_items}
    youths = Youth.objects.filter(pk__in=ids).only(
        "id", "given_name", "preferred_name", "family_name"
    )
    names = {
        youth.pk: youth.display_name
        for youth in youths
        if accesses[youth.pk].allows(Action.VIEW, Category.IDENTITY)
    }
    teams: dict[uuid.UUID, list[str]] = {}
    if team:
        for youth_id, first, last, username in (
            CareTeamMember.objects.filter(_active_team(clock.today()), youth_id__in=ids)
            .order_by("user__last_name", "user__first_name")
            .values_list("youth_id", "user__first_name", "user__last_name", "user__username")
        ):
            teams.setdefault(youth_id, []).append(f"{first} {last}".strip() or username)
    rows = []
    labels = {value: str(label) for value, label in kind_choices()}
    ahead, late = _("%(t)s left"), _("overdue by %(t)s")
    for item in page_items:
        shown = replace(
            item,
            display_name=names.get(item.youth_id),
            team=", ".join(teams.get(item.youth_id, [])),
        )
        url, label = _action(item, team=team)
        left = deadlines.format_remaining(item.due, now)
        rows.append(
            Row(
                item=shown,
                label=labels[item.kind],
                overdue=item.overdue(now),
                remaining=left,
                action_url=url,
                action_label=label,
                clock_text=(late if left.overdue else ahead) % {"t": left.text},
                due_local=date_format(timezone.localtime(item.due), "Y-m-d H:i T"),
                due_iso=item.due.isoformat(),
            )
        )
    shown_categories: set[str] = {Category.IDENTITY, Category.MISSING_EPISODES}
    shown_categories |= {item.category for item in page_items}
    record_listed_youth(
        actor=actor,
        action=AuditAction.LIST,
        object_type="contact.attention",
        youth_ids=sorted(ids),
        category=",".join(sorted(shown_categories)),
        request=request,
    )
    return AttentionPage(rows=rows, page=page, counts=counts(items, now), now=now, team=team)
