from typing import Any

from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "safeharbor.directory"
    label = "directory"
    verbose_name = "Resource directory"

    def ready(self) -> None:
        from django.db.models.signals import pre_delete

        from . import checks  # noqa: F401  (registers the system checks)
        from .index import forget_entry
        from .models import ServiceSearch

        pre_delete.connect(forget_entry, sender=ServiceSearch, dispatch_uid="directory-fts")

    def after_flush(self, connection: Any) -> None:
        """Empty what ``flush`` does not know of: SQLite's full-text table is no model, and a
        search counts its rows (``manage.py flush``, as the test runner uses it)."""
        from .models import ServiceSearch

        if connection.vendor != "sqlite" or ServiceSearch.objects.using(connection.alias).exists():
            return  # nothing to do, or the flush did not happen (cancelled)
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM directory_servicesearch_fts")
