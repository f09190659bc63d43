from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "safeharbor.directory"
    label = "directory"
    verbose_name = "Resource directory"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
