from django.apps import AppConfig


class ContactConfig(AppConfig):
    name = "safeharbor.contact"
    label = "contact"
    verbose_name = "Staying in touch"

    def ready(self) -> None:
        from safeharbor.youth.panels import register
        from safeharbor.youth.signals import screening_completed

        from .panels import youth_page_panel
        from .receivers import screening_after_return

        register(youth_page_panel, order=10)
        screening_completed.connect(screening_after_return, dispatch_uid="contact-return-screen")
