"""The contact pages through HTTP: one-tap logging, who sees what, and nothing leaking."""

from __future__ import annotations

import datetime
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from safeharbor.access.tests.test_no_youth_data_leaks import youth_routes
from safeharbor.audit.models import AuditEvent
from safeharbor.audit.selectors import list_events_naming
from safeharbor.contact import services
from safeharbor.contact.choices import Channel, Outcome
from safeharbor.contact.models import ContactAttempt, MissingEpisode
from safeharbor.core import clock
from safeharbor.core.tests.personas import verified_client
from safeharbor.youth.services import consent_grant

from .conftest import DAY, HOUR, at, open_episode

pytestmark = pytest.mark.django_db

NEVER_USE = "Never call 555-0199 Wrenfield"
ATTEMPT_NOTE = "Kestrelmoor said the placement is calm"
WHY_LEFT = "Left because of Thornbury pressure"
TATTOO = "Star tattoo near the Quillmark scar"


@pytest.fixture
def record(world, now):
    """Maya with a plan, a logged attempt, and a closed episode with its return interview."""
    services.contact_plan_save(
        actor=world.county_caseworker,
        youth=world.maya,
        methods=[(Channel.TEXT, "555-0142"), (Channel.PHONE, "555-0142")],
        never_use=NEVER_USE,
        code_word="blue kite",
    )
    services.contact_attempt_log(
        actor=world.county_caseworker,
        youth=world.maya,
        channel=Channel.TEXT,
        outcome=Outcome.NO_ANSWER,
        note=ATTEMPT_NOTE,
    )
    episode = open_episode(world, now - DAY, description=TATTOO)
    with at(now):
        services.missing_episode_close(
            actor=world.county_caseworker, episode=episode, ended_at=now - HOUR
        )
        services.return_interview_record(
            actor=world.county_caseworker,
            episode=episode,
            interviewed_at=now,
            why_left=WHY_LEFT,
            what_happened="Stayed with a friend",
        )
    return episode


def test_logging_an_attempt_is_one_post_with_the_plans_first_way(world, record):
    client = verified_client(world.county_caseworker)
    page = client.get(reverse("contact:log", args=[world.maya.pk]))
    body = page.content.decode()
    checked = re.findall(r'<input type="radio" name="channel" value="(\w+)"[^>]*checked', body)
    assert checked == ["text"]  # the plan's first way, preselected
    assert NEVER_USE in body  # the warning is on the logging page
    response = client.post(
        reverse("contact:log", args=[world.maya.pk]), {"channel": "text", "outcome": "reached"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("youth:detail", args=[world.maya.pk])
    latest = ContactAttempt.objects.first()
    assert (latest.channel, latest.outcome, latest.attempted_by) == (
        "text",
        "reached",
        world.county_caseworker,
    )


def test_a_bad_log_keeps_the_input_and_saves_nothing(world, record):
    client = verified_client(world.county_caseworker)
    before = ContactAttempt.objects.count()
    response = client.post(
        reverse("contact:log", args=[world.maya.pk]),
        {"channel": "text", "outcome": "reached", "attempted_at": "2999-01-01T10:00"},
    )
    assert response.status_code == 200
    assert "in the future" in response.content.decode()
    assert ContactAttempt.objects.count() == before


def test_the_youth_page_shows_the_plan_to_the_care_team_and_audits_it(world, record):
    client = verified_client(world.county_caseworker)
    body = client.get(reverse("youth:detail", args=[world.maya.pk])).content.decode()
    assert "Log contact" in body
    assert NEVER_USE in body
    assert ATTEMPT_NOTE in body
    event = AuditEvent.objects.filter(youth_id=world.maya.pk, action="view").latest("seq")
    assert "contact_plan" in event.category
    assert "missing_episodes" in event.category


def test_the_supervisor_sees_episodes_but_not_the_contact_plan(world, record):
    client = verified_client(world.county_supervisor)
    body = client.get(reverse("youth:detail", args=[world.maya.pk])).content.decode()
    assert NEVER_USE not in body
    assert ATTEMPT_NOTE not in body
    assert "Log contact" not in body
    assert "Missing from care" in body
    assert client.get(reverse("contact:log", args=[world.maya.pk])).status_code == 404
    assert client.get(reverse("contact:plan_edit", args=[world.maya.pk])).status_code == 404
    episode_page = client.get(reverse("contact:episode", args=[world.maya.pk, record.pk]))
    assert TATTOO in episode_page.content.decode()
    assert WHY_LEFT in episode_page.content.decode()  # the owning agency may read notes


def _sheriff_consent(world, categories):
    consent_grant(
        actor=world.county_caseworker,
        youth=world.maya,
        signer_kind="guardian",
        signer_name="Guardian",
        signer_is_suspected_exploiter=False,
        recipient_agency=world.sheriff,
        categories=categories,
        purpose="Locate the youth while missing",
        valid_from=clock.today() - datetime.timedelta(days=1),
        expires_on=clock.today() + datetime.timedelta(days=30),
    )


def test_law_enforcement_sees_what_locates_the_youth_and_no_notes(world, record):
    # Even a consent that names notes opens nothing of them to law enforcement.
    _sheriff_consent(world, ["identity", "missing_episodes", "notes", "clinical_notes"])
    client = verified_client(world.police_officer)
    page = client.get(reverse("contact:episode", args=[world.maya.pk, record.pk]))
    body = page.content.decode()
    assert page.status_code == 200
    assert TATTOO in body
    assert "Asthma inhaler" in body
    assert WHY_LEFT not in body
    assert "Return interview" not in body
    youth_page = client.get(reverse("youth:detail", args=[world.maya.pk])).content.decode()
    assert NEVER_USE not in youth_page
    assert ATTEMPT_NOTE not in youth_page
    assert client.get(reverse("contact:log", args=[world.maya.pk])).status_code == 404
    api = client.get(f"/api/v1/youth/{world.maya.pk}/missing-episodes/").json()
    assert api[0]["description"] == TATTOO
    assert api[0]["return_interview"] is None
    assert client.get(f"/api/v1/youth/{world.maya.pk}/contact-attempts/").status_code == 404
    assert client.get(f"/api/v1/youth/{world.maya.pk}/contact-plan/").status_code == 404


def test_law_enforcement_without_the_category_gets_404(world, record):
    _sheriff_consent(world, ["identity"])
    client = verified_client(world.police_officer)
    assert (
        client.get(reverse("contact:episode", args=[world.maya.pk, record.pk])).status_code == 404
    )
    assert client.get(f"/api/v1/youth/{world.maya.pk}/missing-episodes/").status_code == 404


CONTACT_ROUTES = [route for route in youth_routes() if "contact" in route.name]


def test_the_leak_walker_finds_the_contact_routes():
    names = {route.name for route in CONTACT_ROUTES}
    assert {"contact:log", "contact:episode", "api:youth-contact-attempts"} <= names


@pytest.mark.parametrize("route", CONTACT_ROUTES, ids=[r.name for r in CONTACT_ROUTES])
def test_unrelated_workers_and_anonymous_learn_nothing(world, record, route):
    values = {
        "youth_id": world.maya.pk,
        "episode_id": record.pk,
        "check_in_id": 1,
        "to": "ncmec",
    }
    path = route.path(values)
    token = Token.objects.create(user=world.other_caseworker)
    clients = [
        ("anonymous", Client()),
        ("unrelated", verified_client(world.other_caseworker)),
        ("token", Client(HTTP_AUTHORIZATION=f"Token {token.key}")),
    ]
    for how, client in clients:
        for method in (client.get, client.post):
            response = method(path)
            body = response.content.decode()
            for secret in (NEVER_USE, ATTEMPT_NOTE, WHY_LEFT, TATTOO, world.maya.family_name):
                assert secret not in body, f"{how} {method.__name__} {path} leaked {secret}"
            assert response.status_code in (302, 401, 403, 404, 405), (how, path)
    assert MissingEpisode.objects.count() == 1
    assert ContactAttempt.objects.count() == 1


def test_the_team_page_is_for_supervisors(world):
    assert (
        verified_client(world.county_caseworker).get(reverse("contact:attention_team")).status_code
        == 403
    )
    assert (
        verified_client(world.county_supervisor).get(reverse("contact:attention_team")).status_code
        == 200
    )
    assert (
        verified_client(world.county_analyst).get(reverse("contact:attention")).status_code == 403
    )
    assert Client().get(reverse("contact:attention")).status_code == 302


def test_the_attention_page_links_each_row_to_its_action(world, now):
    episode = open_episode(world, now)
    client = verified_client(world.county_caseworker)
    body = client.get(reverse("contact:attention")).content.decode()
    report = reverse("contact:episode_report", args=[world.maya.pk, episode.pk, "ncmec"])
    assert report in body
    assert "May Quillfeather" in body  # the worker's own youth, by name
    assert 'data-remaining="' in body  # the live clock
    assert list_events_naming(world.maya.pk).filter(object_type="contact.attention").exists()


def test_recording_a_report_through_the_page(world, now):
    episode = open_episode(world, now)
    client = verified_client(world.county_caseworker)
    url = reverse("contact:episode_report", args=[world.maya.pk, episode.pk, "law_enforcement"])
    bad = client.post(url, {"reported_at": "2000-01-01T10:00", "police_agency": "Sheriff"})
    assert "before the episode started" in bad.content.decode()
    moment = (episode.started_at + HOUR).replace(second=0)
    typed = timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")  # what the browser sends
    good = client.post(
        url, {"reported_at": typed, "police_agency": "Sheriff", "reference": "HCSO-9"}
    )
    assert good.status_code == 302
    episode.refresh_from_db()
    assert episode.reported_to_law_enforcement_at == moment
    assert episode.police_case_number == "HCSO-9"


def test_a_time_that_does_not_exist_locally_is_refused_clearly(world, now):
    """02:30 on the night clocks spring forward never happened in Los Angeles."""
    episode = open_episode(world, now)
    client = verified_client(world.county_caseworker)
    url = reverse("contact:location_new", args=[world.maya.pk, episode.pk])
    response = client.post(url, {"attempted_at": "2025-03-09T02:30", "what_was_done": "Called"})
    assert response.status_code == 200
    assert "time zone" in response.content.decode()


def test_the_rules_page_is_for_supervisors_and_admins(world):
    url = reverse("contact:rules")
    assert verified_client(world.county_caseworker).get(url).status_code == 403
    supervisor = verified_client(world.county_supervisor)
    assert (
        "Rules for staying in touch"
        in supervisor.get(reverse("contact:attention")).content.decode()
    )
    bad = supervisor.post(
        url, {"lost_contact_days": 7, "stabilisation_hours": 48, "location_attempt_days": 45}
    )
    assert bad.status_code == 200
    good = supervisor.post(
        url, {"lost_contact_days": 7, "stabilisation_hours": 48, "location_attempt_days": 30}
    )
    assert good.status_code == 302
    assert world.county.contact_rule.lost_contact_days == 7
