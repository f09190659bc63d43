"""manage.py export_hsds OUT --format json|csv: export the directory as HSDS 3.0."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from safeharbor.directory.services import directory_export_datapackage, directory_export_json


class Command(BaseCommand):
    help = (
        "Export the directory as HSDS 3.0: --format json writes one file (a page of fully "
        "nested services); --format csv writes a datapackage folder. Confidential locations "
        "are exported without address or coordinates."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("out", help="a file (json) or a folder (csv)")
        parser.add_argument("--format", choices=["json", "csv"], default="json")

    def handle(self, *args: Any, **options: Any) -> None:
        out = Path(options["out"])
        label = "manage.py export_hsds"
        if options["format"] == "json":
            document = directory_export_json(actor=None, actor_label=label)
            out.write_text(json.dumps(document, indent=1, ensure_ascii=False))
            self.stdout.write(self.style.SUCCESS(f"{document['total_items']} services to {out}"))
            return
        if out.exists() and not out.is_dir():
            raise CommandError(f"{out} is a file; give a folder for the datapackage.")
        out.mkdir(parents=True, exist_ok=True)
        files = directory_export_datapackage(actor=None, actor_label=label)
        for name, content in files.items():
            (out / name).write_bytes(content)
        self.stdout.write(self.style.SUCCESS(f"{len(files)} files to {out}"))
