from django.apps import AppConfig


class ContactConfig(AppConfig):
    name = "safeharbor.contact"
    label = "contact"
    verbose_name = "Staying in touch"

    def ready(self) -> None:
        from safeharbor.youth.panels import register

        from .panels import youth_page_panel

        register(youth_page_panel, order=10)
