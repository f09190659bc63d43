"""Check-ins on the youth page and in a worker's iCalendar feed, which names no youth."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from safeharbor.audit.selectors import list_events_naming
from safeharbor.contact import services
from safeharbor.contact.choices import Channel
from safeharbor.contact.models import CalendarFeed
from safeharbor.core.tests.personas import verified_client
from safeharbor.youth.models import CareTeamMember

from .conftest import DAY, HOUR

pytestmark = pytest.mark.django_db


@pytest.fixture
def check_in(world, now):
    return services.check_in_schedule(
        actor=world.county_caseworker,
        youth=world.maya,
        scheduled_for=now + DAY,
        channel=Channel.PHONE,
        duration_minutes=45,
    )


def feed_path(world):
    token = services.calendar_feed_rotate(actor=world.county_caseworker)
    return reverse("contact:calendar_feed", args=[token])


def test_the_feed_has_record_numbers_and_times_never_names(world, check_in):
    response = Client().get(feed_path(world))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    body = response.content.decode()
    for name in (world.maya.given_name, world.maya.family_name, world.maya.preferred_name):
        assert name not in body
    events = Calendar.from_ical(response.content).walk("VEVENT")
    assert len(events) == 1
    assert world.maya.record_number in str(events[0]["SUMMARY"])
    start = events[0].decoded("DTSTART")
    assert start == check_in.scheduled_for
    assert events[0].decoded("DTEND") - start == 45 * (HOUR / 60)
    assert list_events_naming(world.maya.pk).filter(object_type="contact.calendarfeed").exists()


def test_only_the_hash_of_the_token_is_stored_and_replacing_it_kills_the_old(world, check_in):
    old = feed_path(world)
    token = old.rsplit("/", 1)[1].removesuffix(".ics")
    assert token not in CalendarFeed.objects.get().token_hash
    new = feed_path(world)
    assert Client().get(old).status_code == 404
    assert Client().get(new).status_code == 200
    assert Client().get("/contact/calendar/feed/not-a-token.ics").status_code == 404


def test_leaving_the_care_team_empties_the_feed(world, check_in, now):
    path = feed_path(world)
    CareTeamMember.objects.filter(youth=world.maya, user=world.county_caseworker).update(
        ends_on=timezone.localdate(now) - DAY, starts_on=timezone.localdate(now) - 10 * DAY
    )
    assert Calendar.from_ical(Client().get(path).content).walk("VEVENT") == []


def test_a_deactivated_worker_has_no_feed(world, check_in):
    path = feed_path(world)
    world.county_caseworker.membership.is_active = False
    world.county_caseworker.membership.save(update_fields=["is_active"])
    assert Client().get(path).status_code == 404


def test_the_calendar_page_shows_the_link_once(world, check_in):
    client = verified_client(world.county_caseworker)
    page = client.post(reverse("contact:calendar"), {"action": "new"}).content.decode()
    assert "/contact/calendar/feed/" in page
    assert world.maya.record_number in page
    again = client.get(reverse("contact:calendar")).content.decode()
    assert "/contact/calendar/feed/" not in again
    client.post(reverse("contact:calendar"), {"action": "off"})
    assert not CalendarFeed.objects.exists()


def test_check_ins_show_on_the_youth_page_and_cancel(world, check_in):
    client = verified_client(world.county_caseworker)
    body = client.get(reverse("youth:detail", args=[world.maya.pk])).content.decode()
    assert "Scheduled check-ins" in body
    url = reverse("contact:check_in_cancel", args=[world.maya.pk, check_in.pk])
    assert url in body
    assert client.post(url).status_code == 302
    check_in.refresh_from_db()
    assert check_in.cancelled_at is not None
