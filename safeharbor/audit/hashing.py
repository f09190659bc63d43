"""The chain hash: one canonical serialisation, shared by writing and verifying."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .models import AuditEvent

GENESIS_HASH = "0" * 64


def event_hash(event: AuditEvent) -> str:
    """SHA-256 of the canonical JSON list of the event's fields: ``seq``, the middle
    (``canonical_middle``) and ``prev_hash``, with no spaces and non-ASCII kept as UTF-8."""
    prev_hash = json.dumps(event.prev_hash, ensure_ascii=False)
    canonical = f"[{json.dumps(event.seq)},{canonical_middle(event)},{prev_hash}]"
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def canonical_middle(event: AuditEvent) -> str:
    """The part of ``event_hash``'s serialisation between ``seq`` and ``prev_hash``, without the
    commas that join it to them: ``"[" + str(seq) + "," + middle + ',"' + prev_hash + '"]'`` is
    what ``event_hash`` hashes, for a writer that learns ``seq`` and ``prev_hash`` in the
    database (``audit.services``, PostgreSQL)."""
    payload = [
        event.at.isoformat(timespec="microseconds"),
        event.actor_id,
        event.actor_label,
        event.action,
        event.object_type,
        event.object_id,
        str(event.youth_id) if event.youth_id else None,
        event.category,
        event.reason,
        event.ip_address,
    ]
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)[1:-1]
