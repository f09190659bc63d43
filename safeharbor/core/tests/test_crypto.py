"""Field encryption (AES-256-GCM with key ids and associated data) and the HMAC blind index."""

from __future__ import annotations

import base64
import datetime

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import Model
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from hypothesis import given, settings
from hypothesis import strategies as st

from safeharbor.core.crypto import DecryptionError, blind_index, keyring, parse_keyring
from safeharbor.core.fields import encrypted_fields
from safeharbor.core.tests.personas import World
from safeharbor.youth.models import ConsentToShare, Note, Youth
from safeharbor.youth.services import consent_grant, youth_create

KEY_T1 = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="
KEY_T2 = "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI="
INDEX_KEY = "CQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQk="
AD = b"youth_youth.given_name"


def raw_column(obj: Model, column: str) -> str | None:
    """The stored text, read past the ORM (what a database dump would show)."""
    meta = type(obj)._meta
    quote = connection.ops.quote_name
    # Identifiers from the model's own metadata, quoted; the value is a parameter.
    table, key = quote(meta.db_table), quote(meta.pk.column)
    sql = f"SELECT {quote(column)} FROM {table} WHERE {key} = %s"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [meta.pk.get_db_prep_value(obj.pk, connection)])
        return cursor.fetchone()[0]


# --- The keyring ----------------------------------------------------------------------------
def test_round_trip() -> None:
    plain = "María Núñez 🌊".encode()
    token = keyring().encrypt(plain, AD)
    assert keyring().decrypt(token, AD) == plain


def test_the_ciphertext_names_its_key_and_hides_the_text() -> None:
    token = keyring().encrypt(b"Quillfeather", AD)
    version, key_id, body = token.split(".", 2)
    assert (version, key_id) == ("v1", "t2")  # the test settings' first key encrypts
    assert keyring().key_id_of(token) == "t2"
    assert b"Quillfeather" not in base64.b64decode(body)


def test_the_same_text_encrypts_differently_each_time() -> None:
    assert keyring().encrypt(b"Maya", AD) != keyring().encrypt(b"Maya", AD)


def test_a_value_written_with_an_older_key_still_decrypts() -> None:
    with override_settings(SAFEHARBOR_DATA_KEYS=f"t1:{KEY_T1}"):
        old = keyring().encrypt(b"written last year", AD)
    assert old.startswith("v1.t1.")
    assert keyring().decrypt(old, AD) == b"written last year"  # t2 encrypts, t1 still reads


def test_a_value_whose_key_is_gone_does_not_decrypt() -> None:
    old = keyring().encrypt(b"secret", AD)
    with (
        override_settings(SAFEHARBOR_DATA_KEYS=f"t1:{KEY_T1}"),
        pytest.raises(DecryptionError, match="t2"),
    ):
        keyring().decrypt(old, AD)


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda t: t[:-3] + ("A" if t[-3] != "A" else "B") + t[-2:], id="last-bytes"),
        pytest.param(lambda t: t[:10] + ("A" if t[10] != "A" else "B") + t[11:], id="nonce"),
        pytest.param(lambda t: t.replace("v1.t2.", "v1.t1."), id="other-key-id"),
        pytest.param(lambda t: t.replace("v1.", "v2."), id="unknown-version"),
        pytest.param(lambda t: t[:-8], id="truncated"),
        pytest.param(lambda t: "v1.t2.not base64!", id="not-base64"),
        pytest.param(lambda t: "Maya", id="plain-text"),
    ],
)
def test_a_tampered_value_raises_decryption_error(tamper) -> None:
    token = keyring().encrypt(b"Maya Quillfeather", AD)
    with pytest.raises(DecryptionError):
        keyring().decrypt(tamper(token), AD)


def test_a_value_bound_to_one_column_does_not_decrypt_in_another() -> None:
    token = keyring().encrypt(b"Maya", b"youth_youth.given_name")
    with pytest.raises(DecryptionError):
        keyring().decrypt(token, b"youth_youth.family_name")


@pytest.mark.parametrize(
    ("data_keys", "index_key", "message"),
    [
        ("", INDEX_KEY, "empty"),
        (f"nocolon{KEY_T1}", INDEX_KEY, "keyid:base64key"),
        (f"a.b:{KEY_T1}", INDEX_KEY, "no dots"),
        ("k:not-base64!", INDEX_KEY, "base64"),
        ("k:" + base64.b64encode(b"short").decode(), INDEX_KEY, "32 bytes"),
        (f"k:{KEY_T1}", "", "SAFEHARBOR_BLIND_INDEX_KEY"),
    ],
)
def test_a_bad_key_configuration_is_refused(data_keys: str, index_key: str, message: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=message):
        parse_keyring(data_keys, index_key)


def test_the_first_key_encrypts() -> None:
    ring = parse_keyring(f"new:{KEY_T1},old:{KEY_T2}", INDEX_KEY)
    assert ring.current_id == "new"
    assert set(ring.keys) == {"new", "old"}


@settings(max_examples=200, deadline=None)
@given(text=st.text())
def test_any_text_round_trips(text: str) -> None:
    token = keyring().encrypt(text.encode("utf-8"), AD)
    assert keyring().decrypt(token, AD).decode("utf-8") == text


@settings(max_examples=200, deadline=None)
@given(text=st.text())
def test_any_text_round_trips_through_the_model_field(text: str) -> None:
    field = Youth._meta.get_field("address")
    stored = field.get_db_prep_value(text, connection)
    assert field.from_db_value(stored, None, connection) == text
    if text:
        assert stored.startswith("v1.t2.")


# --- The blind index ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("variant"),
    [
        ("José", "Núñez-Ortiz"),
        ("jose", "nunez ortiz"),
        ("  JOSÉ ", "NÚÑEZ   ORTIZ"),
        ("Jose\u0301", "Nun\u0303ez-ortiz"),  # combining accents
        ("José", "Núñez\t-\tOrtiz"),
    ],
)
def test_the_blind_index_ignores_case_accents_and_spacing(variant: tuple[str, str]) -> None:
    assert blind_index(*variant) == blind_index("José", "Núñez-Ortiz")


def test_the_blind_index_tells_different_people_apart() -> None:
    reference = blind_index("Maya", "Quillfeather", "2010-04-02")
    assert blind_index("Maya", "Quillfeather", "2010-04-03") != reference
    assert blind_index("Mara", "Quillfeather", "2010-04-02") != reference
    # The parts are separated, so the split between them matters.
    assert blind_index("Ma", "yaQuillfeather") != blind_index("Maya", "Quillfeather")


def test_the_blind_index_depends_on_its_own_key_not_the_data_keys() -> None:
    reference = blind_index("Maya", "Quillfeather")
    assert len(reference) == 64
    with override_settings(SAFEHARBOR_DATA_KEYS=f"t9:{KEY_T1}"):
        assert blind_index("Maya", "Quillfeather") == reference
    with override_settings(SAFEHARBOR_BLIND_INDEX_KEY=KEY_T1):
        assert blind_index("Maya", "Quillfeather") != reference


# --- Through the database -------------------------------------------------------------------
def test_stored_values_are_ciphertext_and_read_back_plain(world: World) -> None:
    stored = raw_column(world.maya, "family_name")
    assert stored.startswith("v1.t2.")
    assert "Quillfeather" not in stored
    fresh = Youth.objects.get(pk=world.maya.pk)
    assert (fresh.family_name, fresh.phone) == ("Quillfeather", "555-0142")
    assert fresh.date_of_birth == datetime.date(2010, 4, 2)


def test_a_ciphertext_copied_into_another_column_does_not_decrypt(world: World) -> None:
    table = connection.ops.quote_name("youth_youth")
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET family_name = given_name")  # noqa: S608
    with pytest.raises(DecryptionError):
        Youth.objects.get(pk=world.maya.pk)


def test_a_ciphertext_copied_into_another_table_does_not_decrypt(world: World) -> None:
    consent = consent_grant(
        actor=world.county_caseworker,
        youth=world.maya,
        signer_kind="youth",
        signer_name="Maya Quillfeather",
        signer_is_suspected_exploiter=False,
        recipient_agency=world.clinic,
        categories=["identity"],
        purpose="Follow-up care",
        valid_from=datetime.date(2025, 1, 1),
        expires_on=datetime.date(2025, 12, 31),
    )
    stolen = raw_column(world.maya, "family_name")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE youth_consenttoshare SET signer_name = %s WHERE id = %s", [stolen, consent.pk]
        )
    with pytest.raises(DecryptionError):
        ConsentToShare.objects.get(pk=consent.pk)


def test_empty_and_missing_values_are_stored_as_they_are(world: World) -> None:
    youth = youth_create(
        actor=world.county_caseworker,
        owning_agency=world.county,
        given_name="Rowan",
        family_name="Ashby",
        date_of_birth=datetime.date(2011, 6, 1),
        county="Harbor",
    )
    assert raw_column(youth, "phone") == ""
    assert raw_column(youth, "address") == ""
    assert Youth.objects.get(pk=youth.pk).phone == ""
    field = Youth._meta.get_field("preferred_name")
    assert field.get_db_prep_value(None, connection) is None


def test_encrypted_fields_lists_exactly_the_encrypted_columns() -> None:
    names = {f.name for f in encrypted_fields(Youth)}
    assert names == {
        "given_name",
        "family_name",
        "preferred_name",
        "date_of_birth",
        "phone",
        "address",
    }
    assert {f.name for f in encrypted_fields(ConsentToShare)} == {
        "signer_name",
        "signed_form",
        "signed_form_name",
    }


def test_encrypted_rows_bulk_insert_as_a_values_list_and_read_back(world) -> None:
    """``EncryptedMixin.get_placeholder``: no ``UNNEST`` arrays of ciphertext (psycopg scanned
    every element with a regular expression), and what is read back is what was written."""
    bodies = [f"note {n} " + "é" * 2_000 for n in range(3)]
    with CaptureQueriesContext(connection) as queries:
        made = Note.objects.bulk_create(
            [
                Note(youth=world.maya, author=world.county_caseworker, kind="general", body=body)
                for body in bodies
            ]
        )
    inserts = [q["sql"] for q in queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 1
    assert "UNNEST" not in inserts[0].upper()
    assert bodies[0] not in inserts[0]  # ciphertext only
    stored = Note.objects.filter(pk__in=[note.pk for note in made])
    assert sorted(note.body for note in stored) == sorted(bodies)
