from typing import Any

from django.core.management.base import BaseCommand

from safeharbor.contact.notify import attention_digest_send


class Command(BaseCommand):
    help = (
        "Tell each worker how many items need their attention today (in the app, by e-mail and "
        "by text message). Run once a day; a second run the same day sends nothing new."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        result = attention_digest_send()
        self.stdout.write(
            f"Digest: {result.users_checked} workers checked, {result.notified} notified, "
            f"{result.already_sent} already notified today."
        )
