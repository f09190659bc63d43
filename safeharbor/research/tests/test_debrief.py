"""Debriefs point at directory services (many-to-many, one way), chosen by a search of active
services on the debrief form; the free text stays; the names reach the participant page and
the findings draft, never a withdrawn participant's."""

from __future__ import annotations

import io

import docx
import pytest
from django.core.exceptions import ValidationError

from safeharbor.audit.models import AuditEvent
from safeharbor.core.tests.personas import verified_client
from safeharbor.directory.models import Service
from safeharbor.directory.tests.factories import load, service_object
from safeharbor.research import services
from safeharbor.research.choices import DocumentKind
from safeharbor.research.models import Debrief

from .factories import DAY, enrol


@pytest.fixture
def listings(db):
    load(
        service_object(name="Harbor Counselling Line", description="Counselling by phone."),
        service_object(name="Bayside Peer Support", description="Peer counselling groups."),
        service_object(name="Closed Counselling Clinic", status="inactive"),
        service_object(name="Legal Aid Desk", description="Free legal advice."),
    )
    return {s.name: s for s in Service.objects.all()}


def _statement(study):
    return study.documents.get(kind=DocumentKind.DEBRIEF_STATEMENT, version=1)


def test_a_debrief_links_active_services_and_keeps_the_text(rworld, listings):
    participant = enrol(rworld.study, rworld.lead, "P09", debrief=False)
    debrief = services.debrief_record(
        actor=rworld.lead,
        participant=participant,
        statement=_statement(rworld.study),
        debriefed_on=DAY,
        resources_offered="The 24-hour line card",
        services_offered=[listings["Harbor Counselling Line"], listings["Legal Aid Desk"]],
    )
    debrief = Debrief.objects.get(pk=debrief.pk)
    assert debrief.resources_offered == "The 24-hour line card"
    assert {s.name for s in debrief.services_offered.all()} == {
        "Harbor Counselling Line",
        "Legal Aid Desk",
    }
    event = AuditEvent.objects.filter(object_type="research.debrief").last()
    assert "2 directory services offered" in event.reason


def test_an_inactive_service_is_refused_and_nothing_is_saved(rworld, listings):
    participant = enrol(rworld.study, rworld.lead, "P09", debrief=False)
    with pytest.raises(ValidationError) as error:
        services.debrief_record(
            actor=rworld.lead,
            participant=participant,
            statement=_statement(rworld.study),
            debriefed_on=DAY,
            services_offered=[listings["Closed Counselling Clinic"]],
        )
    assert "active" in str(error.value.message_dict["services_offered"])
    assert not Debrief.objects.filter(interview__consent__participant=participant).exists()


def test_the_debrief_page_searches_the_directory_and_saves_the_ticks(rworld, listings):
    participant = enrol(rworld.study, rworld.lead, "P09", debrief=False)
    url = f"/research/{rworld.study.pk}/participants/{participant.pk}/debrief/"
    client = verified_client(rworld.lead)
    first = client.get(url).content.decode()
    assert "No services listed yet" in first
    assert '<label for="id_q">' in first
    statement = _statement(rworld.study)
    line = listings["Harbor Counselling Line"]
    found = client.post(
        url,
        {
            "op": "search",
            "q": "counselling",
            "statement": statement.pk,
            "debriefed_on": DAY.isoformat(),
            "resources_offered": "A leaflet",
        },
    ).content.decode()
    assert "Harbor Counselling Line (Harbor Counselling Line Society)" in found
    assert "Bayside Peer Support" in found
    assert "Closed Counselling Clinic" not in found  # inactive services are not offered
    assert "Legal Aid Desk" not in found
    assert "A leaflet" in found  # what was typed stays
    assert 'class="error"' not in found  # a search judges nothing yet
    # Search again for something else: the ticked service stays listed.
    again = client.post(
        url, {"op": "search", "q": "legal", "services_offered": [str(line.pk)]}
    ).content.decode()
    assert "Legal Aid Desk" in again
    assert f'value="{line.pk}"' in again
    assert "checked" in again.split(f'value="{line.pk}"')[1].split(">")[0]
    saved = client.post(
        url,
        {
            "op": "save",
            "statement": statement.pk,
            "debriefed_on": DAY.isoformat(),
            "resources_offered": "A leaflet",
            "services_offered": [str(line.pk), str(listings["Legal Aid Desk"].pk)],
        },
    )
    assert saved.status_code == 302
    debrief = Debrief.objects.get(interview__consent__participant=participant)
    assert {s.name for s in debrief.services_offered.all()} == {
        "Harbor Counselling Line",
        "Legal Aid Desk",
    }
    page = client.get(f"/research/{rworld.study.pk}/participants/{participant.pk}/")
    body = page.content.decode()
    assert "Directory services offered" in body
    assert f"/directory/services/{line.pk}/" in body
    assert "Legal Aid Desk" in body
    assert "A leaflet" in body


def test_the_page_refuses_a_service_that_is_not_active(rworld, listings):
    participant = enrol(rworld.study, rworld.lead, "P09", debrief=False)
    url = f"/research/{rworld.study.pk}/participants/{participant.pk}/debrief/"
    response = verified_client(rworld.lead).post(
        url,
        {
            "statement": _statement(rworld.study).pk,
            "debriefed_on": DAY.isoformat(),
            "services_offered": [str(listings["Closed Counselling Clinic"].pk)],
        },
    )
    assert response.status_code == 200
    assert 'class="error"' in response.content.decode()
    assert not Debrief.objects.filter(interview__consent__participant=participant).exists()


def test_only_the_lead_records_a_debrief(rworld, listings):
    participant = enrol(rworld.study, rworld.lead, "P09", debrief=False)
    url = f"/research/{rworld.study.pk}/participants/{participant.pk}/debrief/"
    for who in (rworld.coder, rworld.viewer, rworld.outsider):
        assert verified_client(who).get(url).status_code == 404
        assert verified_client(who).post(url, {"op": "search", "q": "x"}).status_code == 404


def test_the_findings_name_the_services_offered_but_not_a_withdrawn_participants(rworld, listings):
    study = rworld.study
    kept = enrol(study, rworld.lead, "P08", debrief=False)
    gone = enrol(study, rworld.lead, "P09", debrief=False)
    for participant, service in ((kept, "Harbor Counselling Line"), (gone, "Legal Aid Desk")):
        services.debrief_record(
            actor=rworld.lead,
            participant=participant,
            statement=_statement(study),
            debriefed_on=DAY,
            services_offered=[listings[service]],
        )
        services.transcripts_import(
            actor=rworld.lead,
            study=study,
            uploads=[services.Upload(filename=f"{participant.code}.txt", content=b"Words here.")],
        )
    services.participant_withdraw(actor=rworld.lead, participant=gone)
    body = verified_client(rworld.lead).get(f"/research/{study.pk}/export/findings.docx").content
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(body)).paragraphs)
    assert (
        "At the debrief, participants were offered these directory services: "
        "Harbor Counselling Line (Harbor Counselling Line Society)." in text
    )
    assert "Legal Aid Desk" not in text
