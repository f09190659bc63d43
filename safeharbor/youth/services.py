"""Every write to youth data: policy-checked, validated, atomic and audited."""

from __future__ import annotations

import datetime
import secrets
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from safeharbor.access.choices import Action, Category
from safeharbor.access.policy import can, can_create_youth
from safeharbor.audit.choices import AuditAction
from safeharbor.audit.services import record
from safeharbor.core import clock
from safeharbor.core.crypto import blind_index

from .choices import NoteKind, RaceEthnicity
from .models import CareTeamMember, ConsentToShare, Note, Youth

if TYPE_CHECKING:
    from safeharbor.accounts.models import Agency, User

# Unambiguous letters and digits, no vowels (no accidental words in record numbers).
_RECORD_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ23456789"
MAX_SIGNED_FORM_BYTES = 10 * 1024 * 1024


def _new_record_number() -> str:
    while True:
        candidate = "Y-" + "".join(secrets.choice(_RECORD_ALPHABET) for _ in range(8))
        if not Youth.objects.filter(record_number=candidate).exists():
            return candidate


def _require(actor: User, youth: Youth, category: str) -> None:
    if not can(actor, Action.CHANGE, youth, category):
        raise PermissionDenied


def _check_race_ethnicity(values: list[str]) -> None:
    unknown = sorted(set(values) - set(RaceEthnicity.values))
    if unknown:
        raise ValidationError(
            {
                "race_ethnicity": _("Unknown race/ethnicity value(s): %(values)s.")
                % {"values": ", ".join(unknown)}
            }
        )


@transaction.atomic
def youth_create(
    *,
    actor: User,
    owning_agency: Agency,
    given_name: str,
    family_name: str,
    date_of_birth: datetime.date,
    preferred_name: str = "",
    phone: str = "",
    address: str = "",
    gender_identity: str = "",
    pronouns: str = "",
    preferred_language: str = "en",
    county: str,
    race_ethnicity: list[str] | None = None,
    add_creator_to_team: bool = True,
    team_role: str = "lead",
) -> Youth:
    """Create a record owned by the actor's agency; the creator joins the care team."""
    if actor.agency_id_or_none != owning_agency.pk or not can_create_youth(actor):
        raise PermissionDenied
    _check_race_ethnicity(race_ethnicity or [])
    youth = Youth(
        record_number=_new_record_number(),
        owning_agency=owning_agency,
        given_name=given_name.strip(),
        family_name=family_name.strip(),
        preferred_name=preferred_name.strip(),
        date_of_birth=date_of_birth,
        phone=phone.strip(),
        address=address.strip(),
        gender_identity=gender_identity,
        pronouns=pronouns.strip(),
        preferred_language=preferred_language,
        county=county.strip(),
        race_ethnicity=sorted(set(race_ethnicity or [])),
        duplicate_index=blind_index(given_name, family_name, date_of_birth.isoformat()),
    )
    youth.full_clean()
    youth.save(force_insert=True)
    record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="youth.youth",
        object_id=youth.pk,
        youth_id=youth.pk,
        category=Category.IDENTITY,
    )
    if add_creator_to_team:
        care_team_add(
            actor=actor, youth=youth, user=actor, team_role=team_role, starts_on=clock.today()
        )
    return youth


_EDITABLE = (
    "given_name",
    "family_name",
    "preferred_name",
    "date_of_birth",
    "phone",
    "address",
    "gender_identity",
    "pronouns",
    "preferred_language",
    "county",
    "race_ethnicity",
)


@transaction.atomic
def youth_update(*, actor: User, youth: Youth, **changes: Any) -> Youth:
    _require(actor, youth, Category.IDENTITY)
    unknown = set(changes) - set(_EDITABLE)
    if unknown:
        raise ValueError(f"Not editable: {sorted(unknown)}")
    if "race_ethnicity" in changes:
        _check_race_ethnicity(changes["race_ethnicity"])
    for name, value in changes.items():
        setattr(youth, name, value.strip() if isinstance(value, str) else value)
    youth.duplicate_index = blind_index(
        youth.given_name, youth.family_name, youth.date_of_birth.isoformat()
    )
    youth.full_clean()
    youth.save(update_fields=[*changes, "duplicate_index", "updated_at"])
    record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="youth.youth",
        object_id=youth.pk,
        youth_id=youth.pk,
        category=Category.IDENTITY,
        reason="changed: " + ", ".join(sorted(changes)),
    )
    return youth


@transaction.atomic
def care_team_add(
    *,
    actor: User,
    youth: Youth,
    user: User,
    team_role: str,
    starts_on: datetime.date,
    ends_on: datetime.date | None = None,
) -> CareTeamMember:
    _require(actor, youth, Category.IDENTITY)
    member = CareTeamMember(
        youth=youth, user=user, team_role=team_role, starts_on=starts_on, ends_on=ends_on
    )
    member.full_clean()
    member.save()
    record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="youth.careteammember",
        object_id=member.pk,
        youth_id=youth.pk,
        category=Category.IDENTITY,
    )
    return member


@transaction.atomic
def consent_grant(
    *,
    actor: User,
    youth: Youth,
    signer_kind: str,
    signer_name: str,
    signer_is_suspected_exploiter: bool,
    recipient_agency: Agency,
    categories: list[str],
    purpose: str,
    valid_from: datetime.date,
    expires_on: datetime.date,
    signed_form: bytes | None = None,
    signed_form_name: str = "",
    signed_form_type: str = "",
) -> ConsentToShare:
    """Record a consent to share. Consent never gates services: it only widens who may see."""
    _require(actor, youth, Category.IDENTITY)
    errors: dict[str, list[str]] = {}
    if signer_is_suspected_exploiter:
        errors["signer_is_suspected_exploiter"] = [
            _(
                "A person suspected of exploiting this youth cannot consent on their behalf. "
                "Ask the youth, another guardian, or the court."
            )
        ]
    unknown = sorted(set(categories) - set(Category.values))
    if not categories:
        errors["categories"] = [_("Choose at least one data category to share.")]
    elif unknown:
        errors["categories"] = [_("Unknown data category: %(c)s.") % {"c": ", ".join(unknown)}]
    if recipient_agency.pk == youth.owning_agency_id:
        errors["recipient_agency"] = [
            _("The record's own agency needs no consent; choose another agency.")
        ]
    if expires_on < valid_from:
        errors["expires_on"] = [_("The expiry date must be on or after the start date.")]
    if signed_form is not None and len(signed_form) > MAX_SIGNED_FORM_BYTES:
        errors["signed_form"] = [
            _("The signed form is larger than 10 MB; scan it at a lower resolution.")
        ]
    if errors:
        raise ValidationError(errors)
    consent = ConsentToShare(
        youth=youth,
        signer_kind=signer_kind,
        signer_name=signer_name.strip(),
        recipient_agency=recipient_agency,
        categories=sorted(set(categories)),
        purpose=purpose.strip(),
        valid_from=valid_from,
        expires_on=expires_on,
        recorded_by=actor,
        signed_form=signed_form,  # type: ignore[misc]
        signed_form_name=signed_form_name[:200],
        signed_form_type=signed_form_type[:100],
    )
    consent.full_clean()
    consent.save()
    record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="youth.consenttoshare",
        object_id=consent.pk,
        youth_id=youth.pk,
        category=",".join(consent.categories),
        reason=f"shared with agency {recipient_agency.pk}",
    )
    return consent


@transaction.atomic
def consent_revoke(*, actor: User, consent: ConsentToShare, reason: str) -> ConsentToShare:
    _require(actor, consent.youth, Category.IDENTITY)
    if consent.revoked_at is not None:
        raise ValidationError({"reason": _("This consent was already revoked.")})
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the consent is revoked.")})
    consent.revoked_at = clock.now()
    consent.revoked_reason = reason.strip()[:500]
    consent.revoked_by = actor
    consent.save(update_fields=["revoked_at", "revoked_reason", "revoked_by", "updated_at"])
    record(
        actor=actor,
        action=AuditAction.REVOKE,
        object_type="youth.consenttoshare",
        object_id=consent.pk,
        youth_id=consent.youth_id,
        category=",".join(consent.categories),
        reason=consent.revoked_reason,
    )
    return consent


def consent_signed_form_export(*, actor: User, consent: ConsentToShare) -> bytes:
    """The decrypted signed form, for download; audited as an export."""
    _require(actor, consent.youth, Category.IDENTITY)
    if not consent.signed_form:
        raise ValidationError(_("No signed form is attached to this consent."))
    record(
        actor=actor,
        action=AuditAction.EXPORT,
        object_type="youth.consenttoshare",
        object_id=consent.pk,
        youth_id=consent.youth_id,
        category=Category.IDENTITY,
        reason="signed form downloaded",
    )
    return bytes(consent.signed_form)


@transaction.atomic
def note_add(*, actor: User, youth: Youth, kind: str, body: str) -> Note:
    category = Category.CLINICAL_NOTES if kind == NoteKind.CLINICAL else Category.NOTES
    _require(actor, youth, category)
    if not body.strip():
        raise ValidationError({"body": _("Write the note before saving it.")})
    note = Note(youth=youth, author=actor, kind=kind, body=body.strip())
    note.full_clean()
    note.save()
    record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="youth.note",
        object_id=note.pk,
        youth_id=youth.pk,
        category=category,
    )
    return note
