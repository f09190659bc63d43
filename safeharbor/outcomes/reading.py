"""Where the figures' and the reports' queries run.

``figure_reads()`` opens ``core.routing.reporting_reads()``, so that the read replica answers them
where one is configured (DATABASE_REPLICA_URL), and on PostgreSQL runs them in one read
transaction with the JIT compiler off: it judges these plans (many small correlated lookups, or
one pass over hundreds of thousands of services) expensive and spent up to a third of a second
compiling each, for queries that run in well under a second. ``SET LOCAL`` ends with the
transaction. Used as a decorator or a ``with`` block; nesting is fine.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connections, router, transaction

from safeharbor.core.routing import reporting_reads

from .models import Enrolment


@contextmanager
def figure_reads() -> Iterator[None]:
    with reporting_reads():
        alias = router.db_for_read(Enrolment)
        if connections[alias].vendor != "postgresql":
            yield
            return
        with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
            yield
