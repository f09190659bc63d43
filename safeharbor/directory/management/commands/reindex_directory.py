"""manage.py reindex_directory: rebuild every service's search row (``directory/index.py``)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from safeharbor.directory import index


class Command(BaseCommand):
    help = (
        "Rebuild the search rows of every service in the directory (derived data: needed only "
        "if they were lost or built by older code; imports and edits keep them up to date)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            count = index.rebuild_all()
        self.stdout.write(f"Rebuilt the search rows of {count} services.")
