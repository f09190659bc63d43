"""The deadline rules, as small pure functions of timestamps (no database, no clock).

Every duration is elapsed time: 24 hours are 24 real hours across a daylight-saving change (so a
deadline set at 22:00 the evening before clocks go forward falls at 23:00 local time), and "14
days" is 14 × 24 hours. A deadline is met by anything at or before it; it is overdue only once
the moment has passed (``now > due``): at 23 h 59 min a 24-hour report is still due, at
24 h 01 min it is overdue.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass

from django.utils.translation import gettext as _

from .models import (
    DEFAULT_LOCATION_ATTEMPT_DAYS,
    DEFAULT_LOST_CONTACT_DAYS,
    DEFAULT_STABILISATION_HOURS,
)

# P.L. 113-183 (Preventing Sex Trafficking and Strengthening Families Act, 2014): report a
# child missing from care to law enforcement and to NCMEC immediately, and in no case later than
# 24 hours after receiving the information.
REPORT_WITHIN = datetime.timedelta(hours=24)
# A youth who returns from a missing episode is screened again within 24 hours.
RETURN_SCREENING_WITHIN = datetime.timedelta(hours=24)
# How long before it is due something appears on "needs attention today".
DUE_SOON = datetime.timedelta(hours=24)
# A stabilisation task concerns a *new* assignment: older ones are covered by the lost-contact
# rule, so the page does not fill with memberships from years ago.
STABILISATION_LOOKBACK = datetime.timedelta(days=30)


@dataclass(frozen=True)
class Rule:
    """An agency's rule (or the defaults), as durations."""

    lost_contact: datetime.timedelta
    stabilisation: datetime.timedelta
    location_attempt: datetime.timedelta

    @classmethod
    def of(cls, lost_contact_days: int, stabilisation_hours: int, location_days: int) -> Rule:
        return cls(
            lost_contact=datetime.timedelta(days=lost_contact_days),
            stabilisation=datetime.timedelta(hours=stabilisation_hours),
            location_attempt=datetime.timedelta(days=location_days),
        )


DEFAULT_RULE = Rule.of(
    DEFAULT_LOST_CONTACT_DAYS, DEFAULT_STABILISATION_HOURS, DEFAULT_LOCATION_ATTEMPT_DAYS
)


def _utc(moment: datetime.datetime) -> datetime.datetime:
    """Python adds a timedelta to an aware datetime on the wall clock of its zone (22:00 + 24 h
    is 22:00 the next day even across a daylight-saving change); in UTC it is elapsed time."""
    return moment.astimezone(datetime.UTC)


def report_due(learned_at: datetime.datetime) -> datetime.datetime:
    """When the report to law enforcement or NCMEC is due."""
    return _utc(learned_at) + REPORT_WITHIN


def report_met(learned_at: datetime.datetime, reported_at: datetime.datetime | None) -> bool:
    """Whether a recorded report was on time."""
    return reported_at is not None and reported_at <= report_due(learned_at)


def return_screening_due(ended_at: datetime.datetime) -> datetime.datetime:
    return _utc(ended_at) + RETURN_SCREENING_WITHIN


def location_attempt_due(
    learned_at: datetime.datetime, last_attempt_at: datetime.datetime | None, rule: Rule
) -> datetime.datetime:
    """The next location attempt: one interval after the last one (or after the agency learned)."""
    return _utc(max(learned_at, last_attempt_at or learned_at)) + rule.location_attempt


def lost_contact_due(
    since: datetime.datetime, last_reached_at: datetime.datetime | None, rule: Rule
) -> datetime.datetime:
    """When the youth counts as lost: one interval after the last conversation, or after
    ``since`` (the record was opened) when there has been none."""
    return _utc(last_reached_at or since) + rule.lost_contact


def stabilisation_due(assigned_at: datetime.datetime, rule: Rule) -> datetime.datetime:
    return _utc(assigned_at) + rule.stabilisation


def is_overdue(due: datetime.datetime, now: datetime.datetime) -> bool:
    return now > due


def needs_attention(due: datetime.datetime, now: datetime.datetime) -> bool:
    """Overdue, or due within the next day."""
    return due - now <= DUE_SOON


def remaining(due: datetime.datetime, now: datetime.datetime) -> datetime.timedelta:
    """Time left (negative once overdue)."""
    return due - now


@dataclass(frozen=True)
class Remaining:
    """Time left until a deadline (or past it), for a live clock."""

    seconds: int  # negative once overdue

    @property
    def overdue(self) -> bool:
        return self.seconds < 0

    @property
    def text(self) -> str:
        """ "2 d 3 h 5 min" of the absolute time; the page says "left" or "overdue by"."""
        minutes = abs(self.seconds) // 60
        days, rest = divmod(minutes, 1440)
        hours, minutes = divmod(rest, 60)
        parts = [_("%(n)s d") % {"n": days}] if days else []
        parts += [_("%(n)s h") % {"n": hours}, _("%(n)s min") % {"n": minutes}]
        return " ".join(parts)


def format_remaining(due: datetime.datetime, now: datetime.datetime) -> Remaining:
    return Remaining(seconds=math.floor(remaining(due, now).total_seconds()))
