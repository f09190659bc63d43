"""How long a referral may wait, and what "matched within 48 hours" means. Derived from the
referral's timestamps and the clock whenever a page asks; never stored."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Q

from . import workflow

if TYPE_CHECKING:
    from .models import Referral

# A service answers (accepts or declines) within this long, or the referral is waiting too long.
MATCH_WITHIN = datetime.timedelta(hours=48)


def reply_within() -> datetime.timedelta:
    return datetime.timedelta(hours=settings.SAFEHARBOR_REFERRAL_REPLY_HOURS)


def outcome_within() -> datetime.timedelta:
    return datetime.timedelta(days=settings.SAFEHARBOR_REFERRAL_OUTCOME_DAYS)


def matched_within_48_hours(referral: Referral, now: datetime.datetime) -> bool | None:
    """True when the service accepted within 48 hours of the referral being sent; False when
    it did not (declined, closed unanswered, or the 48 hours are over); None while it still
    may, and for drafts."""
    if referral.sent_at is None:
        return None
    if referral.accepted_at is not None:
        return referral.accepted_at - referral.sent_at <= MATCH_WITHIN
    if referral.status in workflow.AWAITING_REPLY and now - referral.sent_at < MATCH_WITHIN:
        return None
    return False


def waiting_q(now: datetime.datetime) -> Q:
    """``follow_up_due <= now`` in SQL, for lists."""
    no_answer = Q(status__in=sorted(workflow.AWAITING_REPLY), sent_at__lte=now - reply_within())
    no_outcome = Q(status__in=sorted(workflow.UNDER_WAY), accepted_at__lte=now - outcome_within())
    return no_answer | no_outcome


def follow_up_due(referral: Referral) -> datetime.datetime | None:
    """When the referring side must chase the referral: no answer by the reply time, or taken
    on but no outcome by the outcome time. None for drafts and closed referrals."""
    if referral.sent_at is None:
        return None
    if referral.status in workflow.AWAITING_REPLY:
        return referral.sent_at + reply_within()
    if referral.status in workflow.UNDER_WAY and referral.accepted_at is not None:
        return referral.accepted_at + outcome_within()
    return None


def waiting_too_long(referral: Referral, now: datetime.datetime) -> bool:
    due = follow_up_due(referral)
    return due is not None and due <= now
