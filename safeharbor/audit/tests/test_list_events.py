"""A list page's audit: one chained event naming every youth shown, linked per youth, covered by
the chain's hashes and shown in each youth's "who accessed this record"."""

from __future__ import annotations

import uuid

import pytest
from django.core.management import CommandError
from django.db import DatabaseError, connection, transaction

from safeharbor.audit.choices import AuditAction
from safeharbor.audit.listing import listed_youth_digest
from safeharbor.audit.models import AuditEvent, AuditEventYouth
from safeharbor.audit.selectors import audit_chain_verify, audit_events_for_youth
from safeharbor.audit.services import record, record_listed_youth
from safeharbor.audit.tests.test_audit_chain import raw, triggers_lifted, verify, write_events

LINKS = "audit_auditeventyouth"
pytestmark = pytest.mark.django_db


def listing(youth_ids: list[uuid.UUID], object_type: str = "youth.youth") -> AuditEvent:
    event = record_listed_youth(
        actor=None,
        action=AuditAction.LIST,
        object_type=object_type,
        youth_ids=youth_ids,
        category="identity",
    )
    assert event is not None
    return event


def test_a_list_is_one_event_linked_to_each_youth_it_names() -> None:
    shown = [uuid.uuid4() for _ in range(3)]
    before = AuditEvent.objects.count()
    event = listing([*shown, shown[0]])  # a name shown twice is linked once
    assert AuditEvent.objects.count() == before + 1
    assert event.youth_id is None
    assert event.object_id == listed_youth_digest(reversed(shown))
    linked = AuditEventYouth.objects.filter(event=event.seq).values_list("youth_id", flat=True)
    assert sorted(linked) == sorted(shown)
    assert audit_chain_verify()[1] is None


def test_an_empty_list_records_nothing() -> None:
    before = AuditEvent.objects.count()
    assert (
        record_listed_youth(
            actor=None,
            action=AuditAction.LIST,
            object_type="youth.youth",
            youth_ids=[],
            category="",
        )
        is None
    )
    assert AuditEvent.objects.count() == before


def test_who_accessed_shows_lists_and_direct_events_newest_first() -> None:
    maya, other = uuid.uuid4(), uuid.uuid4()
    first = listing([maya, other])
    viewed = record(actor=None, actor_label="cw", action=AuditAction.VIEW, youth_id=maya)
    listing([other])  # not Maya's
    last = listing([maya], object_type="screening.due")
    events = audit_events_for_youth(youth_id=maya)
    assert [e.seq for e in events] == [last.seq, viewed.seq, first.seq]
    assert [e.seq for e in audit_events_for_youth(youth_id=maya, limit=2)] == [
        last.seq,
        viewed.seq,
    ]


def test_who_accessed_keeps_the_newest_when_both_kinds_pass_the_limit() -> None:
    maya = uuid.uuid4()
    for _ in range(3):
        listing([maya])
        record(actor=None, actor_label="cw", action=AuditAction.VIEW, youth_id=maya)
    newest = list(AuditEvent.objects.order_by("-seq").values_list("seq", flat=True)[:4])
    assert [e.seq for e in audit_events_for_youth(youth_id=maya, limit=4)] == newest


def test_a_removed_link_breaks_the_chain() -> None:
    write_events(2)
    maya, other = uuid.uuid4(), uuid.uuid4()
    event = listing([maya, other])
    with triggers_lifted():
        raw(f"DELETE FROM {LINKS} WHERE event_seq = %s AND youth_id = %s", [event.seq, _db(maya)])  # noqa: S608
    with pytest.raises(CommandError, match=rf"broken at event #{event.seq}: .*youth linked"):
        verify()


def test_a_link_added_to_a_list_breaks_the_chain() -> None:
    event = listing([uuid.uuid4()])
    add_link(event.seq, uuid.uuid4())
    broken = audit_chain_verify()[1]
    assert broken is not None
    assert broken.seq == event.seq
    assert "changed after it was written" in broken.problem


def test_a_link_added_to_an_event_that_named_no_list_breaks_the_chain() -> None:
    viewed = write_events(1)[0]
    add_link(viewed.seq, uuid.uuid4())
    broken = audit_chain_verify(batch_size=2)[1]
    assert broken is not None
    assert broken.seq == viewed.seq
    assert "linked to it after" in broken.problem


def test_the_database_refuses_to_change_or_delete_a_link() -> None:
    event = listing([uuid.uuid4()])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEventYouth.objects.filter(event=event.seq).update(youth_id=uuid.uuid4())
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        raw(f"DELETE FROM {LINKS}", [])  # noqa: S608
    assert AuditEventYouth.objects.filter(event=event.seq).count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE trigger: PostgreSQL only")
def test_the_database_refuses_to_truncate_the_links() -> None:
    listing([uuid.uuid4()])
    raw("SET CONSTRAINTS ALL IMMEDIATE", [])  # the test's open transaction holds deferred checks
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        raw(f"TRUNCATE {LINKS}", [])  # noqa: S608


def test_a_failed_write_leaves_neither_event_nor_links() -> None:
    before = (AuditEvent.objects.count(), AuditEventYouth.objects.count())

    @transaction.atomic
    def a_page_that_fails_after_its_audit() -> None:
        listing([uuid.uuid4(), uuid.uuid4()])
        raise RuntimeError("the page failed")

    with pytest.raises(RuntimeError):
        a_page_that_fails_after_its_audit()
    assert (AuditEvent.objects.count(), AuditEventYouth.objects.count()) == before
    assert audit_chain_verify()[1] is None


def test_a_long_list_is_linked_whole() -> None:
    shown = [uuid.uuid4() for _ in range(1_234)]
    event = listing(shown)
    assert AuditEventYouth.objects.filter(event=event.seq).count() == len(shown)
    assert audit_chain_verify()[1] is None


def add_link(seq: int, youth_id: uuid.UUID) -> None:
    """What an attacker could do without lifting any trigger: insert a link."""
    raw(f"INSERT INTO {LINKS} (event_seq, youth_id) VALUES (%s, %s)", [seq, _db(youth_id)])  # noqa: S608


def _db(youth_id: uuid.UUID) -> str:
    """The id as the database stores it (SQLite: 32 hex digits; PostgreSQL: uuid)."""
    return str(youth_id) if connection.vendor == "postgresql" else youth_id.hex
