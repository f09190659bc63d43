"""Model fields whose values are encrypted at rest (see ``crypto``).

Only the database sees ciphertext; Python code sees plain values. Encrypted fields cannot be
filtered or ordered on: exact look-ups go through a blind index column instead.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db import models

from .crypto import keyring


class EncryptedMixin:
    """Encrypts on the way to the database and decrypts on the way back."""

    model: Any
    column: str

    def _associated_data(self) -> bytes:
        return f"{self.model._meta.db_table}.{self.column}".encode()

    def to_plain_bytes(self, value: Any) -> bytes:
        return str(value).encode("utf-8")

    def from_plain_bytes(self, raw: bytes) -> Any:
        return raw.decode("utf-8")

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        if value is None or value == "":
            return value
        return keyring().encrypt(self.to_plain_bytes(value), self._associated_data())

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None or value == "":
            return value
        return self.from_plain_bytes(keyring().decrypt(value, self._associated_data()))

    def get_internal_type(self) -> str:
        return "TextField"

    def get_placeholder(self, value: Any, compiler: Any, connection: Any) -> str:
        """Insert many rows as a plain ``VALUES`` list, not one array per column.

        Since Django 5.2, ``bulk_create`` on PostgreSQL sends each column as one array through
        ``UNNEST``; psycopg, binding on the client, tests every array element against a regular
        expression to decide its quoting, which over long base64 ciphertexts cost about 0.35 s
        of CPU per 100-transcript research import (cProfile: ``re.Pattern.search``, 15,500
        calls). Django keeps the ``VALUES`` list for a field with ``get_placeholder``. Nothing
        changes in the database or in what is stored."""
        return "%s"


class EncryptedTextField(EncryptedMixin, models.TextField):
    """Free text or an identifier, encrypted."""


class EncryptedCharField(EncryptedMixin, models.TextField):
    """A short identifier, encrypted; ``max_length`` limits the plain value (forms, validation)."""

    def formfield(
        self, form_class: Any = None, choices_form_class: Any = None, **kwargs: Any
    ) -> Any:
        from django import forms

        kwargs.setdefault("widget", forms.TextInput)
        return super().formfield(
            form_class=form_class or forms.CharField,
            choices_form_class=choices_form_class,
            **kwargs,
        )


class EncryptedDateField(EncryptedMixin, models.DateField):
    """A date (such as a birth date), encrypted as ISO text."""

    def to_plain_bytes(self, value: Any) -> bytes:
        date_value = self.to_python(value)
        return date_value.isoformat().encode("ascii")

    def from_plain_bytes(self, raw: bytes) -> datetime.date:
        return datetime.date.fromisoformat(raw.decode("ascii"))


class EncryptedBinaryField(EncryptedMixin, models.TextField):
    """Bytes (a signed form, an attachment), encrypted; never editable in forms."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def to_plain_bytes(self, value: Any) -> bytes:
        return bytes(value)

    def from_plain_bytes(self, raw: bytes) -> bytes:
        return raw

    def to_python(self, value: Any) -> Any:
        return value


def encrypted_fields(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    """The encrypted concrete fields of a model (used by key rotation)."""
    return [f for f in model._meta.concrete_fields if isinstance(f, EncryptedMixin)]
