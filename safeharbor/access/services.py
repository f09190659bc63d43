"""Break-glass writes."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from safeharbor.audit.choices import AuditAction
from safeharbor.audit.services import record
from safeharbor.core import clock

from .models import BreakGlassAccess
from .policy import can_open_break_glass, can_review_break_glass

if TYPE_CHECKING:
    from safeharbor.accounts.models import User
    from safeharbor.youth.models import Youth

MIN_REASON_LENGTH = 15


@transaction.atomic
def break_glass_open(*, actor: User, youth: Youth, reason: str) -> BreakGlassAccess:
    """Open a time-limited emergency access; it is audited and lands on the review list."""
    if not can_open_break_glass(actor):
        raise PermissionDenied
    # A victim-service provider's record opens to outsiders only through consent (design §3).
    if youth.owning_agency.is_victim_service_provider:
        raise PermissionDenied
    reason = reason.strip()
    if len(reason) < MIN_REASON_LENGTH:
        raise ValidationError(
            {
                "reason": _("Say why you need this record now, in at least %(n)d characters.")
                % {"n": MIN_REASON_LENGTH}
            }
        )
    opened = clock.now()
    access = BreakGlassAccess(
        user=actor,
        youth=youth,
        reason=reason,
        opened_at=opened,
        expires_at=opened + datetime.timedelta(minutes=settings.SAFEHARBOR_BREAK_GLASS_MINUTES),
    )
    access.full_clean()
    access.save()
    record(
        actor=actor,
        action=AuditAction.BREAK_GLASS_OPEN,
        object_type="access.breakglass",
        object_id=access.pk,
        youth_id=youth.pk,
        reason=reason,
    )
    return access


@transaction.atomic
def break_glass_review(*, actor: User, access: BreakGlassAccess, note: str) -> BreakGlassAccess:
    if not can_review_break_glass(actor):
        raise PermissionDenied
    if access.user.agency_id_or_none != actor.agency_id_or_none:
        raise PermissionDenied
    if access.user_id == actor.pk:
        raise ValidationError({"note": _("Someone else must review your own break-glass access.")})
    if access.reviewed_at is not None:
        raise ValidationError({"note": _("This access was already reviewed.")})
    if not note.strip():
        raise ValidationError({"note": _("Write what you checked and what you concluded.")})
    access.reviewed_by = actor
    access.reviewed_at = clock.now()
    access.review_note = note.strip()[:500]
    access.save(update_fields=["reviewed_by", "reviewed_at", "review_note", "updated_at"])
    record(
        actor=actor,
        action=AuditAction.BREAK_GLASS_REVIEW,
        object_type="access.breakglass",
        object_id=access.pk,
        youth_id=access.youth_id,
        reason=access.review_note,
    )
    return access
