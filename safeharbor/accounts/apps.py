from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "safeharbor.accounts"
    label = "accounts"
    verbose_name = "Accounts and agencies"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (audits logins, failures and lockouts)
