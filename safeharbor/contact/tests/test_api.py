"""The contact API: same policy and audit as the pages; bounded queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from safeharbor.contact import services
from safeharbor.contact.choices import Channel, Outcome
from safeharbor.contact.models import ContactAttempt

from .conftest import open_episode

pytestmark = pytest.mark.django_db


def api(user):
    client = APIClient()
    token, _created = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def attempts_url(world):
    return f"/api/v1/youth/{world.maya.pk}/contact-attempts/"


def test_the_care_team_logs_and_lists_attempts(world):
    client = api(world.county_caseworker)
    created = client.post(attempts_url(world), {"channel": "text", "outcome": "reached"})
    assert created.status_code == 201
    assert created.json()["outcome"] == "reached"
    listed = client.get(attempts_url(world)).json()
    assert listed["count"] == 1
    assert listed["results"][0]["channel"] == "text"


@pytest.mark.parametrize(
    "body",
    [
        {"channel": "text"},
        {"channel": "fax", "outcome": "reached"},
        {"channel": "text", "outcome": "reached", "attempted_at": "2999-01-01T00:00:00Z"},
        {"channel": "text", "outcome": "reached", "note": "x" * 501},
    ],
)
def test_bad_input_is_a_400_and_saves_nothing(world, body):
    response = api(world.county_caseworker).post(attempts_url(world), body, format="json")
    assert response.status_code == 400
    assert not ContactAttempt.objects.exists()


@pytest.mark.parametrize("who", ["county_supervisor", "other_caseworker", "police_officer"])
def test_outside_the_care_team_it_is_404(world, who):
    client = api(getattr(world, who))
    assert client.get(attempts_url(world)).status_code == 404
    assert (
        client.post(attempts_url(world), {"channel": "text", "outcome": "reached"}).status_code
        == 404
    )
    assert client.get(f"/api/v1/youth/{world.maya.pk}/contact-plan/").status_code == 404
    assert not ContactAttempt.objects.exists()


def test_no_credentials_is_401():
    assert APIClient().get("/api/v1/attention/").status_code == 401


def test_the_plan(world):
    client = api(world.county_caseworker)
    assert client.get(f"/api/v1/youth/{world.maya.pk}/contact-plan/").status_code == 404
    services.contact_plan_save(
        actor=world.county_caseworker, youth=world.maya, methods=[(Channel.TEXT, "555-0142")]
    )
    plan = client.get(f"/api/v1/youth/{world.maya.pk}/contact-plan/").json()
    assert plan["methods"] == [{"position": 1, "channel": "text", "detail": "555-0142"}]


def test_attention_scopes(world, now):
    open_episode(world, now)
    mine = api(world.county_caseworker).get("/api/v1/attention/").json()
    assert [row["kind"] for row in mine["results"]][:2] == [
        "report_law_enforcement",
        "report_ncmec",
    ]
    assert api(world.county_caseworker).get("/api/v1/attention/?scope=team").status_code == 400
    team = api(world.county_supervisor).get("/api/v1/attention/?scope=team").json()
    assert team["count"] >= 2
    assert api(world.county_caseworker).get("/api/v1/attention/?page=9").status_code == 404


def test_the_attempt_list_queries_do_not_grow(world):
    client = api(world.county_caseworker)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(attempts_url(world)).status_code == 200
        return len(queries)

    def log(n):
        for _ in range(n):
            services.contact_attempt_log(
                actor=world.county_caseworker,
                youth=world.maya,
                channel=Channel.PHONE,
                outcome=Outcome.NO_ANSWER,
            )

    log(2)
    few = count()
    log(20)
    assert count() == few
