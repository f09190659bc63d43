"""``flush`` that can empty the append-only audit table where settings allow it (tests, dev).

Django's test runner flushes the database between transactional tests; the audit triggers refuse
that. With SAFEHARBOR_ALLOW_AUDIT_FLUSH the triggers are lifted for the flush and put back
after. In production the setting is off and the triggers keep refusing.
"""

from typing import Any

from django.conf import settings
from django.core.management.commands.flush import Command as FlushCommand
from django.db import connections

from safeharbor.audit import triggers
from safeharbor.audit.hashing import GENESIS_HASH
from safeharbor.audit.models import AuditChainHead


class Command(FlushCommand):
    def handle(self, **options: Any) -> None:
        if not getattr(settings, "SAFEHARBOR_ALLOW_AUDIT_FLUSH", False):
            super().handle(**options)
            return
        connection = connections[options["database"]]
        triggers.remove(connection)
        try:
            super().handle(**options)
        finally:
            triggers.install(connection)
        AuditChainHead.objects.using(options["database"]).get_or_create(
            pk=1, defaults={"seq": 0, "hash": GENESIS_HASH}
        )
