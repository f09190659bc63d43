from typing import Any

from django.core.management.base import BaseCommand, CommandError

from safeharbor.accounts.models import Agency
from safeharbor.youth.demo import DEMO_PASSWORD, DEMO_USERS, seed_demo


class Command(BaseCommand):
    help = (
        "Load the fictional demo county: agencies, a user for every role, youth, consents, notes."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--seed", type=int, default=7, help="PRNG seed (same seed, same data)")
        parser.add_argument("--youth", type=int, default=200, help="how many youth records")
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing when agencies already exist"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if Agency.objects.exists():
            if options["if_empty"]:
                self.stdout.write("Demo data already loaded; nothing to do.")
                return
            raise CommandError(
                "The database already has agencies. Use a fresh database, or --if-empty to skip."
            )
        summary = seed_demo(seed=options["seed"], youth_count=options["youth"])
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo loaded: {summary.agencies} agencies, {summary.users} users, "
                f"{summary.youth} youth, {summary.consents} consents, {summary.notes} notes."
            )
        )
        self.stdout.write(
            f"Demo logins (password {DEMO_PASSWORD}; MFA code: manage.py demo_totp USERNAME):"
        )
        for username, _agency, role, _first, _last in DEMO_USERS:
            self.stdout.write(f"  {username:<12} {role}")
