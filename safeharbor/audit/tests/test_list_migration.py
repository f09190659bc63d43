"""Migration 0004 turns 0003's link rows (one per event and youth) into lists stored once."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from safeharbor.audit.choices import AuditAction
from safeharbor.audit.listing import listed_youth_digest
from safeharbor.audit.models import AuditListedYouth
from safeharbor.audit.selectors import audit_chain_verify, list_events_naming, youth_listed_by
from safeharbor.audit.services import record_listed_youth

BEFORE = [("audit", "0003_list_event_youth_links")]


def migrate(targets: list[tuple[str, str]] | None) -> None:
    """To ``targets``, or (None) forwards to the latest migrations."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets or executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_links_become_lists_stored_once_and_back() -> None:
    maya, other = uuid.uuid4(), uuid.uuid4()
    shown = [
        record_listed_youth(
            actor=None,
            action=AuditAction.LIST,
            object_type="youth.youth",
            youth_ids=youth_ids,
            category="identity",
        )
        for youth_ids in ([maya, other], [other, maya], [maya])
    ]
    by_event = {e.seq: sorted(map(str, youth_listed_by(e))) for e in shown if e}
    migrate(BEFORE)  # 0004 backwards: every list event gets its links again
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT event_seq, youth_id FROM audit_auditeventyouth")
            links = sorted((seq, str(uuid.UUID(str(youth)))) for seq, youth in cursor.fetchall())
        assert links == sorted((seq, y) for seq, ys in by_event.items() for y in ys)
    finally:
        migrate(None)  # and forwards: the links become lists again, once each
    assert AuditListedYouth.objects.count() == 3
    assert sorted(e.seq for e in list_events_naming(maya)) == [e.seq for e in shown if e]
    assert shown[2] is not None
    assert shown[2].object_id == listed_youth_digest([maya])
    assert audit_chain_verify()[1] is None
