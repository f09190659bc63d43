"""The referrals API: same policy, workflow and audit as the pages; what the receiving agency
sees of the youth follows consent at every read."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from safeharbor.accounts.models import User
from safeharbor.audit.models import AuditEvent
from safeharbor.core import clock
from safeharbor.core.tests.personas import World, verified_client
from safeharbor.directory.models import Service
from safeharbor.referrals import services
from safeharbor.referrals.choices import Outcome, Status
from safeharbor.referrals.models import Referral, ReferralEvent
from safeharbor.referrals.selectors import PAGE_SIZE
from safeharbor.youth.models import ConsentToShare
from safeharbor.youth.services import consent_grant, consent_revoke

from .conftest import DAY, at, refer

pytestmark = pytest.mark.django_db

NOTE = "Maya asked for a counsellor who speaks Spanish."


def api(user: User) -> APIClient:
    client = APIClient()
    token, _created = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def youth_url(world: World) -> str:
    return f"/api/v1/youth/{world.maya.pk}/referrals/"


def detail_url(referral: Referral) -> str:
    return f"/api/v1/referrals/{referral.pk}/"


def status_url(referral: Referral) -> str:
    return f"/api/v1/referrals/{referral.pk}/status/"


INBOX = "/api/v1/referrals/inbox/"


def body_for(service: Service, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "service_id": str(service.pk),
        "need": "need-counseling",
        "priority": "urgent",
        "note": NOTE,
        "callback": "Casey Tester, Harbor County, 555-0100",
    }
    body.update(overrides)
    return body


def share_with_clinic(world: World, categories: list[str]) -> ConsentToShare:
    today = clock.today()
    return consent_grant(
        actor=world.county_caseworker,
        youth=world.maya,
        signer_kind="youth",
        signer_name="Maya",
        signer_is_suspected_exploiter=False,
        recipient_agency=world.clinic,
        categories=categories,
        purpose="Counselling referral",
        valid_from=today,
        expires_on=today + datetime.timedelta(days=90),
    )


def referral_reads(user: User) -> list[tuple[str, str, str]]:
    """The referral reads recorded for ``user`` (writes are recorded as create/update)."""
    return list(
        AuditEvent.objects.filter(
            actor=user, category__contains="referrals", action__in=["view", "list"]
        )
        .order_by("seq")
        .values_list("action", "object_type", "category")
    )


# --- Create --------------------------------------------------------------------------------


def test_a_worker_refers_maya_and_gets_the_referral_back(
    world: World, clinic_service: Service
) -> None:
    response = api(world.county_caseworker).post(youth_url(world), body_for(clinic_service))
    assert response.status_code == 201
    data = response.json()
    referral = Referral.objects.get()
    assert data["id"] == str(referral.pk)
    assert (data["status"], data["need"], data["priority"]) == (
        "requested",
        "need-counseling",
        "urgent",
    )
    assert data["receiving_agency"] == world.clinic.name
    assert data["youth"]["display_name"] == world.maya.display_name
    assert data["note"] == NOTE
    assert data["sides"] == ["referrer"]
    assert data["moves"] == ["cancelled", "entered-in-error"]
    assert data["matched_within_48_hours"] is None
    assert [(e["from_status"], e["to_status"]) for e in data["history"]] == [("", "requested")]


def test_a_draft_is_not_sent(world: World, clinic_service: Service) -> None:
    response = api(world.county_caseworker).post(
        youth_url(world), body_for(clinic_service, send=False)
    )
    assert response.status_code == 201
    assert (response.json()["status"], response.json()["sent_at"]) == ("draft", None)
    assert response.json()["moves"] == ["requested", "entered-in-error"]


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"need": "need-rocket"}, {"need"}),
        ({"priority": "whenever", "callback": ""}, {"priority", "callback"}),
        ({"callback": "   "}, {"callback"}),
        ({"note": "x" * (services.MAX_NOTE + 1)}, {"note"}),
        ({"service_id": "not-a-uuid"}, {"service_id"}),
        ({"send": "perhaps"}, {"send"}),
    ],
)
def test_bad_input_is_a_400_naming_each_field_and_saves_nothing(
    world: World, clinic_service: Service, overrides: dict[str, Any], fields: set[str]
) -> None:
    response = api(world.county_caseworker).post(
        youth_url(world), body_for(clinic_service, **overrides)
    )
    assert response.status_code == 400
    assert set(response.json()) == fields
    assert not Referral.objects.exists()


def test_missing_fields_are_named(world: World) -> None:
    response = api(world.county_caseworker).post(youth_url(world), {})
    assert response.status_code == 400
    assert set(response.json()) == {"service_id", "need", "callback"}


def test_an_unknown_or_inactive_service_is_404(world: World, clinic_service: Service) -> None:
    client = api(world.county_caseworker)
    unknown = body_for(clinic_service, service_id="00000000-0000-4000-8000-000000000000")
    assert client.post(youth_url(world), unknown).status_code == 404
    Service.objects.filter(pk=clinic_service.pk).update(status="inactive")
    assert client.post(youth_url(world), body_for(clinic_service)).status_code == 404
    assert not Referral.objects.exists()


def test_a_service_refusal_is_keyed_by_the_api_field(
    world: World, clinic_service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The service names the directory service ``service``; the API's field is ``service_id``
    (an inactive service normally stops at the 404 before, so the race is simulated)."""
    monkeypatch.setattr(
        "safeharbor.referrals.api.service_get",
        lambda service_id: Service.objects.select_related("organization").get(pk=service_id),
    )
    Service.objects.filter(pk=clinic_service.pk).update(status="inactive")
    response = api(world.county_caseworker).post(youth_url(world), body_for(clinic_service))
    assert response.status_code == 400
    assert set(response.json()) == {"service_id"}
    assert not Referral.objects.exists()


@pytest.mark.parametrize(
    "who", ["other_caseworker", "police_officer", "vsp_advocate", "clinic_clinician"]
)
def test_those_who_may_not_see_the_youth_get_404(
    world: World, clinic_service: Service, who: str
) -> None:
    refer(world, clinic_service)
    client = api(getattr(world, who))
    assert client.get(youth_url(world)).status_code == 404
    assert client.post(youth_url(world), body_for(clinic_service)).status_code == 404
    assert Referral.objects.count() == 1


def test_the_agency_admin_sees_maya_but_not_her_referrals_so_404(
    world: World, clinic_service: Service
) -> None:
    """Admins see identity only (to answer "who accessed this record"): referrals are a
    category they may not see, which is the same 404 as a youth they may not see."""
    client = api(world.county_admin)
    assert client.get(f"/api/v1/youth/{world.maya.pk}/").status_code == 200
    assert client.get(youth_url(world)).status_code == 404
    assert client.post(youth_url(world), body_for(clinic_service)).status_code == 404
    assert not Referral.objects.exists()


def test_roles_without_youth_records_get_403(world: World, clinic_service: Service) -> None:
    for user in (world.county_analyst, world.university_researcher):
        client = api(user)
        assert client.get(youth_url(world)).status_code == 403
        assert client.post(youth_url(world), body_for(clinic_service)).status_code == 403
        assert client.get(INBOX).status_code == 403
    assert not Referral.objects.exists()


def test_an_agency_that_sees_referrals_through_consent_may_not_make_one(
    world: World, clinic_service: Service
) -> None:
    refer(world, clinic_service)
    share_with_clinic(world, ["referrals"])
    client = api(world.clinic_clinician)
    assert client.get(youth_url(world)).json()["count"] == 1
    response = client.post(youth_url(world), body_for(clinic_service))
    assert response.status_code == 403
    assert Referral.objects.count() == 1


def test_no_credentials_is_401(world: World, clinic_service: Service) -> None:
    referral = refer(world, clinic_service)
    client = APIClient()
    assert client.get(youth_url(world)).status_code == 401
    assert client.post(youth_url(world), body_for(clinic_service)).status_code == 401
    assert client.get(detail_url(referral)).status_code == 401
    assert client.post(status_url(referral), {"status": "cancelled"}).status_code == 401
    assert client.get(INBOX).status_code == 401


def test_a_session_must_have_passed_mfa(world: World, clinic_service: Service) -> None:
    referral = refer(world, clinic_service)
    unverified = APIClient()
    unverified.force_login(world.county_caseworker)  # password passed, no MFA
    refused = unverified.get(detail_url(referral))
    assert refused.status_code in (302, 403)  # the MFA middleware redirects first
    assert world.maya.family_name not in refused.content.decode()
    verified = verified_client(world.county_caseworker)
    assert verified.get(detail_url(referral)).status_code == 200
    moved = verified.post(
        status_url(referral),
        json.dumps({"status": "cancelled", "reason": "Maya found help", "outcome": "declined"}),
        content_type="application/json",
    )
    assert moved.status_code == 200
    assert moved.json()["status"] == "cancelled"


# --- The youth's list ----------------------------------------------------------------------


def test_the_youths_referrals_are_paginated_newest_first_and_audited(
    world: World, clinic_service: Service, outside_service: Service, now: datetime.datetime
) -> None:
    with at(now - DAY):
        first = refer(world, clinic_service)
    second = refer(world, outside_service, need="need-food")
    client = api(world.county_caseworker)
    data = client.get(youth_url(world)).json()
    assert data["count"] == 2
    assert [row["id"] for row in data["results"]] == [str(second.pk), str(first.pk)]
    row = data["results"][1]
    assert row["display_name"] == world.maya.display_name
    assert row["record_number"] == world.maya.record_number
    assert (row["service_name"], row["referring_agency"]) == (
        "Bayside Youth Counseling",
        world.county.name,
    )
    assert referral_reads(world.county_caseworker) == [("list", "youth.youth", "referrals")]
    assert client.get(youth_url(world) + "?page=2").status_code == 404


def test_the_youths_list_pages(world: World, clinic_service: Service) -> None:
    for _ in range(PAGE_SIZE + 1):
        refer(world, clinic_service)
    client = api(world.county_caseworker)
    first = client.get(youth_url(world)).json()
    assert (first["count"], len(first["results"])) == (PAGE_SIZE + 1, PAGE_SIZE)
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 1


# --- One referral --------------------------------------------------------------------------


def _secrets(world: World) -> list[str]:
    return [
        world.maya.given_name,
        world.maya.family_name,
        world.maya.preferred_name,
        world.maya.record_number,
        str(world.maya.pk),
        "Spanish",
    ]


def test_the_referrer_sees_everything_and_the_read_is_audited(
    world: World, clinic_service: Service
) -> None:
    referral = refer(world, clinic_service)
    response = api(world.county_caseworker).get(detail_url(referral))
    assert response.status_code == 200
    data = response.json()
    assert data["youth"]["id"] == str(world.maya.pk)
    assert data["youth"]["display_name"] == world.maya.display_name
    assert data["youth"]["record_number"] == world.maya.record_number
    assert (data["note"], data["identity_shared"], data["note_shared"]) == (NOTE, True, True)
    assert data["status"] == "requested"  # the referrer opening it does not mark it received
    assert referral_reads(world.county_caseworker) == [
        ("view", "referrals.referral", "referrals,identity")
    ]


def test_the_receiver_without_consent_gets_no_name_and_no_note(
    world: World, clinic_service: Service
) -> None:
    referral = refer(world, clinic_service)
    response = api(world.clinic_clinician).get(detail_url(referral))
    assert response.status_code == 200
    data = response.json()
    youth = data["youth"]
    assert (youth["id"], youth["display_name"], youth["record_number"]) == (None, None, None)
    assert (data["note"], data["identity_shared"], data["note_shared"]) == (None, False, False)
    assert all(event["note"] is None for event in data["history"])
    for secret in _secrets(world):
        assert secret not in response.content.decode(), secret
    # The de-identified core is always there.
    assert youth["age_band"] == world.maya.age_band(clock.today())
    assert (youth["county"], youth["preferred_language"]) == ("Harbor", "en")
    assert data["callback"] == "Casey Tester, Harbor County, 555-0100"
    # Opening it at the service marks it received, and it can be answered.
    assert data["status"] == "received"
    assert data["sides"] == ["receiver"]
    assert data["moves"] == ["accepted", "rejected"]
    assert referral_reads(world.clinic_clinician) == [("view", "referrals.referral", "referrals")]


def test_consent_shares_the_name_and_note_and_revoking_it_takes_them_back(
    world: World, clinic_service: Service
) -> None:
    referral = refer(world, clinic_service)
    services.referral_move(
        actor=world.clinic_clinician, referral=referral, to_status=Status.ACCEPTED, note="Room 4"
    )
    client = api(world.clinic_clinician)
    consent = share_with_clinic(world, ["identity", "referrals"])
    shared = client.get(detail_url(referral)).json()
    assert shared["youth"]["display_name"] == world.maya.display_name
    assert shared["youth"]["record_number"] == world.maya.record_number
    assert shared["note"] == NOTE
    assert [event["note"] for event in shared["history"]] == ["", "Room 4"]
    consent_revoke(actor=world.county_caseworker, consent=consent, reason="Maya asked to stop")
    response = client.get(detail_url(referral))
    withheld = response.json()
    assert withheld["youth"]["display_name"] is None
    assert withheld["note"] is None
    assert [event["note"] for event in withheld["history"]] == [None, None]
    for secret in _secrets(world):
        assert secret not in response.content.decode(), secret
    assert [category for _a, _t, category in referral_reads(world.clinic_clinician)] == [
        "referrals,identity",
        "referrals",
    ]


def test_identity_alone_shares_the_name_not_the_note(world: World, clinic_service: Service) -> None:
    referral = refer(world, clinic_service)
    share_with_clinic(world, ["identity"])
    data = api(world.clinic_clinician).get(detail_url(referral)).json()
    assert data["youth"]["display_name"] == world.maya.display_name
    assert data["note"] is None


@pytest.mark.parametrize("who", ["other_caseworker", "police_officer", "county_admin"])
def test_a_referral_without_a_side_is_404(world: World, clinic_service: Service, who: str) -> None:
    referral = refer(world, clinic_service)
    client = api(getattr(world, who))
    assert client.get(detail_url(referral)).status_code == 404
    assert client.post(status_url(referral), {"status": "cancelled"}).status_code == 404
    assert client.get("/api/v1/referrals/00000000-0000-4000-8000-000000000000/").status_code == 404
    assert Referral.objects.get().status == Status.REQUESTED


def test_a_draft_is_not_the_services_to_read(world: World, clinic_service: Service) -> None:
    """A draft names its receiving agency already; the service learns of it once it is sent."""
    draft = refer(world, clinic_service, send=False)
    assert api(world.clinic_clinician).get(detail_url(draft)).status_code == 404
    assert Referral.objects.get().status == Status.DRAFT
    assert referral_reads(world.clinic_clinician) == []


def test_the_clock_decides_waiting_too_long(
    world: World, clinic_service: Service, now: datetime.datetime
) -> None:
    with at(now - 3 * DAY):
        referral = refer(world, clinic_service)
    data = api(world.county_caseworker).get(detail_url(referral)).json()
    assert data["waiting_too_long"] is True
    assert data["matched_within_48_hours"] is False
    assert data["follow_up_due"] is not None


# --- Moving it along -----------------------------------------------------------------------


def test_the_service_answers_and_closes_with_an_outcome(
    world: World, clinic_service: Service
) -> None:
    referral = refer(world, clinic_service)
    client = api(world.clinic_clinician)
    accepted = client.post(status_url(referral), {"status": "accepted"})
    assert accepted.status_code == 200
    assert accepted.json()["status"] == "accepted"
    assert accepted.json()["matched_within_48_hours"] is True
    closed = client.post(
        status_url(referral), {"status": "completed", "outcome": "got_help", "note": "Weekly"}
    )
    assert closed.status_code == 200
    data = closed.json()
    assert (data["status"], data["outcome"], data["moves"]) == ("completed", "got_help", [])
    assert data["outcome_note"] is None  # the note is not shared with the clinic
    referral.refresh_from_db()
    assert (referral.outcome, referral.outcome_note) == (Outcome.GOT_HELP, "Weekly")
    # The referring worker learns the outcome and its note.
    seen = api(world.county_caseworker).get(detail_url(referral)).json()
    assert (seen["outcome"], seen["outcome_note"]) == ("got_help", "Weekly")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "completed"}, "outcome"),
        ({"status": "rejected", "outcome": "no_capacity"}, "reason"),
        ({"status": "accepted", "outcome": "got_help"}, "outcome"),
        ({"status": "cancelled", "reason": "x", "outcome": "declined"}, "status"),
        ({"status": "sideways"}, "status"),
        ({"reason": "no status"}, "status"),
        ({"status": "accepted", "note": "x" * (services.MAX_NOTE + 1)}, "note"),
    ],
)
def test_a_move_the_service_may_not_make_is_400_and_changes_nothing(
    world: World, clinic_service: Service, body: dict[str, Any], field: str
) -> None:
    referral = refer(world, clinic_service)
    if body.get("status") == "completed":
        services.referral_move(
            actor=world.clinic_clinician, referral=referral, to_status=Status.ACCEPTED
        )
    before = (Referral.objects.get().status, ReferralEvent.objects.count())
    response = api(world.clinic_clinician).post(status_url(referral), body)
    assert response.status_code == 400
    assert field in response.json()
    assert (Referral.objects.get().status, ReferralEvent.objects.count()) == before


def test_the_referrer_may_not_answer_for_a_service_on_the_platform(
    world: World, clinic_service: Service
) -> None:
    referral = refer(world, clinic_service)
    response = api(world.county_caseworker).post(status_url(referral), {"status": "accepted"})
    assert response.status_code == 400
    assert list(response.json()) == ["status"]
    assert Referral.objects.get().status == Status.REQUESTED


def test_the_referrer_cancels_with_a_reason_and_an_outcome(
    world: World, clinic_service: Service
) -> None:
    referral = refer(world, clinic_service)
    client = api(world.county_caseworker)
    missing = client.post(status_url(referral), {"status": "cancelled"})
    assert missing.status_code == 400
    assert set(missing.json()) == {"reason", "outcome"}
    done = client.post(
        status_url(referral),
        {"status": "cancelled", "reason": "Maya found help nearer home", "outcome": "declined"},
    )
    assert done.status_code == 200
    assert (done.json()["status"], done.json()["status_reason"]) == (
        "cancelled",
        "Maya found help nearer home",
    )


def test_the_referrer_records_the_answers_of_a_service_off_the_platform(
    world: World, outside_service: Service
) -> None:
    referral = refer(world, outside_service, need="need-food")
    client = api(world.county_caseworker)
    data = client.get(detail_url(referral)).json()
    assert (data["on_platform"], data["receiving_agency"]) == (False, None)
    assert "accepted" in data["moves"]
    assert client.post(status_url(referral), {"status": "accepted"}).json()["status"] == "accepted"


# --- The inbox -----------------------------------------------------------------------------


def test_the_inbox_is_de_identified_without_consent_and_audited(
    world: World, clinic_service: Service, outside_service: Service
) -> None:
    referral = refer(world, clinic_service)
    refer(world, outside_service, need="need-food")  # not the clinic's
    refer(world, clinic_service, send=False)  # a draft is not sent
    client = api(world.clinic_clinician)
    response = client.get(INBOX)
    assert response.status_code == 200
    data = response.json()
    assert (data["count"], data["page"], data["pages"], data["state"]) == (1, 1, 1, "open")
    row = data["results"][0]
    assert row["id"] == str(referral.pk)
    assert (row["youth_id"], row["display_name"], row["record_number"]) == (None, None, None)
    assert row["referring_agency"] == world.county.name
    for secret in _secrets(world):
        assert secret not in response.content.decode(), secret
    assert referral_reads(world.clinic_clinician) == [("list", "referrals.inbox", "referrals")]


def test_the_inbox_names_the_youth_with_consent(world: World, clinic_service: Service) -> None:
    refer(world, clinic_service)
    share_with_clinic(world, ["identity"])
    row = api(world.clinic_clinician).get(INBOX).json()["results"][0]
    assert row["display_name"] == world.maya.display_name
    assert row["record_number"] == world.maya.record_number


def test_the_inbox_states(world: World, clinic_service: Service) -> None:
    referral = refer(world, clinic_service)
    client = api(world.clinic_clinician)
    assert client.get(INBOX + "?state=closed").json()["count"] == 0
    services.referral_move(
        actor=world.clinic_clinician,
        referral=referral,
        to_status=Status.REJECTED,
        reason="Full until March",
        outcome=Outcome.NO_CAPACITY,
    )
    assert client.get(INBOX).json()["count"] == 0
    closed = client.get(INBOX + "?state=closed").json()
    assert [row["outcome"] for row in closed["results"]] == ["no_capacity"]
    assert client.get(INBOX + "?state=all").json()["count"] == 1


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("?state=everything", 400),
        ("?state=open&state=closed", 400),
        ("?page=2", 404),
        ("?page=abc", 404),
        ("?page=0", 404),
        ("?page=", 404),
        ("?page=1&page=1", 404),
    ],
)
def test_the_inbox_refuses_what_the_schema_does_not_offer(
    world: World, clinic_service: Service, query: str, code: int
) -> None:
    refer(world, clinic_service)
    response = api(world.clinic_clinician).get(INBOX + query)
    assert response.status_code == code
    if code == 400:
        assert list(response.json()) == ["state"]
    assert referral_reads(world.clinic_clinician) == []


def test_an_agency_admin_answers_no_referrals(world: World) -> None:
    """``can_answer_referrals`` is true for any youth-data role at the agency except admins."""
    response = api(world.county_admin).get(INBOX)
    assert response.status_code == 403
    assert api(world.county_caseworker).get(INBOX).json()["count"] == 0
