from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    name = "safeharbor.screening"
    label = "screening"
    verbose_name = "Screening"

    def ready(self) -> None:
        from safeharbor.youth import attention, panels

        from .attention import KINDS, screenings_due
        from .panels import youth_panel

        panels.register(youth_panel, order=20)
        attention.register(screenings_due, KINDS)
