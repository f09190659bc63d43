"""The referral pages through HTTP: the youth page's section, the two steps of a referral, the
service's inbox and what it shows of the youth, moving a referral, and who gets a 404."""

from __future__ import annotations

import datetime
import re

import pytest
from django.test import Client
from django.urls import reverse

from safeharbor.accounts.models import Agency
from safeharbor.audit.models import AuditEvent
from safeharbor.core import clock
from safeharbor.core.tests.personas import World, verified_client
from safeharbor.directory.models import Service
from safeharbor.referrals.choices import Outcome, Status
from safeharbor.referrals.models import Referral
from safeharbor.youth.services import consent_grant

from .conftest import DAY, HOUR, at, refer

pytestmark = pytest.mark.django_db

NOTE = "Maya asked for a counsellor who speaks Spanish."
NEW_OUTCOME = "new outcome"
NO_OUTCOME = "A referral is closed only with an outcome: choose one."


def _consent(world: World, agency: Agency, categories: list[str]) -> None:
    today = clock.today()
    consent_grant(
        actor=world.county_caseworker,
        youth=world.maya,
        signer_kind="youth",
        signer_name="Maya Quillfeather",
        signer_is_suspected_exploiter=False,
        recipient_agency=agency,
        categories=categories,
        purpose="Coordinated care",
        valid_from=today - datetime.timedelta(days=1),
        expires_on=today + datetime.timedelta(days=90),
    )


def _page(client: Client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return response.content.decode()


def _detail(referral: Referral) -> str:
    return reverse("referrals:detail", args=[referral.pk])


def _form_data(**overrides: str) -> dict[str, str]:
    data = {
        "need": "need-counseling",
        "priority": "urgent",
        "note": NOTE,
        "callback": "Casey Tester, Harbor County, 555-0100",
        "send": "",
    }
    data.update(overrides)
    return data


# --- The youth page --------------------------------------------------------------------------


def test_the_youth_page_offers_referrals_to_the_care_team(
    world: World, clinic_service: Service
) -> None:
    refer(world, clinic_service)
    body = _page(
        verified_client(world.county_caseworker), reverse("youth:detail", args=[world.maya.pk])
    )
    assert 'id="referrals-h"' in body
    assert "Bayside Youth Counseling" in body
    assert reverse("referrals:new", args=[world.maya.pk]) in body
    assert "Refer to a service" in body


def test_law_enforcement_sees_referrals_only_with_consent_and_never_refers(
    world: World, clinic_service: Service
) -> None:
    refer(world, clinic_service)
    youth_page = reverse("youth:detail", args=[world.maya.pk])
    officer = verified_client(world.police_officer)
    # No relation to the record at all: the record does not exist for the officer.
    _page(officer, youth_page, status=404)
    # A consent for identity alone opens the record, not its referrals.
    _consent(world, world.sheriff, ["identity"])
    body = _page(officer, youth_page)
    assert 'id="referrals-h"' not in body
    assert "Bayside Youth Counseling" not in body
    # The policy excludes no referral from law enforcement: with the category the officer reads
    # them, but referring is a change, which is for the owning agency and the care team.
    _consent(world, world.sheriff, ["identity", "referrals"])
    body = _page(officer, youth_page)
    assert 'id="referrals-h"' in body
    assert "Bayside Youth Counseling" in body
    assert "Refer to a service" not in body
    assert reverse("referrals:new", args=[world.maya.pk]) not in body
    _page(officer, reverse("referrals:new", args=[world.maya.pk]), status=403)
    response = officer.post(
        reverse("referrals:new_to", args=[world.maya.pk, clinic_service.pk]), _form_data()
    )
    assert response.status_code == 403
    assert Referral.objects.count() == 1


# --- Step 1: find the service; step 2: the form -------------------------------------------


def test_the_search_step_finds_the_clinic_service_by_words(
    world: World, clinic_service: Service, outside_service: Service
) -> None:
    client = verified_client(world.county_caseworker)
    url = reverse("referrals:new", args=[world.maya.pk])
    assert "service found" not in _page(client, url)  # nothing searched yet
    body = _page(client, f"{url}?q=bayside+counseling")
    assert "1 service found" in body
    assert "Refer to Bayside Youth Counseling" in body
    assert reverse("referrals:new_to", args=[world.maya.pk, clinic_service.pk]) in body
    assert "answers in Safe Harbor" in body
    assert "Harbor Food Bank" not in body
    body = _page(client, f"{url}?q=food")
    assert "Refer to Harbor Food Bank" in body
    assert "not on Safe Harbor: you record the outcome" in body
    assert "Bayside Youth Counseling" not in body
    # The need chosen at the search carries over to the form.
    body = _page(client, f"{url}?need=need-counseling")
    to = reverse("referrals:new_to", args=[world.maya.pk, clinic_service.pk])
    assert f"{to}?need=need-counseling" in body


def test_the_form_step_sends_the_referral(world: World, clinic_service: Service) -> None:
    client = verified_client(world.county_caseworker)
    url = reverse("referrals:new_to", args=[world.maya.pk, clinic_service.pk])
    form = _page(client, f"{url}?need=need-counseling")
    assert "Refer to Bayside Youth Counseling" in form
    assert '<option value="need-counseling" selected>' in form
    assert "County Tester, Harbor County Children" in form  # how the service reaches the worker
    response = client.post(url, _form_data())
    referral = Referral.objects.get()
    assert response.status_code == 302
    assert response["Location"] == _detail(referral)
    assert referral.status == Status.REQUESTED
    assert referral.sent_at is not None
    assert (referral.need, referral.priority, referral.note) == ("need-counseling", "urgent", NOTE)
    assert referral.receiving_agency_id == world.clinic.pk
    assert referral.created_by_id == world.county_caseworker.pk
    page = client.get(response["Location"]).content.decode()
    assert "Referral sent." in page
    assert "May Quillfeather" in page  # the referring worker sees whom they referred
    assert NOTE in page


def test_bad_input_keeps_what_was_typed_and_saves_nothing(
    world: World, clinic_service: Service
) -> None:
    client = verified_client(world.county_caseworker)
    url = reverse("referrals:new_to", args=[world.maya.pk, clinic_service.pk])
    response = client.post(url, _form_data(need="need-rocket", callback="   "))
    body = response.content.decode()
    assert response.status_code == 200
    assert body.count('class="error"') == 2
    assert "This field is required." in body
    assert NOTE in body
    assert re.search(r'value="urgent"[^>]*checked', body)
    assert not re.search(r'value="routine"[^>]*checked', body)
    assert not Referral.objects.exists()


def test_save_as_a_draft_keeps_it_from_the_service(world: World, clinic_service: Service) -> None:
    client = verified_client(world.county_caseworker)
    url = reverse("referrals:new_to", args=[world.maya.pk, clinic_service.pk])
    data = _form_data()
    del data["send"]
    response = client.post(url, {**data, "save_draft": ""}, follow=True)
    draft = Referral.objects.get()
    assert draft.status == Status.DRAFT
    assert draft.sent_at is None
    body = response.content.decode()
    assert "Referral saved as a draft." in body
    assert "not yet (draft)" in body
    clinician = verified_client(world.clinic_clinician)
    assert _detail(draft) not in _page(clinician, reverse("referrals:inbox") + "?state=all")
    # A draft is not sent: the service cannot open it, and opening it records nothing.
    _page(clinician, _detail(draft), status=404)
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT


# --- The service's side ------------------------------------------------------------------


def test_the_service_opens_a_de_identified_referral_from_its_inbox(
    world: World, clinic_service: Service
) -> None:
    referral = refer(world, clinic_service)
    clinician = verified_client(world.clinic_clinician)
    inbox = _page(clinician, reverse("referrals:inbox"))
    assert _detail(referral) in inbox
    assert "de-identified" in inbox
    assert "Quillfeather" not in inbox
    assert world.maya.record_number not in inbox
    assert Referral.objects.get().status == Status.REQUESTED  # listing does not receive it
    body = _page(clinician, _detail(referral))
    assert Referral.objects.get().status == Status.RECEIVED
    for secret in ("Quillfeather", "Maya", world.maya.record_number, NOTE, "Spanish"):
        assert secret not in body, secret
    assert "De-identified referral" in body
    assert "<dt>County</dt><dd>Harbor</dd>" in body  # part of the de-identified core
    assert "<dt>Gender</dt>" not in body  # not recorded for Maya: left out, not shown empty
    assert "Casey Tester, Harbor County, 555-0100" in body  # how to reach the worker
    assert f"/youth/{world.maya.pk}/" not in body
    event = AuditEvent.objects.filter(
        object_type="referrals.referral", action="view", actor=world.clinic_clinician
    ).get()
    assert event.category == "referrals"
    # Opening it again records "received" only once.
    _page(clinician, _detail(referral))
    assert referral.history.filter(to_status=Status.RECEIVED).count() == 1


def test_with_live_consent_the_service_sees_the_name_and_the_note(
    world: World, clinic_service: Service
) -> None:
    referral = refer(world, clinic_service)
    _consent(world, world.clinic, ["identity", "referrals"])
    clinician = verified_client(world.clinic_clinician)
    inbox = _page(clinician, reverse("referrals:inbox"))
    assert "May Quillfeather" in inbox
    body = _page(clinician, _detail(referral))
    assert "May Quillfeather" in body
    assert world.maya.record_number in body
    assert NOTE in body
    assert "De-identified referral" not in body
    event = AuditEvent.objects.filter(
        object_type="referrals.referral", action="view", actor=world.clinic_clinician
    ).get()
    assert event.category == "referrals,identity"


def test_a_consent_for_identity_alone_shows_the_name_not_the_note(
    world: World, clinic_service: Service
) -> None:
    referral = refer(world, clinic_service)
    _consent(world, world.clinic, ["identity"])
    body = _page(verified_client(world.clinic_clinician), _detail(referral))
    assert "May Quillfeather" in body
    assert NOTE not in body
    assert "De-identified referral" in body


def test_the_service_accepts_and_completes_only_with_an_outcome(
    world: World, clinic_service: Service
) -> None:
    referral = refer(world, clinic_service)
    clinician = verified_client(world.clinic_clinician)
    move = reverse("referrals:move", args=[referral.pk])
    body = _page(clinician, _detail(referral))
    assert f'action="{move}"' in body
    assert 'value="accepted"' in body
    assert 'value="completed"' not in body  # not before it is accepted
    response = clinician.post(move, {"status": "accepted"})
    assert response.status_code == 302
    assert response["Location"] == _detail(referral)
    referral.refresh_from_db()
    assert referral.status == Status.ACCEPTED
    assert referral.accepted_at is not None
    events = referral.history.count()

    response = clinician.post(move, {"status": "completed", "note": "Six sessions booked."})
    assert response.status_code == 400
    assert NO_OUTCOME in response.content.decode()
    assert "Six sessions booked." in response.content.decode()  # what was typed stays
    referral.refresh_from_db()
    assert referral.status == Status.ACCEPTED
    assert referral.outcome == ""
    assert referral.history.count() == events

    response = clinician.post(
        move, {"status": "completed", "outcome": "got_help", "note": "Six sessions booked."}
    )
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.status == Status.COMPLETED
    assert referral.outcome == Outcome.GOT_HELP
    assert referral.closed_at is not None
    body = _page(clinician, _detail(referral))
    assert "Got help" in body
    assert f'action="{move}"' not in body  # closed: nothing left to move


def test_a_move_the_reader_may_not_make_is_refused(world: World, clinic_service: Service) -> None:
    referral = refer(world, clinic_service)
    move = reverse("referrals:move", args=[referral.pk])
    # The referring worker cannot accept for the service.
    response = verified_client(world.county_caseworker).post(move, {"status": "accepted"})
    assert response.status_code == 400
    referral.refresh_from_db()
    assert referral.status == Status.REQUESTED


# --- The referring side's lists ---------------------------------------------------------


def test_the_referring_worker_sees_a_new_outcome_until_opening_it(
    world: World, clinic_service: Service
) -> None:
    referral = refer(world, clinic_service)
    # A consent lets the clinic read the youth's referrals: it still answers as the service, and
    # its own reads must not count as the referring worker having seen the outcome.
    _consent(world, world.clinic, ["identity", "referrals"])
    clinician = verified_client(world.clinic_clinician)
    move = reverse("referrals:move", args=[referral.pk])
    clinician.post(move, {"status": "accepted"}, follow=True)
    response = clinician.post(move, {"status": "completed", "outcome": "got_help"}, follow=True)
    assert response.status_code == 200
    assert "Referral updated." in response.content.decode()
    worker = verified_client(world.county_caseworker)
    sent = reverse("referrals:sent")
    assert NEW_OUTCOME in _page(worker, sent)
    # Neither the youth page nor a reader by consent (law enforcement here) counts as the worker
    # looking at the outcome.
    _page(worker, reverse("youth:detail", args=[world.maya.pk]))
    _consent(world, world.sheriff, ["identity", "referrals"])
    officer_view = _page(verified_client(world.police_officer), _detail(referral))
    assert "Got help" in officer_view
    assert reverse("referrals:move", args=[referral.pk]) not in officer_view
    assert NEW_OUTCOME in _page(worker, sent)
    _page(worker, _detail(referral))
    assert NEW_OUTCOME not in _page(worker, sent)


def test_the_supervisor_lists_referrals_waiting_too_long(
    world: World, clinic_service: Service, now: datetime.datetime
) -> None:
    with at(now - 3 * DAY):
        slow = refer(world, clinic_service)
    with at(now - 2 * HOUR):
        quick = refer(world, clinic_service, note="")
    supervisor = verified_client(world.county_supervisor)
    with at(now):
        body = _page(supervisor, reverse("referrals:sent") + "?scope=waiting")
    assert "Referrals waiting too long (our agency)" in body
    assert _detail(slow) in body
    assert _detail(quick) not in body
    assert "waiting too long (since" in body
    # The supervisor referred nobody: their own list is empty.
    with at(now):
        assert "No referrals here." in _page(supervisor, reverse("referrals:sent"))
    # Once the service answers, the referral no longer waits for an answer.
    verified_client(world.clinic_clinician).post(
        reverse("referrals:move", args=[slow.pk]), {"status": "accepted"}
    )
    with at(now):
        assert _detail(slow) not in _page(supervisor, reverse("referrals:sent") + "?scope=waiting")


# --- Print, and who gets nothing ---------------------------------------------------------


def test_the_printable_summary_is_for_the_referring_side_only(
    world: World, clinic_service: Service, outside_service: Service
) -> None:
    outside = refer(world, outside_service, need="need-food")
    worker = verified_client(world.county_caseworker)
    detail = _page(worker, _detail(outside))
    assert reverse("referrals:print", args=[outside.pk]) in detail
    body = _page(worker, reverse("referrals:print", args=[outside.pk]))
    assert "Referral summary" in body
    assert "Harbor Food Bank" in body
    assert "Casey Tester, Harbor County, 555-0100" in body
    for secret in ("Quillfeather", NOTE, world.maya.record_number):
        assert secret not in body, secret
    platform = refer(world, clinic_service)
    _page(
        verified_client(world.clinic_clinician), reverse("referrals:print", args=[platform.pk]), 404
    )


@pytest.mark.parametrize("who", ["other_caseworker", "police_officer", "county_analyst"])
def test_an_outsider_gets_404_and_changes_nothing(
    world: World, clinic_service: Service, who: str
) -> None:
    referral = refer(world, clinic_service)
    client = verified_client(getattr(world, who))
    expected = 403 if who == "county_analyst" else 404  # analysts see no record at all
    for url in (_detail(referral), reverse("referrals:print", args=[referral.pk])):
        response = client.get(url)
        assert response.status_code == expected, url
        assert "Quillfeather" not in response.content.decode()
    response = client.post(reverse("referrals:move", args=[referral.pk]), {"status": "accepted"})
    assert response.status_code == expected
    referral.refresh_from_db()
    assert referral.status == Status.REQUESTED
    assert referral.history.count() == 1


def test_anonymous_visitors_are_sent_to_log_in(world: World, clinic_service: Service) -> None:
    referral = refer(world, clinic_service)
    for url in (_detail(referral), reverse("referrals:inbox"), reverse("referrals:sent")):
        response = Client().get(url)
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]
