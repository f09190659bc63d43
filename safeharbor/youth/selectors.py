"""Every read of youth data starts from ``access.policy.visible_youth`` and is audited."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404, HttpRequest

from safeharbor.access.choices import Category
from safeharbor.access.policy import (
    YouthAccess,
    access_for,
    access_for_many,
    active_care_team,
    visible_youth,
)
from safeharbor.audit.choices import AuditAction
from safeharbor.audit.services import record, record_listed_youth
from safeharbor.core import clock
from safeharbor.core.crypto import blind_index

from .models import CareTeamMember, ConsentToShare, Note, Youth

if TYPE_CHECKING:
    from safeharbor.accounts.models import User

# A list page decrypts only what it shows.
_LIST_FIELDS = (
    "id",
    "record_number",
    "given_name",
    "preferred_name",
    "family_name",
    "county",
    "owning_agency__name",
    "owning_agency__is_victim_service_provider",
    "created_at",
)


def youth_list(*, actor: User, only_my_caseload: bool = True) -> QuerySet[Youth]:
    """Youth the actor may know of; by default only those on the actor's current care team."""
    queryset = visible_youth(actor)
    if only_my_caseload:
        # The actor's own current membership only: a former worker's ended row must not hide
        # the youth from the new lead.
        mine = CareTeamMember.objects.filter(
            active_care_team(actor, clock.today()), youth=OuterRef("pk")
        )
        queryset = queryset.filter(Exists(mine))
    return queryset.select_related("owning_agency").only(*_LIST_FIELDS).order_by("record_number")


@dataclass(frozen=True)
class YouthListRow:
    """One row of a list: the name only where the policy shares identity, else None."""

    youth: Youth
    display_name: str | None


def youth_list_rows(
    *, actor: User, youths: Iterable[Youth], request: HttpRequest | None
) -> list[YouthListRow]:
    """Rows for one page of a list; each name shown is audited against its youth."""
    youths = list(youths)
    accesses = access_for_many(actor, youths)
    rows = [
        YouthListRow(
            youth=youth,
            display_name=(
                youth.display_name if accesses[youth.pk].allows("view", Category.IDENTITY) else None
            ),
        )
        for youth in youths
    ]
    record_listed_youth(
        actor=actor,
        action=AuditAction.LIST,
        object_type="youth.youth",
        youth_ids=[row.youth.pk for row in rows if row.display_name],
        category=Category.IDENTITY,
        request=request,
    )
    return rows


def youth_get(*, actor: User, youth_id: uuid.UUID) -> tuple[Youth, YouthAccess]:
    """The youth and what the actor may do with it; 404 alike for missing and not allowed."""
    try:
        youth = visible_youth(actor).select_related("owning_agency").get(pk=youth_id)
    except Youth.DoesNotExist as exc:
        raise Http404 from exc
    access = access_for(actor, youth)
    if not access.sees_record:
        raise Http404
    return youth, access


@dataclass(frozen=True)
class YouthRecord:
    """What a youth page may show: each part is None where the policy withholds it."""

    youth: Youth
    access: YouthAccess
    care_team: list[CareTeamMember] | None
    notes: list[Note] | None
    clinical_notes: list[Note] | None
    consents: list[ConsentToShare] | None
    today: datetime.date


def youth_record(
    *,
    actor: User,
    youth_id: uuid.UUID,
    request: HttpRequest | None = None,
) -> YouthRecord:
    """The youth page's data, filtered by category, with one audit event naming what was shown."""
    youth, access = youth_get(actor=actor, youth_id=youth_id)
    shown = sorted(access.categories())
    can_manage = access.allows("change", Category.IDENTITY)
    notes_by_kind: dict[str, list[Note]] = {"general": [], "clinical": []}
    if access.allows("view", Category.NOTES) or access.allows("view", Category.CLINICAL_NOTES):
        for note in youth.notes.select_related("author"):
            notes_by_kind[note.kind].append(note)
    record(
        actor=actor,
        action=AuditAction.VIEW,
        object_type="youth.youth",
        object_id=youth.pk,
        youth_id=youth.pk,
        category=",".join(shown),
        request=request,
    )
    return YouthRecord(
        youth=youth,
        access=access,
        care_team=(
            list(youth.care_team.select_related("user").order_by("-starts_on"))
            if access.allows("view", Category.IDENTITY)
            else None
        ),
        notes=notes_by_kind["general"] if access.allows("view", Category.NOTES) else None,
        clinical_notes=(
            notes_by_kind["clinical"] if access.allows("view", Category.CLINICAL_NOTES) else None
        ),
        consents=(
            list(youth.consents.select_related("recipient_agency", "recorded_by", "revoked_by"))
            if can_manage
            else None
        ),
        today=clock.today(),
    )


def consent_get(
    *,
    actor: User,
    youth_id: uuid.UUID,
    consent_id: int,
) -> tuple[Youth, ConsentToShare]:
    """A consent of a youth whose record the actor manages (owner or care team)."""
    youth, access = youth_get(actor=actor, youth_id=youth_id)
    if not access.allows("change", Category.IDENTITY):
        raise Http404
    try:
        consent = youth.consents.select_related("recipient_agency").get(pk=consent_id)
    except ConsentToShare.DoesNotExist as exc:
        raise Http404 from exc
    return youth, consent


def youth_possible_duplicates(
    *,
    actor: User,
    given_name: str,
    family_name: str,
    date_of_birth: datetime.date,
    request: HttpRequest | None = None,
) -> int:
    """How many records share this normalised name and birth date (a count only, audited).

    A victim-service provider's records count only for its own staff: that such a record exists
    would itself disclose that the youth sought their help.
    """
    index = blind_index(given_name, family_name, date_of_birth.isoformat())
    count = (
        Youth.objects.filter(duplicate_index=index)
        .filter(
            Q(owning_agency__is_victim_service_provider=False)
            | Q(owning_agency_id=actor.agency_id_or_none)
        )
        .count()
    )
    record(
        actor=actor,
        action=AuditAction.LIST,
        object_type="youth.duplicate_check",
        object_id=f"{count} match(es)",
        category=Category.IDENTITY,
        request=request,
    )
    return count


def youth_for_break_glass(*, youth_id: uuid.UUID) -> Youth:
    """The record an emergency access is requested for; never a victim-service provider's."""
    try:
        return Youth.objects.select_related("owning_agency").get(
            pk=youth_id, owning_agency__is_victim_service_provider=False
        )
    except Youth.DoesNotExist as exc:
        raise Http404 from exc


def youth_find_for_break_glass(
    *,
    actor: User,
    given_name: str,
    family_name: str,
    date_of_birth: datetime.date,
    request: HttpRequest | None = None,
) -> list[Youth]:
    """Exact name-and-birth-date match across agencies, for an emergency.

    Records owned by victim-service providers are never revealed to outsiders: that a record
    exists there would itself disclose that the youth sought their help.
    """
    index = blind_index(given_name, family_name, date_of_birth.isoformat())
    matches = list(
        Youth.objects.filter(duplicate_index=index)
        .exclude(owning_agency__is_victim_service_provider=True)
        .select_related("owning_agency")
        .only(
            "id",
            "record_number",
            "owning_agency__name",
            "owning_agency__is_victim_service_provider",
        )
    )
    record(
        actor=actor,
        action=AuditAction.LIST,
        object_type="youth.search",
        object_id=f"{len(matches)} match(es)",
        category=Category.IDENTITY,
        reason="break-glass search",
        request=request,
    )
    return matches
