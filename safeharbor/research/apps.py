from django.apps import AppConfig


class ResearchConfig(AppConfig):
    name = "safeharbor.research"
    label = "research"
    verbose_name = "Research workbench"
