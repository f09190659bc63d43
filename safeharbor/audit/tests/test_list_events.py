"""A list page's audit: one chained event naming the list of youth shown, the list stored once
under its digest, covered by the chain's hashes and shown in each youth's "who accessed this
record"."""

from __future__ import annotations

import uuid

import pytest
from django.core.management import CommandError
from django.db import DatabaseError, connection, transaction

from safeharbor.audit.choices import AuditAction
from safeharbor.audit.listing import listed_youth_digest
from safeharbor.audit.models import AuditEvent, AuditListedYouth
from safeharbor.audit.selectors import (
    audit_chain_verify,
    audit_events_for_youth,
    list_events_naming,
    youth_listed_by,
)
from safeharbor.audit.services import record, record_listed_youth
from safeharbor.audit.tests.test_audit_chain import raw, triggers_lifted, verify, write_events

LISTS = "audit_auditlistedyouth"
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


def test_a_list_is_one_event_naming_its_list_of_youth() -> None:
    shown = [uuid.uuid4() for _ in range(3)]
    before = AuditEvent.objects.count()
    event = listing([*shown, shown[0]])  # a name shown twice is stored once
    assert AuditEvent.objects.count() == before + 1
    assert event.youth_id is None
    assert event.object_id == listed_youth_digest(reversed(shown))
    assert youth_listed_by(event) == sorted(shown)
    assert audit_chain_verify()[1] is None


def test_a_list_shown_again_is_stored_once_and_each_showing_is_an_event() -> None:
    maya, other = uuid.uuid4(), uuid.uuid4()
    first = listing([maya, other])
    stored = AuditListedYouth.objects.count()
    again = listing([other, maya])
    assert again.object_id == first.object_id
    assert AuditListedYouth.objects.count() == stored
    assert [e.seq for e in list_events_naming(maya).order_by("seq")] == [first.seq, again.seq]
    smaller = listing([maya])
    assert AuditListedYouth.objects.count() == stored + 1
    assert smaller.seq in {e.seq for e in list_events_naming(maya)}
    assert smaller.seq not in {e.seq for e in list_events_naming(other)}
    assert audit_chain_verify()[1] is None


def test_youth_listed_by_names_no_one_for_other_events() -> None:
    viewed = record(actor=None, actor_label="cw", action=AuditAction.VIEW, youth_id=uuid.uuid4())
    assert youth_listed_by(viewed) == []


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


def test_a_youth_removed_from_a_list_breaks_the_chain() -> None:
    write_events(2)
    maya, other = uuid.uuid4(), uuid.uuid4()
    event = listing([maya, other])
    with triggers_lifted():
        raw(f"DELETE FROM {LISTS} WHERE youth_id = %s", [_db(maya)])  # noqa: S608
    with pytest.raises(CommandError, match=rf"broken at event #{event.seq}: .*was changed"):
        verify()


def test_a_list_removed_whole_breaks_the_chain_at_its_first_showing() -> None:
    maya = uuid.uuid4()
    first = listing([maya])
    listing([maya])
    with triggers_lifted():
        raw(f"DELETE FROM {LISTS} WHERE list_digest = %s", [first.object_id])  # noqa: S608
    broken = audit_chain_verify(batch_size=1)[1]
    assert broken is not None
    assert broken.seq == first.seq
    assert "was removed" in broken.problem


def test_a_youth_added_to_a_list_breaks_the_chain_at_its_first_showing() -> None:
    write_events(3)
    event = listing([uuid.uuid4()])
    listing([uuid.uuid4(), uuid.uuid4()])
    add_to_list(event.object_id, uuid.uuid4())
    broken = audit_chain_verify(batch_size=2)[1]
    assert broken is not None
    assert broken.seq == event.seq
    assert "changed after it was written" in broken.problem


def test_the_database_refuses_to_change_or_delete_a_stored_list() -> None:
    event = listing([uuid.uuid4()])
    stored = AuditListedYouth.objects.filter(list_digest=event.object_id)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        stored.update(youth_id=uuid.uuid4())
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        raw(f"DELETE FROM {LISTS}", [])  # noqa: S608
    assert stored.count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE trigger: PostgreSQL only")
def test_the_database_refuses_to_truncate_the_stored_lists() -> None:
    listing([uuid.uuid4()])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        raw(f"TRUNCATE {LISTS}", [])  # noqa: S608


def test_a_failed_write_leaves_neither_event_nor_list() -> None:
    before = (AuditEvent.objects.count(), AuditListedYouth.objects.count())

    @transaction.atomic
    def a_page_that_fails_after_its_audit() -> None:
        listing([uuid.uuid4(), uuid.uuid4()])
        raise RuntimeError("the page failed")

    with pytest.raises(RuntimeError):
        a_page_that_fails_after_its_audit()
    assert (AuditEvent.objects.count(), AuditListedYouth.objects.count()) == before
    assert audit_chain_verify()[1] is None


def test_a_long_list_is_stored_whole_and_once() -> None:
    shown = [uuid.uuid4() for _ in range(1_234)]
    event = listing(shown)
    assert youth_listed_by(event) == sorted(shown)
    listing(list(reversed(shown)))
    assert AuditListedYouth.objects.count() == len(shown)
    assert audit_chain_verify()[1] is None


def add_to_list(digest: str, youth_id: uuid.UUID) -> None:
    """What an attacker could do without lifting any trigger: insert a row into a stored list."""
    raw(f"INSERT INTO {LISTS} (list_digest, youth_id) VALUES (%s, %s)", [digest, _db(youth_id)])  # noqa: S608


def _db(youth_id: uuid.UUID) -> str:
    """The id as the database stores it (SQLite: 32 hex digits; PostgreSQL: uuid)."""
    return str(youth_id) if connection.vendor == "postgresql" else youth_id.hex
