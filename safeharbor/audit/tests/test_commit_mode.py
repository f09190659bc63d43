"""Read events commit without waiting for the WAL flush on PostgreSQL; write events do not."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import DatabaseError, connection, transaction

from safeharbor.accounts.models import Agency
from safeharbor.audit.choices import AuditAction
from safeharbor.audit.models import AuditChainHead
from safeharbor.audit.services import record


def commit_mode_when_the_event_is_inserted(action: Callable[[], object]) -> list[str]:
    """``synchronous_commit`` as the event's transaction sees it at the event's insert: the
    statement returns it, read here without taking the row from the service."""
    seen: list[str] = []

    def observe(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if "INSERT INTO" in sql and '"audit_auditevent"' in sql:
            seen.append(context["cursor"].cursor.pgresult.get_value(0, 3).decode())
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


@pytest.mark.django_db(transaction=True)
def test_an_event_inside_a_write_adds_no_savepoint_and_a_failed_event_fails_the_write():
    statements: list[str] = []

    def capture(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture), transaction.atomic():
        record(actor=None, action=AuditAction.CREATE, object_type="t")
    assert not [sql for sql in statements if "SAVEPOINT" in sql.upper()]
    taken = record(actor=None, action=AuditAction.VIEW, object_type="t")
    # The head points back one event, as if another writer's event were lost: the next event's
    # sequence number is taken, so its insert fails.
    AuditChainHead.objects.filter(pk=1).update(seq=taken.seq - 1, hash=taken.prev_hash)
    agencies = Agency.objects.count()

    @transaction.atomic
    def a_write_and_its_event() -> None:
        Agency.objects.create(name="Never saved", kind="shelter", county="Harbor")
        record(actor=None, action=AuditAction.CREATE, object_type="accounts.agency")

    with pytest.raises(DatabaseError):
        a_write_and_its_event()
    assert Agency.objects.count() == agencies
