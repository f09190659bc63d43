from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "safeharbor.audit"
    label = "audit"
    verbose_name = "Audit trail"
