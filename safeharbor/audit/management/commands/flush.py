"""``flush`` that can empty the append-only audit table where settings allow it (tests, dev).

Django's test runner flushes the database between transactional tests; the audit triggers refuse
that. With SAFEHARBOR_ALLOW_AUDIT_FLUSH the triggers are lifted for the flush and put back
after. In production the setting is off and the triggers keep refusing. Either way, apps then
empty what the flush does not know of (an AppConfig's ``after_flush``, e.g. the directory's
full-text table on SQLite).
"""

from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.commands.flush import Command as FlushCommand
from django.db import connections

from safeharbor.audit import triggers
from safeharbor.audit.hashing import GENESIS_HASH
from safeharbor.audit.models import AuditChainHead


def _after_flush(connection: Any) -> None:
    """Apps empty what Django's flush does not know of (tables that are no model), through an
    ``after_flush(connection)`` method on their AppConfig."""
    for config in apps.get_app_configs():
        hook = getattr(config, "after_flush", None)
        if hook is not None:
            hook(connection)


class Command(FlushCommand):
    def handle(self, **options: Any) -> None:
        connection = connections[options["database"]]
        if not getattr(settings, "SAFEHARBOR_ALLOW_AUDIT_FLUSH", False):
            super().handle(**options)
            _after_flush(connection)
            return
        triggers.remove(connection)
        try:
            super().handle(**options)
        finally:
            triggers.install(connection)
        _after_flush(connection)
        AuditChainHead.objects.using(options["database"]).get_or_create(
            pk=1, defaults={"seq": 0, "hash": GENESIS_HASH}
        )
