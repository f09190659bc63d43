"""The youth pages through HTTP, as the personas."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from safeharbor.access.choices import Category
from safeharbor.audit.models import AuditEvent
from safeharbor.audit.selectors import list_events_naming
from safeharbor.core import clock
from safeharbor.core.tests.personas import verified_client
from safeharbor.youth.services import consent_grant


def test_owner_sees_identity_and_the_view_is_audited(world):
    client = verified_client(world.county_caseworker)
    response = client.get(reverse("youth:detail", args=[world.maya.pk]))
    assert response.status_code == 200
    assert "Quillfeather" in response.content.decode()
    event = AuditEvent.objects.filter(youth_id=world.maya.pk, action="view").get()
    assert event.actor == world.county_caseworker
    assert Category.IDENTITY in event.category


def test_unrelated_worker_gets_404_without_any_youth_data(world):
    client = verified_client(world.other_caseworker)
    response = client.get(reverse("youth:detail", args=[world.maya.pk]))
    assert response.status_code == 404
    assert "Quillfeather" not in response.content.decode()


def test_consented_agency_sees_only_the_shared_categories(world):
    consent_grant(
        actor=world.county_caseworker,
        youth=world.maya,
        signer_kind="youth",
        signer_name="Maya Quillfeather",
        signer_is_suspected_exploiter=False,
        recipient_agency=world.clinic,
        categories=["screening"],
        purpose="Follow-up care",
        valid_from=clock.today(),
        expires_on=clock.today().replace(year=2099),
    )
    client = verified_client(world.clinic_clinician)
    body = client.get(reverse("youth:detail", args=[world.maya.pk])).content.decode()
    assert "Quillfeather" not in body
    assert "555-0142" not in body
    assert "Not shared with your agency" in body


def test_mfa_is_required_before_any_youth_page(world):
    client = Client()
    client.force_login(world.county_caseworker)
    response = client.get(reverse("youth:detail", args=[world.maya.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:mfa_verify"))


def test_create_form_keeps_input_and_saves_nothing_on_error(world):
    client = verified_client(world.county_caseworker)
    before = AuditEvent.objects.count()
    response = client.post(
        reverse("youth:create"),
        {"given_name": "Rowan", "county": "Harbor", "preferred_language": "en"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'value="Rowan"' in body
    assert "This field is required" in body
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize("path", ["youth:caseload", "youth:create", "youth:search"])
def test_anonymous_is_sent_to_login(client, path):
    response = client.get(reverse(path))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_a_list_audits_each_name_it_shows_against_that_youth(world):
    client = verified_client(world.county_caseworker)
    client.get(reverse("youth:caseload"))
    event = list_events_naming(world.maya.pk).get()
    assert event.actor == world.county_caseworker
    assert event.object_type == "youth.youth"


def test_a_list_does_not_show_a_name_that_consent_does_not_share(world):
    consent_grant(
        actor=world.county_caseworker,
        youth=world.maya,
        signer_kind="youth",
        signer_name="Maya Quillfeather",
        signer_is_suspected_exploiter=False,
        recipient_agency=world.clinic,
        categories=["screening"],
        purpose="Follow-up care",
        valid_from=clock.today(),
        expires_on=clock.today().replace(year=2099),
    )
    body = (
        verified_client(world.clinic_clinician)
        .get(reverse("youth:caseload") + "?scope=all")
        .content.decode()
    )
    assert world.maya.record_number in body
    assert "Quillfeather" not in body
    assert "Name not shared with your agency" in body
    assert not list_events_naming(world.maya.pk).exists()


def test_signed_in_pages_are_never_cached(world):
    response = verified_client(world.county_caseworker).get(reverse("youth:caseload"))
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


@pytest.mark.parametrize("path", ["youth:create", "youth:search"])
def test_agency_admins_do_not_reach_create_or_find(world, path):
    response = verified_client(world.county_admin).get(reverse(path))
    assert response.status_code == 403


def test_a_former_workers_ended_membership_does_not_hide_the_youth_from_the_new_lead(world):
    import datetime

    from safeharbor.youth.services import care_team_add

    care_team_add(
        actor=world.county_caseworker,
        youth=world.maya,
        user=world.county_supervisor,
        team_role="caseworker",
        starts_on=datetime.date(2020, 1, 1),
        ends_on=datetime.date(2020, 6, 1),
    )
    body = verified_client(world.county_caseworker).get(reverse("youth:caseload")).content
    assert world.maya.record_number in body.decode()


def test_the_access_log_names_who_did_what(world):
    verified_client(world.county_caseworker).get(reverse("youth:detail", args=[world.maya.pk]))
    body = (
        verified_client(world.county_supervisor)
        .get(reverse("youth:access_log", args=[world.maya.pk]))
        .content.decode()
    )
    assert "county_caseworker" in body
    assert "viewed youth.youth" in body


def test_the_access_log_escapes_what_it_shows(world):
    # The rows are made in Python (youth/rendering.py), not by the template: a reason typed by a
    # user (break-glass) must still come out as text, never as markup.
    from safeharbor.audit.services import record

    record(
        actor=world.county_caseworker,
        action="view",
        object_type="youth.youth",
        youth_id=world.maya.pk,
        reason='<script>alert("x")</script> & more',
    )
    body = (
        verified_client(world.county_supervisor)
        .get(reverse("youth:access_log", args=[world.maya.pk]))
        .content.decode()
    )
    assert "<script>alert" not in body
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more" in body
