"""Youth records, their care team, consent to share, and notes."""

from __future__ import annotations

import datetime
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from safeharbor.accounts.models import Agency
from safeharbor.core.fields import (
    EncryptedBinaryField,
    EncryptedCharField,
    EncryptedDateField,
    EncryptedTextField,
)
from safeharbor.core.models import TimeStampedModel

from .choices import AgeBand, GenderIdentity, Language, NoteKind, SignerKind, TeamRole


def age_band_for(date_of_birth: datetime.date, on: datetime.date) -> AgeBand:
    years = (
        on.year
        - date_of_birth.year
        - ((on.month, on.day) < (date_of_birth.month, date_of_birth.day))
    )
    if years < 12:
        return AgeBand.UNDER_12
    if years < 15:
        return AgeBand.AGE_12_14
    if years < 18:
        return AgeBand.AGE_15_17
    if years < 21:
        return AgeBand.AGE_18_20
    return AgeBand.AGE_21_PLUS


class Youth(TimeStampedModel):
    """A young person the agencies serve. Direct identifiers are encrypted at rest."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    record_number = models.CharField(_("record number"), max_length=16, unique=True)
    owning_agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="owned_youth", verbose_name=_("agency")
    )
    given_name = EncryptedCharField(_("given name"), max_length=100)
    family_name = EncryptedCharField(_("family name"), max_length=100)
    preferred_name = EncryptedCharField(_("preferred name"), max_length=100, blank=True)
    date_of_birth = EncryptedDateField(_("date of birth"))
    phone = EncryptedCharField(_("phone"), max_length=40, blank=True)
    address = EncryptedTextField(_("address"), blank=True)
    gender_identity = models.CharField(
        _("gender identity"), max_length=16, choices=GenderIdentity.choices, blank=True
    )
    pronouns = models.CharField(_("pronouns"), max_length=40, blank=True)
    preferred_language = models.CharField(
        _("preferred language"), max_length=8, choices=Language.choices, default=Language.ENGLISH
    )
    county = models.CharField(_("county"), max_length=100)
    race_ethnicity = models.JSONField(_("race / ethnicity"), default=list, blank=True)
    # HMAC of the normalised name and birth date: finds possible duplicates without plaintext.
    duplicate_index = models.CharField(max_length=64, db_index=True, editable=False)

    class Meta:
        verbose_name = _("youth")
        verbose_name_plural = _("youth")
        indexes = [models.Index(fields=["owning_agency", "created_at"])]

    def __str__(self) -> str:
        return self.record_number

    @property
    def display_name(self) -> str:
        first = self.preferred_name or self.given_name
        return f"{first} {self.family_name}"

    def age_band(self, on: datetime.date) -> AgeBand:
        return age_band_for(self.date_of_birth, on)


class CareTeamMember(TimeStampedModel):
    """A worker on a youth's care team, for a period."""

    youth = models.ForeignKey(Youth, on_delete=models.CASCADE, related_name="care_team")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="care_team_roles"
    )
    team_role = models.CharField(_("role on the team"), max_length=16, choices=TeamRole.choices)
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"), null=True, blank=True)

    class Meta:
        verbose_name = _("care team member")
        verbose_name_plural = _("care team members")
        indexes = [models.Index(fields=["user", "youth"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="care_team_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_team_role_display()})"


class ConsentToShare(TimeStampedModel):
    """Permission to share named data categories with one agency, for a purpose, until a date."""

    youth = models.ForeignKey(Youth, on_delete=models.CASCADE, related_name="consents")
    signer_kind = models.CharField(_("signed by"), max_length=16, choices=SignerKind.choices)
    signer_name = EncryptedCharField(_("signer's name"), max_length=200)
    recipient_agency = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        related_name="consents_received",
        verbose_name=_("shared with"),
    )
    categories = models.JSONField(_("data categories"))
    purpose = models.CharField(_("purpose"), max_length=500)
    valid_from = models.DateField(_("valid from"))
    expires_on = models.DateField(_("expires on"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_reason = models.CharField(_("reason for revoking"), max_length=500, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    signed_form = EncryptedBinaryField(_("signed form"), null=True, blank=True)
    # The uploaded file name may itself name the youth.
    signed_form_name = EncryptedCharField(max_length=200, blank=True)
    signed_form_type = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-valid_from", "-created_at"]
        verbose_name = _("consent to share")
        verbose_name_plural = _("consents to share")
        indexes = [models.Index(fields=["recipient_agency", "youth", "expires_on"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_on__gte=models.F("valid_from")),
                name="consent_expires_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.youth} → {self.recipient_agency}"

    def is_live(self, on: datetime.date) -> bool:
        return self.revoked_at is None and self.valid_from <= on <= self.expires_on

    def status(self, on: datetime.date) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if on > self.expires_on:
            return "expired"
        if on < self.valid_from:
            return "future"
        return "live"


class Note(TimeStampedModel):
    """A general or clinical note; the body is encrypted."""

    youth = models.ForeignKey(Youth, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=16, choices=NoteKind.choices)
    body = EncryptedTextField(_("note"))

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("note")
        verbose_name_plural = _("notes")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.created_at:%Y-%m-%d}"
