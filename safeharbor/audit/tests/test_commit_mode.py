"""Read events commit without waiting for the WAL flush on PostgreSQL; write events do not."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection, transaction

from safeharbor.audit.choices import AuditAction
from safeharbor.audit.services import record


def commit_mode_when_the_event_is_inserted(action: Callable[[], object]) -> list[str]:
    """``synchronous_commit`` as the transaction sees it right after each audit event's insert."""
    seen: list[str] = []

    def observe(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if "INSERT INTO" in sql and '"audit_auditevent"' in sql:
            # The raw connection, so that this query is not observed in turn.
            seen.append(connection.connection.execute("SHOW synchronous_commit").fetchone()[0])
        return result

    with connection.execute_wrapper(observe):
        action()
    return seen


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL commit setting")
@pytest.mark.django_db(transaction=True)
def test_a_read_event_relaxes_the_commit_and_a_write_event_does_not():
    def read() -> None:
        record(actor=None, action=AuditAction.VIEW, object_type="t")

    def write_then_audit() -> None:
        with transaction.atomic():
            record(actor=None, action=AuditAction.CREATE, object_type="t")

    assert commit_mode_when_the_event_is_inserted(read) == ["off"]
    assert commit_mode_when_the_event_is_inserted(write_then_audit) == ["on"]
    with connection.cursor() as cursor:  # SET LOCAL: gone with its transaction
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"
