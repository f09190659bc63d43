"""System checks of the directory."""

from typing import Any

from django.core.checks import CheckMessage, Warning, register

from . import schemas


@register()
def check_hsds_schemas(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    try:
        schemas.schema_dir()
        schemas.datapackage()
    except schemas.SchemasMissing as exc:
        return [
            Warning(
                str(exc),
                hint="Importing and the tabular export need the official HSDS 3.0 schemas.",
                id="directory.W001",
            )
        ]
    return []
