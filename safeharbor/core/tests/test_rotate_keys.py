"""``manage.py rotate_keys`` moves every encrypted value of every model to the current key."""

from __future__ import annotations

import base64
import datetime
from io import StringIO
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings

from safeharbor.audit.models import AuditEvent
from safeharbor.audit.selectors import audit_chain_verify
from safeharbor.core.fields import encrypted_fields
from safeharbor.core.tests.personas import World
from safeharbor.youth.models import Youth
from safeharbor.youth.services import consent_grant, note_add, youth_create

NEW_KEY = "new:" + base64.b64encode(bytes([3]) * 32).decode()
OLD_ONLY = "t1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="
LOST_KEY = "lost:" + base64.b64encode(bytes([7]) * 32).decode()


def encrypted_models() -> list[tuple[Any, list[Any]]]:
    return [(m, encrypted_fields(m)) for m in apps.get_models() if encrypted_fields(m)]


def stored_values() -> dict[tuple[str, str, str], str]:
    """Every non-empty encrypted value as stored, read past the ORM."""
    quote = connection.ops.quote_name
    found: dict[tuple[str, str, str], str] = {}
    for model, fields in encrypted_models():
        columns = ", ".join(quote(f.column) for f in fields)
        table, key = quote(model._meta.db_table), quote(model._meta.pk.column)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {key}, {columns} FROM {table}")  # noqa: S608
            for pk, *values in cursor.fetchall():
                for field, value in zip(fields, values, strict=True):
                    if value:
                        found[(model._meta.label, str(pk), field.name)] = value
    return found


def plain_values() -> dict[tuple[str, Any], tuple[Any, ...]]:
    """Every encrypted field of every row, as the ORM reads it (decrypted)."""
    return {
        (model._meta.label, row[0]): tuple(row[1:])
        for model, fields in encrypted_models()
        for row in model._default_manager.values_list("pk", *(f.attname for f in fields))
    }


@pytest.fixture
def data(world: World) -> World:
    """Youth under two keys, notes, and a consent with a signed form."""
    note_add(actor=world.county_caseworker, youth=world.maya, kind="general", body="Met at school")
    consent_grant(
        actor=world.county_caseworker,
        youth=world.maya,
        signer_kind="guardian",
        signer_name="Ana Quillfeather",
        signer_is_suspected_exploiter=False,
        recipient_agency=world.clinic,
        categories=["identity"],
        purpose="Follow-up care",
        valid_from=datetime.date(2025, 1, 1),
        expires_on=datetime.date(2099, 1, 1),
        signed_form=b"%PDF-1.4 \x00\xff signed",
        signed_form_name="form.pdf",
        signed_form_type="application/pdf",
    )
    with override_settings(SAFEHARBOR_DATA_KEYS=OLD_ONLY + "," + settings.SAFEHARBOR_DATA_KEYS):
        for n in range(3):
            youth_create(
                actor=world.county_caseworker,
                owning_agency=world.county,
                given_name=f"Older{n}",
                family_name="Record",
                date_of_birth=datetime.date(2009, 1, 1 + n),
                phone="",  # empty values stay empty
                county="Harbor",
            )
    return world


def rotate(*args: str) -> str:
    out = StringIO()
    call_command("rotate_keys", *args, stdout=out)
    return out.getvalue()


def test_rotation_moves_every_value_to_the_new_key(data: World) -> None:
    before_plain = plain_values()
    before_stored = stored_values()
    assert {v.split(".")[1] for v in before_stored.values()} == {"t1", "t2"}
    models_covered = {label for label, _pk, _field in before_stored}
    assert {"youth.Youth", "youth.Note", "youth.ConsentToShare"} <= models_covered
    updated_at = dict(Youth.objects.values_list("pk", "updated_at"))

    with override_settings(SAFEHARBOR_DATA_KEYS=NEW_KEY + "," + settings.SAFEHARBOR_DATA_KEYS):
        output = rotate("--batch-size", "2")
        after_stored = stored_values()
        assert set(after_stored) == set(before_stored)
        not_rotated = {k: v[:8] for k, v in after_stored.items() if not v.startswith("v1.new.")}
        assert not_rotated == {}
        assert plain_values() == before_plain

    assert "youth.Youth: 4 rows, 4 re-encrypted" in output
    assert f"Done: {len(before_stored)} values" in output
    # Only the new key is needed from now on: the old ones can be removed.
    with override_settings(SAFEHARBOR_DATA_KEYS=NEW_KEY):
        assert plain_values() == before_plain
    # Re-encryption is not an edit of the record.
    assert dict(Youth.objects.values_list("pk", "updated_at")) == updated_at

    event = AuditEvent.objects.filter(action="key_rotation").get()
    assert event.object_id == "new"
    assert f"{len(before_stored)} values" in event.reason
    assert audit_chain_verify()[1] is None


def test_a_second_run_changes_nothing(data: World) -> None:
    with override_settings(SAFEHARBOR_DATA_KEYS=NEW_KEY + "," + settings.SAFEHARBOR_DATA_KEYS):
        rotate()
        first = stored_values()
        output = rotate()
        assert stored_values() == first
    assert "Done: 0 values in 0 of" in output
    assert AuditEvent.objects.filter(action="key_rotation").count() == 2


def test_a_value_under_a_missing_key_stops_the_rotation_and_changes_nothing(
    data: World,
) -> None:
    with override_settings(SAFEHARBOR_DATA_KEYS=LOST_KEY):
        youth_create(
            actor=data.county_caseworker,
            owning_agency=data.county,
            given_name="Unreadable",
            family_name="Record",
            date_of_birth=datetime.date(2008, 1, 1),
            county="Harbor",
        )
    before = stored_values()
    with (
        override_settings(SAFEHARBOR_DATA_KEYS=NEW_KEY + "," + settings.SAFEHARBOR_DATA_KEYS),
        pytest.raises(CommandError, match=r"youth\.Youth\.\w+ holds a value that does not decrypt"),
    ):
        rotate()
    assert stored_values() == before
    assert not AuditEvent.objects.filter(action="key_rotation").exists()


def test_the_batch_size_must_be_positive(db: None) -> None:
    with pytest.raises(CommandError, match="at least 1"):
        rotate("--batch-size", "0")
