"""The daily digest: counts only, never a youth identifier; in the app, by e-mail and by SMS."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse

from safeharbor.contact import services, sms
from safeharbor.contact.attention import Counts
from safeharbor.contact.models import Notification
from safeharbor.contact.notify import attention_digest_send, digest_text
from safeharbor.core.tests.personas import verified_client

from .conftest import DAY, at, open_episode

pytestmark = pytest.mark.django_db
ONLY_NUMBERS = re.compile(r"^You have \d+ overdue items?( and \d+ items? due today)?\.$")


@pytest.fixture(autouse=True)
def empty_sms_outbox():
    sms.outbox.clear()


def test_the_text_is_numbers_only():
    assert digest_text(Counts(overdue=2, due_soon=0, by_kind={})) == "You have 2 overdue items."
    assert digest_text(Counts(overdue=1, due_soon=3, by_kind={})) == (
        "You have 1 overdue item and 3 items due today."
    )


def identifiers(world, episode):
    youth = world.maya
    return [
        youth.given_name,
        youth.family_name,
        youth.preferred_name,
        youth.record_number,
        str(youth.pk),
        episode.description,
        str(episode.pk),
    ]


def test_the_digest_names_no_youth_in_any_channel(world, now, django_capture_on_commit_callbacks):
    world.county_caseworker.email = "casey@example.invalid"
    world.county_caseworker.save(update_fields=["email"])
    services.notification_preference_save(
        actor=world.county_caseworker, by_email=True, by_sms=True, sms_number="555-0100"
    )
    episode = open_episode(world, now)
    with at(now + 2 * DAY), django_capture_on_commit_callbacks(execute=True):
        result = attention_digest_send()
    assert result.notified == 2  # the caseworker, and their supervisor for the team
    note = Notification.objects.get(user=world.county_caseworker)
    texts = [note.text, mail.outbox[0].body, mail.outbox[0].subject, sms.outbox[0].text]
    for text in texts:
        for value in identifiers(world, episode):
            assert value not in text
    assert ONLY_NUMBERS.match(note.text), note.text
    assert sms.outbox[0].to == "555-0100"
    assert mail.outbox[0].to == ["casey@example.invalid"]


def test_one_digest_a_day_and_none_when_nothing_is_due(world, now):
    open_episode(world, now)
    with at(now):
        first = attention_digest_send(users=[world.county_caseworker, world.other_caseworker])
        again = attention_digest_send(users=[world.county_caseworker])
    assert (first.notified, first.users_checked) == (1, 2)
    assert (again.notified, again.already_sent) == (0, 1)
    with at(now + DAY):
        assert attention_digest_send(users=[world.county_caseworker]).notified == 1


def test_email_and_sms_follow_the_preferences(world, now, django_capture_on_commit_callbacks):
    world.county_caseworker.email = "casey@example.invalid"
    world.county_caseworker.save(update_fields=["email"])
    services.notification_preference_save(
        actor=world.county_caseworker, by_email=False, by_sms=False
    )
    open_episode(world, now)
    with at(now), django_capture_on_commit_callbacks(execute=True):
        attention_digest_send(users=[world.county_caseworker])
    assert mail.outbox == []
    assert sms.outbox == []


def test_sms_needs_a_number(world):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.notification_preference_save(
            actor=world.county_caseworker, by_email=True, by_sms=True
        )


def test_the_command_and_the_in_app_list(world, now, capsys):
    open_episode(world, now)
    with at(now):
        call_command("send_attention_digest")
    assert "notified" in capsys.readouterr().out
    client = verified_client(world.county_caseworker)
    page = client.get(reverse("contact:notifications")).content.decode()
    note = Notification.objects.get(user=world.county_caseworker)
    assert note.text in page
    response = client.post(reverse("contact:notification_read", args=[note.pk]))
    assert response["Location"] == reverse("contact:attention")
    note.refresh_from_db()
    assert note.read_at is not None
    other = verified_client(world.other_caseworker)
    assert other.post(reverse("contact:notification_read", args=[note.pk])).status_code == 404


def test_the_console_sender_masks_the_number():
    import io

    stream = io.StringIO()
    sms.ConsoleSmsSender(stream).send(to="555-0100", text="You have 1 overdue item.")
    assert stream.getvalue() == "[sms to ******00] You have 1 overdue item.\n"
