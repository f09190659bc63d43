"""The screening pages through HTTP, as the personas: administering with skip logic, Spanish,
results, corrections and amendments, deadlines, instruments, and who may see what."""

from __future__ import annotations

import datetime
import io
import json
from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from safeharbor.audit.models import AuditEvent
from safeharbor.core import clock
from safeharbor.core.tests.personas import verified_client
from safeharbor.screening import services
from safeharbor.screening.models import Instrument, Screening, TriggerEvent, VictimIdentification
from safeharbor.youth.services import consent_grant

from .helpers import SIX, TEN, completed, document, load, six_answers

DAY = datetime.timedelta(days=1)


def share(world, categories):
    consent_grant(
        actor=world.county_caseworker,
        youth=world.maya,
        signer_kind="youth",
        signer_name="Maya Quillfeather",
        signer_is_suspected_exploiter=False,
        recipient_agency=world.clinic,
        categories=categories,
        purpose="Follow-up care",
        valid_from=clock.today(),
        expires_on=clock.today() + DAY * 30,
    )


def step_url(world, screening, step):
    return reverse("screening:step", args=[world.maya.pk, screening.pk, step])


def test_administering_one_domain_per_step_with_server_side_skip_logic(world):
    instrument = load(TEN)
    client = verified_client(world.county_caseworker)
    response = client.post(
        reverse("screening:new", args=[world.maya.pk]),
        {
            "instrument": instrument.pk,
            "reason": "intake",
            "mode": "record_review",
            "language": "en",
        },
    )
    screening = Screening.objects.get()
    assert response["Location"] == step_url(world, screening, 1)

    body = client.get(step_url(world, screening, 1)).content.decode()
    assert "Step 1 of 9" in body  # area 10 is off until area 9 shows evidence
    assert "Rate the evidence in area 1." in body
    assert "Ask only what you need to know." in body  # a display item
    assert "Was it in the last six months?" not in body
    assert "NOT VALIDATED" in body

    # Rating area 1 opens its follow-up on the same step, without JavaScript.
    response = client.post(step_url(world, screening, 1), {"a_d1": "1", "go": "next"})
    assert response["Location"] == step_url(world, screening, 1)
    assert (
        "Was it in the last six months?"
        in client.get(step_url(world, screening, 1)).content.decode()
    )
    response = client.post(
        step_url(world, screening, 1), {"a_d1": "1", "a_d1-recent": "yes", "go": "next"}
    )
    assert response["Location"] == step_url(world, screening, 2)

    # "Back" goes to the previous step that is on; "leave" keeps the draft.
    response = client.post(step_url(world, screening, 2), {"a_d2": "0", "go": "back"})
    assert response["Location"] == step_url(world, screening, 1)
    response = client.post(step_url(world, screening, 2), {"a_d2": "0", "go": "leave"})
    assert response["Location"] == reverse("youth:detail", args=[world.maya.pk])
    for step in range(3, 10):
        response = client.post(step_url(world, screening, step), {f"a_d{step}": "0", "go": "next"})
    finish = reverse("screening:finish", args=[world.maya.pk, screening.pk])
    assert response["Location"] == finish  # area 9 rated 0: area 10 is skipped
    # A skipped step sends you on.
    assert client.get(step_url(world, screening, 10))["Location"] == finish

    assert "Finish and see the result" in client.get(finish).content.decode()
    response = client.post(finish)
    detail = reverse("screening:detail", args=[world.maya.pk, screening.pk])
    assert response["Location"] == detail
    screening.refresh_from_db()
    assert screening.computed_level == "no_concern"
    assert screening.answers["d1-recent"] == "yes"

    body = client.get(detail).content.decode()
    assert "Result: No concern" in body
    assert "NOT VALIDATED" in body
    assert "A screen is not proof." in body
    assert "Rate the evidence in area 1." in body  # the indicator present
    assert "due within 24 hours" in body
    assert client.get(step_url(world, screening, 1))["Location"] == detail


def test_the_finish_page_lists_unanswered_questions_and_refuses(world):
    instrument = load(SIX)
    screening = services.screening_start(
        actor=world.county_caseworker,
        youth=world.maya,
        instrument=instrument,
        reason="intake",
        mode="interview_in_person",
    )
    client = verified_client(world.county_caseworker)
    finish = reverse("screening:finish", args=[world.maya.pk, screening.pk])
    body = client.get(finish).content.decode()
    assert "Example question 6?" in body
    assert "Finish and see the result" not in body
    response = client.post(finish)
    assert response.status_code == 200
    assert "Answer question &#x27;q1&#x27;" in response.content.decode()
    screening.refresh_from_db()
    assert screening.status == "draft"


def test_spanish_questions_when_the_instrument_has_them(world):
    instrument = load(SIX)
    client = verified_client(world.county_caseworker)
    client.post(
        reverse("screening:new", args=[world.maya.pk]),
        {
            "instrument": instrument.pk,
            "reason": "intake",
            "mode": "interview_in_person",
            "language": "es",
        },
    )
    screening = Screening.objects.get()
    body = client.get(step_url(world, screening, 1)).content.decode()
    assert "¿Pregunta de ejemplo 1?" in body
    assert 'lang="es"' in body
    assert ">Sí</label>" in body or "Sí</label>" in body


def test_an_answer_that_is_not_an_option_is_refused_on_the_page(world):
    screening = services.screening_start(
        actor=world.county_caseworker,
        youth=world.maya,
        instrument=load(SIX),
        reason="intake",
        mode="interview_in_person",
    )
    client = verified_client(world.county_caseworker)
    response = client.post(step_url(world, screening, 1), {"a_q1": "maybe", "go": "next"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    screening.refresh_from_db()
    assert screening.answers == {}


def test_review_needs_a_reason_for_a_different_level(world):
    screening = completed(world, load(SIX), six_answers(0))
    client = verified_client(world.county_caseworker)
    url = reverse("screening:review", args=[world.maya.pk, screening.pk])
    response = client.post(url, {"override_level": "possible_concern", "next_action": "monitor"})
    assert response.status_code == 200
    assert "Say why your judgement differs" in response.content.decode()
    response = client.post(
        url,
        {
            "override_level": "possible_concern",
            "override_reason": "Seen with an older man",
            "next_action": "refer",
        },
    )
    assert response.status_code == 302
    screening.refresh_from_db()
    assert screening.level == "possible_concern"
    body = client.get(
        reverse("screening:detail", args=[world.maya.pk, screening.pk])
    ).content.decode()
    assert "Result: Possible concern" in body
    assert "Seen with an older man" in body
    assert "Consider a referral to specialised services" in body


def test_correct_in_the_window_then_amend_once_locked(world):
    start = clock.now()
    with mock.patch("safeharbor.core.clock.now", return_value=start):
        screening = completed(world, load(SIX), six_answers(0))
    client = verified_client(world.county_caseworker)
    url = reverse("screening:revise", args=[world.maya.pk, screening.pk])
    body = client.get(url).content.decode()
    assert "Correct a screening" in body
    response = client.post(url, {f"a_q{i}": "yes" if i < 3 else "no" for i in range(1, 7)})
    assert response.status_code == 302
    screening.refresh_from_db()
    assert screening.computed_level == "clear_concern"
    with mock.patch("safeharbor.core.clock.now", return_value=start + DAY * 8):
        body = client.get(url).content.decode()
        assert "Amend a screening" in body
        response = client.post(url, {f"a_q{i}": "no" for i in range(1, 7)})
        assert response.status_code == 200  # the reason is required
        response = client.post(
            url,
            {
                **{f"a_q{i}": "no" for i in range(1, 7)},
                "reason": "Wrong youth's answers",
                "next_action": "monitor",
            },
        )
    amendment = Screening.objects.exclude(pk=screening.pk).get()
    assert response["Location"] == reverse("screening:detail", args=[world.maya.pk, amendment.pk])
    screening.refresh_from_db()
    assert screening.computed_level == "clear_concern"  # the original is kept
    assert amendment.amends_id == screening.pk
    assert amendment.completed_at == screening.completed_at  # the same administration
    assert amendment.next_action == "monitor"


def test_the_youth_page_shows_the_history_only_where_screening_is_shared(world):
    instrument = load(SIX)
    completed(world, instrument, six_answers(0))
    completed(world, instrument, six_answers(2), reason="routine_rescreen")
    body = (
        verified_client(world.county_caseworker)
        .get(reverse("youth:detail", args=[world.maya.pk]))
        .content.decode()
    )
    assert 'id="screening-h"' in body
    assert "<svg" in body
    assert "Screening levels over time" in body
    assert "Clear concern" in body
    assert "Routine rescreen" in body
    assert "Start a screening" in body

    share(world, ["identity"])
    clinic = verified_client(world.clinic_clinician)
    body = clinic.get(reverse("youth:detail", args=[world.maya.pk])).content.decode()
    assert 'id="screening-h"' not in body

    share(world, ["screening"])
    body = clinic.get(reverse("youth:detail", args=[world.maya.pk])).content.decode()
    assert 'id="screening-h"' in body
    assert "Start a screening" not in body  # shared to see, not to change


def test_a_view_only_agency_reads_results_but_cannot_administer(world):
    screening = completed(world, load(SIX), six_answers(2))
    share(world, ["screening"])
    clinic = verified_client(world.clinic_clinician)
    detail = reverse("screening:detail", args=[world.maya.pk, screening.pk])
    assert clinic.get(detail).status_code == 200
    assert AuditEvent.objects.filter(
        actor=world.clinic_clinician, action="view", object_type="screening.screening"
    ).exists()
    for name, args in (
        ("screening:new", [world.maya.pk]),
        ("screening:revise", [world.maya.pk, screening.pk]),
        ("screening:review", [world.maya.pk, screening.pk]),
        ("screening:trigger_new", [world.maya.pk]),
        ("screening:identification_new", [world.maya.pk]),
    ):
        assert clinic.get(reverse(name, args=args)).status_code == 404, name


@pytest.mark.parametrize(
    "name",
    ["screening:due", "screening:instruments", "screening:instrument_upload"],
)
def test_anonymous_is_sent_to_login(name):
    response = Client().get(reverse(name))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_roles_without_youth_data_get_403(world):
    for user in (world.county_analyst, world.university_researcher):
        assert verified_client(user).get(reverse("screening:due")).status_code == 403


def local(moment: datetime.datetime) -> str:
    """What a person types in a date-and-time field: the site's local time."""
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def test_deadline_pages_record_triggers_identifications_and_reports(world):
    client = verified_client(world.county_caseworker)
    now = clock.now().replace(second=0, microsecond=0)
    response = client.post(
        reverse("screening:trigger_new", args=[world.maya.pk]),
        {"kind": "return_from_missing", "occurred_at": local(now)},
    )
    assert response.status_code == 302
    assert TriggerEvent.objects.get().occurred_at == now
    future = client.post(
        reverse("screening:trigger_new", args=[world.maya.pk]),
        {"kind": "return_from_missing", "occurred_at": local(now + DAY)},
    )
    assert "This time is in the future." in future.content.decode()
    response = client.post(
        reverse("screening:identification_new", args=[world.maya.pk]),
        {"identified_at": local(now)},
    )
    assert response.status_code == 302
    identification = VictimIdentification.objects.get()
    body = client.get(reverse("youth:detail", args=[world.maya.pk])).content.decode()
    assert "the report to law enforcement is due by" in body
    url = reverse("screening:report_new", args=[world.maya.pk, identification.pk])
    response = client.post(url, {"reported_at": "", "receiving_agency": "", "report_number": ""})
    assert response.status_code == 200
    response = client.post(
        url,
        {
            "reported_at": local(now),
            "receiving_agency": "Harbor County Sheriff",
            "report_number": "HCS-1",
        },
    )
    assert response.status_code == 302
    identification.refresh_from_db()
    assert identification.report_number == "HCS-1"
    assert identification.reported_at == now


def test_an_admin_loads_an_instrument_and_a_refused_file_lists_every_problem(world):
    client = verified_client(world.county_admin)
    url = reverse("screening:instrument_upload")
    bad = document(SIX)
    bad["item"][0]["item"][1]["linkId"] = "q1"
    bad["extension"][0]["extension"] = [
        {"url": "method", "valueCode": "sum"},
        {"url": "possibleConcernAt", "valueDecimal": 3},
        {"url": "clearConcernAt", "valueDecimal": 2},
    ]
    upload = io.BytesIO(json.dumps(bad).encode())
    upload.name = "bad.json"
    response = client.post(url, {"file": upload})
    body = response.content.decode()
    assert response.status_code == 200
    assert "2 problems" in body
    assert "unique-link-id" in body
    assert "thresholds-ordered" in body
    assert not Instrument.objects.exists()

    not_json = io.BytesIO(b"{not json")
    not_json.name = "x.json"
    assert "The file is not JSON" in client.post(url, {"file": not_json}).content.decode()

    good = io.BytesIO(json.dumps(document(TEN)).encode())
    good.name = "ten.json"
    response = client.post(url, {"file": good})
    instrument = Instrument.objects.get()
    assert response["Location"] == reverse("screening:instrument_detail", args=[instrument.pk])
    assert instrument.agency == world.county
    exported = client.get(reverse("screening:instrument_export", args=[instrument.pk]))
    assert json.loads(exported.content) == document(TEN)
    # The agency's own instrument is not visible to another agency.
    other = verified_client(world.other_caseworker)
    assert (
        other.get(reverse("screening:instrument_detail", args=[instrument.pk])).status_code == 404
    )


def test_only_admins_load_instruments(world):
    assert (
        verified_client(world.county_caseworker)
        .get(reverse("screening:instrument_upload"))
        .status_code
        == 403
    )
    assert (
        verified_client(world.county_supervisor)
        .get(reverse("screening:instrument_upload"))
        .status_code
        == 403
    )


def test_an_admin_is_sent_from_the_due_list_to_the_instruments(world):
    response = verified_client(world.county_admin).get(reverse("screening:due"))
    assert response["Location"] == reverse("screening:instruments")


def test_a_supervisor_sets_the_rescreen_interval_on_the_instruments_page(world):
    instrument = load(SIX)
    client = verified_client(world.county_supervisor)
    response = client.post(
        reverse("screening:interval_set"), {"instrument_url": instrument.url, "days": "90"}
    )
    assert response.status_code == 302
    assert 'value="90"' in client.get(reverse("screening:instruments")).content.decode()
    caseworker = verified_client(world.county_caseworker)
    assert (
        caseworker.post(
            reverse("screening:interval_set"), {"instrument_url": instrument.url, "days": "9"}
        ).status_code
        == 403
    )
