import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from safeharbor.accounts.models import Agency
from safeharbor.screening.services import InstrumentInvalid, instrument_import
from safeharbor.screening.shipped import load_shipped_instruments


class Command(BaseCommand):
    help = (
        "Load a screening instrument (a FHIR Questionnaire JSON file), checking it in full first: "
        "all or nothing. With --agency it is that agency's own (for instruments it holds the "
        "licence for); without, every agency may use it. --shipped loads the instruments that "
        "ship with Safe Harbor (safeharbor/screening/instruments/), skipping those loaded already."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", nargs="?", help="the Questionnaire JSON file")
        parser.add_argument("--agency", help="the name of the agency that holds the licence")
        parser.add_argument("--shipped", action="store_true", help="load the shipped instruments")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["shipped"]:
            for instrument, loaded in load_shipped_instruments():
                state = "loaded" if loaded else "already loaded"
                self.stdout.write(f"{instrument.canonical}: {state}")
            return
        if not options["file"]:
            raise CommandError("Give a Questionnaire JSON file, or --shipped.")
        path = Path(options["file"])
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CommandError(f"Cannot read {path} as JSON: {exc}") from exc
        agency = None
        if options["agency"]:
            try:
                agency = Agency.objects.get(name=options["agency"])
            except Agency.DoesNotExist as exc:
                raise CommandError(f"No agency is named {options['agency']!r}.") from exc
        try:
            instrument = instrument_import(
                actor=None, document=document, agency=agency, source=path.name
            )
        except InstrumentInvalid as exc:
            for problem in exc.problems:
                self.stderr.write(f"- {problem}")
            raise CommandError(
                f"{path} was refused: {len(exc.problems)} problem(s); nothing was loaded."
            ) from exc
        self.stdout.write(
            self.style.SUCCESS(f"Loaded {instrument.canonical} ({instrument.title}).")
        )
