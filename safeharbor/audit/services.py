"""Writing the audit trail. ``record`` is the one way in."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction
from django.http import HttpRequest

from safeharbor.core import clock

from .choices import AuditAction
from .hashing import event_hash
from .models import AuditChainHead, AuditEvent


def _client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


@transaction.atomic
def record(
    *,
    actor: Any,
    action: AuditAction | str,
    object_type: str = "",
    object_id: Any = "",
    youth_id: uuid.UUID | None = None,
    category: str = "",
    reason: str = "",
    request: HttpRequest | None = None,
    actor_label: str = "",
) -> AuditEvent:
    """Append one event to the chain.

    The chain head is locked for the rest of the surrounding transaction (``FOR UPDATE`` on
    PostgreSQL; SQLite's IMMEDIATE transactions already serialise writers), so concurrent writers
    queue instead of forking the chain. Called inside a service's transaction, the event commits
    or rolls back with the write it describes.
    """
    head = AuditChainHead.objects.select_for_update().get(pk=1)
    user = actor if getattr(actor, "is_authenticated", False) else None
    event = AuditEvent(
        seq=head.seq + 1,
        at=clock.now(),
        actor=user,
        actor_label=actor_label or (user.get_username() if user else ""),
        action=str(action),
        object_type=object_type,
        object_id=str(object_id),
        youth_id=youth_id,
        category=category,
        reason=reason[:500],
        ip_address=_client_ip(request),
        prev_hash=head.hash,
    )
    event.hash = event_hash(event)
    event.save(force_insert=True)
    head.seq = event.seq
    head.hash = event.hash
    head.save(update_fields=["seq", "hash"])
    return event
