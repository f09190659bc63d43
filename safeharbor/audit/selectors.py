"""Reading the audit trail."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import QuerySet

from .hashing import GENESIS_HASH, event_hash
from .listing import listed_youth_digest, names_youth
from .models import AuditChainHead, AuditEvent, AuditEventYouth

_ACCESS_LOG_FIELDS = ("seq", "at", "actor_label", "action", "category", "reason", "object_type")


def audit_events_for_youth(*, youth_id: uuid.UUID, limit: int = 200) -> list[AuditEvent]:
    """Who accessed this record, newest first: the events about this youth and the lists that
    named them. The caller has already checked the policy.

    Two index range scans merged here: an ``OR`` of the two would make PostgreSQL scan the trail.
    """
    about = AuditEvent.objects.filter(youth_id=youth_id)
    listed_seqs = (
        AuditEventYouth.objects.filter(youth_id=youth_id).order_by("-event").values("event")[:limit]
    )
    listing = AuditEvent.objects.filter(seq__in=listed_seqs)
    events = [
        *_newest(about, limit),
        *_newest(listing, limit),
    ]
    events.sort(key=lambda event: (event.at, event.seq), reverse=True)
    return events[:limit]


def _newest(events: QuerySet[AuditEvent], limit: int) -> QuerySet[AuditEvent]:
    return events.order_by("-at", "-seq").only(*_ACCESS_LOG_FIELDS)[:limit]


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    problem: str


def _batches_in_order(batch_size: int) -> Iterator[list[AuditEvent]]:
    last_seq = 0
    while True:
        batch = list(AuditEvent.objects.filter(seq__gt=last_seq).order_by("seq")[:batch_size])
        if not batch:
            return
        yield batch
        last_seq = batch[-1].seq


def _youth_named(first_seq: int, last_seq: int) -> dict[int, list[uuid.UUID]]:
    """The link rows of the events ``first_seq`` to ``last_seq``, by event."""
    named: dict[int, list[uuid.UUID]] = {}
    rows = AuditEventYouth.objects.filter(event__gte=first_seq, event__lte=last_seq)
    for seq, youth_id in rows.values_list("event", "youth_id"):
        named.setdefault(seq, []).append(youth_id)
    return named


def _link_problem(event: AuditEvent, named: list[uuid.UUID] | None) -> str | None:
    """Why the youth linked to ``event`` do not match what its hashed ``object_id`` says."""
    if not names_youth(event.object_id):
        return None if named is None else "youth were linked to it after it was written"
    if listed_youth_digest(named or []) != event.object_id:
        return "the youth linked to it were changed after it was written"
    return None


def audit_chain_verify(*, batch_size: int = 5000) -> tuple[int, ChainBreak | None]:
    """Walk the chain from the start; return the events checked and the first break, if any."""
    expected_prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    for batch in _batches_in_order(batch_size):
        named = _youth_named(batch[0].seq, batch[-1].seq)
        for event in batch:
            if event.seq != expected_seq:
                return checked, ChainBreak(expected_seq, f"event #{expected_seq} is missing")
            if event.prev_hash != expected_prev:
                return checked, ChainBreak(
                    event.seq, "its link to the previous event does not match"
                )
            if event_hash(event) != event.hash:
                return checked, ChainBreak(
                    event.seq, "its content was altered after it was written"
                )
            problem = _link_problem(event, named.pop(event.seq, None))
            if problem:
                return checked, ChainBreak(event.seq, problem)
            expected_prev = event.hash
            expected_seq += 1
            checked += 1
    head = AuditChainHead.objects.get(pk=1)
    if head.seq != checked or head.hash != expected_prev:
        return checked, ChainBreak(checked + 1, "events after this point were removed")
    return checked, None
