"""The deadline rules at their exact boundaries, across time zones and daylight-saving changes."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from safeharbor.contact import deadlines

UTC = datetime.UTC
LA = ZoneInfo("America/Los_Angeles")
LEARNED = datetime.datetime(2025, 6, 10, 9, 30, tzinfo=LA)
MINUTE = datetime.timedelta(minutes=1)


@pytest.mark.parametrize(
    ("elapsed", "overdue"),
    [
        (datetime.timedelta(hours=23, minutes=59), False),
        (datetime.timedelta(hours=24), False),  # at the deadline, still within 24 hours
        (datetime.timedelta(hours=24, seconds=1), True),
        (datetime.timedelta(hours=24, minutes=1), True),
    ],
)
def test_the_24_hour_report_deadline_at_its_boundary(elapsed, overdue):
    due = deadlines.report_due(LEARNED)
    assert deadlines.is_overdue(due, LEARNED + elapsed) is overdue
    assert deadlines.format_remaining(due, LEARNED + elapsed).overdue is overdue


def test_a_report_at_23h59_is_on_time_and_at_24h01_is_late():
    assert deadlines.report_met(LEARNED, LEARNED + datetime.timedelta(hours=23, minutes=59))
    assert deadlines.report_met(LEARNED, LEARNED + datetime.timedelta(hours=24))
    assert not deadlines.report_met(LEARNED, LEARNED + datetime.timedelta(hours=24, minutes=1))
    assert not deadlines.report_met(LEARNED, None)


def test_the_same_instant_in_another_time_zone_has_the_same_deadline():
    in_utc = LEARNED.astimezone(UTC)
    in_tokyo = LEARNED.astimezone(ZoneInfo("Asia/Tokyo"))
    assert deadlines.report_due(in_utc) == deadlines.report_due(LEARNED)
    assert deadlines.report_due(in_tokyo) == deadlines.report_due(LEARNED)


def test_24_hours_across_the_spring_forward_change_are_24_real_hours():
    # Clocks in Los Angeles jumped from 02:00 to 03:00 on 9 March 2025.
    learned = datetime.datetime(2025, 3, 8, 22, 0, tzinfo=LA)
    due = deadlines.report_due(learned)
    assert due - learned == datetime.timedelta(hours=24)
    local = due.astimezone(LA)
    assert (local.day, local.hour, local.minute) == (9, 23, 0)  # 23:00, not 22:00
    assert local.utcoffset() == datetime.timedelta(hours=-7)
    assert not deadlines.is_overdue(due, due.astimezone(UTC) - MINUTE)
    assert deadlines.is_overdue(due, due.astimezone(UTC) + MINUTE)


def test_24_hours_across_the_fall_back_change_are_24_real_hours():
    # Clocks in Los Angeles went back from 02:00 to 01:00 on 2 November 2025.
    learned = datetime.datetime(2025, 11, 1, 22, 0, tzinfo=LA)
    local = deadlines.report_due(learned).astimezone(LA)
    assert (local.day, local.hour) == (2, 21)  # 21:00: the night had 25 hours


def test_lost_contact_counts_elapsed_days_from_the_last_conversation():
    rule = deadlines.DEFAULT_RULE
    last = datetime.datetime(2025, 3, 1, 10, 0, tzinfo=LA)
    due = deadlines.lost_contact_due(last - datetime.timedelta(days=300), last, rule)
    assert due - last == datetime.timedelta(days=14)
    # Across the March change: 14 × 24 hours later is 11:00 local time.
    assert due.astimezone(LA).hour == 11
    assert not deadlines.is_overdue(due, due - MINUTE)
    assert deadlines.is_overdue(due, due + MINUTE)


def test_lost_contact_without_any_conversation_counts_from_the_record():
    opened = datetime.datetime(2025, 1, 1, tzinfo=UTC)
    rule = deadlines.Rule.of(7, 72, 30)
    assert deadlines.lost_contact_due(opened, None, rule) == opened + datetime.timedelta(days=7)


def test_location_attempts_are_due_one_interval_after_the_last():
    rule = deadlines.Rule.of(14, 72, 30)
    assert deadlines.location_attempt_due(LEARNED, None, rule) == LEARNED + datetime.timedelta(
        days=30
    )
    later = LEARNED + datetime.timedelta(days=12)
    assert deadlines.location_attempt_due(LEARNED, later, rule) == later + datetime.timedelta(
        days=30
    )


def test_stabilisation_and_return_screening():
    assert deadlines.stabilisation_due(LEARNED, deadlines.DEFAULT_RULE) == (
        LEARNED + datetime.timedelta(hours=72)
    )
    assert deadlines.return_screening_due(LEARNED) == LEARNED + datetime.timedelta(hours=24)


@pytest.mark.parametrize(
    ("left", "due_soon"),
    [
        (datetime.timedelta(hours=24), True),
        (datetime.timedelta(hours=24, minutes=1), False),
        (-datetime.timedelta(days=3), True),
    ],
)
def test_what_shows_on_the_page_a_day_ahead(left, due_soon):
    now = LEARNED
    assert deadlines.needs_attention(now + left, now) is due_soon


def test_remaining_time_is_written_in_days_hours_minutes():
    now = datetime.datetime(2025, 6, 10, 12, 0, tzinfo=UTC)
    left = deadlines.format_remaining(now + datetime.timedelta(days=1, hours=2, minutes=5), now)
    assert (left.overdue, left.text) == (False, "1 d 2 h 5 min")
    late = deadlines.format_remaining(now - datetime.timedelta(minutes=61), now)
    assert (late.overdue, late.text) == (True, "1 h 1 min")
    assert deadlines.format_remaining(now, now).overdue is False
    assert deadlines.format_remaining(now - datetime.timedelta(microseconds=1), now).overdue


def test_local_display_follows_the_active_time_zone():
    due = deadlines.report_due(datetime.datetime(2025, 7, 1, 15, 0, tzinfo=UTC))
    with timezone.override(ZoneInfo("America/New_York")):
        assert timezone.localtime(due).hour == 11
    with timezone.override(LA):
        assert timezone.localtime(due).hour == 8
