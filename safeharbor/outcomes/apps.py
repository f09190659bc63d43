from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    name = "safeharbor.outcomes"
    label = "outcomes"
    verbose_name = "Services and outcomes"

    def ready(self) -> None:
        from safeharbor.youth import panels

        from .panels import youth_panel

        panels.register(youth_panel, order=40)
