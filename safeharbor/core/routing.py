"""Reports read from a PostgreSQL read replica, when one is configured; everything else uses the
primary.

Set ``DATABASE_REPLICA_URL`` and the settings add a ``replica`` database and install
``ReportingReplicaRouter`` (``config/settings/_env.py``, ``replica_databases``). The router sends
a read to the replica only inside ``reporting_reads()``: the program dashboard's figures and the
funder and county reports (``safeharbor.outcomes.effectiveness`` and ``reports``) open it around
their queries and nothing else. Every other read, and every write whatever the context (the
audit event a report page records included), goes to the primary, so pages that show or change
youth data never read behind their own writes. Without ``DATABASE_REPLICA_URL`` no router is
installed and ``reporting_reads()`` changes nothing. docs/deploy.md says how to set it up.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import DEFAULT_DB_ALIAS

REPLICA = "replica"

_reporting: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "safeharbor_reporting_reads", default=False
)


@contextmanager
def reporting_reads() -> Iterator[None]:
    """Reads made inside go to the replica, where the router is installed and one is set.
    Nested uses are fine; the context is per thread and per asyncio task."""
    token = _reporting.set(True)
    try:
        yield
    finally:
        _reporting.reset(token)


def in_reporting_reads() -> bool:
    return _reporting.get()


class ReportingReplicaRouter:
    """Django database router (``DATABASE_ROUTERS``): reporting reads to ``replica``, the rest
    to ``default``. The replica holds the same data (streaming replication), so relations
    between objects read from either are allowed; migrations run on the primary only."""

    def db_for_read(self, model: Any, **hints: Any) -> str:
        # The settings install this router only with a replica (``routers_for``).
        return REPLICA if _reporting.get() else DEFAULT_DB_ALIAS

    def db_for_write(self, model: Any, **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True

    def allow_migrate(
        self, db: str, app_label: str, model_name: str | None = None, **hints: Any
    ) -> bool:
        return db == DEFAULT_DB_ALIAS
