"""The screenings API: FHIR QuestionnaireResponse in and out, under the same policy and audit."""

from __future__ import annotations

import copy
import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from safeharbor.audit.models import AuditEvent
from safeharbor.core import clock
from safeharbor.screening.definition import EXT_SCREENING_CONTEXT, EXT_SCREENING_RESULT
from safeharbor.screening.models import Screening
from safeharbor.youth.services import consent_grant

from .helpers import SIX, TEN, completed, load, six_answers


def api(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def url(world, screening_id=None) -> str:
    base = f"/api/v1/youth/{world.maya.pk}/screenings/"
    return base if screening_id is None else f"{base}{screening_id}/"


def response_for(
    instrument, answers, *, status="completed", reason="intake", mode="interview_in_person"
):
    return {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": instrument.canonical,
        "status": status,
        "language": "en",
        "extension": [
            {
                "url": EXT_SCREENING_CONTEXT,
                "extension": [
                    {"url": "reason", "valueCode": reason},
                    {"url": "mode", "valueCode": mode},
                ],
            }
        ],
        "item": [
            {
                "linkId": "screen",
                "item": [
                    {"linkId": link_id, "answer": [{"valueCoding": {"code": code}}]}
                    for link_id, code in answers.items()
                ],
            }
        ],
    }


def result_values(resource) -> dict:
    ext = next(e for e in resource["extension"] if e["url"] == EXT_SCREENING_RESULT)
    return {
        sub["url"]: next(v for k, v in sub.items() if k.startswith("value"))
        for sub in ext["extension"]
    }


def test_a_completed_response_is_scored_stored_and_given_back(world):
    instrument = load(SIX)
    response = api(world.county_caseworker).post(
        url(world), response_for(instrument, six_answers(2)), format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    screening = Screening.objects.get()
    assert body["id"] == str(screening.pk)
    assert body["status"] == "completed"
    assert body["questionnaire"] == instrument.canonical
    assert body["subject"]["identifier"]["value"] == str(world.maya.pk)
    values = result_values(body)
    assert values["computedLevel"] == "clear_concern"
    assert values["level"] == "clear_concern"
    assert values["totalScore"] == 2
    assert values["validated"] is True
    answers = {q["linkId"]: q["answer"][0]["valueCoding"]["code"] for q in body["item"][0]["item"]}
    assert answers == six_answers(2)
    assert AuditEvent.objects.filter(
        action="create", object_type="screening.screening", youth_id=world.maya.pk
    ).exists()


def test_flat_items_and_drafts_are_accepted(world):
    instrument = load(SIX)
    payload = response_for(instrument, {"q1": "yes"}, status="in-progress")
    payload["item"] = payload["item"][0]["item"]  # no group
    response = api(world.county_caseworker).post(url(world), payload, format="json")
    assert response.status_code == 201
    assert response.json()["status"] == "in-progress"
    assert Screening.objects.get().status == "draft"


def test_an_answer_outside_the_options_is_a_400_naming_the_question(world):
    instrument = load(SIX)
    answers = {**six_answers(1), "q4": "sometimes"}
    response = api(world.county_caseworker).post(
        url(world), response_for(instrument, answers), format="json"
    )
    assert response.status_code == 400
    (message,) = response.json()["answers"]
    assert "q4" in message
    assert "'sometimes'" in message
    assert not Screening.objects.exists()


def test_bad_responses_are_400_and_store_nothing(world):
    instrument = load(SIX)
    client = api(world.county_caseworker)
    good = response_for(instrument, six_answers(0))
    cases = []
    missing_version = copy.deepcopy(good)
    missing_version["questionnaire"] = instrument.url
    cases.append((missing_version, "questionnaire"))
    unknown = copy.deepcopy(good)
    unknown["questionnaire"] = instrument.url + "|99"
    cases.append((unknown, "questionnaire"))
    no_context = copy.deepcopy(good)
    no_context["extension"] = []
    cases.append((no_context, "extension"))
    two_answers = copy.deepcopy(good)
    two_answers["item"][0]["item"][0]["answer"].append({"valueCoding": {"code": "no"}})
    cases.append((two_answers, "item"))
    incomplete = response_for(instrument, {"q1": "yes"})
    cases.append((incomplete, "answers"))
    wrong_mode = response_for(instrument, six_answers(0), mode="record_review")
    cases.append((wrong_mode, "mode"))
    not_fhir = copy.deepcopy(good)
    not_fhir["resourceType"] = "Patient"
    cases.append((not_fhir, "resourceType"))
    for payload, field in cases:
        response = client.post(url(world), payload, format="json")
        assert response.status_code == 400, (field, response.content)
        assert field in response.json(), (field, response.json())
    assert not Screening.objects.exists()


def test_list_and_retrieve_give_questionnaire_responses(world):
    instrument = load(TEN)
    first = completed(world, load(SIX), six_answers(0))
    completed(world, instrument, {f"d{i}": "0" for i in range(1, 10)}, mode="record_review")
    client = api(world.county_caseworker)
    bundle = client.get(url(world)).json()
    assert bundle["resourceType"] == "Bundle"
    assert bundle["total"] == 2
    assert {e["resource"]["questionnaire"] for e in bundle["entry"]} == {
        instrument.canonical,
        first.instrument.canonical,
    }
    one = client.get(url(world, first.pk)).json()
    assert one["id"] == str(first.pk)
    assert client.get(url(world, 999999)).status_code == 404


def test_the_list_runs_a_fixed_number_of_queries(world):
    instrument = load(SIX)
    client = api(world.county_caseworker)
    completed(world, instrument, six_answers(0))

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url(world)).status_code == 200
        return len(captured)

    few = count()
    for _ in range(8):
        completed(world, instrument, six_answers(3))
    assert count() == few


def test_who_may_read_and_submit(world):
    instrument = load(SIX)
    screening = completed(world, instrument, six_answers(1))
    payload = response_for(instrument, six_answers(0))
    other = api(world.other_caseworker)
    assert other.get(url(world)).status_code == 404
    assert other.get(url(world, screening.pk)).status_code == 404
    assert other.post(url(world), payload, format="json").status_code == 404
    assert APIClient().get(url(world)).status_code == 401
    assert api(world.county_analyst).get(url(world)).status_code == 403
    assert api(world.county_admin).get(url(world)).status_code == 404  # admins see no screening
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
        expires_on=clock.today() + datetime.timedelta(days=30),
    )
    clinic = api(world.clinic_clinician)
    assert clinic.get(url(world)).json()["total"] == 1
    assert clinic.post(url(world), payload, format="json").status_code == 404
    assert Screening.objects.count() == 1
