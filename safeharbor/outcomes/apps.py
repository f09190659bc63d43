from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    name = "safeharbor.outcomes"
    label = "outcomes"
    verbose_name = "Services and outcomes"
