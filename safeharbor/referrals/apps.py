from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "safeharbor.referrals"
    label = "referrals"
    verbose_name = "Referrals"

    def ready(self) -> None:
        from safeharbor.youth import panels

        from .panels import youth_panel

        panels.register(youth_panel, order=30)
