from typing import Any

from django.core.management.base import BaseCommand, CommandError

from safeharbor.screening.selectors import screenings_rescore_check


class Command(BaseCommand):
    help = (
        "Score every completed screening again with its own instrument version and compare with "
        "the stored result. Changes nothing; exits non-zero when a stored result differs."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--batch", type=int, default=2000, help="rows read per query")

    def handle(self, *args: Any, **options: Any) -> None:
        report = screenings_rescore_check(batch_size=options["batch"])
        self.stdout.write(
            f"{report.checked} completed screening(s) scored again in {report.seconds:.1f} s."
        )
        for mismatch in report.mismatches[:50]:
            self.stderr.write(
                f"- screening {mismatch.screening_id}: stored {mismatch.stored_level} "
                f"(total {mismatch.stored_total}), scored now {mismatch.level} "
                f"(total {mismatch.total})"
            )
        if report.mismatches:
            raise CommandError(f"{len(report.mismatches)} stored result(s) differ.")
        self.stdout.write(self.style.SUCCESS("Every stored result matches."))
