"""Every write of the contact app: policy-checked, validated, atomic and audited.

Categories: the contact plan, the contact log and check-ins are ``contact_plan`` (care team only);
missing-from-care episodes and location attempts are ``missing_episodes`` (law enforcement may see
them: they locate youth); the return interview is ``notes`` (law enforcement never sees it); the
screening after a return is ``screening``.
"""

from __future__ import annotations

import datetime
import hashlib
import re
import secrets
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from safeharbor.access.choices import Action, Category
from safeharbor.access.policy import can
from safeharbor.accounts.choices import Role
from safeharbor.audit.choices import AuditAction
from safeharbor.audit.services import record, record_object
from safeharbor.core import clock

from .choices import Channel, Outcome, ReportTo
from .models import (
    CalendarFeed,
    CheckIn,
    ContactAttempt,
    ContactMethod,
    ContactPlan,
    ContactRule,
    LocationAttempt,
    MissingEpisode,
    Notification,
    NotificationPreference,
    ReturnInterview,
)

if TYPE_CHECKING:
    from safeharbor.accounts.models import Agency, User
    from safeharbor.youth.models import Youth

MAX_METHODS = 6
MAX_NOTE = 500
# Device clocks drift: a time up to this far ahead of the server's is taken as "now".
CLOCK_SKEW = datetime.timedelta(minutes=5)
# Channels whose method needs a number, handle, address or person to be of any use.
_NEEDS_DETAIL = frozenset(Channel.values) - {Channel.IN_PERSON}


def _require(actor: User, youth: Youth, category: str) -> None:
    if not can(actor, Action.CHANGE, youth, category):
        raise PermissionDenied


# Anything earlier is a typing mistake (and predates every youth we serve).
EARLIEST_PLAUSIBLE_YEAR = 2000


def _not_in_future(
    errors: dict[str, list[str]],
    field: str,
    value: datetime.datetime | None,
    now: datetime.datetime,
) -> None:
    if value is not None and value > now + CLOCK_SKEW:
        errors.setdefault(field, []).append(
            _("This time is in the future. Enter when it happened, or leave it as now.")
        )
    if value is not None and value.year < EARLIEST_PLAUSIBLE_YEAR:
        errors.setdefault(field, []).append(_("This date is too far in the past. Check the year."))


def _raise(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationError(errors)


# --- Agency rule ---------------------------------------------------------------------------


@transaction.atomic
def contact_rule_set(
    *,
    actor: User,
    agency: Agency,
    lost_contact_days: int,
    stabilisation_hours: int,
    location_attempt_days: int,
) -> ContactRule:
    """An agency's supervisors and administrators set its rule for staying in touch."""
    if actor.agency_id_or_none != agency.pk or actor.role not in (
        Role.SUPERVISOR,
        Role.AGENCY_ADMIN,
    ):
        raise PermissionDenied
    rule = ContactRule.objects.filter(agency=agency).first() or ContactRule(agency=agency)
    rule.lost_contact_days = lost_contact_days
    rule.stabilisation_hours = stabilisation_hours
    rule.location_attempt_days = location_attempt_days
    rule.full_clean()
    rule.save()
    record_object(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=rule,
        reason=(
            f"lost contact {lost_contact_days} d, stabilisation {stabilisation_hours} h, "
            f"location attempts {location_attempt_days} d"
        ),
    )
    return rule


# --- Contact plan --------------------------------------------------------------------------


def _comparable(text: str) -> str:
    """Letters and digits only, case-folded: '(555) 0142' and '555-0142' compare equal."""
    return re.sub(r"[\W_]+", "", text.casefold())


def _method_errors(methods: Sequence[tuple[str, str]], never_use: str) -> list[str]:
    problems: list[str] = []
    if not methods:
        problems.append(_("Add at least one safe way to reach the youth."))
    if len(methods) > MAX_METHODS:
        problems.append(
            _("List at most %(count)s ways to reach the youth.") % {"count": MAX_METHODS}
        )
    seen: set[tuple[str, str]] = set()
    forbidden = _comparable(never_use)
    for position, (channel, detail) in enumerate(methods, start=1):
        if channel not in Channel.values:
            problems.append(_("Way %(n)s: choose a way from the list.") % {"n": position})
            continue
        detail_key = _comparable(detail)
        if channel in _NEEDS_DETAIL and not detail_key:
            problems.append(
                _("Way %(n)s: say which number, address, handle or person to use.")
                % {"n": position}
            )
        if (channel, detail_key) in seen:
            problems.append(_("Way %(n)s repeats an earlier way.") % {"n": position})
        seen.add((channel, detail_key))
        if len(detail_key) >= 4 and detail_key in forbidden:
            problems.append(
                _(
                    "Way %(n)s is also on the never-use list. Remove it from one of them: "
                    "someone who harms the youth may be watching it."
                )
                % {"n": position}
            )
    return problems


@transaction.atomic
def contact_plan_save(
    *,
    actor: User,
    youth: Youth,
    methods: Sequence[tuple[str, str]],
    safe_times: str = "",
    code_word: str = "",
    never_use: str = "",
    trusted_adults: str = "",
) -> ContactPlan:
    """Create or replace the youth's contact plan; ``methods`` in the order to try them."""
    _require(actor, youth, Category.CONTACT_PLAN)
    methods = [(channel, detail.strip()) for channel, detail in methods]
    problems = _method_errors(methods, never_use)
    if problems:
        raise ValidationError({"methods": problems})
    plan = ContactPlan.objects.filter(youth=youth).first()
    created = plan is None
    if plan is None:
        plan = ContactPlan(youth=youth)
    plan.safe_times = safe_times.strip()
    plan.code_word = code_word.strip()
    plan.never_use = never_use.strip()
    plan.trusted_adults = trusted_adults.strip()
    plan.updated_by = actor
    plan.full_clean()
    plan.save()
    plan.methods.all().delete()
    rows = [
        ContactMethod(plan=plan, position=position, channel=channel, detail=detail)
        for position, (channel, detail) in enumerate(methods, start=1)
    ]
    for row in rows:
        row.full_clean(exclude=["plan"])
    ContactMethod.objects.bulk_create(rows)
    record_object(
        actor=actor,
        action=AuditAction.CREATE if created else AuditAction.UPDATE,
        obj=plan,
        youth_id=youth.pk,
        category=Category.CONTACT_PLAN,
    )
    return plan


# --- Contact log and check-ins -------------------------------------------------------------


@transaction.atomic
def contact_attempt_log(
    *,
    actor: User,
    youth: Youth,
    channel: str,
    outcome: str,
    attempted_at: datetime.datetime | None = None,
    note: str = "",
) -> ContactAttempt:
    """Log one attempt to reach the youth (by the actor; now unless a time is given)."""
    _require(actor, youth, Category.CONTACT_PLAN)
    now = clock.now()
    errors: dict[str, list[str]] = {}
    if channel not in Channel.values:
        errors["channel"] = [_("Choose how you tried to reach the youth.")]
    if outcome not in Outcome.values:
        errors["outcome"] = [_("Choose what happened.")]
    _not_in_future(errors, "attempted_at", attempted_at, now)
    if len(note.strip()) > MAX_NOTE:
        errors["note"] = [
            _("Keep the note to %(count)s characters; longer notes belong in case notes.")
            % {"count": MAX_NOTE}
        ]
    _raise(errors)
    attempt = ContactAttempt(
        youth=youth,
        attempted_at=attempted_at or now,
        attempted_by=actor,
        channel=channel,
        outcome=outcome,
        note=note.strip(),
    )
    attempt.full_clean()
    attempt.save()
    record_object(
        actor=actor,
        action=AuditAction.CREATE,
        obj=attempt,
        youth_id=youth.pk,
        category=Category.CONTACT_PLAN,
    )
    return attempt


@transaction.atomic
def check_in_schedule(
    *,
    actor: User,
    youth: Youth,
    scheduled_for: datetime.datetime,
    channel: str,
    duration_minutes: int = 30,
) -> CheckIn:
    """Schedule a check-in of the actor with the youth."""
    _require(actor, youth, Category.CONTACT_PLAN)
    errors: dict[str, list[str]] = {}
    if scheduled_for <= clock.now():
        errors["scheduled_for"] = [_("Choose a time in the future for the check-in.")]
    if channel not in Channel.values:
        errors["channel"] = [_("Choose how you will check in.")]
    if not 5 <= duration_minutes <= 480:
        errors["duration_minutes"] = [_("A check-in lasts between 5 and 480 minutes.")]
    _raise(errors)
    check_in = CheckIn(
        youth=youth,
        worker=actor,
        scheduled_for=scheduled_for,
        channel=channel,
        duration_minutes=duration_minutes,
    )
    check_in.full_clean()
    check_in.save()
    record_object(
        actor=actor,
        action=AuditAction.CREATE,
        obj=check_in,
        youth_id=youth.pk,
        category=Category.CONTACT_PLAN,
    )
    return check_in


@transaction.atomic
def check_in_cancel(*, actor: User, check_in: CheckIn) -> CheckIn:
    _require(actor, check_in.youth, Category.CONTACT_PLAN)
    if check_in.cancelled_at is not None:
        raise ValidationError(_("This check-in was already cancelled."))
    check_in.cancelled_at = clock.now()
    check_in.save(update_fields=["cancelled_at", "updated_at"])
    record_object(
        actor=actor,
        action=AuditAction.REVOKE,
        obj=check_in,
        youth_id=check_in.youth_id,
        category=Category.CONTACT_PLAN,
    )
    return check_in


# --- Missing-from-care episodes ------------------------------------------------------------

_DESCRIPTIVE = (
    "last_seen_at",
    "last_seen_where",
    "last_seen_with",
    "clothing",
    "description",
    "medical_needs",
    "mental_health_needs",
)
_POLICE = (
    "police_agency",
    "police_officer",
    "police_case_number",
    "ncmec_case_number",
    "ncic_entry_confirmation",
)
EPISODE_EDITABLE = _DESCRIPTIVE + _POLICE


def _clean_text(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


@transaction.atomic
def missing_episode_open(
    *,
    actor: User,
    youth: Youth,
    started_at: datetime.datetime,
    learned_at: datetime.datetime,
    **details: Any,
) -> MissingEpisode:
    """Record that the youth is missing from care. The reporting clocks start at ``learned_at``."""
    _require(actor, youth, Category.MISSING_EPISODES)
    unknown = set(details) - set(_DESCRIPTIVE)
    if unknown:
        raise ValueError(f"Not a field of a new episode: {sorted(unknown)}")
    now = clock.now()
    errors: dict[str, list[str]] = {}
    _not_in_future(errors, "started_at", started_at, now)
    _not_in_future(errors, "learned_at", learned_at, now)
    _not_in_future(errors, "last_seen_at", details.get("last_seen_at"), now)
    if learned_at < started_at:
        errors.setdefault("learned_at", []).append(
            _("The agency cannot learn of an episode before it started. Check both times.")
        )
    if MissingEpisode.objects.filter(youth=youth, ended_at__isnull=True).exists():
        errors.setdefault("started_at", []).append(
            _("This youth already has an open missing episode. Update that one instead.")
        )
    _raise(errors)
    episode = MissingEpisode(
        youth=youth,
        started_at=started_at,
        learned_at=learned_at,
        recorded_by=actor,
        **{name: _clean_text(value) for name, value in details.items()},
    )
    episode.full_clean()
    episode.save()
    record_object(
        actor=actor,
        action=AuditAction.CREATE,
        obj=episode,
        youth_id=youth.pk,
        category=Category.MISSING_EPISODES,
    )
    return episode


@transaction.atomic
def missing_episode_update(
    *, actor: User, episode: MissingEpisode, **changes: Any
) -> MissingEpisode:
    """Change what is known: description, last sighting, police and NCMEC references."""
    _require(actor, episode.youth, Category.MISSING_EPISODES)
    unknown = set(changes) - set(EPISODE_EDITABLE)
    if unknown:
        raise ValueError(f"Not editable: {sorted(unknown)}")
    errors: dict[str, list[str]] = {}
    _not_in_future(errors, "last_seen_at", changes.get("last_seen_at"), clock.now())
    _raise(errors)
    changed = sorted(
        name for name, value in changes.items() if getattr(episode, name) != _clean_text(value)
    )
    if not changed:
        return episode
    for name in changed:
        setattr(episode, name, _clean_text(changes[name]))
    episode.full_clean()
    episode.save(update_fields=[*changed, "updated_at"])
    record_object(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=episode,
        youth_id=episode.youth_id,
        category=Category.MISSING_EPISODES,
        reason="changed: " + ", ".join(changed),
    )
    return episode


@transaction.atomic
def missing_episode_report(
    *,
    actor: User,
    episode: MissingEpisode,
    to: str,
    reported_at: datetime.datetime,
    reference: str = "",
    police_agency: str = "",
    police_officer: str = "",
) -> MissingEpisode:
    """Record the report to law enforcement (with the agency, officer and case number) or to
    NCMEC (with its case number), made by the actor at ``reported_at``."""
    _require(actor, episode.youth, Category.MISSING_EPISODES)
    if to not in ReportTo.values:
        raise ValueError(f"Unknown report recipient {to!r}")
    errors: dict[str, list[str]] = {}
    _not_in_future(errors, "reported_at", reported_at, clock.now())
    if reported_at < episode.started_at:
        errors.setdefault("reported_at", []).append(
            _("A report cannot be made before the episode started. Check the time.")
        )
    already = (
        episode.reported_to_law_enforcement_at
        if to == ReportTo.LAW_ENFORCEMENT
        else episode.reported_to_ncmec_at
    )
    if already is not None:
        errors.setdefault("reported_at", []).append(
            _("This report was already recorded. Update the case numbers on the episode instead.")
        )
    if to == ReportTo.LAW_ENFORCEMENT and not (police_agency.strip() or episode.police_agency):
        errors["police_agency"] = [_("Name the police agency that took the report.")]
    _raise(errors)
    fields: list[str]
    if to == ReportTo.LAW_ENFORCEMENT:
        episode.reported_to_law_enforcement_at = reported_at
        episode.reported_to_law_enforcement_by = actor
        fields = ["reported_to_law_enforcement_at", "reported_to_law_enforcement_by"]
        for name, value in (
            ("police_agency", police_agency),
            ("police_officer", police_officer),
            ("police_case_number", reference),
        ):
            if value.strip():
                setattr(episode, name, value.strip())
                fields.append(name)
    else:
        episode.reported_to_ncmec_at = reported_at
        episode.reported_to_ncmec_by = actor
        fields = ["reported_to_ncmec_at", "reported_to_ncmec_by"]
        if reference.strip():
            episode.ncmec_case_number = reference.strip()
            fields.append("ncmec_case_number")
    episode.full_clean()
    episode.save(update_fields=[*fields, "updated_at"])
    record_object(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=episode,
        youth_id=episode.youth_id,
        category=Category.MISSING_EPISODES,
        reason=f"reported to {to}",
    )
    return episode


@transaction.atomic
def location_attempt_add(
    *,
    actor: User,
    episode: MissingEpisode,
    attempted_at: datetime.datetime,
    what_was_done: str,
) -> LocationAttempt:
    _require(actor, episode.youth, Category.MISSING_EPISODES)
    errors: dict[str, list[str]] = {}
    _not_in_future(errors, "attempted_at", attempted_at, clock.now())
    if attempted_at < episode.started_at:
        errors.setdefault("attempted_at", []).append(
            _("A location attempt cannot be before the youth went missing.")
        )
    if episode.ended_at is not None and attempted_at > episode.ended_at:
        errors.setdefault("attempted_at", []).append(
            _("The youth had already returned at that time.")
        )
    if not what_was_done.strip():
        errors["what_was_done"] = [_("Say what was done to locate the youth.")]
    _raise(errors)
    attempt = LocationAttempt(
        episode=episode,
        attempted_at=attempted_at,
        made_by=actor,
        what_was_done=what_was_done.strip(),
    )
    attempt.full_clean()
    attempt.save()
    record_object(
        actor=actor,
        action=AuditAction.CREATE,
        obj=attempt,
        youth_id=episode.youth_id,
        category=Category.MISSING_EPISODES,
    )
    return attempt


@transaction.atomic
def missing_episode_close(
    *, actor: User, episode: MissingEpisode, ended_at: datetime.datetime
) -> MissingEpisode:
    """The youth is back. A screening is due within 24 hours and a return interview follows."""
    _require(actor, episode.youth, Category.MISSING_EPISODES)
    errors: dict[str, list[str]] = {}
    if episode.ended_at is not None:
        errors["ended_at"] = [_("This episode has already ended.")]
    _not_in_future(errors, "ended_at", ended_at, clock.now())
    if ended_at < episode.started_at:
        errors.setdefault("ended_at", []).append(
            _("The return cannot be before the youth went missing. Check the time.")
        )
    last_attempt = episode.location_attempts.order_by("-attempted_at").first()
    if last_attempt is not None and ended_at < last_attempt.attempted_at:
        errors.setdefault("ended_at", []).append(
            _("A location attempt was recorded after this time; the return must be later.")
        )
    _raise(errors)
    episode.ended_at = ended_at
    episode.full_clean()
    episode.save(update_fields=["ended_at", "updated_at"])
    record_object(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=episode,
        youth_id=episode.youth_id,
        category=Category.MISSING_EPISODES,
        reason="returned",
    )
    return episode


@transaction.atomic
def return_interview_record(
    *,
    actor: User,
    episode: MissingEpisode,
    interviewed_at: datetime.datetime,
    why_left: str,
    what_happened: str,
    placement_changes: str = "",
) -> ReturnInterview:
    """Case notes of the return (the ``notes`` category: never shown to law enforcement)."""
    _require(actor, episode.youth, Category.NOTES)
    errors: dict[str, list[str]] = {}
    if episode.ended_at is None:
        errors["interviewed_at"] = [_("Record the youth's return before the return interview.")]
    elif interviewed_at < episode.ended_at:
        errors["interviewed_at"] = [_("The interview cannot be before the youth returned.")]
    _not_in_future(errors, "interviewed_at", interviewed_at, clock.now())
    if ReturnInterview.objects.filter(episode=episode).exists():
        errors.setdefault("interviewed_at", []).append(
            _("A return interview is already recorded for this episode.")
        )
    if not why_left.strip():
        errors["why_left"] = [_("Write what the youth said about why they left.")]
    if not what_happened.strip():
        errors["what_happened"] = [_("Write what the youth said happened while away.")]
    _raise(errors)
    interview = ReturnInterview(
        episode=episode,
        interviewed_at=interviewed_at,
        interviewed_by=actor,
        why_left=why_left.strip(),
        what_happened=what_happened.strip(),
        placement_changes=placement_changes.strip(),
    )
    interview.full_clean()
    interview.save()
    record_object(
        actor=actor,
        action=AuditAction.CREATE,
        obj=interview,
        youth_id=episode.youth_id,
        category=Category.NOTES,
    )
    return interview


@transaction.atomic
def return_screening_record(
    *, actor: User, episode: MissingEpisode, screened_at: datetime.datetime
) -> MissingEpisode:
    """Mark the screening after a return as done (the screening itself lives in its own app)."""
    _require(actor, episode.youth, Category.SCREENING)
    errors: dict[str, list[str]] = {}
    if episode.ended_at is None:
        errors["screened_at"] = [_("Record the youth's return before the screening.")]
    elif screened_at < episode.ended_at:
        errors["screened_at"] = [_("The screening after a return cannot be before the return.")]
    if episode.return_screening_at is not None:
        errors.setdefault("screened_at", []).append(_("This screening is already recorded."))
    _not_in_future(errors, "screened_at", screened_at, clock.now())
    _raise(errors)
    episode.return_screening_at = screened_at
    episode.return_screening_by = actor
    episode.full_clean()
    episode.save(update_fields=["return_screening_at", "return_screening_by", "updated_at"])
    record_object(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=episode,
        youth_id=episode.youth_id,
        category=Category.SCREENING,
        reason="screened after return",
    )
    return episode


# --- Notifications and the calendar feed ---------------------------------------------------


@transaction.atomic
def notification_mark_read(*, actor: User, notification: Notification) -> Notification:
    if notification.user_id != actor.pk:
        raise PermissionDenied
    if notification.read_at is None:
        notification.read_at = clock.now()
        notification.save(update_fields=["read_at"])
    return notification


@transaction.atomic
def notification_preference_save(
    *, actor: User, by_email: bool, by_sms: bool, sms_number: str = ""
) -> NotificationPreference:
    number = sms_number.strip()
    if by_sms and len(re.sub(r"\D", "", number)) < 7:
        raise ValidationError(
            {"sms_number": [_("Enter a mobile number to receive text messages.")]}
        )
    preference = NotificationPreference.objects.filter(user=actor).first()
    if preference is None:
        preference = NotificationPreference(user=actor)
    preference.by_email = by_email
    preference.by_sms = by_sms
    preference.sms_number = number
    preference.full_clean()
    preference.save()
    record_object(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=preference,
    )
    return preference


def feed_token_hash(token: str) -> str:
    """Feed tokens are 256-bit random values, so a plain SHA-256 is enough to store them."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


@transaction.atomic
def calendar_feed_rotate(*, actor: User) -> str:
    """Create (or replace) the actor's feed; returns the token, which is shown once."""
    if not actor.works_with_youth_data:
        raise PermissionDenied
    token = secrets.token_urlsafe(32)
    feed = CalendarFeed.objects.filter(user=actor).first() or CalendarFeed(user=actor)
    feed.token_hash = feed_token_hash(token)
    feed.full_clean()
    feed.save()
    record_object(
        actor=actor,
        action=AuditAction.CREATE,
        obj=feed,
        reason="feed link created or replaced",
    )
    return token


@transaction.atomic
def calendar_feed_delete(*, actor: User) -> None:
    deleted, _rows = CalendarFeed.objects.filter(user=actor).delete()
    if deleted:
        record(
            actor=actor,
            action=AuditAction.REVOKE,
            object_type="contact.calendarfeed",
            object_id=actor.pk,
            reason="feed link turned off",
        )
