"""Every read of the contact app starts from ``youth_get`` (``access.policy.visible_youth``),
checks the data category, answers 404 alike for missing and forbidden, and is audited."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpRequest

from safeharbor.access.choices import Action, Category
from safeharbor.access.policy import YouthAccess, visible_youth
from safeharbor.audit.choices import AuditAction
from safeharbor.audit.services import record, record_listed_youth
from safeharbor.core import clock
from safeharbor.youth.selectors import youth_get

from . import deadlines
from .models import (
    CalendarFeed,
    CheckIn,
    ContactAttempt,
    ContactPlan,
    ContactRule,
    LocationAttempt,
    MissingEpisode,
    Notification,
    NotificationPreference,
    ReturnInterview,
)
from .services import feed_token_hash

if TYPE_CHECKING:
    from safeharbor.accounts.models import Agency, User
    from safeharbor.youth.models import Youth

RECENT_ATTEMPTS = 5
LOG_PAGE_ATTEMPTS = 50


def rule_for(agency_id: int) -> deadlines.Rule:
    """The agency's rule, or the defaults."""
    row = (
        ContactRule.objects.filter(agency_id=agency_id)
        .values_list("lost_contact_days", "stabilisation_hours", "location_attempt_days")
        .first()
    )
    return deadlines.Rule.of(*row) if row else deadlines.DEFAULT_RULE


def rules_by_agency(agency_ids: set[int]) -> dict[int, deadlines.Rule]:
    """Each agency's rule (one query), the defaults for agencies without one."""
    rules = {
        agency_id: deadlines.Rule.of(days, hours, location)
        for agency_id, days, hours, location in ContactRule.objects.filter(
            agency_id__in=agency_ids
        ).values_list(
            "agency_id", "lost_contact_days", "stabilisation_hours", "location_attempt_days"
        )
    }
    return {agency_id: rules.get(agency_id, deadlines.DEFAULT_RULE) for agency_id in agency_ids}


def contact_rule_get(*, agency: Agency) -> ContactRule:
    """The agency's rule row, unsaved with the defaults when it has none (not youth data)."""
    return ContactRule.objects.filter(agency=agency).first() or ContactRule(agency=agency)


def _youth_with(
    actor: User, youth_id: uuid.UUID, category: str, action: str = Action.VIEW
) -> tuple[Youth, YouthAccess]:
    youth, access = youth_get(actor=actor, youth_id=youth_id)
    if not access.allows(action, category):
        raise Http404
    return youth, access


def _plan(youth: Youth) -> ContactPlan | None:
    return ContactPlan.objects.filter(youth=youth).prefetch_related("methods").first()


# --- Contact plan and log ------------------------------------------------------------------


@dataclass(frozen=True)
class ContactLog:
    """The "log contact" page: the plan (to follow it and to see what never to use) and the
    latest attempts."""

    youth: Youth
    access: YouthAccess
    plan: ContactPlan | None
    attempts: list[ContactAttempt]


def contact_log(
    *, actor: User, youth_id: uuid.UUID, request: HttpRequest | None = None
) -> ContactLog:
    """The plan and the log, for the care team (who may log, so: change of ``contact_plan``)."""
    youth, access = _youth_with(actor, youth_id, Category.CONTACT_PLAN, Action.CHANGE)
    attempts = list(
        ContactAttempt.objects.filter(youth=youth).select_related("attempted_by")[
            :LOG_PAGE_ATTEMPTS
        ]
    )
    plan = _plan(youth)
    record(
        actor=actor,
        action=AuditAction.VIEW,
        object_type="contact.contactplan",
        object_id=plan.pk if plan else "",
        youth_id=youth.pk,
        category=Category.CONTACT_PLAN,
        request=request,
    )
    return ContactLog(youth=youth, access=access, plan=plan, attempts=attempts)


def contact_plan_for_edit(
    *, actor: User, youth_id: uuid.UUID, request: HttpRequest | None = None
) -> tuple[Youth, ContactPlan | None]:
    youth, _access = _youth_with(actor, youth_id, Category.CONTACT_PLAN, Action.CHANGE)
    plan = _plan(youth)
    record(
        actor=actor,
        action=AuditAction.VIEW,
        object_type="contact.contactplan",
        object_id=plan.pk if plan else "",
        youth_id=youth.pk,
        category=Category.CONTACT_PLAN,
        request=request,
    )
    return youth, plan


def contact_attempts(
    *, actor: User, youth_id: uuid.UUID, request: HttpRequest | None = None
) -> tuple[Youth, QuerySet[ContactAttempt]]:
    """The whole log of a youth (paginated by the caller); one audit event per page asked."""
    youth, _access = _youth_with(actor, youth_id, Category.CONTACT_PLAN)
    record(
        actor=actor,
        action=AuditAction.LIST,
        object_type="contact.contactattempt",
        object_id=youth.pk,
        youth_id=youth.pk,
        category=Category.CONTACT_PLAN,
        request=request,
    )
    return youth, ContactAttempt.objects.filter(youth=youth).select_related("attempted_by")


def contact_plan(
    *, actor: User, youth_id: uuid.UUID, request: HttpRequest | None = None
) -> tuple[Youth, ContactPlan | None]:
    youth, _access = _youth_with(actor, youth_id, Category.CONTACT_PLAN)
    plan = _plan(youth)
    record(
        actor=actor,
        action=AuditAction.VIEW,
        object_type="contact.contactplan",
        object_id=plan.pk if plan else "",
        youth_id=youth.pk,
        category=Category.CONTACT_PLAN,
        request=request,
    )
    return youth, plan


# --- The youth page panel ------------------------------------------------------------------


@dataclass(frozen=True)
class YouthContactSummary:
    """What the youth page shows of this app; each part is None where the policy withholds it."""

    youth: Youth
    plan: ContactPlan | None
    has_plan_access: bool
    can_log: bool
    recent_attempts: list[ContactAttempt] | None
    last_reached_at: datetime.datetime | None
    check_ins: list[CheckIn] | None
    episodes: list[MissingEpisode] | None
    can_open_episode: bool
    now: datetime.datetime


def youth_contact_summary(
    *, actor: User, youth: Youth, access: YouthAccess, request: HttpRequest | None = None
) -> YouthContactSummary | None:
    """For the youth page, which already found the youth through ``youth_get`` and audited the
    view with every category it may show."""
    sees_plan = access.allows(Action.VIEW, Category.CONTACT_PLAN)
    sees_episodes = access.allows(Action.VIEW, Category.MISSING_EPISODES)
    if not (sees_plan or sees_episodes):
        return None
    now = clock.now()
    plan = attempts = check_ins = episodes = None
    last_reached = None
    if sees_plan:
        plan = _plan(youth)
        attempts = list(
            ContactAttempt.objects.filter(youth=youth).select_related("attempted_by")[
                :RECENT_ATTEMPTS
            ]
        )
        last_reached = (
            ContactAttempt.objects.filter(youth=youth, outcome="reached")
            .order_by("-attempted_at")
            .values_list("attempted_at", flat=True)
            .first()
        )
        check_ins = list(
            CheckIn.objects.filter(
                youth=youth, cancelled_at__isnull=True, scheduled_for__gte=now
            ).select_related("worker")[:10]
        )
    if sees_episodes:
        episodes = list(MissingEpisode.objects.filter(youth=youth)[:10])
    # Not audited again here: the youth page's own view event (``youth.selectors.youth_record``)
    # names every category the actor may see, these included, in the same request.
    return YouthContactSummary(
        youth=youth,
        plan=plan,
        has_plan_access=sees_plan,
        can_log=access.allows(Action.CHANGE, Category.CONTACT_PLAN),
        recent_attempts=attempts,
        last_reached_at=last_reached,
        check_ins=check_ins,
        episodes=episodes,
        can_open_episode=access.allows(Action.CHANGE, Category.MISSING_EPISODES),
        now=now,
    )


def check_in_get(*, actor: User, youth_id: uuid.UUID, check_in_id: int) -> CheckIn:
    youth, _access = _youth_with(actor, youth_id, Category.CONTACT_PLAN, Action.CHANGE)
    try:
        return CheckIn.objects.select_related("youth").get(pk=check_in_id, youth=youth)
    except CheckIn.DoesNotExist as exc:
        raise Http404 from exc


def youth_for_change(*, actor: User, youth_id: uuid.UUID, category: str) -> Youth:
    """A youth whose ``category`` the actor may change (else 404), for a form page."""
    youth, _access = _youth_with(actor, youth_id, category, Action.CHANGE)
    return youth


# --- Missing-from-care episodes ------------------------------------------------------------


@dataclass(frozen=True)
class EpisodeView:
    """One episode as the actor may see it: the interview is None without ``notes``."""

    youth: Youth
    access: YouthAccess
    episode: MissingEpisode
    location_attempts: list[LocationAttempt]
    interview: ReturnInterview | None
    sees_notes: bool
    rule: deadlines.Rule
    now: datetime.datetime

    @property
    def can_change(self) -> bool:
        return self.access.allows(Action.CHANGE, Category.MISSING_EPISODES)

    @property
    def can_interview(self) -> bool:
        return self.access.allows(Action.CHANGE, Category.NOTES)

    @property
    def can_record_screening(self) -> bool:
        return self.access.allows(Action.CHANGE, Category.SCREENING)


def _episodes_of(youth: Youth) -> QuerySet[MissingEpisode]:
    return MissingEpisode.objects.filter(youth=youth).select_related(
        "reported_to_law_enforcement_by", "reported_to_ncmec_by", "return_screening_by"
    )


def missing_episode_view(
    *,
    actor: User,
    youth_id: uuid.UUID,
    episode_id: int,
    request: HttpRequest | None = None,
) -> EpisodeView:
    youth, access = _youth_with(actor, youth_id, Category.MISSING_EPISODES)
    try:
        episode = _episodes_of(youth).get(pk=episode_id)
    except MissingEpisode.DoesNotExist as exc:
        raise Http404 from exc
    sees_notes = access.allows(Action.VIEW, Category.NOTES)
    interview = (
        ReturnInterview.objects.filter(episode=episode).select_related("interviewed_by").first()
        if sees_notes
        else None
    )
    record(
        actor=actor,
        action=AuditAction.VIEW,
        object_type="contact.missingepisode",
        object_id=episode.pk,
        youth_id=youth.pk,
        category=",".join(
            [Category.MISSING_EPISODES, *([Category.NOTES] if interview is not None else [])]
        ),
        request=request,
    )
    return EpisodeView(
        youth=youth,
        access=access,
        episode=episode,
        location_attempts=list(episode.location_attempts.select_related("made_by")),
        interview=interview,
        sees_notes=sees_notes,
        rule=rule_for(youth.owning_agency_id),
        now=clock.now(),
    )


def missing_episode_for_change(
    *, actor: User, youth_id: uuid.UUID, episode_id: int, category: str
) -> MissingEpisode:
    """An episode the actor may change in ``category`` (else 404), for a form page."""
    youth, _access = _youth_with(actor, youth_id, category, Action.CHANGE)
    try:
        return _episodes_of(youth).select_related("youth").get(pk=episode_id)
    except MissingEpisode.DoesNotExist as exc:
        raise Http404 from exc


def missing_episodes(
    *, actor: User, youth_id: uuid.UUID, request: HttpRequest | None = None
) -> tuple[Youth, YouthAccess, list[MissingEpisode]]:
    """Every episode of the youth, with location attempts; interviews only with ``notes``."""
    youth, access = _youth_with(actor, youth_id, Category.MISSING_EPISODES)
    queryset = _episodes_of(youth).prefetch_related(
        Prefetch("location_attempts", queryset=LocationAttempt.objects.select_related("made_by"))
    )
    if access.allows(Action.VIEW, Category.NOTES):
        queryset = queryset.select_related("return_interview")
    episodes = list(queryset)
    record(
        actor=actor,
        action=AuditAction.LIST,
        object_type="contact.missingepisode",
        object_id=youth.pk,
        youth_id=youth.pk,
        category=Category.MISSING_EPISODES,
        request=request,
    )
    return youth, access, episodes


# --- Notifications and the calendar --------------------------------------------------------


def notifications_for(*, actor: User, limit: int = 50) -> list[Notification]:
    return list(Notification.objects.filter(user=actor)[:limit])


def notification_get(*, actor: User, notification_id: int) -> Notification:
    try:
        return Notification.objects.get(pk=notification_id, user=actor)
    except Notification.DoesNotExist as exc:
        raise Http404 from exc


def unread_count(*, actor: User) -> int:
    return Notification.objects.filter(user=actor, read_at__isnull=True).count()


def notification_preference_for(*, actor: User) -> NotificationPreference:
    return NotificationPreference.objects.filter(user=actor).first() or NotificationPreference(
        user=actor
    )


FEED_PAST = datetime.timedelta(days=30)
FEED_FUTURE = datetime.timedelta(days=180)


def _worker_check_ins(user: User, now: datetime.datetime) -> QuerySet[CheckIn]:
    """The user's check-ins with youth whose contact plan they may still see (care team)."""
    today = clock.today()
    return (
        CheckIn.objects.filter(
            worker=user,
            cancelled_at__isnull=True,
            scheduled_for__gte=now - FEED_PAST,
            scheduled_for__lte=now + FEED_FUTURE,
            youth__in=visible_youth(user)
            .filter(care_team__user=user, care_team__starts_on__lte=today)
            .exclude(care_team__ends_on__lt=today),
        )
        .select_related("youth")
        .only("id", "scheduled_for", "duration_minutes", "channel", "youth__record_number")
        .order_by("scheduled_for")
    )


def check_ins_for_worker(*, actor: User, request: HttpRequest | None = None) -> list[CheckIn]:
    """The actor's own upcoming check-ins (the calendar page), audited as one list event
    linked to each youth shown."""
    now = clock.now()
    check_ins = [c for c in _worker_check_ins(actor, now) if c.scheduled_for >= now]
    record_listed_youth(
        actor=actor,
        action=AuditAction.LIST,
        object_type="contact.checkin",
        youth_ids=sorted({c.youth_id for c in check_ins}),
        category=Category.CONTACT_PLAN,
        request=request,
    )
    return check_ins


@dataclass(frozen=True)
class Feed:
    user: User
    check_ins: list[CheckIn]


def calendar_feed(*, token: str, request: HttpRequest | None = None) -> Feed:
    """The feed behind a token; 404 for an unknown token or a user who no longer works with
    youth records. Audited as the feed's owner, one list event linked to each youth in it."""
    try:
        feed = CalendarFeed.objects.select_related("user").get(token_hash=feed_token_hash(token))
    except (CalendarFeed.DoesNotExist, UnicodeEncodeError) as exc:
        raise Http404 from exc
    user = feed.user
    if not (user.is_active and user.works_with_youth_data):
        raise Http404
    check_ins = list(_worker_check_ins(user, clock.now()))
    record_listed_youth(
        actor=user,
        action=AuditAction.LIST,
        object_type="contact.calendarfeed",
        youth_ids=sorted({c.youth_id for c in check_ins}),
        category=Category.CONTACT_PLAN,
        request=request,
    )
    return Feed(user=user, check_ins=check_ins)
