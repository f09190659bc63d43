"""The worker's iCalendar feed (RFC 5545, through the ``icalendar`` package).

Events carry the youth's record number, the way and the time: never a name, so a calendar
synced to a phone or a shared account discloses nothing that identifies a youth on its own."""

from __future__ import annotations

import datetime

from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from safeharbor.core import clock

from .selectors import Feed


def feed_ical(feed: Feed) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//Safe Harbor//Check-ins//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", _("Safe Harbor check-ins"))
    stamp = clock.now()
    for check_in in feed.check_ins:
        event = Event()
        event.add("uid", f"check-in-{check_in.pk}@safeharbor")
        event.add("dtstamp", stamp)
        event.add("dtstart", check_in.scheduled_for)
        event.add(
            "dtend", check_in.scheduled_for + datetime.timedelta(minutes=check_in.duration_minutes)
        )
        event.add(
            "summary",
            _("Check-in %(record)s (%(way)s)")
            % {"record": check_in.youth.record_number, "way": check_in.get_channel_display()},
        )
        calendar.add_component(event)
    return calendar.to_ical()
