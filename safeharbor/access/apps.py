from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "safeharbor.access"
    label = "access"
    verbose_name = "Access policy"
