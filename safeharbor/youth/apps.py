from django.apps import AppConfig


class YouthConfig(AppConfig):
    name = "safeharbor.youth"
    label = "youth"
    verbose_name = "Youth records"
