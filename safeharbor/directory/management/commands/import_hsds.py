"""manage.py import_hsds PATH...: import HSDS 3.0 JSON files and/or a datapackage folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from safeharbor.directory import importer
from safeharbor.directory.services import directory_import

# From this many services an import is worth ``optimize_directory`` (docs/directory.md).
LARGE_IMPORT = 10_000


class Command(BaseCommand):
    help = (
        "Import an HSDS 3.0 directory: JSON files (a service, a list, an API page) and/or a "
        "folder holding a tabular datapackage (datapackage.json + CSV). All or nothing: every "
        "error is listed with its file, row and field. Objects are inserted or updated by id."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("paths", nargs="+", help="JSON files or datapackage folders")
        parser.add_argument(
            "--kind",
            choices=sorted(importer.JSON_KINDS),
            help="what the JSON files hold (default: guessed from each file name, else service)",
        )
        parser.add_argument(
            "--lenient",
            action="store_true",
            help="import the rest when references dangle: empty them or leave out the rows "
            "that need them, and report each (docs/decisions/0007)",
        )
        parser.add_argument("--dry-run", action="store_true", help="check only; write nothing")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        json_sources: list[tuple[importer.Source, str | None]] = []
        package: dict[str, importer.Source] | None = None
        for name in options["paths"]:
            path = Path(name)
            if path.is_dir():
                if package is not None:
                    raise CommandError("Give at most one datapackage folder.")
                package = {
                    p.name: importer.Source(p.name, p.read_bytes())
                    for p in path.iterdir()
                    if p.is_file() and p.suffix in (".csv", ".json")
                }
            elif path.is_file():
                json_sources.append(
                    (importer.Source(path.name, path.read_bytes()), options["kind"])
                )
            else:
                raise CommandError(f"No such file or folder: {path}")
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            disable=options["no_progress"],
            transient=True,
        ) as bar:
            tasks: dict[str, Any] = {}

            def progress(stage: str, done: int, total: int) -> None:
                if stage not in tasks:
                    tasks[stage] = bar.add_task(stage, total=total)
                bar.update(tasks[stage], completed=done, total=total)

            report = directory_import(
                actor=None,
                actor_label="manage.py import_hsds",
                json_sources=json_sources,
                package=package,
                lenient=options["lenient"],
                dry_run=options["dry_run"],
                progress=progress,
            )
        for issue in report.removed_references:
            self.stdout.write(f"removed: {issue}")
        for name, count in sorted(report.not_kept.items()):
            self.stdout.write(f"not kept: {count} {name} row(s) (not part of our directory)")
        if report.errors:
            for issue in report.errors:
                self.stderr.write(f"error: {issue}")
            raise CommandError(report.summary())
        if options["dry_run"]:
            self.stdout.write(self.style.SUCCESS("No errors found (dry run: nothing written)."))
            return
        self.stdout.write(self.style.SUCCESS(report.summary()))
        if report.services >= LARGE_IMPORT:
            self.stdout.write(
                "A large import: run `manage.py optimize_directory` in a quiet hour to keep "
                "searches fast (it locks the search rows while it runs)."
            )
