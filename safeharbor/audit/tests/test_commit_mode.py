"""Read events commit without waiting for the WAL flush on PostgreSQL; write events do not."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from safeharbor.audit.choices import AuditAction
from safeharbor.audit.services import record

RELAX = "SET LOCAL synchronous_commit TO OFF"


def captured_sql(action) -> list[str]:
    statements: list[str] = []

    def capture(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        action()
    return statements


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL commit setting")
@pytest.mark.django_db(transaction=True)
def test_a_read_event_relaxes_the_commit_and_a_write_event_does_not():
    read = captured_sql(lambda: record(actor=None, action=AuditAction.VIEW, object_type="t"))
    assert RELAX in read

    def write_then_audit():
        with transaction.atomic():
            record(actor=None, action=AuditAction.CREATE, object_type="t")

    assert RELAX not in captured_sql(write_then_audit)
