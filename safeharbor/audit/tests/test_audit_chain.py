"""The audit trail: a hash chain that ``audit_verify`` checks, append-only at the database level."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from safeharbor.audit import triggers
from safeharbor.audit.choices import AuditAction
from safeharbor.audit.hashing import GENESIS_HASH, event_hash
from safeharbor.audit.models import AuditChainHead, AuditEvent
from safeharbor.audit.selectors import audit_chain_verify
from safeharbor.audit.services import record

TABLE = "audit_auditevent"


def write_events(count: int, label: str = "tester") -> list[AuditEvent]:
    return [
        record(
            actor=None,
            actor_label=label,
            action=AuditAction.VIEW,
            object_type="youth.youth",
            object_id=n,
            reason=f"event {n}",
        )
        for n in range(count)
    ]


def verify() -> str:
    out = StringIO()
    call_command("audit_verify", stdout=out)
    return out.getvalue()


@contextmanager
def triggers_lifted() -> Iterator[None]:
    """What an attacker with database rights could do: drop the triggers, change, reinstall."""
    triggers.remove(connection)
    try:
        yield
    finally:
        triggers.install(connection)


def raw(sql: str, params: list[object]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.fixture
def chain(db: None) -> list[AuditEvent]:
    """Ten events on top of whatever the migrations wrote."""
    return write_events(10)


def test_each_event_links_to_the_one_before(chain: list[AuditEvent]) -> None:
    events = list(AuditEvent.objects.order_by("seq"))
    assert events[0].seq == 1
    assert events[0].prev_hash == GENESIS_HASH
    for previous, event in zip(events, events[1:], strict=False):
        assert event.seq == previous.seq + 1
        assert event.prev_hash == previous.hash
        assert event.hash == event_hash(event)
    head = AuditChainHead.objects.get()
    assert (head.seq, head.hash) == (events[-1].seq, events[-1].hash)


def test_audit_verify_passes_on_an_intact_chain(chain: list[AuditEvent]) -> None:
    total = AuditEvent.objects.count()
    assert f"Audit chain intact: {total} events verified." in verify()


def test_audit_verify_passes_on_a_fresh_database(db: None) -> None:
    assert audit_chain_verify() == (AuditEvent.objects.count(), None)


def test_an_altered_event_is_reported(chain: list[AuditEvent]) -> None:
    target = chain[4]
    with triggers_lifted():
        raw(f"UPDATE {TABLE} SET reason = %s WHERE seq = %s", ["nothing to see", target.seq])  # noqa: S608
    with pytest.raises(CommandError, match=rf"broken at event #{target.seq}: .*altered"):
        verify()


def test_an_altered_link_is_reported(chain: list[AuditEvent]) -> None:
    target = chain[4]
    with triggers_lifted():
        raw(f"UPDATE {TABLE} SET prev_hash = %s WHERE seq = %s", ["f" * 64, target.seq])  # noqa: S608
    with pytest.raises(CommandError, match=rf"broken at event #{target.seq}: .*link"):
        verify()


def test_an_event_removed_from_the_middle_is_reported(chain: list[AuditEvent]) -> None:
    target = chain[4]
    with triggers_lifted():
        raw(f"DELETE FROM {TABLE} WHERE seq = %s", [target.seq])  # noqa: S608
    with pytest.raises(CommandError, match=rf"broken at event #{target.seq}: .*missing"):
        verify()


def test_a_rewritten_tail_is_reported(chain: list[AuditEvent]) -> None:
    """Removing an event and renumbering those after it still breaks the hash links."""
    target = chain[4]
    with triggers_lifted():
        raw(f"DELETE FROM {TABLE} WHERE seq = %s", [target.seq])  # noqa: S608
        for event in chain[5:]:
            raw(f"UPDATE {TABLE} SET seq = %s WHERE seq = %s", [event.seq - 1, event.seq])  # noqa: S608
    with pytest.raises(CommandError, match=rf"broken at event #{target.seq}: "):
        verify()


def test_the_last_event_removed_is_reported(chain: list[AuditEvent]) -> None:
    last = chain[-1]
    with triggers_lifted():
        raw(f"DELETE FROM {TABLE} WHERE seq = %s", [last.seq])  # noqa: S608
    with pytest.raises(CommandError, match=rf"broken at event #{last.seq}: .*removed"):
        verify()


def test_the_chain_verifies_again_once_the_triggers_are_back(chain: list[AuditEvent]) -> None:
    with triggers_lifted():
        pass
    write_events(2)
    assert audit_chain_verify()[1] is None
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(seq=chain[0].seq).delete()


def test_the_database_refuses_to_update_an_event(chain: list[AuditEvent]) -> None:
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(seq=chain[3].seq).update(reason="rewritten")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        raw(f"UPDATE {TABLE} SET reason = %s", ["rewritten"])  # noqa: S608
    assert AuditEvent.objects.get(seq=chain[3].seq).reason == "event 3"


def test_the_database_refuses_to_delete_an_event(chain: list[AuditEvent]) -> None:
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(seq=chain[3].seq).delete()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        raw(f"DELETE FROM {TABLE}", [])  # noqa: S608
    assert AuditEvent.objects.filter(seq__in=[e.seq for e in chain]).count() == len(chain)
    assert audit_chain_verify()[1] is None


@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE trigger: PostgreSQL only")
def test_the_database_refuses_to_truncate_the_trail(chain: list[AuditEvent]) -> None:
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        raw(f"TRUNCATE {TABLE}", [])  # noqa: S608
    assert audit_chain_verify()[1] is None


def test_an_event_saved_again_is_refused(chain: list[AuditEvent]) -> None:
    event = AuditEvent.objects.get(seq=chain[2].seq)
    event.reason = "changed through the ORM"
    with pytest.raises(DatabaseError), transaction.atomic():
        event.save()


THREADS = 8
EVENTS_PER_THREAD = 25


@pytest.mark.postgres_only
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: SQLite's single writer cannot show concurrent writers queueing",
)
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_fork_the_chain() -> None:
    before = AuditEvent.objects.count()
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            start.wait()
            write_events(EVENTS_PER_THREAD, label=f"thread-{n}")
        except BaseException as exc:  # reported to the main thread below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []

    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert len(seqs) == before + THREADS * EVENTS_PER_THREAD
    assert seqs == list(range(1, len(seqs) + 1))  # unique and consecutive
    for n in range(THREADS):
        assert AuditEvent.objects.filter(actor_label=f"thread-{n}").count() == EVENTS_PER_THREAD
    checked, broken = audit_chain_verify()
    assert broken is None
    assert checked == len(seqs)


def test_record_object_names_the_instance_by_app_label_and_model(world) -> None:
    from safeharbor.audit.services import record_object

    event = record_object(
        actor=world.county_caseworker,
        action="view",
        obj=world.maya,
        youth_id=world.maya.pk,
        category="identity",
    )
    assert (event.object_type, event.object_id) == ("youth.youth", str(world.maya.pk))
