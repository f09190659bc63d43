"""Writing the audit trail. ``record`` (one event) and ``record_each_youth`` (one per row of a
list) are the only ways in."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model
from django.http import HttpRequest

from safeharbor.core import clock
from safeharbor.core.client_ip import client_ip

from .choices import AuditAction
from .hashing import event_hash
from .models import AuditChainHead, AuditEvent


def _client_ip(request: HttpRequest | None) -> str | None:
    """The client's address, by the same trusted-proxy rule as the login lockout."""
    if request is None:
        return None
    return client_ip(request)


@dataclass(frozen=True)
class _Who:
    user: Any
    label: str
    ip_address: str | None

    @classmethod
    def of(cls, actor: Any, actor_label: str, request: HttpRequest | None) -> _Who:
        user = actor if getattr(actor, "is_authenticated", False) else None
        label = actor_label or (user.get_username() if user else "")
        return cls(user=user, label=label, ip_address=_client_ip(request))


def _relax_commit_for_read_only_events() -> None:
    """On PostgreSQL, an audit-only transaction (a read being recorded) commits without waiting
    for the WAL flush; events that describe a write commit with that write, synchronously.

    A crash can then lose at most the last fraction of a second of read events, whole: the
    events and the chain head commit together, so the chain stays verifiable. This keeps
    auditing a read to a fraction of a millisecond instead of an fsync (docs/decisions/0008).
    """
    connection = transaction.get_connection()
    if connection.vendor == "postgresql" and len(connection.atomic_blocks) == 1:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _append(who: _Who, entries: list[dict[str, Any]]) -> list[AuditEvent]:
    """Chain ``entries`` after the head and insert them; the caller holds the transaction.

    The chain head is locked for the rest of the surrounding transaction (``FOR UPDATE`` on
    PostgreSQL; SQLite's IMMEDIATE transactions already serialise writers), so concurrent writers
    queue instead of forking the chain. Called inside a service's transaction, the events commit
    or roll back with the write they describe.
    """
    _relax_commit_for_read_only_events()
    head = AuditChainHead.objects.select_for_update().get(pk=1)
    at = clock.now()
    events = []
    for entry in entries:
        event = AuditEvent(
            seq=head.seq + 1,
            at=at,
            actor=who.user,
            actor_label=who.label,
            ip_address=who.ip_address,
            prev_hash=head.hash,
            **entry,
        )
        event.hash = event_hash(event)
        head.seq, head.hash = event.seq, event.hash
        events.append(event)
    _insert(transaction.get_connection(), events)
    head.save(update_fields=["seq", "hash"])
    return events


# Columns in insert order; every event of one ``_append`` shares its time, actor and address.
_SHARED = ("at", "actor", "actor_label", "ip_address")
_OWN = ("seq", "action", "object_type", "object_id", "category", "reason", "prev_hash", "hash")
_INSERT_BATCH = 500


def _insert(connection: BaseDatabaseWrapper, events: list[AuditEvent]) -> None:
    """Insert events with plain multi-row INSERTs. A list page writes one event per youth it
    shows; ``bulk_create`` spent most of that time preparing 13 values per row through the ORM,
    where only the youth id needs converting per row (docs/performance.md, foundation).
    The events are not given their ``pk`` (nothing reads it)."""
    fields = {field.name: field for field in AuditEvent._meta.concrete_fields}
    first = events[0]
    shared = [
        fields[name].get_db_prep_save(getattr(first, fields[name].attname), connection)
        for name in _SHARED
    ]
    youth_field = fields["youth_id"]
    columns = ", ".join(
        connection.ops.quote_name(fields[name].column or name)
        for name in (*_SHARED, *_OWN, "youth_id")
    )
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    row = "(" + ", ".join(["%s"] * (len(_SHARED) + len(_OWN) + 1)) + ")"
    with connection.cursor() as cursor:
        for start in range(0, len(events), _INSERT_BATCH):
            batch = events[start : start + _INSERT_BATCH]
            params: list[Any] = []
            for event in batch:
                params += shared
                params += [getattr(event, name) for name in _OWN]
                params.append(youth_field.get_db_prep_save(event.youth_id, connection))
            cursor.execute(
                f"INSERT INTO {table} ({columns}) "  # noqa: S608  (names come from the model)
                f"VALUES {', '.join([row] * len(batch))}",
                params,
            )


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
    """Append one event to the chain."""
    entry = {
        "action": str(action),
        "object_type": object_type,
        "object_id": str(object_id),
        "youth_id": youth_id,
        "category": category,
        "reason": reason[:500],
    }
    return _append(_Who.of(actor, actor_label, request), [entry])[0]


def record_object(
    *,
    actor: Any,
    action: AuditAction | str,
    obj: Model,
    youth_id: uuid.UUID | None = None,
    category: str = "",
    reason: str = "",
    request: HttpRequest | None = None,
) -> AuditEvent:
    """``record`` for an event about one model instance, named by its app label and model."""
    return record(
        actor=actor,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=obj.pk,
        youth_id=youth_id,
        category=category,
        reason=reason,
        request=request,
    )


@transaction.atomic
def record_each_youth(
    *,
    actor: Any,
    action: AuditAction | str,
    object_type: str,
    youth_ids: Iterable[uuid.UUID],
    category: str,
    request: HttpRequest | None = None,
) -> list[AuditEvent]:
    """One event per youth shown (a list page), in one insert, so that each youth's
    "who accessed this record" shows the lists their name appeared on."""
    entries = [
        {
            "action": str(action),
            "object_type": object_type,
            "object_id": str(youth_id),
            "youth_id": youth_id,
            "category": category,
            "reason": "",
        }
        for youth_id in youth_ids
    ]
    if not entries:
        return []
    return _append(_Who.of(actor, "", request), entries)
