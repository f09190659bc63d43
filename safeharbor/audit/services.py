"""Writing the audit trail. ``record`` (one event) and ``record_listed_youth`` (one event for a
list, naming each youth it showed) are the only ways in."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model
from django.http import HttpRequest

from safeharbor.core import clock
from safeharbor.core.client_ip import client_ip

from .choices import AuditAction
from .hashing import canonical_middle, event_hash
from .listing import listed_youth_digest
from .models import AuditChainHead, AuditEvent, AuditListedYouth


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


def _append(who: _Who, entry: dict[str, Any], listed: Sequence[uuid.UUID] = ()) -> AuditEvent:
    """Chain one event after the head and insert it, with the list of youth it ``listed`` (stored
    once per distinct list, under the digest that is the event's ``object_id``). Inside a
    caller's transaction the event commits or rolls back with the write it describes.

    Plain SQL rather than the ORM's ``save``/``bulk_create``, which spent most of a list page's
    audit preparing values (docs/performance.md, foundation).
    """
    connection = transaction.get_connection()
    if connection.vendor == "postgresql":
        return _append_in_one_statement(connection, who, entry, listed)
    # No savepoint inside a caller's transaction: an event that fails must fail the write it
    # describes anyway.
    with transaction.atomic(savepoint=False):
        return _append_after_locking(connection, who, entry, listed)


def _new_event(who: _Who, entry: dict[str, Any], seq: int, prev_hash: str) -> AuditEvent:
    return AuditEvent(
        seq=seq,
        at=clock.now(),
        actor=who.user,
        actor_label=who.label,
        ip_address=who.ip_address,
        prev_hash=prev_hash,
        **entry,
    )


def _append_after_locking(
    connection: BaseDatabaseWrapper, who: _Who, entry: dict[str, Any], listed: Sequence[uuid.UUID]
) -> AuditEvent:
    """SQLite: read the head (the IMMEDIATE transaction already holds the write lock, so
    concurrent writers queue instead of forking the chain), hash in Python, write."""
    head = connection.ops.quote_name(AuditChainHead._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT seq, hash FROM {head} WHERE id = 1")  # noqa: S608  (model's name)
        seq, prev_hash = cursor.fetchone()
        event = _new_event(who, entry, seq + 1, prev_hash)
        event.hash = event_hash(event)
        cursor.execute(
            f"UPDATE {head} SET seq = %s, prev_hash = %s, hash = %s WHERE id = 1",  # noqa: S608
            [event.seq, event.prev_hash, event.hash],
        )
        for sql, params in [
            *_list_inserts(connection, event.object_id, listed),
            _event_insert(connection, event),
        ]:
            cursor.execute(sql, params)
    return event


def _append_in_one_statement(
    connection: BaseDatabaseWrapper, who: _Who, entry: dict[str, Any], listed: Sequence[uuid.UUID]
) -> AuditEvent:
    """PostgreSQL: one statement, atomic by itself, so a read being recorded needs no BEGIN and
    COMMIT: one round trip.

    The ``UPDATE`` of the head locks it (a concurrent writer waits, then re-evaluates against the
    head as that writer left it: the chain cannot fork), moves it on and computes the event's
    hash in SQL from the head's previous hash, with the same canonical serialisation as
    ``hashing.event_hash`` (the fields between ``seq`` and ``prev_hash`` are serialised in
    Python, ``hashing.canonical_middle``). The list, if new, and the event are inserted from it.

    Outside a transaction (a read being recorded) the statement also commits without waiting for
    the WAL flush (``set_config(..., true)`` is ``SET LOCAL``, for this statement's implicit
    transaction); an event inside a caller's transaction commits with the write it describes,
    synchronously. A crash can then lose at most the last fraction of a second of read events,
    whole: event and head commit together, so the chain stays verifiable (decision 0008).
    """
    event = _new_event(who, entry, 0, "")
    head = connection.ops.quote_name(AuditChainHead._meta.db_table)
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    fields = [
        field
        for field in AuditEvent._meta.concrete_fields
        if not field.primary_key and field.attname not in ("seq", "prev_hash", "hash")
    ]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    values = ", ".join(f"%s::{field.db_type(connection)}" for field in fields)
    params = [field.get_db_prep_save(getattr(event, field.attname), connection) for field in fields]
    list_inserts = _list_inserts(connection, event.object_id, listed)
    lists = "".join(f", s{n} AS ({sql})" for n, (sql, _params) in enumerate(list_inserts))
    list_params = [param for _sql, params_ in list_inserts for param in params_]
    sql = (
        f"WITH head AS (UPDATE {head} SET prev_hash = hash, seq = seq + 1, "  # noqa: S608
        "hash = encode(sha256(convert_to("
        "'[' || (seq + 1) || ',' || %s || ',\"' || hash || '\"]', 'UTF8')), 'hex') "
        "WHERE id = 1 RETURNING seq, prev_hash, hash, "
        "CASE WHEN %s THEN set_config('synchronous_commit', 'off', true) END)"
        f"{lists} "
        f"INSERT INTO {table} (seq, {columns}, prev_hash, hash) "
        f"SELECT head.seq, {values}, head.prev_hash, head.hash FROM head "
        "RETURNING seq, prev_hash, hash, current_setting('synchronous_commit')"
    )
    audit_only = not connection.in_atomic_block
    with connection.cursor() as cursor:
        cursor.execute(sql, [canonical_middle(event), audit_only, *list_params, *params])
        event.seq, event.prev_hash, event.hash = cursor.fetchone()[:3]
    return event


_Statement = tuple[str, list[Any]]


def _event_insert(connection: BaseDatabaseWrapper, event: AuditEvent) -> _Statement:
    """The event's row; it is not given its ``pk`` (nothing reads it)."""
    fields = [field for field in AuditEvent._meta.concrete_fields if not field.primary_key]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    values = ", ".join(["%s"] * len(fields))
    params = [field.get_db_prep_save(getattr(event, field.attname), connection) for field in fields]
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    return f"INSERT INTO {table} ({columns}) VALUES ({values})", params  # noqa: S608


# On SQLite, a list longer than this is stored in several inserts (bound-parameter limit).
_YOUTH_PER_INSERT = 500


def _list_inserts(
    connection: BaseDatabaseWrapper, digest: str, youth_ids: Sequence[uuid.UUID]
) -> list[_Statement]:
    """Store the list under ``digest`` unless it already is: a caseload shown again adds no rows.

    On PostgreSQL one insert of the ids as an array, which tests for the list itself (it runs in
    the event's one statement); on SQLite a probe of the primary key, then inserts in batches
    (its bound-parameter limit). Writers of the trail are serialised by the chain head, so a
    list cannot be stored twice between test and insert.
    """
    if not youth_ids:
        return []
    table = connection.ops.quote_name(AuditListedYouth._meta.db_table)
    if connection.vendor == "postgresql":
        sql = (
            f"INSERT INTO {table} (list_digest, youth_id) "  # noqa: S608  (model's name)
            "SELECT %s, unnest(%s::uuid[]) "
            f"WHERE NOT EXISTS (SELECT 1 FROM {table} WHERE list_digest = %s)"
        )
        return [(sql, [digest, list(youth_ids), digest])]
    if _list_stored(connection, table, digest):
        return []
    youth_field = AuditListedYouth._meta.get_field("youth_id")
    statements = []
    for start in range(0, len(youth_ids), _YOUTH_PER_INSERT):
        batch = youth_ids[start : start + _YOUTH_PER_INSERT]
        rows = ", ".join(["(%s, %s)"] * len(batch))
        sql = f"INSERT INTO {table} (list_digest, youth_id) VALUES {rows}"  # noqa: S608
        ids = [youth_field.get_db_prep_save(youth_id, connection) for youth_id in batch]
        statements.append((sql, [param for id_ in ids for param in (digest, id_)]))
    return statements


def _list_stored(connection: BaseDatabaseWrapper, table: str, digest: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {table} WHERE list_digest = %s LIMIT 1", [digest])  # noqa: S608
        return cursor.fetchone() is not None


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
    return _append(_Who.of(actor, actor_label, request), entry)


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


def record_listed_youth(
    *,
    actor: Any,
    action: AuditAction | str,
    object_type: str,
    youth_ids: Iterable[uuid.UUID],
    category: str,
    request: HttpRequest | None = None,
) -> AuditEvent | None:
    """One event for a list page, naming the list of youth it showed, so that each youth's
    "who accessed this record" shows the lists their name appeared on.

    The event's ``object_id`` is the digest of those youth ids, so the hash chain covers the
    list; the list itself is stored once (``AuditListedYouth``), the first time it is shown.
    One chained event a page instead of one per row: a caseload page's 50 events cost 4.5-6 ms
    (docs/performance.md, foundation; docs/decisions/0009 and 0011).
    """
    listed = list(set(youth_ids))  # the digest sorts them itself
    if not listed:
        return None
    entry = {
        "action": str(action),
        "object_type": object_type,
        "object_id": listed_youth_digest(listed),
        "youth_id": None,
        "category": category,
        "reason": "",
    }
    return _append(_Who.of(actor, "", request), entry, listed=listed)
