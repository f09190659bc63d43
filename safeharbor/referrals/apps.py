from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "safeharbor.referrals"
    label = "referrals"
    verbose_name = "Referrals"

    def ready(self) -> None:
        from safeharbor.youth import attention, panels

        from .attention import KINDS, waiting_referrals
        from .panels import youth_panel

        panels.register(youth_panel, order=30)
        attention.register(waiting_referrals, KINDS)
