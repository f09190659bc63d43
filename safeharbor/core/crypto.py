"""AES-256-GCM field encryption with key ids, and the HMAC blind index.

A ciphertext is the text ``v1.<key id>.<base64(nonce || ciphertext+tag)>``. The key id lets old
values be read after a rotation; the associated data binds each value to its table and column, so a
ciphertext copied into another column does not decrypt. Keys come from settings (the environment)
and are parsed on first use, never at import time.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

FORMAT_VERSION = "v1"
NONCE_BYTES = 12


class DecryptionError(Exception):
    """A stored value could not be decrypted (unknown key id, or the value was tampered with)."""


@dataclass(frozen=True)
class Keyring:
    current_id: str
    keys: dict[str, AESGCM]
    blind_index_key: bytes

    def encrypt(self, plaintext: bytes, associated_data: bytes) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self.keys[self.current_id].encrypt(nonce, plaintext, associated_data)
        body = base64.b64encode(nonce + sealed).decode("ascii")
        return f"{FORMAT_VERSION}.{self.current_id}.{body}"

    def decrypt(self, token: str, associated_data: bytes) -> bytes:
        try:
            version, key_id, body = token.split(".", 2)
        except ValueError as exc:
            raise DecryptionError("The stored value is not in the encrypted format.") from exc
        if version != FORMAT_VERSION or key_id not in self.keys:
            raise DecryptionError(f"No data key with id {key_id!r} is configured.")
        try:
            raw = base64.b64decode(body, validate=True)
            return self.keys[key_id].decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], associated_data)
        except (binascii.Error, InvalidTag) as exc:
            raise DecryptionError("The stored value failed its integrity check.") from exc

    def key_id_of(self, token: str) -> str:
        return token.split(".", 2)[1]


def _decode_key(name: str, text: str) -> bytes:
    try:
        key = base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise ImproperlyConfigured(f"{name} holds a key that is not valid base64.") from exc
    if len(key) != 32:
        raise ImproperlyConfigured(f"{name} keys must be 32 bytes (AES-256), base64 encoded.")
    return key


def parse_keyring(data_keys: str, blind_index_key: str) -> Keyring:
    """Parse ``"id:base64,id:base64"`` (the first entry encrypts) and the blind-index key."""
    entries = [item.strip() for item in data_keys.split(",") if item.strip()]
    if not entries:
        raise ImproperlyConfigured("SAFEHARBOR_DATA_KEYS is empty: set at least one data key.")
    keys: dict[str, AESGCM] = {}
    for entry in entries:
        key_id, sep, encoded = entry.partition(":")
        if not sep or not key_id or "." in key_id:
            raise ImproperlyConfigured(
                "SAFEHARBOR_DATA_KEYS entries must look like 'keyid:base64key' (no dots in ids)."
            )
        keys[key_id] = AESGCM(_decode_key("SAFEHARBOR_DATA_KEYS", encoded))
    if not blind_index_key:
        raise ImproperlyConfigured("SAFEHARBOR_BLIND_INDEX_KEY is empty.")
    index_key = _decode_key("SAFEHARBOR_BLIND_INDEX_KEY", blind_index_key)
    return Keyring(current_id=entries[0].partition(":")[0], keys=keys, blind_index_key=index_key)


@lru_cache(maxsize=4)
def _cached_keyring(data_keys: str, blind_index_key: str) -> Keyring:
    return parse_keyring(data_keys, blind_index_key)


def keyring() -> Keyring:
    """The keyring for the current settings (cached per key configuration)."""
    return _cached_keyring(settings.SAFEHARBOR_DATA_KEYS, settings.SAFEHARBOR_BLIND_INDEX_KEY)


def normalise_for_index(text: str) -> str:
    """Case-, accent- and spacing-insensitive form used before blind indexing."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    letters = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(letters.replace("-", " ").split())


def blind_index(*parts: str) -> str:
    """HMAC-SHA256 of the normalised parts: equal inputs match without storing them."""
    message = "\x1f".join(normalise_for_index(part) for part in parts).encode("utf-8")
    return hmac.new(keyring().blind_index_key, message, hashlib.sha256).hexdigest()
