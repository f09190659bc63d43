"""Youth services: validation, policy checks, audit, and nothing half-written on bad input."""

from __future__ import annotations

import base64
import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from safeharbor.access.choices import Category
from safeharbor.audit.models import AuditEvent
from safeharbor.core import clock
from safeharbor.youth import selectors, services
from safeharbor.youth.models import ConsentToShare, Note, Youth

TODAY = clock.today()


def grant(world, **overrides):
    arguments = {
        "actor": world.county_caseworker,
        "youth": world.maya,
        "signer_kind": "youth",
        "signer_name": "Maya Quillfeather",
        "signer_is_suspected_exploiter": False,
        "recipient_agency": world.clinic,
        "categories": [Category.IDENTITY],
        "purpose": "Follow-up care",
        "valid_from": TODAY,
        "expires_on": TODAY + datetime.timedelta(days=90),
    }
    arguments.update(overrides)
    return services.consent_grant(**arguments)


def test_a_suspected_exploiter_cannot_sign_consent_and_nothing_is_saved(world):
    events_before = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as error:
        grant(world, signer_kind="guardian", signer_is_suspected_exploiter=True)
    assert "signer_is_suspected_exploiter" in error.value.message_dict
    assert not ConsentToShare.objects.exists()
    assert AuditEvent.objects.count() == events_before


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"categories": []}, "categories"),
        ({"categories": ["everything"]}, "categories"),
        ({"expires_on": TODAY - datetime.timedelta(days=1)}, "expires_on"),
        ({"signed_form": b"x" * (services.MAX_SIGNED_FORM_BYTES + 1)}, "signed_form"),
    ],
)
def test_bad_consent_input_is_refused_with_a_field_message(world, overrides, field):
    with pytest.raises(ValidationError) as error:
        grant(world, **overrides)
    assert field in error.value.message_dict
    assert not ConsentToShare.objects.exists()


def test_consent_to_the_owning_agency_is_refused(world):
    with pytest.raises(ValidationError) as error:
        grant(world, recipient_agency=world.county)
    assert "recipient_agency" in error.value.message_dict


def test_revoking_records_who_when_why_and_keeps_history(world):
    consent = grant(world)
    services.consent_revoke(actor=world.county_caseworker, consent=consent, reason="Youth asked")
    consent.refresh_from_db()
    assert consent.revoked_by == world.county_caseworker
    assert consent.revoked_reason == "Youth asked"
    assert consent.status(TODAY) == "revoked"
    assert AuditEvent.objects.filter(action="revoke", object_id=str(consent.pk)).exists()
    with pytest.raises(ValidationError):
        services.consent_revoke(actor=world.county_caseworker, consent=consent, reason="again")


def test_a_worker_outside_the_record_cannot_write(world):
    with pytest.raises(PermissionDenied):
        grant(world, actor=world.other_caseworker)
    with pytest.raises(PermissionDenied):
        services.note_add(
            actor=world.other_caseworker,
            youth=world.maya,
            kind="general",
            body="Should not be saved",
        )
    assert not Note.objects.exists()


def test_only_clinicians_write_clinical_notes(world):
    with pytest.raises(PermissionDenied):
        services.note_add(
            actor=world.county_caseworker, youth=world.maya, kind="clinical", body="Not a clinician"
        )
    services.care_team_add(
        actor=world.county_caseworker,
        youth=world.maya,
        user=world.clinic_clinician,
        team_role="clinician",
        starts_on=TODAY,
    )
    note = services.note_add(
        actor=world.clinic_clinician, youth=world.maya, kind="clinical", body="Session went well"
    )
    assert note.body == "Session went well"


def test_signed_form_is_encrypted_and_its_download_is_audited(world):
    consent = grant(world, signed_form=b"%PDF-1.4 fictional form", signed_form_name="form.pdf")
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT signed_form FROM youth_consenttoshare WHERE id = %s", [consent.pk])
        raw = cursor.fetchone()[0]
    # Neither the form nor its base64 is stored (a bare "PDF" could appear in the random
    # base64 ciphertext by chance, about once in a hundred runs).
    assert "%PDF-1.4 fictional form" not in raw
    assert base64.b64encode(b"%PDF-1.4 fictional form").decode()[:24] not in raw
    content = services.consent_signed_form_export(actor=world.county_caseworker, consent=consent)
    assert content == b"%PDF-1.4 fictional form"
    assert AuditEvent.objects.filter(action="export", object_id=str(consent.pk)).exists()


def test_duplicate_check_matches_despite_case_accents_and_spacing(world):
    count = selectors.youth_possible_duplicates(
        actor=world.county_caseworker,
        given_name="  MAYA ",
        family_name="quillféather",
        date_of_birth=world.maya.date_of_birth,
    )
    assert count == 1
    assert (
        selectors.youth_possible_duplicates(
            actor=world.county_caseworker,
            given_name="Maya",
            family_name="Quillfeather",
            date_of_birth=datetime.date(2010, 4, 3),
        )
        == 0
    )


def test_update_keeps_the_blind_index_in_step(world):
    services.youth_update(actor=world.county_caseworker, youth=world.maya, family_name="Ashbrook")
    assert (
        selectors.youth_possible_duplicates(
            actor=world.county_caseworker,
            given_name="Maya",
            family_name="Ashbrook",
            date_of_birth=world.maya.date_of_birth,
        )
        == 1
    )


def test_break_glass_search_never_reveals_a_victim_service_provider_record(world):
    hidden = services.youth_create(
        actor=world.vsp_advocate,
        owning_agency=world.lighthouse,
        given_name="Nia",
        family_name="Tansywell",
        date_of_birth=datetime.date(2009, 1, 5),
        county="Harbor",
    )
    found = selectors.youth_find_for_break_glass(
        actor=world.other_caseworker,
        given_name="Nia",
        family_name="Tansywell",
        date_of_birth=datetime.date(2009, 1, 5),
    )
    assert found == []
    assert Youth.objects.filter(pk=hidden.pk).exists()


def test_duplicate_check_never_reveals_a_victim_service_provider_record(world):
    dob = datetime.date(2009, 1, 5)
    services.youth_create(
        actor=world.vsp_advocate,
        owning_agency=world.lighthouse,
        given_name="Nia",
        family_name="Tansywell",
        date_of_birth=dob,
        county="Harbor",
    )
    outsider = selectors.youth_possible_duplicates(
        actor=world.county_caseworker,
        given_name="Nia",
        family_name="Tansywell",
        date_of_birth=dob,
    )
    insider = selectors.youth_possible_duplicates(
        actor=world.vsp_advocate,
        given_name="Nia",
        family_name="Tansywell",
        date_of_birth=dob,
    )
    assert (outsider, insider) == (0, 1)
    assert AuditEvent.objects.filter(object_type="youth.duplicate_check").count() == 2


def test_agency_admins_create_no_records(world):
    with pytest.raises(PermissionDenied):
        services.youth_create(
            actor=world.county_admin,
            owning_agency=world.county,
            given_name="Ari",
            family_name="Mosswick",
            date_of_birth=datetime.date(2011, 2, 2),
            county="Harbor",
        )
