"""Reading the audit trail."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import QuerySet

from .choices import AuditAction
from .hashing import GENESIS_HASH, event_hash
from .listing import listed_youth_digest, names_youth
from .models import AuditChainHead, AuditEvent, AuditListedYouth

_ACCESS_LOG_FIELDS = ("seq", "at", "actor_label", "action", "category", "reason", "object_type")


def audit_events_for_youth(*, youth_id: uuid.UUID, limit: int = 200) -> list[AuditEvent]:
    """Who accessed this record, newest first: the events about this youth and the lists that
    named them. The caller has already checked the policy.

    Two index range scans merged here: an ``OR`` of the two would make PostgreSQL scan the trail.
    """
    events = [
        *_newest(AuditEvent.objects.filter(youth_id=youth_id), limit),
        *_newest(list_events_naming(youth_id), limit),
    ]
    events.sort(key=lambda event: (event.at, event.seq), reverse=True)
    return events[:limit]


def list_events_naming(youth_id: uuid.UUID) -> QuerySet[AuditEvent]:
    """The list events whose list named this youth (read through ``audit_list_shown_idx``)."""
    lists = AuditListedYouth.objects.filter(youth_id=youth_id).values("list_digest")
    return AuditEvent.objects.filter(action=AuditAction.LIST, object_id__in=lists)


def youth_listed_by(event: AuditEvent) -> list[uuid.UUID]:
    """The youth a list event named, in id order (none for any other event)."""
    if not names_youth(event.object_id):
        return []
    rows = AuditListedYouth.objects.filter(list_digest=event.object_id).order_by("youth_id")
    return list(rows.values_list("youth_id", flat=True))


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


def _lists_by_digest(digests: set[str]) -> dict[str, list[uuid.UUID]]:
    """The stored lists with these digests, by digest (a list missing is absent)."""
    lists: dict[str, list[uuid.UUID]] = {}
    rows = AuditListedYouth.objects.filter(list_digest__in=sorted(digests))
    for digest, youth_id in rows.values_list("list_digest", "youth_id"):
        lists.setdefault(digest, []).append(youth_id)
    return lists


def _list_problems(batch: list[AuditEvent], verified: set[str]) -> dict[str, str]:
    """Why a list named by an event of ``batch`` no longer matches its digest, by digest; each
    distinct list is checked once a run (``verified`` remembers those that matched)."""
    digests = {e.object_id for e in batch if names_youth(e.object_id)} - verified
    if not digests:
        return {}
    stored = _lists_by_digest(digests)
    problems = {}
    for digest in digests:
        if digest not in stored:
            problems[digest] = "the list of youth it named was removed"
        elif listed_youth_digest(stored[digest]) != digest:
            problems[digest] = "the list of youth it named was changed after it was written"
        else:
            verified.add(digest)
    return problems


def audit_chain_verify(*, batch_size: int = 5000) -> tuple[int, ChainBreak | None]:
    """Walk the chain from the start; return the events checked and the first break, if any."""
    expected_prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    verified_lists: set[str] = set()
    for batch in _batches_in_order(batch_size):
        list_problems = _list_problems(batch, verified_lists)
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
            if event.object_id in list_problems:
                return checked, ChainBreak(event.seq, list_problems[event.object_id])
            expected_prev = event.hash
            expected_seq += 1
            checked += 1
    head = AuditChainHead.objects.get(pk=1)
    if head.seq != checked or head.hash != expected_prev:
        return checked, ChainBreak(checked + 1, "events after this point were removed")
    return checked, None
