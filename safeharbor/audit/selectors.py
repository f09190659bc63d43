"""Reading the audit trail."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import QuerySet

from .hashing import GENESIS_HASH, event_hash
from .models import AuditChainHead, AuditEvent


def audit_events_for_youth(*, youth_id: uuid.UUID, limit: int = 200) -> QuerySet[AuditEvent]:
    """Who accessed this record, newest first. The caller has already checked the policy."""
    return (
        AuditEvent.objects.filter(youth_id=youth_id)
        .order_by("-at", "-seq")
        .only("seq", "at", "actor_label", "action", "category", "reason", "object_type")[:limit]
    )


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    problem: str


def _events_in_order(batch_size: int) -> Iterator[AuditEvent]:
    last_seq = 0
    while True:
        batch = list(AuditEvent.objects.filter(seq__gt=last_seq).order_by("seq")[:batch_size])
        if not batch:
            return
        yield from batch
        last_seq = batch[-1].seq


def audit_chain_verify(*, batch_size: int = 5000) -> tuple[int, ChainBreak | None]:
    """Walk the chain from the start; return the events checked and the first break, if any."""
    expected_prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    for event in _events_in_order(batch_size):
        if event.seq != expected_seq:
            return checked, ChainBreak(expected_seq, f"event #{expected_seq} is missing")
        if event.prev_hash != expected_prev:
            return checked, ChainBreak(event.seq, "its link to the previous event does not match")
        if event_hash(event) != event.hash:
            return checked, ChainBreak(event.seq, "its content was altered after it was written")
        expected_prev = event.hash
        expected_seq += 1
        checked += 1
    head = AuditChainHead.objects.get(pk=1)
    if head.seq != checked or head.hash != expected_prev:
        return checked, ChainBreak(checked + 1, "events after this point were removed")
    return checked, None
